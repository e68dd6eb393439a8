import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { KeysetPosition } from '../common/pagination/keyset-position';
import { queryPrepared, queryRows } from '../database/prepared-query';
import { MessageContactCard, MessageLocation, MessageReaction, MessageStatus, MessageType } from '../domain/gateway-events';
import { MESSAGE_STATUS_PROGRESS } from '../domain/message-status';
import { MEDIA_MESSAGE_TYPES, MediaStatus, MessageMedia } from '../domain/media';

/** A message as served; `ts` is bigint and arrives as a string. */
export interface MessageRow {
  chat_jid: string;
  id: string;
  from_me: boolean;
  sender_jid: string | null;
  ts: string;
  type: MessageType;
  text: string | null;
  status: MessageStatus | null;
  media: MessageMedia | null;
  reply_to: string | null;
  /** One per sender, removals kept as `emoji: ""` (see `mergeReactions`). */
  reactions: MessageReaction[] | null;
  edited: boolean;
  revoked: boolean;
  location: MessageLocation | null;
  contacts: MessageContactCard[] | null;
  sender_pn: string | null;
}

/** A message as ingestion stores it. */
export interface MessageWrite {
  chatJid: string;
  id: string;
  fromMe: boolean;
  senderJid: string | null;
  ts: number;
  type: MessageType;
  text: string | null;
  status: MessageStatus | null;
  /** Null keeps the stored file's description (a message that is still of a media type). */
  media: MessageMedia | null;
  rawJson: string | null;
  /** Null keeps the stored value (for the four below). */
  replyTo: string | null;
  location: MessageLocation | null;
  contacts: MessageContactCard[] | null;
  senderPn: string | null;
  /** Reactions to merge into the stored ones; null adds none. */
  reactions: MessageReaction[] | null;
  /** Edited (its text is the edited one) or revoked in the batch that writes it; a stored mark is never undone. */
  edited: boolean;
  revoked: boolean;
}

/** A row `upsertMany` wrote. */
export type UpsertedMessageRow = MessageRow & { inserted: boolean };

/** What receipts, reactions, edits and revokes do to a stored message. */
export interface MessageChange {
  chatJid: string;
  id: string;
  /** Applied only if it is further along than the stored status. */
  status?: MessageStatus;
  /** Present for an edit: the new text (the message is marked `edited`). */
  text?: string | null;
  /** A revoked message loses its text and its provider original, for good. */
  revoked: boolean;
  /** Reactions to merge into the stored ones. */
  reactions?: MessageReaction[];
}

/** A LID whose phone number WhatsApp revealed. */
export interface LidNumber {
  lid: string;
  phoneNumber: string;
}

/** A message's file as the media routes need it, with the session's provider. */
export interface MessageMediaRow {
  provider: string;
  type: MessageType;
  media: MessageMedia | null;
  media_error: string | null;
}

/** A message's file, scoped by organization, session and chat; `row` is null when there is no such message. */
export interface ScopedMedia {
  sessionFound: boolean;
  chatFound: boolean;
  row: MessageMediaRow | null;
}

/** A page or a single message, scoped by organization, session and chat. */
export interface ScopedMessages {
  sessionFound: boolean;
  chatFound: boolean;
  rows: MessageRow[];
}

const COLUMN_NAMES = [
  'id',
  'from_me',
  'sender_jid',
  'ts',
  'type',
  'text',
  'status',
  'media',
  'reply_to',
  'reactions',
  'edited',
  'revoked',
  'location',
  'contacts',
  'sender_pn',
];
const COLUMNS = COLUMN_NAMES.join(', ');
const M_COLUMNS = COLUMN_NAMES.map((column) => `m.${column}`).join(', ');
/** The further along of the stored and the incoming status (`$11` is the progress order); null for incoming messages. */
const FORWARD_STATUS = `CASE WHEN NOT EXCLUDED.from_me THEN NULL
                             WHEN m.status IS NULL OR EXCLUDED.status IS NULL THEN COALESCE(EXCLUDED.status, m.status)
                             WHEN array_position($11::text[], EXCLUDED.status) > array_position($11::text[], m.status)
                             THEN EXCLUDED.status ELSE m.status END`;

/**
 * The file after an upsert (`$13` lists the media types): none unless the message is of a media
 * type; the stored one when the upsert announces none; for the same file, the stored status
 * unless the announcement moves a `pending` file on (a replayed `pending` never undoes `ready`).
 */
const MERGED_MEDIA = `CASE WHEN NOT (EXCLUDED.type = ANY ($13::text[])) THEN NULL
                           WHEN EXCLUDED.media IS NULL THEN m.media
                           WHEN m.media->>'sha256' = EXCLUDED.media->>'sha256'
                                AND (m.media->>'status' = 'ready' OR EXCLUDED.media->>'status' = 'pending')
                           THEN jsonb_set(EXCLUDED.media, '{status}', m.media->'status')
                           ELSE EXCLUDED.media END`;

/**
 * `stored` reactions with `added` merged in (both jsonb arrays): one per sender, the latest by
 * timestamp, `added` winning a tie — the SQL twin of `mergeReactions`.
 */
function mergedReactions(stored: string, added: string): string {
  return `CASE WHEN ${added} IS NULL THEN ${stored} ELSE (
            SELECT jsonb_agg(r.v ORDER BY (r.v->>'timestamp')::bigint, r.v->>'senderId')
              FROM (SELECT DISTINCT ON (e.v->>'senderId') e.v
                      FROM jsonb_array_elements(COALESCE(${stored}, '[]'::jsonb) || ${added}) WITH ORDINALITY AS e(v, n)
                     ORDER BY e.v->>'senderId', (e.v->>'timestamp')::bigint DESC, e.n DESC) r) END`;
}

/**
 * What an upsert leaves in each column it may change. The outgoing timestamp is the one its send
 * answered; an edit or a revoke is never undone by a message re-sent in its original form (a
 * history re-sync, a replayed batch); the optional fields keep the stored value when not sent.
 */
const UPSERTED: [string, string][] = [
  ['from_me', 'EXCLUDED.from_me'],
  ['sender_jid', 'EXCLUDED.sender_jid'],
  ['ts', 'CASE WHEN m.from_me THEN m.ts ELSE EXCLUDED.ts END'],
  ['type', 'EXCLUDED.type'],
  ['text', 'CASE WHEN m.revoked OR EXCLUDED.revoked THEN NULL WHEN m.edited AND NOT EXCLUDED.edited THEN m.text ELSE EXCLUDED.text END'],
  ['status', FORWARD_STATUS],
  ['media', MERGED_MEDIA],
  ['reply_to', 'COALESCE(EXCLUDED.reply_to, m.reply_to)'],
  ['reactions', mergedReactions('m.reactions', 'EXCLUDED.reactions')],
  ['edited', 'm.edited OR EXCLUDED.edited'],
  ['revoked', 'm.revoked OR EXCLUDED.revoked'],
  ['location', 'COALESCE(EXCLUDED.location, m.location)'],
  ['contacts', 'COALESCE(EXCLUDED.contacts, m.contacts)'],
  ['sender_pn', 'COALESCE(EXCLUDED.sender_pn, m.sender_pn)'],
];

/**
 * The message page query. It checks the session's organization and the chat in the same
 * statement, and reads the page by keyset on `messages_page_idx`: `(ts, id) < cursor`, newest
 * first, `LIMIT n + 1`, so every page costs the same whatever its depth. Parameters:
 * `$1` session, `$2` organization, `$3` chat JID, `$4` limit, then `$5` ts and `$6` id of the
 * cursor when `withCursor`.
 */
export function messagePageSql(withCursor: boolean): string {
  return `SELECT c.jid AS chat_jid, m.* FROM sessions s
            LEFT JOIN chats c ON c.session_id = s.id AND c.jid = $3 AND NOT c.purging
            LEFT JOIN LATERAL (
              SELECT ${COLUMNS} FROM messages
               WHERE session_id = $1 AND chat_jid = $3 AND c.jid IS NOT NULL
                     ${withCursor ? 'AND (ts, id) < ($5, $6)' : ''}
               ORDER BY ts DESC, id DESC
               LIMIT $4
            ) m ON true
           WHERE s.id = $1 AND s.org_id = $2 AND s.deleted_at IS NULL`;
}

const FIRST_PAGE_SQL = messagePageSql(false);
const NEXT_PAGE_SQL = messagePageSql(true);

const FIND_ONE_SQL = `SELECT c.jid AS chat_jid, ${M_COLUMNS} FROM sessions s
                        LEFT JOIN chats c ON c.session_id = s.id AND c.jid = $3 AND NOT c.purging
                        LEFT JOIN messages m ON m.session_id = c.session_id AND m.chat_jid = c.jid AND m.id = $4
                       WHERE s.id = $1 AND s.org_id = $2 AND s.deleted_at IS NULL`;

const FIND_MEDIA_SQL = `SELECT s.provider, c.jid AS chat_jid, m.id, m.type, m.media, m.media_error FROM sessions s
                          LEFT JOIN chats c ON c.session_id = s.id AND c.jid = $3
                          LEFT JOIN messages m ON m.session_id = c.session_id AND m.chat_jid = c.jid AND m.id = $4
                         WHERE s.id = $1 AND s.org_id = $2`;

/** Queries on `messages`. Reads check the organization in the same statement. */
@Injectable()
export class MessagesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Up to `limit` messages of the chat, newest first, after the `(ts, id)` position. */
  async listPage(
    orgId: string,
    sessionId: string,
    jid: string | null,
    limit: number,
    after?: KeysetPosition,
  ): Promise<ScopedMessages> {
    const rows = after
      ? await queryPrepared<MessageRow>(this.dataSource, NEXT_PAGE_SQL, [sessionId, orgId, jid, limit, after[0], after[1]])
      : await queryPrepared<MessageRow>(this.dataSource, FIRST_PAGE_SQL, [sessionId, orgId, jid, limit]);
    return scoped(rows);
  }

  async findOne(orgId: string, sessionId: string, jid: string | null, id: string | null): Promise<ScopedMessages> {
    return scoped(await queryPrepared<MessageRow>(this.dataSource, FIND_ONE_SQL, [sessionId, orgId, jid, id]));
  }

  /**
   * Inserts messages, or updates stored ones, in one statement, and returns the rows it wrote as
   * they are now (`inserted` tells a new row). An update never moves a status backwards (a history
   * re-sync re-sends old messages as `sent`), keeps the timestamp of an outgoing message (the one
   * its send answered), and leaves an incoming message's status null; a message whose served
   * fields would not change is not written.
   */
  async upsertMany(runner: QueryRunner, sessionId: string, messages: MessageWrite[]): Promise<UpsertedMessageRow[]> {
    return await queryRows<UpsertedMessageRow>(runner, `INSERT INTO messages AS m
         (session_id, chat_jid, id, from_me, sender_jid, ts, type, text, status, raw, media,
          reply_to, location, contacts, sender_pn, reactions, edited, revoked)
       SELECT $1, u.chat_jid, u.id, u.from_me, u.sender_jid, u.ts, u.type, CASE WHEN u.revoked THEN NULL ELSE u.text END,
              CASE WHEN u.from_me THEN u.status END, u.raw,
              CASE WHEN u.type = ANY ($13::text[]) THEN u.media END,
              u.reply_to, u.location, u.contacts,
              -- A LID sender's number, when a mapping is stored already.
              COALESCE(u.sender_pn, CASE WHEN u.sender_jid LIKE '%@lid'
                THEN (SELECT c.phone_number FROM contacts c WHERE c.session_id = $1 AND c.lid = u.sender_jid) END),
              u.reactions, u.edited, u.revoked
         FROM unnest($2::text[], $3::text[], $4::boolean[], $5::text[], $6::bigint[], $7::text[],
                     $8::text[], $9::text[], $10::jsonb[], $12::jsonb[],
                     $14::text[], $15::jsonb[], $16::jsonb[], $17::text[], $18::jsonb[], $19::boolean[], $20::boolean[])
              AS u(chat_jid, id, from_me, sender_jid, ts, type, text, status, raw, media,
                   reply_to, location, contacts, sender_pn, reactions, edited, revoked)
       ON CONFLICT (session_id, chat_jid, id) DO UPDATE
          SET ${UPSERTED.map(([column, value]) => `${column} = ${value}`).join(', ')},
              raw = CASE WHEN m.revoked OR EXCLUDED.revoked THEN NULL ELSE COALESCE(EXCLUDED.raw, m.raw) END,
              media_error = CASE WHEN (${MERGED_MEDIA}) IS NOT DISTINCT FROM m.media THEN m.media_error END
        WHERE (${UPSERTED.map(([column]) => `m.${column}`).join(', ')})
              IS DISTINCT FROM (${UPSERTED.map(([, value]) => value).join(', ')})
       RETURNING m.chat_jid, ${M_COLUMNS}, (m.xmax = 0) AS inserted`,
      [
        sessionId,
        messages.map((m) => m.chatJid),
        messages.map((m) => m.id),
        messages.map((m) => m.fromMe),
        messages.map((m) => m.senderJid),
        messages.map((m) => m.ts),
        messages.map((m) => m.type),
        messages.map((m) => m.text),
        messages.map((m) => m.status),
        messages.map((m) => m.rawJson),
        MESSAGE_STATUS_PROGRESS,
        messages.map((m) => (m.media ? JSON.stringify(m.media) : null)),
        MEDIA_MESSAGE_TYPES,
        messages.map((m) => m.replyTo),
        messages.map((m) => (m.location ? JSON.stringify(m.location) : null)),
        messages.map((m) => (m.contacts ? JSON.stringify(m.contacts) : null)),
        messages.map((m) => m.senderPn),
        messages.map((m) => (m.reactions ? JSON.stringify(m.reactions) : null)),
        messages.map((m) => m.edited),
        messages.map((m) => m.revoked),
      ],
    );
  }

  /** A message's file, with the organization, session and chat checked in the same statement. */
  async findMedia(orgId: string, sessionId: string, jid: string | null, id: string | null): Promise<ScopedMedia> {
    const rows = await queryPrepared<MessageMediaRow & { chat_jid: string | null; id: string | null }>(
      this.dataSource,
      FIND_MEDIA_SQL,
      [sessionId, orgId, jid, id],
    );
    if (rows.length === 0) return { sessionFound: false, chatFound: false, row: null };
    if (rows[0].chat_jid === null) return { sessionFound: true, chatFound: false, row: null };
    return { sessionFound: true, chatFound: true, row: rows[0].id === null ? null : rows[0] };
  }

  /**
   * Moves the file `sha256` of a message to `status` (with `error` saying why, for `failed` and
   * `expired`) and returns the message as it is now; null when the message no longer has that
   * file or its status does not move that way (already `ready`, say).
   */
  async setMediaStatus(
    runner: QueryRunner,
    sessionId: string,
    chatJid: string,
    id: string,
    sha256: string,
    status: MediaStatus,
    error: string | null = null,
  ): Promise<MessageRow | null> {
    const [row] = await queryRows<MessageRow>(
      runner,
      `UPDATE messages m SET media = jsonb_set(m.media, '{status}', to_jsonb($5::text)), media_error = $6
        WHERE m.session_id = $1 AND m.chat_jid = $2 AND m.id = $3
          AND m.media->>'sha256' = $4 AND m.media->>'status' = ANY ($7::text[])
       RETURNING m.chat_jid, ${M_COLUMNS}`,
      [sessionId, chatJid, id, sha256, status, error, MEDIA_STATUS_FROM[status]],
    );
    return row ?? null;
  }

  /**
   * Applies receipts, reactions, edits and revokes to stored messages and returns the rows that
   * changed; unknown messages are skipped, a receipt never gives an incoming message a status, and
   * nothing brings back the text of a revoked message.
   */
  async applyChanges(runner: QueryRunner, sessionId: string, changes: MessageChange[]): Promise<MessageRow[]> {
    return await queryRows<MessageRow>(runner, `UPDATE messages m
          SET status = n.status, text = n.text, edited = n.edited, revoked = n.revoked, reactions = n.reactions,
              raw = CASE WHEN n.revoked THEN NULL ELSE m.raw END
         FROM (
           SELECT u.chat_jid, u.id,
                  CASE WHEN u.status IS NOT NULL AND m2.from_me
                            AND (m2.status IS NULL OR array_position($8::text[], u.status) > array_position($8::text[], m2.status))
                       THEN u.status ELSE m2.status END AS status,
                  CASE WHEN u.revoked OR m2.revoked THEN NULL WHEN u.edit THEN u.text ELSE m2.text END AS text,
                  m2.edited OR (u.edit AND NOT u.revoked AND NOT m2.revoked) AS edited,
                  m2.revoked OR u.revoked AS revoked,
                  ${mergedReactions('m2.reactions', 'u.reactions')} AS reactions
             FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::boolean[], $9::jsonb[])
                  AS u(chat_jid, id, status, edit, text, revoked, reactions)
             JOIN messages m2 ON m2.session_id = $1 AND m2.chat_jid = u.chat_jid AND m2.id = u.id
         ) n
        WHERE m.session_id = $1 AND m.chat_jid = n.chat_jid AND m.id = n.id
          AND (m.status, m.text, m.edited, m.revoked, m.reactions) IS DISTINCT FROM (n.status, n.text, n.edited, n.revoked, n.reactions)
       RETURNING m.chat_jid, ${M_COLUMNS}`,
      [
        sessionId,
        changes.map((c) => c.chatJid),
        changes.map((c) => c.id),
        changes.map((c) => c.status ?? null),
        changes.map((c) => c.text !== undefined),
        changes.map((c) => c.text ?? null),
        changes.map((c) => c.revoked),
        MESSAGE_STATUS_PROGRESS,
        changes.map((c) => (c.reactions ? JSON.stringify(c.reactions) : null)),
      ],
    );
  }

  /**
   * Gives the messages of `@lid` senders the phone number a mapping revealed, and returns the rows
   * that changed (not those of chats being purged).
   */
  async backfillSenderNumbers(runner: QueryRunner, sessionId: string, mappings: LidNumber[]): Promise<MessageRow[]> {
    return await queryRows<MessageRow>(
      runner,
      `UPDATE messages m SET sender_pn = u.phone_number
         FROM unnest($2::text[], $3::text[]) AS u(lid, phone_number)
        WHERE m.session_id = $1 AND m.sender_jid LIKE '%@lid' AND m.sender_jid = u.lid
          AND m.sender_pn IS DISTINCT FROM u.phone_number
          AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.session_id = m.session_id AND c.jid = m.chat_jid AND c.purging)
       RETURNING m.chat_jid, ${M_COLUMNS}`,
      [sessionId, mappings.map((m) => m.lid), mappings.map((m) => m.phoneNumber)],
    );
  }

  /** One message in the caller's transaction (which checked the session's organization). */
  async findOneIn(runner: QueryRunner, sessionId: string, chatJid: string, id: string): Promise<MessageRow | null> {
    const [row] = await queryRows<MessageRow>(
      runner,
      `SELECT chat_jid, ${COLUMNS} FROM messages WHERE session_id = $1 AND chat_jid = $2 AND id = $3`,
      [sessionId, chatJid, id],
    );
    return row ?? null;
  }

  /** Removes one message from the stored copy (a local delete) in the caller's transaction; false when there is none. */
  async deleteOne(runner: QueryRunner, sessionId: string, chatJid: string, id: string): Promise<boolean> {
    const rows = await queryRows(runner, 'DELETE FROM messages WHERE session_id = $1 AND chat_jid = $2 AND id = $3 RETURNING id', [
      sessionId,
      chatJid,
      id,
    ]);
    return rows.length > 0;
  }

  /** The chat's newest `limit` received messages, newest first (on `messages_page_idx`): what read receipts are for. */
  async newestReceived(runner: QueryRunner, sessionId: string, chatJid: string, limit: number): Promise<MessageRow[]> {
    return await queryRows<MessageRow>(
      runner,
      `SELECT chat_jid, ${COLUMNS} FROM messages
        WHERE session_id = $1 AND chat_jid = $2 AND NOT from_me
        ORDER BY ts DESC, id DESC LIMIT $3`,
      [sessionId, chatJid, limit],
    );
  }
}

/** The statuses a file may move to from each status. */
const MEDIA_STATUS_FROM: Record<MediaStatus, MediaStatus[]> = {
  // Bytes that match the announcement are good whatever happened before.
  ready: ['pending', 'failed', 'expired'],
  failed: ['pending'],
  expired: ['pending'],
  pending: [],
};

function scoped(rows: (MessageRow | { chat_jid: null; id: null })[]): ScopedMessages {
  if (rows.length === 0) return { sessionFound: false, chatFound: false, rows: [] };
  if (rows[0].chat_jid === null) return { sessionFound: true, chatFound: false, rows: [] };
  return { sessionFound: true, chatFound: true, rows: rows.filter((row): row is MessageRow => row.id !== null) };
}
