import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event log (API.md §7) and webhook deliveries.
 *
 * `events` is ordered by the writing transaction (`xid`, `pg_current_xact_id()`) and then `seq`:
 * the feed serves only events whose transaction is older than every transaction still running
 * (`pg_snapshot_xmin`), so an event that commits late can never be skipped by a reader that has
 * moved past later ones. `payload` is the event's JSON exactly as the feed, the stream and
 * webhooks send it. Keys lead with `org_id` (the log distributes by organization).
 *
 * A delivery row is written in the same transaction as its event, one per matching enabled
 * webhook, so no crash loses one; the dispatcher claims due rows with `FOR UPDATE SKIP LOCKED`.
 */
export class CreateEventsWebhooks1764000000020 implements MigrationInterface {
  name = 'CreateEventsWebhooks1764000000020';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        org_id      varchar(128) COLLATE "C" NOT NULL,
        xid         xid8         NOT NULL DEFAULT pg_current_xact_id(),
        seq         bigint       GENERATED ALWAYS AS IDENTITY,
        id          char(30)     COLLATE "C" NOT NULL,
        type        varchar(32)  COLLATE "C" NOT NULL,
        session_id  char(26)     COLLATE "C",
        history     boolean      NOT NULL DEFAULT false,
        created_at  bigint       NOT NULL,
        payload     text         NOT NULL,
        PRIMARY KEY (org_id, xid, seq)
      )`);
    await q.query('CREATE INDEX events_created_idx ON events (created_at)');
    // The position below which events may have been pruned: an older cursor answers 410.
    await q.query(`
      CREATE TABLE event_log_horizon (
        singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        xid        xid8    NOT NULL,
        seq        bigint  NOT NULL
      )`);
    await q.query(`INSERT INTO event_log_horizon (xid, seq) VALUES ('0', 0)`);

    await q.query(`
      CREATE TABLE webhooks (
        org_id                     varchar(128)  COLLATE "C" NOT NULL,
        id                         char(26)      COLLATE "C" NOT NULL,
        url                        varchar(2048) NOT NULL,
        description                varchar(500),
        events                     text[]        NOT NULL,
        session_ids                text[]        NOT NULL DEFAULT '{}',
        include_history            boolean       NOT NULL DEFAULT false,
        enabled                    boolean       NOT NULL DEFAULT true,
        disabled_reason            text,
        secret                     text          NOT NULL,
        previous_secret            text,
        previous_secret_expires_at timestamptz,
        created_at                 timestamptz   NOT NULL DEFAULT now(),
        updated_at                 timestamptz   NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, id)
      )`);
    await q.query('CREATE INDEX webhooks_org_enabled_idx ON webhooks (org_id) WHERE enabled');

    await q.query(`
      CREATE TABLE webhook_deliveries (
        org_id            varchar(128) COLLATE "C" NOT NULL,
        webhook_id        char(26)     COLLATE "C" NOT NULL,
        seq               bigint       GENERATED ALWAYS AS IDENTITY,
        event_xid         xid8         NOT NULL,
        event_seq         bigint       NOT NULL,
        event_id          char(30)     COLLATE "C" NOT NULL,
        event_type        varchar(32)  COLLATE "C" NOT NULL,
        status            varchar(16)  NOT NULL DEFAULT 'pending',
        attempts          integer      NOT NULL DEFAULT 0,
        next_attempt_at   timestamptz  NOT NULL DEFAULT now(),
        last_attempt_at   timestamptz,
        last_status_code  integer,
        last_error        text,
        delivered_at      timestamptz,
        created_at        timestamptz  NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, webhook_id, seq),
        FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query('CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE webhook_deliveries');
    await q.query('DROP TABLE webhooks');
    await q.query('DROP TABLE event_log_horizon');
    await q.query('DROP TABLE events');
  }
}
