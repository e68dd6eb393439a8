import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';

/** A deleted session's rows, in the order they go: what references a table goes before it. */
const SESSION_TABLES = ['messages', 'chats', 'contacts', 'groups', 'number_lookups', 'session_auth', 'idempotency_keys'] as const;
type SessionTable = (typeof SESSION_TABLES)[number];

/** Deletes up to `limit` rows of `table` that match `where`; returns how many. */
async function deleteSome(runner: QueryRunner, table: SessionTable, where: string, params: unknown[], limit: number): Promise<number> {
  const result = await runner.query(
    `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${where} LIMIT ${Number(limit)}))`,
    params,
    true,
  );
  return result.affected ?? 0;
}

/** What one purge step did: nothing to do, or part (`done` false) or the last part of a purge. */
export type PurgeStep = { kind: 'session'; id: string; done: boolean } | { kind: 'chat'; sessionId: string; jid: string; done: boolean } | null;

/**
 * The background purge of deleted sessions (`deleted_at` set) and locally deleted chats
 * (`purging`): each step is one short transaction deleting a bounded number of rows. A step
 * claims its session or chat row with `FOR UPDATE SKIP LOCKED`, so replicas purging at the same
 * time work on different ones and never wait for each other.
 */
@Injectable()
export class StoredCopyPurgeRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Up to `limit` rows of deleted session `id`, or else of the one deleted longest ago; its own
   * row once nothing else is left.
   */
  purgeSessionStep(limit: number, id?: string): Promise<PurgeStep> {
    return this.dataSource.transaction(async (manager) => {
      const runner = manager.queryRunner!;
      const [session] = (await runner.query(
        `SELECT id FROM sessions WHERE deleted_at IS NOT NULL AND ($1::text IS NULL OR id = $1)
          ORDER BY deleted_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [id ?? null],
      )) as { id: string }[];
      if (!session) return null;
      let left = limit;
      for (const table of SESSION_TABLES) {
        left -= await deleteSome(runner, table, 'session_id = $1', [session.id], left);
        if (left <= 0) return { kind: 'session', id: session.id, done: false };
      }
      // Anything else that references the session (none of it large) goes with it.
      await runner.query('DELETE FROM sessions WHERE id = $1', [session.id]);
      return { kind: 'session', id: session.id, done: true };
    });
  }

  /**
   * Up to `limit` messages of chat `target` when it is being purged, or else of any chat being
   * purged; the chat row once it has none left.
   */
  purgeChatStep(limit: number, target?: { sessionId: string; jid: string }): Promise<PurgeStep> {
    return this.dataSource.transaction(async (manager) => {
      const runner = manager.queryRunner!;
      // A deleted session's chats go with the session's own purge.
      const [chat] = (await runner.query(
        `SELECT c.session_id, c.jid FROM chats c JOIN sessions s ON s.id = c.session_id AND s.deleted_at IS NULL
          WHERE c.purging AND ($1::text IS NULL OR (c.session_id = $1 AND c.jid = $2))
          LIMIT 1 FOR UPDATE OF c SKIP LOCKED`,
        [target?.sessionId ?? null, target?.jid ?? null],
      )) as { session_id: string; jid: string }[];
      if (!chat) return null;
      const step = { kind: 'chat' as const, sessionId: chat.session_id, jid: chat.jid };
      const deleted = await deleteSome(runner, 'messages', 'session_id = $1 AND chat_jid = $2', [chat.session_id, chat.jid], limit);
      if (deleted >= limit) return { ...step, done: false };
      await runner.query('DELETE FROM chats WHERE session_id = $1 AND jid = $2 AND purging', [chat.session_id, chat.jid]);
      return { ...step, done: true };
    });
  }
}
