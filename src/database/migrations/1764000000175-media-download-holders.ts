import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A download's lease belongs to the replica that took it, named by the liveness lock of its lock
 * connection (`leased_by`; see `SessionOwnershipService`): a lease whose replica died (SIGKILL,
 * lost connection) is taken over at once instead of when a timed lease runs out.
 */
export class MediaDownloadHolders1764000000175 implements MigrationInterface {
  name = 'MediaDownloadHolders1764000000175';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE media_downloads ADD COLUMN leased_by bigint');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE media_downloads DROP COLUMN leased_by');
  }
}
