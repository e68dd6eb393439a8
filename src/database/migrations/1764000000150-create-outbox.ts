import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What must be carried out on WhatsApp by the replica holding a session (sends, chat changes),
 * written in the transaction that stores the change and picked up by that replica, woken by
 * `LISTEN/NOTIFY`. A row lives from the request until the attempt's outcome is recorded, or until
 * its deadline fails it; `attempt_started_at` is committed before the attempt, so that a replica
 * dying during one never leads to a second attempt.
 */
export class CreateOutbox1764000000150 implements MigrationInterface {
  name = 'CreateOutbox1764000000150';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        session_id          char(26)     COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq                 bigint       GENERATED ALWAYS AS IDENTITY,
        org_id              varchar(128) NOT NULL,
        provider            varchar(16)  NOT NULL,
        kind                varchar(16)  NOT NULL CHECK (kind IN ('send', 'chat-state')),
        chat_jid            varchar(64)  COLLATE "C" NOT NULL,
        message_id          varchar(128) COLLATE "C",
        payload             jsonb        NOT NULL,
        created_at          timestamptz  NOT NULL DEFAULT now(),
        attempt_started_at  timestamptz,
        attempted_by        varchar(64),
        PRIMARY KEY (session_id, seq)
      )`);
    await q.query('CREATE INDEX outbox_created_idx ON outbox (created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE outbox');
  }
}
