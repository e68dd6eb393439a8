import { Pool, QueryResultRow } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';

/** Statement names by SQL text: each distinct text is prepared once per pooled connection. */
const names = new Map<string, string>();

function nameOf(sql: string): string {
  let name = names.get(sql);
  if (name === undefined) {
    name = `wgw_${names.size + 1}`;
    names.set(sql, name);
  }
  return name;
}

/**
 * Runs a read or single-statement write on the hot request path as a named prepared statement,
 * straight on the pg pool. PostgreSQL then parses and plans the statement once per connection
 * instead of on every request (for a small indexed read, planning costs several times the
 * execution), and the request skips TypeORM's query runner. `sql` must come from a fixed set of
 * texts in the code, never with values interpolated: each distinct text stays prepared. It names
 * its result columns (no `table.*`), so that a migration adding a column cannot change the result
 * of a statement already prepared.
 */
export async function queryPrepared<T extends QueryResultRow>(dataSource: DataSource, sql: string, values: unknown[]): Promise<T[]> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const result = await pool.query<T>({ name: nameOf(sql), text: sql, values });
  return result.rows;
}

/**
 * The rows a statement returns in the caller's transaction. TypeORM's plain `query` answers an
 * UPDATE or DELETE as `[rows, count]`; its structured result has the rows for every statement.
 */
export async function queryRows<T>(runner: QueryRunner, sql: string, values: unknown[]): Promise<T[]> {
  return (await runner.query(sql, values, true)).records as T[];
}
