import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Queries on `session_auth`: a session's encrypted credential values by key. */
@Injectable()
export class SessionAuthRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(sessionId: string, keys: readonly string[]): Promise<Map<string, Buffer>> {
    if (keys.length === 0) return new Map();
    const rows: { key: string; value: Buffer }[] = await this.dataSource.query(
      'SELECT key, value FROM session_auth WHERE session_id = $1 AND key = ANY($2::text[])',
      [sessionId, keys],
    );
    return new Map(rows.map((row) => [row.key, row.value]));
  }

  /** Writes and deletes in one transaction, one statement each. Keys must be distinct. */
  async write(sessionId: string, upserts: ReadonlyMap<string, Buffer>, deletes: readonly string[]): Promise<void> {
    if (upserts.size === 0 && deletes.length === 0) return;
    await this.dataSource.transaction(async (manager) => {
      if (deletes.length > 0) {
        await manager.query('DELETE FROM session_auth WHERE session_id = $1 AND key = ANY($2::text[])', [
          sessionId,
          deletes,
        ]);
      }
      if (upserts.size > 0) {
        await manager.query(
          `INSERT INTO session_auth (session_id, key, value)
           SELECT $1, u.key, u.value FROM unnest($2::text[], $3::bytea[]) AS u(key, value)
           ON CONFLICT (session_id, key) DO UPDATE SET value = EXCLUDED.value`,
          [sessionId, [...upserts.keys()], [...upserts.values()]],
        );
      }
    });
  }

  async deleteAll(sessionId: string): Promise<void> {
    await this.dataSource.query('DELETE FROM session_auth WHERE session_id = $1', [sessionId]);
  }
}
