import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { ProviderName } from '../config/app-config';
import { KeysetPosition } from '../common/pagination/keyset-position';
import { queryPrepared, queryRows } from '../database/prepared-query';
import { ChatStateChange } from '../whatsapp/whatsapp-provider';
import { ChatType } from '../domain/jid';

/** A chat as stored; bigint columns arrive as strings. */
export interface ChatRow {
  jid: string;
  name: string | null;
  type: ChatType;
  archived: boolean;
  pinned: boolean;
  muted_until: string | null;
  unread_count: number;
  last_message_at: string | null;
}

/** A chat an ingestion step creates or changes; an absent field is left as it is (or defaulted). */
export interface ChatWrite {
  jid: string;
  type: ChatType;
  name?: string | null;
  archived?: boolean;
  pinned?: boolean;
  mutedUntil?: number | null;
  unreadCount?: number;
}

export interface ChatListFilter {
  archived?: boolean;
  pinned?: boolean;
  /** The `(activity, jid)` position to continue after; activity is -1 for a chat without messages. */
  after?: KeysetPosition;
}

/** A lookup scoped by organization and session: `sessionFound` false means a 404 for the session. */
export interface ScopedChat {
  sessionFound: boolean;
  chat: ChatRow | null;
}

const COLUMNS = 'c.jid, c.name, c.type, c.archived, c.pinned, c.muted_until, c.unread_count, c.last_message_at';
/** The list order, written exactly as the `chats_*activity_idx` indexes are. */
const ACTIVITY = 'COALESCE(c.last_message_at, -1)';

const FIND_ONE_SQL = `SELECT ${COLUMNS} FROM sessions s
                        LEFT JOIN chats c ON c.session_id = s.id AND c.jid = $3 AND NOT c.purging
                       WHERE s.id = $1 AND s.org_id = $2 AND s.deleted_at IS NULL`;

/**
 * Queries on `chats`. Reads and REST writes check the session's organization in the same
 * statement, so a request costs one round trip; ingestion writes take a session its caller has
 * already locked.
 */
@Injectable()
export class ChatsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Up to `limit` chats after `filter.after`; null when the organization has no such session. */
  async listPage(orgId: string, sessionId: string, limit: number, filter: ChatListFilter): Promise<ChatRow[] | null> {
    const params: unknown[] = [sessionId, orgId, limit];
    // A chat being purged (deleted) is left out at once.
    const conditions = ['c.session_id = $1', 'NOT c.purging'];
    // Literal conditions, so that the planner can match the partial indexes.
    if (filter.archived !== undefined) conditions.push(filter.archived ? 'c.archived' : 'NOT c.archived');
    if (filter.pinned !== undefined) conditions.push(filter.pinned ? 'c.pinned' : 'NOT c.pinned');
    if (filter.after) {
      params.push(filter.after[0], filter.after[1]);
      conditions.push(`(${ACTIVITY}, c.jid) < ($4, $5)`);
    }
    // The SQL text depends only on which filters are present, so there are few distinct statements.
    const rows = await queryPrepared<ChatRow | { jid: null }>(
      this.dataSource,
      `SELECT c.* FROM sessions s
         LEFT JOIN LATERAL (
           SELECT ${COLUMNS} FROM chats c
            WHERE ${conditions.join(' AND ')}
            ORDER BY ${ACTIVITY} DESC, c.jid DESC
            LIMIT $3
         ) c ON true
        WHERE s.id = $1 AND s.org_id = $2 AND s.deleted_at IS NULL`,
      params,
    );
    if (rows.length === 0) return null;
    return rows.filter((row): row is ChatRow => row.jid !== null);
  }

  async findOne(orgId: string, sessionId: string, jid: string | null): Promise<ScopedChat> {
    return scoped(await queryPrepared<ChatRow | { jid: null }>(this.dataSource, FIND_ONE_SQL, [sessionId, orgId, jid]));
  }

  /**
   * Applies archive/pin/mute in the caller's transaction; also returns the session's provider, to
   * mirror the change there, and whether the row changed (setting what is set writes nothing).
   */
  async updateState(
    runner: QueryRunner,
    orgId: string,
    sessionId: string,
    jid: string | null,
    change: ChatStateChange,
  ): Promise<ScopedChat & { provider: ProviderName | null; changed: boolean }> {
    const rows = await queryRows<(ChatRow | { jid: null }) & { provider: ProviderName; changed: boolean }>(runner, `WITH s AS (SELECT id, provider FROM sessions WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL),
            u AS (
              UPDATE chats c
                 SET archived = COALESCE($4, c.archived),
                     pinned = COALESCE($5, c.pinned),
                     muted_until = CASE WHEN $6::boolean THEN $7::bigint ELSE c.muted_until END
                FROM s
               WHERE c.session_id = s.id AND c.jid = $3 AND NOT c.purging
                 AND (c.archived, c.pinned, c.muted_until) IS DISTINCT FROM
                     (COALESCE($4, c.archived), COALESCE($5, c.pinned), CASE WHEN $6::boolean THEN $7::bigint ELSE c.muted_until END)
           RETURNING ${COLUMNS})
       SELECT s.provider, true AS changed, u.* FROM s JOIN u ON true
       UNION ALL
       SELECT s.provider, false AS changed, ${COLUMNS}
         FROM s LEFT JOIN chats c ON c.session_id = s.id AND c.jid = $3 AND NOT c.purging
        WHERE NOT EXISTS (SELECT 1 FROM u)`,
      [
        sessionId,
        orgId,
        jid,
        change.archived ?? null,
        change.pinned ?? null,
        change.mutedUntil !== undefined,
        change.mutedUntil ?? null,
      ],
    );
    return { ...scoped(rows), provider: rows[0]?.provider ?? null, changed: rows[0]?.changed ?? false };
  }

  /**
   * Marks a chat of a session the caller has locked for purging: gone for every read from the
   * commit on; it and its messages are deleted in the background. False when there is no such chat.
   */
  async markPurging(runner: QueryRunner, sessionId: string, jid: string): Promise<boolean> {
    const result = await runner.query(
      'UPDATE chats SET purging = true WHERE session_id = $1 AND jid = $2 AND NOT purging',
      [sessionId, jid],
      true,
    );
    return (result.affected ?? 0) > 0;
  }

  /** Deletes chats of a locked session with their messages; returns the JIDs that were stored. */
  async deleteMany(runner: QueryRunner, sessionId: string, jids: string[]): Promise<string[]> {
    const rows = await queryRows<{ jid: string }>(runner, 'DELETE FROM chats WHERE session_id = $1 AND jid = ANY($2::text[]) RETURNING jid', [
      sessionId,
      jids,
    ]);
    return rows.map((row) => row.jid);
  }

  /** Creates the chats that are not stored yet, with what was sent and defaults for the rest; returns them. */
  async insertMissing(runner: QueryRunner, sessionId: string, chats: ChatWrite[]): Promise<ChatRow[]> {
    return await queryRows<ChatRow>(runner, `INSERT INTO chats AS c (session_id, jid, type, name, archived, pinned, muted_until, unread_count)
       SELECT $1, u.jid, u.type, u.name, COALESCE(u.archived, false), COALESCE(u.pinned, false), u.muted_until,
              COALESCE(u.unread_count, 0)
         FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[], $6::boolean[], $7::bigint[], $8::integer[])
              AS u(jid, type, name, archived, pinned, muted_until, unread_count)
       ON CONFLICT (session_id, jid) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        sessionId,
        chats.map((c) => c.jid),
        chats.map((c) => c.type),
        chats.map((c) => c.name ?? null),
        chats.map((c) => c.archived ?? null),
        chats.map((c) => c.pinned ?? null),
        chats.map((c) => c.mutedUntil ?? null),
        chats.map((c) => c.unreadCount ?? null),
      ],
    );
  }

  /**
   * Applies the fields each write carries to stored chats; rows that would not change are not
   * written. Returns the changed rows.
   */
  async applyFields(runner: QueryRunner, sessionId: string, chats: ChatWrite[]): Promise<ChatRow[]> {
    return await queryRows<ChatRow>(runner, `UPDATE chats c
          SET name = n.name, archived = n.archived, pinned = n.pinned, muted_until = n.muted_until,
              unread_count = n.unread_count
         FROM (
           SELECT c2.jid,
                  CASE WHEN u.set_name THEN u.name ELSE c2.name END AS name,
                  COALESCE(u.archived, c2.archived) AS archived,
                  COALESCE(u.pinned, c2.pinned) AS pinned,
                  CASE WHEN u.set_muted THEN u.muted_until ELSE c2.muted_until END AS muted_until,
                  COALESCE(u.unread_count, c2.unread_count) AS unread_count
             FROM unnest($2::text[], $3::boolean[], $4::text[], $5::boolean[], $6::boolean[], $7::boolean[],
                         $8::bigint[], $9::integer[])
                  AS u(jid, set_name, name, archived, pinned, set_muted, muted_until, unread_count)
             JOIN chats c2 ON c2.session_id = $1 AND c2.jid = u.jid
         ) n
        WHERE c.session_id = $1 AND c.jid = n.jid
          AND (c.name, c.archived, c.pinned, c.muted_until, c.unread_count)
              IS DISTINCT FROM (n.name, n.archived, n.pinned, n.muted_until, n.unread_count)
       RETURNING ${COLUMNS}`,
      [
        sessionId,
        chats.map((c) => c.jid),
        chats.map((c) => c.name !== undefined),
        chats.map((c) => c.name ?? null),
        chats.map((c) => c.archived ?? null),
        chats.map((c) => c.pinned ?? null),
        chats.map((c) => c.mutedUntil !== undefined),
        chats.map((c) => c.mutedUntil ?? null),
        chats.map((c) => c.unreadCount ?? null),
      ],
    );
  }

  /**
   * Sets each chat's `last_message_at` to its newest stored message's timestamp (one index probe
   * each); returns the changed rows.
   */
  async refreshLastMessageAt(runner: QueryRunner, sessionId: string, jids: string[]): Promise<ChatRow[]> {
    return await queryRows<ChatRow>(runner, `UPDATE chats c SET last_message_at = n.ts
         FROM (
           SELECT u.jid,
                  (SELECT m.ts FROM messages m
                    WHERE m.session_id = $1 AND m.chat_jid = u.jid
                    ORDER BY m.ts DESC, m.id DESC LIMIT 1) AS ts
             FROM unnest($2::text[]) AS u(jid)
         ) n
        WHERE c.session_id = $1 AND c.jid = n.jid AND c.last_message_at IS DISTINCT FROM n.ts
       RETURNING ${COLUMNS}`,
      [sessionId, jids],
    );
  }

  /** The chat in the caller's transaction (whose session is locked and checked), or null; a chat being purged is gone. */
  async findOneIn(runner: QueryRunner, sessionId: string, jid: string): Promise<ChatRow | null> {
    const rows = await queryRows<ChatRow>(runner, `SELECT ${COLUMNS} FROM chats c WHERE c.session_id = $1 AND c.jid = $2 AND NOT c.purging`, [
      sessionId,
      jid,
    ]);
    return rows[0] ?? null;
  }
}

function scoped(rows: (ChatRow | { jid: null })[]): ScopedChat {
  if (rows.length === 0) return { sessionFound: false, chat: null };
  const row = rows[0];
  return { sessionFound: true, chat: row.jid === null ? null : row };
}
