import { MigrationInterface, QueryRunner } from 'typeorm';

/** The outbox also carries the conversation actions of API.md §9 (reactions, edits, revokes, read receipts, presence). */
export class OutboxActions1764000000161 implements MigrationInterface {
  name = 'OutboxActions1764000000161';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check');
    await q.query(`ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('send', 'chat-state', 'action'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM outbox WHERE kind = 'action'`);
    await q.query('ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check');
    await q.query(`ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('send', 'chat-state'))`);
  }
}
