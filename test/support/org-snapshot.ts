import { DataSource } from 'typeorm';

/**
 * Columns that change by themselves, outside any request's doing: when a key was last used, and
 * what the webhook dispatcher records of its attempts.
 */
const VOLATILE_COLUMNS: Record<string, string[]> = {
  api_keys: ['last_used_at'],
  webhooks: ['failing_since', 'paused_until', 'failed_rounds'],
  webhook_deliveries: [
    'status',
    'attempts',
    'next_attempt_at',
    'last_attempt_at',
    'last_status_code',
    'last_error',
    'delivered_at',
    'claimed_until',
  ],
};

interface ScopedTable {
  table: string;
  /** How a row belongs to an organization: its own `org_id`, or its session's. */
  scope: 'org' | 'session';
}

const tablesBySource = new WeakMap<DataSource, Promise<ScopedTable[]>>();

/** Every table holding an organization's data: those with an `org_id` or a `session_id` column. */
function scopedTables(dataSource: DataSource): Promise<ScopedTable[]> {
  let tables = tablesBySource.get(dataSource);
  if (!tables) {
    tables = dataSource
      .query<{ table_name: string; has_org: boolean }[]>(
        `SELECT table_name, bool_or(column_name = 'org_id') AS has_org
           FROM information_schema.columns
          WHERE table_schema = current_schema() AND column_name IN ('org_id', 'session_id')
          GROUP BY table_name ORDER BY table_name`,
      )
      .then((rows) => rows.map((r): ScopedTable => ({ table: r.table_name, scope: r.has_org ? 'org' : 'session' })));
    tablesBySource.set(dataSource, tables);
  }
  return tables;
}

/**
 * Row count and a checksum of the content of every table, for one organization: two equal
 * snapshots mean nothing of that organization's stored data changed in between.
 */
export async function snapshotOrg(dataSource: DataSource, orgId: string): Promise<Record<string, string>> {
  const tables = await scopedTables(dataSource);
  const parts = tables.map(({ table, scope }) => {
    const where = scope === 'org' ? 't.org_id = $1' : 't.session_id IN (SELECT id FROM sessions WHERE org_id = $1)';
    const volatile = (VOLATILE_COLUMNS[table] ?? []).map((c) => `'${c}'`).join(', ');
    const row = `(to_jsonb(t) - ARRAY[${volatile}]::text[])::text`;
    return `SELECT '${table}' AS "table", count(*) || ':' || md5(coalesce(string_agg(${row}, '|' ORDER BY ${row}), '')) AS state
              FROM "${table}" t WHERE ${where}`;
  });
  if (parts.length === 0) return {};
  const rows = await dataSource.query<{ table: string; state: string }[]>(parts.join(' UNION ALL '), [orgId]);
  return Object.fromEntries(rows.map((r) => [r.table, r.state]));
}
