import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { queryPrepared, queryRows } from '../database/prepared-query';

/** The channel that wakes the replica holding a session when its outbox got a row; the payload is the session id. */
export const OUTBOX_CHANNEL = 'gateway_outbox';

export type OutboxKind = 'send' | 'chat-state' | 'action';

/** Something to carry out on WhatsApp for a session. */
export interface OutboxEntry {
  sessionId: string;
  orgId: string;
  /** The session's provider: who may carry it out (the holder, or any replica for `external`). */
  provider: string;
  kind: OutboxKind;
  chatJid: string;
  /** The message a send (or an action) is of. */
  messageId: string | null;
  /** What the provider is given (the outgoing message, the chat change, the action). */
  payload: unknown;
}

export interface ClaimedEntry extends OutboxEntry {
  seq: string;
}

/** A row whose deadline passed: never attempted, or attempted by a replica that never told the outcome. */
export interface ExpiredEntry {
  sessionId: string;
  orgId: string;
  kind: OutboxKind;
  chatJid: string;
  messageId: string | null;
  interrupted: boolean;
}

const ENTRY_COLUMNS = `session_id AS "sessionId", seq::text AS seq, org_id AS "orgId", provider, kind,
                       chat_jid AS "chatJid", message_id AS "messageId", payload`;

/**
 * The outbox: rows written in the transaction of the change they carry out on WhatsApp, each
 * claimed by one replica (`FOR UPDATE SKIP LOCKED`) and marked as attempted before the attempt.
 */
@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Adds a row in the caller's transaction; the holder is woken when it commits. */
  async enqueue(runner: QueryRunner, entry: OutboxEntry): Promise<void> {
    await runner.query(
      `WITH o AS (
         INSERT INTO outbox (session_id, org_id, provider, kind, chat_jid, message_id, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING session_id
       )
       SELECT pg_notify('${OUTBOX_CHANNEL}', session_id) FROM o`,
      [entry.sessionId, entry.orgId, entry.provider, entry.kind, entry.chatJid, entry.messageId, JSON.stringify(entry.payload)],
    );
  }

  /**
   * The session's oldest row that nobody attempted, of one of `providers`, younger than
   * `deadlineSeconds`, marked as attempted by `replica` (committed before this returns).
   */
  async claimNext(sessionId: string, providers: readonly string[], replica: string, deadlineSeconds: number): Promise<ClaimedEntry | null> {
    const rows = await queryPrepared<ClaimedEntry>(
      this.dataSource,
      `UPDATE outbox SET attempt_started_at = clock_timestamp(), attempted_by = $3
        WHERE (session_id, seq) = (
          SELECT session_id, seq FROM outbox
           WHERE session_id = $1 AND provider = ANY($2::text[]) AND attempt_started_at IS NULL
             AND created_at > now() - make_interval(secs => $4)
           ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING ${ENTRY_COLUMNS}`,
      [sessionId, providers, replica, deadlineSeconds],
    );
    return rows[0] ?? null;
  }

  /** Removes a row this replica attempted, in the caller's transaction when given; false when it is gone already. */
  async complete(entry: ClaimedEntry, replica: string, runner?: QueryRunner): Promise<boolean> {
    const sql = 'DELETE FROM outbox WHERE session_id = $1 AND seq = $2 AND attempted_by = $3 RETURNING seq';
    const params = [entry.sessionId, entry.seq, replica];
    const rows = runner ? await queryRows(runner, sql, params) : await queryPrepared(this.dataSource, sql, params);
    return rows.length > 0;
  }

  /** Gives back a row this replica claimed but did not attempt. */
  async unclaim(entry: ClaimedEntry, replica: string): Promise<void> {
    await queryPrepared(
      this.dataSource,
      'UPDATE outbox SET attempt_started_at = NULL, attempted_by = NULL WHERE session_id = $1 AND seq = $2 AND attempted_by = $3',
      [entry.sessionId, entry.seq, replica],
    );
  }

  /**
   * Sessions with rows nobody attempted yet: of `held` (this replica holds them), or of
   * `anyProviders` (any replica may carry them out) when older than `staleSeconds`, that is, when
   * the replica that took the request did not carry them out itself.
   */
  async waitingSessions(held: readonly string[], anyProviders: readonly string[], staleSeconds: number): Promise<string[]> {
    const rows = await queryPrepared<{ session_id: string }>(
      this.dataSource,
      `SELECT DISTINCT session_id FROM outbox
        WHERE attempt_started_at IS NULL
          AND (session_id = ANY($1::text[])
               OR (provider = ANY($2::text[]) AND created_at < now() - make_interval(secs => $3)))`,
      [held, anyProviders, staleSeconds],
    );
    return rows.map((row) => row.session_id);
  }

  /**
   * Removes, in the caller's transaction, up to `limit` rows of sessions not deleted that will not
   * be carried out any more: not attempted within `deadlineSeconds` of the request, or attempted
   * more than `attemptSeconds` ago by a replica that never recorded the outcome (it died).
   */
  async expire(runner: QueryRunner, limit: number, deadlineSeconds: number, attemptSeconds: number): Promise<ExpiredEntry[]> {
    return queryRows<ExpiredEntry>(
      runner,
      `DELETE FROM outbox o
        WHERE (o.session_id, o.seq) IN (
          SELECT x.session_id, x.seq FROM outbox x JOIN sessions s ON s.id = x.session_id AND s.deleted_at IS NULL
           WHERE (x.attempt_started_at IS NULL AND x.created_at <= now() - make_interval(secs => $2))
              OR x.attempt_started_at <= now() - make_interval(secs => $3)
           ORDER BY x.created_at LIMIT $1 FOR UPDATE OF x SKIP LOCKED)
       RETURNING o.session_id AS "sessionId", o.org_id AS "orgId", o.kind, o.chat_jid AS "chatJid",
                 o.message_id AS "messageId", o.attempt_started_at IS NOT NULL AS interrupted`,
      [limit, deadlineSeconds, attemptSeconds],
    );
  }
}
