import { Injectable } from '@nestjs/common';
import { QueryRunner } from 'typeorm';
import { queryRows } from '../database/prepared-query';
import { GroupParticipant, GroupParticipantsEvent, GroupUpsertEvent } from '../domain/gateway-events';

/** What a participants change does to one participant's role; null removes them. */
const ROLE_AFTER: Record<GroupParticipantsEvent['action'], (role: GroupParticipant['role'] | undefined) => GroupParticipant['role'] | null> = {
  add: (role) => role ?? 'member',
  remove: () => null,
  promote: () => 'admin',
  demote: () => 'member',
};

/**
 * The cache of group metadata. A group's row is `complete` once WhatsApp gave its whole
 * participant list; events that only name some participants keep it as complete as it was.
 */
@Injectable()
export class GroupsRepository {
  /** Applies group events in order. */
  async apply(runner: QueryRunner, sessionId: string, events: readonly (GroupUpsertEvent | GroupParticipantsEvent)[]): Promise<void> {
    for (const event of events) {
      if (event.type === 'group.upsert') await this.upsert(runner, sessionId, event.group);
      else await this.changeParticipants(runner, sessionId, event);
    }
  }

  private async upsert(runner: QueryRunner, sessionId: string, group: GroupUpsertEvent['group']): Promise<void> {
    const fields: [string, unknown][] = [];
    if (group.subject !== undefined) fields.push(['subject', group.subject]);
    if (group.description !== undefined) fields.push(['description', group.description]);
    if (group.ownerId !== undefined) fields.push(['owner_jid', group.ownerId]);
    if (group.createdAt !== undefined) fields.push(['created_at', group.createdAt]);
    if (group.announce !== undefined) fields.push(['announce', group.announce]);
    if (group.restrict !== undefined) fields.push(['restrict', group.restrict]);
    if (group.participants !== undefined) {
      fields.push(['participants', JSON.stringify(group.participants)], ['complete', true]);
    }
    const columns = fields.map(([column]) => column);
    const params = [sessionId, group.id, ...fields.map(([, value]) => value)];
    const placeholders = fields.map((_, i) => `$${i + 3}`);
    await runner.query(
      `INSERT INTO groups (session_id, jid${columns.map((c) => `, "${c}"`).join('')}, refreshed_at)
       VALUES ($1, $2${placeholders.map((p) => `, ${p}`).join('')}, now())
       ON CONFLICT (session_id, jid) DO UPDATE
          SET refreshed_at = now()${columns.map((c) => `, "${c}" = EXCLUDED."${c}"`).join('')}`,
      params,
    );
  }

  private async changeParticipants(runner: QueryRunner, sessionId: string, event: GroupParticipantsEvent): Promise<void> {
    const [row] = await queryRows<{ participants: GroupParticipant[] }>(
      runner,
      'SELECT participants FROM groups WHERE session_id = $1 AND jid = $2 FOR UPDATE',
      [sessionId, event.groupId],
    );
    const byId = new Map((row?.participants ?? []).map((p) => [p.id, p]));
    for (const person of event.participants) {
      const role = ROLE_AFTER[event.action](byId.get(person.id)?.role);
      if (role === null) byId.delete(person.id);
      else byId.set(person.id, { id: person.id, phoneNumber: person.phoneNumber ?? byId.get(person.id)?.phoneNumber ?? null, role });
    }
    await runner.query(
      `INSERT INTO groups (session_id, jid, participants) VALUES ($1, $2, $3)
       ON CONFLICT (session_id, jid) DO UPDATE SET participants = EXCLUDED.participants`,
      [sessionId, event.groupId, JSON.stringify([...byId.values()])],
    );
  }
}
