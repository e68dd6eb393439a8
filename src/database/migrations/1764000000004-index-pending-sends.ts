import { MigrationInterface, QueryRunner } from 'typeorm';

/** Lets the stalled-send sweep find `pending` messages without scanning the whole history. */
export class IndexPendingSends1764000000004 implements MigrationInterface {
  name = 'IndexPendingSends1764000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX messages_pending_sends_idx ON messages (ts) WHERE status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX messages_pending_sends_idx');
  }
}
