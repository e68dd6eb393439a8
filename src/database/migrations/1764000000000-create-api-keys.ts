import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApiKeys1764000000000 implements MigrationInterface {
  name = 'CreateApiKeys1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id            char(26)     PRIMARY KEY,
        org_id        varchar(128) NOT NULL,
        name          varchar(100) NOT NULL,
        prefix        varchar(16)  NOT NULL,
        secret_hash   bytea        NOT NULL,
        capabilities  text[]       NOT NULL,
        created_at    timestamptz  NOT NULL DEFAULT now(),
        last_used_at  timestamptz,
        revoked_at    timestamptz
      )`);
    await q.query('CREATE UNIQUE INDEX api_keys_secret_hash_key ON api_keys (secret_hash)');
    await q.query('CREATE INDEX api_keys_org_created_idx ON api_keys (org_id, created_at DESC, id DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE api_keys');
  }
}
