import { Injectable } from '@nestjs/common';
import { QueryRunner } from 'typeorm';

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

  async record(runner: QueryRunner, orgId: string, sha256: string, size: number): Promise<void> {
    await runner.query(
      'INSERT INTO media_objects (org_id, sha256, size) VALUES ($1, $2, $3) ON CONFLICT (org_id, sha256) DO NOTHING',
      [orgId, sha256, size],
    );
  }
}
