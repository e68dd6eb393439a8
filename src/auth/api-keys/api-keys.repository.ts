import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiKeyEntity } from './api-key.entity';

/**
 * Queries on `api_keys`. Every one that reads or changes keys is scoped by `orgId`; only the
 * operator CLI passes none, to reach every organization.
 */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(ApiKeyEntity);
  }

  async insert(key: ApiKeyEntity): Promise<void> {
    await this.repo.insert(key);
  }

  /** The active key with this hash, whatever its organization: the hash is the credential. */
  findActiveByHash(hash: Buffer): Promise<ApiKeyEntity | null> {
    return this.repo
      .createQueryBuilder('k')
      .where('k.secret_hash = :hash AND k.revoked_at IS NULL', { hash })
      .getOne();
  }

  /**
   * A page of active keys, newest first, after the `(createdAt, id)` position: the organization's,
   * or every organization's when `orgId` is undefined (the operator CLI only).
   */
  listPage(
    orgId: string | undefined,
    limit: number,
    after?: { createdAt: Date; id: string },
  ): Promise<ApiKeyEntity[]> {
    const query = this.repo
      .createQueryBuilder('k')
      .where('k.revoked_at IS NULL')
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .limit(limit);
    if (orgId !== undefined) query.andWhere('k.org_id = :orgId', { orgId });
    if (after) query.andWhere('(k.created_at, k.id) < (:createdAt, :id)', after);
    return query.getMany();
  }

  /**
   * Revokes an active key of the organization (of any organization when `orgId` is undefined:
   * the operator CLI only); false when there is no such key.
   */
  async revoke(id: string, orgId: string | undefined): Promise<boolean> {
    const query = this.repo
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('id = :id AND revoked_at IS NULL', { id });
    if (orgId !== undefined) query.andWhere('org_id = :orgId', { orgId });
    const result = await query.execute();
    return (result.affected ?? 0) > 0;
  }

  /** Records when keys were last used, many keys in one statement. */
  async touch(lastUsed: Map<string, Date>): Promise<void> {
    if (lastUsed.size === 0) return;
    await this.dataSource.query(
      `UPDATE api_keys k SET last_used_at = u.at
         FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
        WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`,
      [[...lastUsed.keys()], [...lastUsed.values()]],
    );
  }
}
