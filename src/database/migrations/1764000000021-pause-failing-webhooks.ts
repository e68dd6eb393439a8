import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A webhook whose receiver fails is paused as a whole: `paused_until` is when its next attempt
 * may start, after a backoff that grows with `failed_rounds` (runs of failed attempts since the
 * last 2xx). A receiver that is down then costs one round of attempts per pause instead of every
 * queued delivery walking its own retry schedule, and once it answers again the whole backlog
 * flows at once, in order.
 */
export class PauseFailingWebhooks1764000000021 implements MigrationInterface {
  name = 'PauseFailingWebhooks1764000000021';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE webhooks ADD COLUMN paused_until timestamptz');
    await q.query('ALTER TABLE webhooks ADD COLUMN failed_rounds integer NOT NULL DEFAULT 0');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE webhooks DROP COLUMN failed_rounds');
    await q.query('ALTER TABLE webhooks DROP COLUMN paused_until');
  }
}
