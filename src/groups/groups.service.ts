import { Injectable, OnModuleInit } from '@nestjs/common';
import { ValidationError } from '../common/errors/app-error';
import { ContactsRepository } from '../contacts/contacts.repository';
import { DirectoryActions } from '../contacts/directory-actions.service';
import { SessionEntity } from '../sessions/session.entity';
import { SessionsService } from '../sessions/sessions.service';
import { PARTICIPANT_ACTIONS, ParticipantAction, ParticipantResult, ProviderGroup } from '../whatsapp/whatsapp-provider';
import { CreateGroupDto } from './create-group.dto';
import { groupJidOf, groupNotFound } from './group-id';
import { GroupDto, InviteLinkDto, ParticipantResultListDto } from './group.dto';
import { GroupRow, GroupsRepository } from './groups.repository';
import { UpdateParticipantsDto } from './update-participants.dto';

const GET = 'group.get';
const CREATE = 'group.create';
const PARTICIPANTS = 'group.participants';
const INVITE_LINK = 'group.invite-link';

function fromRow(row: GroupRow): ProviderGroup {
  return {
    id: row.jid,
    subject: row.subject,
    description: row.description,
    ownerId: row.owner_jid,
    createdAt: row.created_at === null ? null : Number(row.created_at),
    announce: row.announce,
    restrict: row.restrict,
    participants: row.participants,
  };
}

@Injectable()
export class GroupsService implements OnModuleInit {
  constructor(
    private readonly repository: GroupsRepository,
    private readonly contacts: ContactsRepository,
    private readonly sessions: SessionsService,
    private readonly actions: DirectoryActions,
  ) {}

  onModuleInit(): void {
    this.actions.define<string, ProviderGroup>(GET, (provider, session, jid) => provider.groupMetadata(session, jid));
    this.actions.define<{ subject: string; participants: string[] }, ProviderGroup>(CREATE, (provider, session, args) =>
      provider.createGroup(session, args.subject, args.participants),
    );
    this.actions.define<{ jid: string; action: ParticipantAction; phoneNumbers: string[] }, ParticipantResult[]>(
      PARTICIPANTS,
      (provider, session, args) => provider.updateGroupParticipants(session, args.jid, args.action, args.phoneNumbers),
    );
    this.actions.define<string, string>(INVITE_LINK, (provider, session, jid) => provider.groupInviteLink(session, jid));
  }

  /** From the cache when it holds the whole group (unless `refresh`), else asked of WhatsApp and cached. */
  async get(orgId: string, sessionId: string, jid: string, refresh: boolean): Promise<GroupDto> {
    const { session, groupJid } = await this.owned(orgId, sessionId, jid);
    const cached = refresh ? null : await this.repository.findCached(session.id, groupJid);
    if (cached?.complete) return this.toDto(session.id, fromRow(cached));
    const group = await this.actions.run<ProviderGroup>(session, GET, groupJid);
    await this.repository.storeFetched(session.id, group);
    return this.toDto(session.id, group);
  }

  async create(orgId: string, sessionId: string, input: CreateGroupDto): Promise<GroupDto> {
    const session = await this.sessions.findOwned(orgId, sessionId);
    const group = await this.actions.run<ProviderGroup>(session, CREATE, { subject: input.subject, participants: input.participants });
    await this.repository.storeFetched(session.id, group);
    return this.toDto(session.id, group);
  }

  /** Exactly one action per request; the cached member list is then asked again on the next read. */
  async updateParticipants(orgId: string, sessionId: string, jid: string, input: UpdateParticipantsDto): Promise<ParticipantResultListDto> {
    const present = PARTICIPANT_ACTIONS.filter((action) => input[action] !== undefined);
    if (present.length !== 1) {
      const problem = 'exactly one of add, remove, promote, demote must be sent';
      throw new ValidationError('request validation failed', { fields: Object.fromEntries((present.length ? present : ['body']).map((f) => [f, [problem]])) });
    }
    const action = present[0];
    const { session, groupJid } = await this.owned(orgId, sessionId, jid);
    const data = await this.actions.run<ParticipantResult[]>(session, PARTICIPANTS, { jid: groupJid, action, phoneNumbers: input[action]! });
    if (data.some((result) => result.result !== 'failed')) await this.repository.markIncomplete(session.id, groupJid);
    return { data };
  }

  async inviteLink(orgId: string, sessionId: string, jid: string): Promise<InviteLinkDto> {
    const { session, groupJid } = await this.owned(orgId, sessionId, jid);
    return { url: await this.actions.run<string>(session, INVITE_LINK, groupJid) };
  }

  /** The session (404 unless the organization's), then the group's JID (404 unless a group's). */
  private async owned(orgId: string, sessionId: string, jid: string): Promise<{ session: SessionEntity; groupJid: string }> {
    const session = await this.sessions.findOwned(orgId, sessionId);
    const groupJid = groupJidOf(jid);
    if (!groupJid) throw groupNotFound();
    return { session, groupJid };
  }

  /** The group as §10 shows it: a LID participant's number filled in from what the session knows of that LID. */
  private async toDto(sessionId: string, group: ProviderGroup): Promise<GroupDto> {
    const hidden = group.participants.filter((p) => p.phoneNumber === null && p.id.endsWith('@lid')).map((p) => p.id);
    const numbers = await this.contacts.numbersOfLids(sessionId, hidden);
    return {
      ...group,
      participants: group.participants.map((p) => ({ id: p.id, phoneNumber: p.phoneNumber ?? numbers.get(p.id) ?? null, role: p.role })),
    };
  }
}
