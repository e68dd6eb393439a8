import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { MessageDto } from './message.dto';

/** How long a key answers with its first response; older rows count as absent. */
const TTL = '24 hours';

/** A send's key, in the scope the contract gives it. */
export interface IdempotencyScope {
  orgId: string;
  sessionId: string;
  chatJid: string;
  key: string;
}

export interface StoredIdempotencyKey {
  requestHash: string;
  response: MessageDto;
}

/** Queries on `idempotency_keys`. */
@Injectable()
export class IdempotencyKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Takes the key for the rest of the caller's transaction, without waiting: false means another
   * request with the same key is being handled right now.
   */
  async tryLock(runner: QueryRunner, scope: IdempotencyScope): Promise<boolean> {
    const rows = (await runner.query(
      'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked',
      // The organization is part of the lock too: another organization's request never meets it.
      [['idempotency', scope.orgId, scope.sessionId, scope.chatJid, scope.key].join('\n')],
    )) as { locked: boolean }[];
    return rows[0].locked;
  }

  /** The key's first request and response, unless it is older than 24 h. */
  async findLive(runner: QueryRunner, scope: IdempotencyScope): Promise<StoredIdempotencyKey | null> {
    const rows = (await runner.query(
      `SELECT request_hash, response FROM idempotency_keys
        WHERE session_id = $1 AND org_id = $2 AND chat_jid = $3 AND key = $4 AND created_at > now() - $5::interval`,
      [scope.sessionId, scope.orgId, scope.chatJid, scope.key, TTL],
    )) as { request_hash: string; response: MessageDto }[];
    return rows.length === 0 ? null : { requestHash: rows[0].request_hash, response: rows[0].response };
  }

  /** Records the first response; an expired row with the same key is replaced. */
  async save(runner: QueryRunner, scope: IdempotencyScope, stored: StoredIdempotencyKey): Promise<void> {
    await runner.query(
      `INSERT INTO idempotency_keys (session_id, org_id, chat_jid, key, request_hash, response)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (session_id, org_id, chat_jid, key)
       DO UPDATE SET request_hash = EXCLUDED.request_hash, response = EXCLUDED.response, created_at = EXCLUDED.created_at`,
      [scope.sessionId, scope.orgId, scope.chatJid, scope.key, stored.requestHash, JSON.stringify(stored.response)],
    );
  }

  /** Deletes up to `limit` expired keys; returns how many. */
  async pruneExpired(limit: number): Promise<number> {
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      `DELETE FROM idempotency_keys
        WHERE (session_id, org_id, chat_jid, key) IN (
                SELECT session_id, org_id, chat_jid, key FROM idempotency_keys
                 WHERE created_at < now() - $1::interval LIMIT $2)
          AND created_at < now() - $1::interval`,
      [TTL, limit],
    );
    return affected;
  }
}
