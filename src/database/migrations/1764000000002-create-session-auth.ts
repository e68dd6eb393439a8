import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * WhatsApp credentials of `baileys` sessions: one row per Baileys auth value (`creds`, and each
 * signal key as `<type>:<id>`), the value AES-256-GCM sealed by the application. They go with
 * their session.
 */
export class CreateSessionAuth1764000000002 implements MigrationInterface {
  name = 'CreateSessionAuth1764000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE session_auth (
        session_id  char(26) COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        key         text     COLLATE "C" NOT NULL,
        value       bytea    NOT NULL,
        PRIMARY KEY (session_id, key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE session_auth');
  }
}
