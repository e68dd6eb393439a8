import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the webhook dispatcher needs beside the tables of 1764000000020.
 *
 * - `webhooks.failing_since`: when the current run of failed attempts began (null after a 2xx); a
 *   webhook whose attempts have all failed for 24 h is disabled.
 * - `webhook_deliveries.claimed_until`: the lease of the attempt in flight. The claim also moves
 *   `next_attempt_at` to the lease's end, so a replica that dies mid-attempt leaves the delivery
 *   to be claimed again once the lease runs out; `claimed_until` tells a manual retry that an
 *   attempt is under way.
 * - The claim takes each webhook's due deliveries in order, so it reads them by webhook.
 */
export class WebhookDispatch1764000000120 implements MigrationInterface {
  name = 'WebhookDispatch1764000000120';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE webhooks ADD COLUMN failing_since timestamptz');
    await q.query('ALTER TABLE webhook_deliveries ADD COLUMN claimed_until timestamptz');
    await q.query(
      `CREATE INDEX webhook_deliveries_due_by_webhook_idx
         ON webhook_deliveries (org_id, webhook_id, next_attempt_at, seq) WHERE status = 'pending'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX webhook_deliveries_due_by_webhook_idx');
    await q.query('ALTER TABLE webhook_deliveries DROP COLUMN claimed_until');
    await q.query('ALTER TABLE webhooks DROP COLUMN failing_since');
  }
}
