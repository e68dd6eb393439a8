import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `number_lookup_budgets`: how many numbers each session asked WhatsApp about in the current clock
 * minute. Kept in the database, not in a replica's memory, so that the count holds for an
 * `external` session asked through every replica, and across a holder's restart or takeover.
 */
export class NumberLookupBudgets1764000000176 implements MigrationInterface {
  name = 'NumberLookupBudgets1764000000176';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE number_lookup_budgets (
        session_id  char(26) COLLATE "C" PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        minute      bigint   NOT NULL,
        used        integer  NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE number_lookup_budgets');
  }
}
