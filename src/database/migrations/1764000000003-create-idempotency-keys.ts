import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `Idempotency-Key`s of sends: scoped to the organization, the session and the chat, with a hash
 * of the request body and the first response, so that a retry answers it again instead of sending
 * twice. A row is written in the same transaction as the message it answers with; rows older than
 * 24 h are ignored, replaced and pruned. `json`, not `jsonb`: a replay answers the very bytes of the
 * first response, key order included. They go with their session, not with a locally deleted
 * chat (a retry still answers what was first answered).
 */
export class CreateIdempotencyKeys1764000000003 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1764000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        org_id        varchar(128) NOT NULL,
        session_id    char(26)     COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        chat_jid      varchar(64)  COLLATE "C" NOT NULL,
        key           varchar(255) COLLATE "C" NOT NULL,
        request_hash  char(64)     NOT NULL,
        response      json         NOT NULL,
        created_at    timestamptz  NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, org_id, chat_jid, key)
      )`);
    await q.query('CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE idempotency_keys');
  }
}
