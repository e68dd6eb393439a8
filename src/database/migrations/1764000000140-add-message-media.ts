import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Media (API.md §8). A media message's file is described in `messages.media` (the object the API
 * serves, its `status` included); `media_error` says why a file is `failed` or `expired`. The bytes
 * live in the blob store under `<org>/<sha256>`, once per organization: `media_objects` lists what
 * the store holds, so that objects no message of the organization refers to any more can be
 * removed. The expression index finds the messages of a file.
 */
export class AddMessageMedia1764000000140 implements MigrationInterface {
  name = 'AddMessageMedia1764000000140';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages ADD COLUMN media jsonb, ADD COLUMN media_error text');
    await q.query(`CREATE INDEX messages_media_sha256_idx ON messages ((media->>'sha256')) WHERE media IS NOT NULL`);
    await q.query(`
      CREATE TABLE media_objects (
        org_id      varchar(128) COLLATE "C" NOT NULL,
        sha256      char(64)     COLLATE "C" NOT NULL,
        size        bigint       NOT NULL CHECK (size >= 0),
        created_at  timestamptz  NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, sha256)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE media_objects');
    await q.query('DROP INDEX messages_media_sha256_idx');
    await q.query('ALTER TABLE messages DROP COLUMN media, DROP COLUMN media_error');
  }
}
