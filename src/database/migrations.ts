import { DataSource, MigrationExecutor } from 'typeorm';

// Any constant works; it only has to be the same for every replica.
const MIGRATION_LOCK_KEY = 7_301_994_221;

/**
 * Runs pending migrations under a PostgreSQL advisory lock, so replicas (or test workers) that
 * start together do not apply the same migration twice. They run on the connection that holds
 * the lock, without the pool's statement and lock timeouts: a migration may rightly take long,
 * and a replica waits for another's migrations as long as they take.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SET statement_timeout = 0');
    await runner.query('SET lock_timeout = 0');
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    await executor.executePendingMigrations();
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    // The connection goes back to the pool with the timeouts it was opened with (a RESET only
    // fails on a connection that is broken anyway).
    await runner.query('RESET statement_timeout').catch(() => undefined);
    await runner.query('RESET lock_timeout').catch(() => undefined);
    await runner.release();
  }
}
