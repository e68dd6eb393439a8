import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, QueryRunner } from 'typeorm';
import { ProviderName } from '../config/app-config';
import { SessionStatus } from '../domain/gateway-events';
import { queryRows } from '../database/prepared-query';
import { EventLogRepository } from '../events/event-log.repository';
import { RELEASED_CHANNEL } from './session-ownership.service';
import { SessionEntity } from './session.entity';
import { toSessionDto } from './session.dto';

export interface SessionStatusChange {
  status: SessionStatus;
  /** Absent leaves the number unchanged; null clears it. */
  phoneNumber?: string | null;
}

/** A session its writer holds the write lock of. */
export interface LockedSession {
  provider: ProviderName;
  orgId: string;
}

/** The channel that tells the replica holding a session that the session was deleted; the payload is its id. */
export const SESSIONS_CHANNEL = 'gateway_sessions';

/** The columns of a session as `SessionEntity` names them, for raw queries. */
const ENTITY_COLUMNS = `id, org_id AS "orgId", name, provider, status, phone_number AS "phoneNumber",
                        created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Queries on `sessions`. Every one a client triggers is scoped by `orgId`. */
@Injectable()
export class SessionsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly eventLog: EventLogRepository,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(SessionEntity);
  }

  /** Stores a new session with its `session.created` event. */
  async insert(session: SessionEntity): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(SessionEntity).insert(session);
      await this.eventLog.append(manager.queryRunner!, session.orgId, [
        { type: 'session.created', sessionId: session.id, data: toSessionDto(session) },
      ]);
    });
  }

  findOwned(orgId: string, id: string): Promise<SessionEntity | null> {
    return this.repo.findOneBy({ id, orgId, deletedAt: IsNull() });
  }

  /** A page of an organization's sessions, newest first, after the `(createdAt, id)` position. */
  listPage(orgId: string, limit: number, after?: { createdAt: Date; id: string }): Promise<SessionEntity[]> {
    const query = this.repo
      .createQueryBuilder('s')
      .where('s.org_id = :orgId AND s.deleted_at IS NULL', { orgId })
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .limit(limit);
    if (after) query.andWhere('(s.created_at, s.id) < (:createdAt, :id)', after);
    return query.getMany();
  }

  /**
   * Marks the session deleted, at once for every read; its rows are purged in the background.
   * False when there is no such session (any more).
   */
  async markDeleted(orgId: string, id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const result = await manager.getRepository(SessionEntity).update({ id, orgId, deletedAt: IsNull() }, { deletedAt: new Date() });
      if (!result.affected) return false;
      await this.eventLog.append(manager.queryRunner!, orgId, [{ type: 'session.deleted', sessionId: id, data: { id } }]);
      // Tells the replica holding the session, on commit, to log it out.
      await manager.query(`SELECT pg_notify('${SESSIONS_CHANNEL}', $1)`, [id]);
      return true;
    });
  }

  /**
   * Locks the session against other writers of its stored copy (ingestion, chat deletes) until
   * the transaction ends, and returns its provider; null when there is no such session (of
   * `orgId`, when given). The lock still lets foreign-key checks and reads through.
   */
  async lockForWrite(runner: QueryRunner, id: string, orgId?: string): Promise<LockedSession | null> {
    const rows = (await runner.query(
      orgId === undefined
        ? 'SELECT provider, org_id AS "orgId" FROM sessions WHERE id = $1 AND deleted_at IS NULL FOR NO KEY UPDATE'
        : 'SELECT provider, org_id AS "orgId" FROM sessions WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL FOR NO KEY UPDATE',
      orgId === undefined ? [id] : [id, orgId],
    )) as LockedSession[];
    return rows[0] ?? null;
  }

  /** Applies a status change; returns the session when it changed. */
  async applyStatus(runner: QueryRunner, id: string, change: SessionStatusChange): Promise<SessionEntity | null> {
    const setsNumber = change.phoneNumber !== undefined;
    const rows = await queryRows<SessionEntity>(runner, `UPDATE sessions
          SET status = $2,
              phone_number = CASE WHEN $3::boolean THEN $4 ELSE phone_number END,
              updated_at = $5
        WHERE id = $1
          AND (status, phone_number) IS DISTINCT FROM ($2, CASE WHEN $3::boolean THEN $4 ELSE phone_number END)
       RETURNING ${ENTITY_COLUMNS}`,
      [id, change.status, setsNumber, change.phoneNumber ?? null, new Date()],
    );
    return rows[0] ?? null;
  }

  /** `lockForWrite` for a send of `orgId`: also the attached number, which a sent message is from, and the status. */
  async lockForSend(
    runner: QueryRunner,
    id: string,
    orgId: string,
  ): Promise<{ provider: ProviderName; phoneNumber: string | null; status: SessionStatus } | null> {
    const rows = (await runner.query(
      'SELECT provider, phone_number, status FROM sessions WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL FOR NO KEY UPDATE',
      [id, orgId],
    )) as { provider: ProviderName; phone_number: string | null; status: SessionStatus }[];
    return rows.length === 0 ? null : { provider: rows[0].provider, phoneNumber: rows[0].phone_number, status: rows[0].status };
  }

  /** How many sessions of `provider` are not logged out (nor deleted): those a replica should hold. */
  async countConnectable(provider: ProviderName): Promise<number> {
    const rows = await this.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM sessions WHERE provider = $1 AND status <> 'logged_out' AND deleted_at IS NULL`,
      [provider],
    );
    return rows[0].n;
  }

  /**
   * Up to `limit` sessions of `provider` that are not logged out and whose advisory lock (the
   * session id after `lockPrefix`) no replica holds, in random order, so that replicas looking at
   * the same time mostly pick different ones.
   */
  async listUnheld(provider: ProviderName, lockPrefix: string, limit: number): Promise<{ id: string; orgId: string }[]> {
    const rows = await this.dataSource.query<{ id: string; org_id: string }[]>(
      `WITH held AS (
         SELECT (l.classid::bigint << 32) | l.objid::bigint AS key
           FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       )
       SELECT s.id, s.org_id FROM sessions s
        WHERE s.provider = $1 AND s.status <> 'logged_out' AND s.deleted_at IS NULL
          AND hashtextextended($2 || s.id, 0) NOT IN (SELECT key FROM held)
        ORDER BY random() LIMIT $3`,
      [provider, lockPrefix, limit],
    );
    return rows.map((row) => ({ id: row.id, orgId: row.org_id }));
  }

  /** Tells the replicas that sessions were given away. */
  async announceReleased(): Promise<void> {
    await this.dataSource.query(`SELECT pg_notify('${RELEASED_CHANNEL}', '')`);
  }

  /** What the holder of sessions `ids` needs to know to keep holding them; a purged session is absent. */
  async holdingStates(ids: readonly string[]): Promise<{ id: string; deleted: boolean; status: SessionStatus }[]> {
    return this.dataSource.query(
      'SELECT id, deleted_at IS NOT NULL AS deleted, status FROM sessions WHERE id = ANY($1::text[])',
      [ids],
    );
  }
}
