import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, QueryRunner } from 'typeorm';
import { ProviderName } from '../config/app-config';
import { SessionStatus } from '../whatsapp/gateway-events';
import { SessionEntity } from './session.entity';

export interface SessionStatusChange {
  status: SessionStatus;
  /** Absent leaves the number unchanged; null clears it. */
  phoneNumber?: string | null;
}

/**
 * Queries on `sessions`. Every one a client triggers is scoped by `orgId`, and none finds a
 * deleted session (`deleted_at` set: its rows are being purged in the background).
 */
@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(SessionEntity);
  }

  async insert(session: SessionEntity): Promise<void> {
    await this.repo.insert(session);
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
    const result = await this.repo.update({ id, orgId, deletedAt: IsNull() }, { deletedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Locks the session against other writers of its stored copy (ingestion, chat deletes) until
   * the transaction ends, and returns its provider; null when there is no such session (of
   * `orgId`, when given). The lock still lets foreign-key checks and reads through.
   */
  async lockForWrite(runner: QueryRunner, id: string, orgId?: string): Promise<ProviderName | null> {
    const rows = (await runner.query(
      orgId === undefined
        ? 'SELECT provider FROM sessions WHERE id = $1 AND deleted_at IS NULL FOR NO KEY UPDATE'
        : 'SELECT provider FROM sessions WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL FOR NO KEY UPDATE',
      orgId === undefined ? [id] : [id, orgId],
    )) as { provider: ProviderName }[];
    return rows[0]?.provider ?? null;
  }

  async applyStatus(runner: QueryRunner, id: string, change: SessionStatusChange): Promise<void> {
    const setsNumber = change.phoneNumber !== undefined;
    await runner.query(
      `UPDATE sessions
          SET status = $2,
              phone_number = CASE WHEN $3::boolean THEN $4 ELSE phone_number END,
              updated_at = $5
        WHERE id = $1
          AND (status, phone_number) IS DISTINCT FROM ($2, CASE WHEN $3::boolean THEN $4 ELSE phone_number END)`,
      [id, change.status, setsNumber, change.phoneNumber ?? null, new Date()],
    );
  }

  /** `lockForWrite` for a send of `orgId`: also the attached number, which a sent message is from. */
  async lockForSend(
    runner: QueryRunner,
    id: string,
    orgId: string,
  ): Promise<{ provider: ProviderName; phoneNumber: string | null } | null> {
    const rows = (await runner.query(
      'SELECT provider, phone_number FROM sessions WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL FOR NO KEY UPDATE',
      [id, orgId],
    )) as { provider: ProviderName; phone_number: string | null }[];
    return rows.length === 0 ? null : { provider: rows[0].provider, phoneNumber: rows[0].phone_number };
  }

  /** Up to `limit` sessions of `provider` that are not logged out, by id, after `afterId`. */
  async listConnectable(provider: ProviderName, limit: number, afterId = ''): Promise<{ id: string; orgId: string }[]> {
    const rows = await this.dataSource.query<{ id: string; org_id: string }[]>(
      `SELECT id, org_id FROM sessions
        WHERE provider = $1 AND status <> 'logged_out' AND deleted_at IS NULL AND id > $2
        ORDER BY id LIMIT $3`,
      [provider, afterId, limit],
    );
    return rows.map((row) => ({ id: row.id, orgId: row.org_id }));
  }
}
