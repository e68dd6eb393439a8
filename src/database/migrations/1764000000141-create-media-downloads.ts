import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Durable downloads of received files (`baileys`): one row per message whose file is still to be
 * fetched from WhatsApp. A worker leases a row by moving `next_attempt_at` ahead, so a process that
 * dies mid-download leaves the row to be taken again once the lease runs out; the row goes with
 * its message.
 */
export class CreateMediaDownloads1764000000141 implements MigrationInterface {
  name = 'CreateMediaDownloads1764000000141';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE media_downloads (
        session_id          char(26)     COLLATE "C" NOT NULL,
        chat_jid            varchar(64)  COLLATE "C" NOT NULL,
        message_id          varchar(128) COLLATE "C" NOT NULL,
        attempts            integer      NOT NULL DEFAULT 0,
        reupload_requested  boolean      NOT NULL DEFAULT false,
        next_attempt_at     timestamptz  NOT NULL DEFAULT now(),
        created_at          timestamptz  NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, chat_jid, message_id),
        FOREIGN KEY (session_id, chat_jid, message_id) REFERENCES messages (session_id, chat_jid, id) ON DELETE CASCADE
      )`);
    await q.query('CREATE INDEX media_downloads_due_idx ON media_downloads (next_attempt_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE media_downloads');
  }
}
