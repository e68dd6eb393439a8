import { Injectable, OnModuleInit } from '@nestjs/common';
import { ValidationError } from '../common/errors/app-error';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor';
import { Page, toPage } from '../common/pagination/page';
import { isChatJid, isUserJid } from '../domain/jid';
import { isSessionId, sessionNotFound } from '../sessions/session-id';
import { SessionsService } from '../sessions/sessions.service';
import { contactJidOf, contactNotFound } from './contact-id';
import { ContactDto, ProfilePictureDto, toContactDto } from './contact.dto';
import { ContactsRepository } from './contacts.repository';
import { DirectoryActions } from './directory-actions.service';

const PICTURE = 'picture';

@Injectable()
export class ContactsService implements OnModuleInit {
  constructor(
    private readonly repository: ContactsRepository,
    private readonly sessions: SessionsService,
    private readonly actions: DirectoryActions,
  ) {}

  onModuleInit(): void {
    this.actions.define<string, string | null>(PICTURE, (provider, session, jid) => provider.profilePictureUrl(session, jid));
  }

  /** The stored contacts in JID order, optionally those whose name or number starts with `q`. */
  async list(orgId: string, sessionId: string, query: { limit: number; cursor?: string; q?: string }): Promise<Page<ContactDto>> {
    const after = query.cursor ? decodeContactCursor(query.cursor) : '';
    if (!isSessionId(sessionId)) throw sessionNotFound();
    const rows = query.q
      ? await this.repository.searchPage(orgId, sessionId, query.limit + 1, after, query.q)
      : await this.repository.listPage(orgId, sessionId, query.limit + 1, after);
    if (!rows) throw sessionNotFound();
    return toPage(rows, query.limit, toContactDto, (row) => encodeCursor([row.jid]));
  }

  /** The contact with that JID, or the one a LID belongs to. */
  async get(orgId: string, sessionId: string, jid: string): Promise<ContactDto> {
    if (!isSessionId(sessionId)) throw sessionNotFound();
    const found = await this.repository.findOne(orgId, sessionId, contactJidOf(jid));
    if (!found.sessionFound) throw sessionNotFound();
    if (!found.contact) throw contactNotFound();
    return toContactDto(found.contact);
  }

  /** The profile picture's current URL, asked of WhatsApp (not stored: it expires). */
  async picture(orgId: string, sessionId: string, jid: string): Promise<ProfilePictureDto> {
    const session = await this.sessions.findOwned(orgId, sessionId);
    // A person or a group: both have pictures.
    if (!isChatJid(jid)) throw contactNotFound();
    return { url: await this.actions.run<string | null>(session, PICTURE, jid) };
  }
}

function decodeContactCursor(cursor: string): string {
  const [jid] = decodeCursor<[string]>(cursor, ['string']);
  if (!isUserJid(jid)) throw ValidationError.field('cursor', 'is not a valid cursor');
  return jid;
}
