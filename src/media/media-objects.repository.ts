import { Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { queryRows } from '../database/prepared-query';

/** No message of the object's organization (in a session not yet purged) has its file. */
const UNREFERENCED = `NOT EXISTS (SELECT 1 FROM messages m JOIN sessions s ON s.id = m.session_id
                                   WHERE m.media IS NOT NULL AND m.media->>'sha256' = o.sha256 AND s.org_id = o.org_id)`;

/** Queries on `media_objects`: which files the blob store holds for each organization. */
@Injectable()
export class MediaObjectsRepository {
  /**
   * Serializes, until the caller's transaction ends, everything that stores or removes the
   * organization's file: a file being stored is never removed by a concurrent collection.
   */
  async lock(runner: QueryRunner, orgId: string, sha256: string): Promise<void> {
    await runner.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`media\n${orgId}\n${sha256}`]);
  }

  /**
   * Up to `limit` objects at least `graceMs` old that no stored message of their organization
   * refers to: candidates, to be checked again under the object's lock by `deleteIfUnreferenced`.
   */
  async findUnreferenced(dataSource: DataSource, graceMs: number, limit: number): Promise<{ orgId: string; sha256: string }[]> {
    return await dataSource.query(
      `SELECT o.org_id AS "orgId", o.sha256 FROM media_objects o
        WHERE o.created_at < now() - make_interval(secs => $1::double precision / 1000) AND ${UNREFERENCED}
        LIMIT $2`,
      [graceMs, limit],
    );
  }

  /** Forgets the object if still no message refers to it; true when it did (the caller then removes the blob). */
  async deleteIfUnreferenced(runner: QueryRunner, orgId: string, sha256: string): Promise<boolean> {
    const rows = await queryRows<{ sha256: string }>(
      runner,
      `DELETE FROM media_objects o WHERE o.org_id = $1 AND o.sha256 = $2 AND ${UNREFERENCED} RETURNING o.sha256`,
      [orgId, sha256],
    );
    return rows.length > 0;
  }

  async record(runner: QueryRunner, orgId: string, sha256: string, size: number): Promise<void> {
    await runner.query(
      'INSERT INTO media_objects (org_id, sha256, size) VALUES ($1, $2, $3) ON CONFLICT (org_id, sha256) DO NOTHING',
      [orgId, sha256, size],
    );
  }
}
