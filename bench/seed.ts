/**
 * Fills a database with a realistic stored copy (default 1,000,000 messages across orgs,
 * sessions and a long tail of chats, one of them with 200,000+ messages), then shows with
 * EXPLAIN (ANALYZE, BUFFERS) and repeated timings that the app's keyset page query costs the same
 * on page 1 and deep in the largest chat, next to OFFSET for comparison.
 *
 *   npm run bench:seed -- [--messages N] [--keep]
 *
 * Uses BENCH_DATABASE_URL when set (its schema is migrated and seeded in place), otherwise a
 * fresh database on the local server (or an embedded PostgreSQL), dropped afterwards unless
 * `--keep`. `seedMessages` and `measurePageCosts` are exported for other benchmarks.
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { runMigrationsLocked } from '../src/database/migrations';
import { MIGRATIONS } from '../src/database/migrations/index';
import { messagePageSql } from '../src/messages/messages.repository';
import { createTestDatabase } from '../test/support/test-database';

export interface SeedOptions {
  /** Total messages to store. */
  messages: number;
  organizations?: number;
  sessionsPerOrganization?: number;
  /** Chats in the long tail, besides the large ones (default: one per 200 messages, at most 5000). */
  tailChats?: number;
  log?: (line: string) => void;
}

export interface SeededChat {
  orgId: string;
  sessionId: string;
  jid: string;
  messages: number;
}

export interface SeedSummary {
  sessions: { id: string; orgId: string }[];
  chats: number;
  messages: number;
  /** The largest chats, largest first. */
  largestChats: SeededChat[];
  seconds: number;
}

const FIRST_TS = 1_700_000_000_000;

/** Session ids are fixed, valid ULIDs, so that reruns against a kept database are comparable. */
const sessionId = (n: number): string => `01JBENCH${String(n).padStart(18, '0')}`;

/**
 * Chat sizes: the largest chat gets 20% of the messages but at least 200,000 (two thirds when
 * there are fewer than 300,000), three more get 5% each, and the rest follows a power law over
 * `tailChats` chats.
 */
function chatSizes(total: number, tailChats: number): number[] {
  const largest = Math.min(total, Math.max(Math.round(total * 0.2), Math.min(200_000, Math.round((total * 2) / 3))));
  const large = Array.from({ length: 3 }, () => Math.floor(Math.min(total * 0.05, (total - largest) / 4)));
  const tail = total - largest - large.reduce((a, b) => a + b, 0);
  const weights = Array.from({ length: tailChats }, (_, i) => 1 / (i + 1) ** 0.9);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const tailSizes = weights.map((w) => Math.max(1, Math.floor((tail * w) / weightSum)));
  // Rounding leaves a few messages over or short; the biggest tail chat absorbs them.
  tailSizes[0] += tail - tailSizes.reduce((a, b) => a + b, 0);
  return [largest, ...large, ...tailSizes].filter((n) => n > 0);
}

/** Seeds sessions, chats and messages with set-based INSERT … SELECT (rows generated in the server). */
export async function seedMessages(databaseUrl: string, options: SeedOptions): Promise<SeedSummary> {
  const log = options.log ?? (() => undefined);
  const organizations = options.organizations ?? 3;
  const perOrganization = options.sessionsPerOrganization ?? 2;
  const started = performance.now();
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const sessions = Array.from({ length: organizations * perOrganization }, (_, i) => ({
      id: sessionId(i + 1),
      orgId: `bench-org-${Math.floor(i / perOrganization) + 1}`,
    }));
    await client.query(
      `INSERT INTO sessions (id, org_id, name, provider, status, phone_number, created_at, updated_at)
       SELECT s.id, s.org_id, 'bench ' || s.id, 'external', 'connected', '628' || lpad(s.n::text, 9, '0'), now(), now()
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(id, org_id, n)
       ON CONFLICT DO NOTHING`,
      [sessions.map((s) => s.id), sessions.map((s) => s.orgId)],
    );

    const sizes = chatSizes(options.messages, options.tailChats ?? Math.max(1, Math.min(5000, Math.floor(options.messages / 200))));
    const chats = sizes.map((messages, i) => {
      const session = sessions[i % sessions.length];
      const jid = i % 5 === 4 ? `1203630${String(i).padStart(11, '0')}@g.us` : `628${String(i).padStart(10, '0')}@s.whatsapp.net`;
      return { orgId: session.orgId, sessionId: session.id, jid, messages };
    });
    await client.query(
      `INSERT INTO chats (session_id, jid, type, name, archived, pinned, unread_count)
       SELECT c.session_id, c.jid, CASE WHEN c.jid LIKE '%@g.us' THEN 'group' ELSE 'direct' END,
              'chat ' || c.n, c.n % 17 = 0, c.n % 29 = 0, c.n % 5
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(session_id, jid, n)
       ON CONFLICT DO NOTHING`,
      [chats.map((c) => c.sessionId), chats.map((c) => c.jid)],
    );
    log(`seeding ${options.messages} messages in ${chats.length} chats of ${sessions.length} sessions`);

    // One statement per session, in chunks of chats, so that progress shows and no statement is huge.
    let done = 0;
    const chunk = 200_000;
    let batch: typeof chats = [];
    let batchSize = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      // Two messages share each second, so ties on time are broken by id as in real chats.
      await client.query(
        `INSERT INTO messages (session_id, chat_jid, id, from_me, sender_jid, ts, type, text, status)
         SELECT c.session_id, c.jid, upper(substr(md5(c.jid || g), 1, 20)), g % 3 = 0,
                CASE WHEN g % 3 = 0 THEN NULL ELSE split_part(c.jid, '@', 1) || '@s.whatsapp.net' END,
                $4::bigint + (g / 2) * 1000, CASE WHEN g % 11 = 0 THEN 'image' ELSE 'text' END,
                'pesan ' || g || ' ' || md5(g::text), CASE WHEN g % 3 = 0 THEN 'read' END
           FROM unnest($1::text[], $2::text[], $3::integer[]) AS c(session_id, jid, n),
                generate_series(1, c.n) AS g`,
        [batch.map((c) => c.sessionId), batch.map((c) => c.jid), batch.map((c) => c.messages), FIRST_TS],
      );
      done += batchSize;
      log(`  ${done} / ${options.messages} messages (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      batch = [];
      batchSize = 0;
    };
    for (const chat of chats) {
      batch.push(chat);
      batchSize += chat.messages;
      if (batchSize >= chunk) await flush();
    }
    await flush();

    await client.query(
      `UPDATE chats c SET last_message_at = m.ts
         FROM (SELECT session_id, chat_jid, max(ts) AS ts FROM messages GROUP BY session_id, chat_jid) m
        WHERE c.session_id = m.session_id AND c.jid = m.chat_jid`,
    );
    await client.query('VACUUM ANALYZE sessions, chats, messages');
    const largestChats = [...chats].sort((a, b) => b.messages - a.messages).slice(0, 4);
    return {
      sessions,
      chats: chats.length,
      messages: options.messages,
      largestChats,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await client.end();
  }
}

export interface PageCost {
  name: string;
  rows: number;
  /** From EXPLAIN (ANALYZE, BUFFERS). */
  executionMs: number;
  sharedBuffers: number;
  /** Round trips measured from the client (`runs` of them). */
  medianMs: number;
  p95Ms: number;
  runs: number;
  plan: string;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** Where a keyset page starts: the `(ts, id)` of the last message of the page before it. */
export interface PagePosition {
  ts: number;
  id: string;
}

export interface PageCostOptions {
  limit?: number;
  /** How deep (0..1) into the chat the deep page starts, when `after` is not given. */
  depth?: number;
  /** The deep page's keyset position (e.g. from a cursor of a real walk); found by OFFSET when absent. */
  after?: PagePosition;
  /** Client timings per query: at most `runs`, and no more than fit in `budgetMs` (at least 5). */
  runs?: number;
  budgetMs?: number;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) and client timings of a page of `limit` messages: page 1 and a deep
 * page of the chat with the app's keyset query, and the same deep page with OFFSET.
 */
export async function measurePageCosts(
  databaseUrl: string,
  chat: SeededChat,
  { limit = 50, depth = 0.9, after, runs = 300, budgetMs = 15_000 }: PageCostOptions = {},
): Promise<PageCost[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const boundary = after ?? (await positionAt(client, chat, Math.floor(chat.messages * depth)));
    const skip = await messagesBefore(client, chat, boundary);
    const offsetSql = `SELECT id, from_me, sender_jid, ts, type, text, status FROM messages
                        WHERE session_id = $1 AND chat_jid = $2 ORDER BY ts DESC, id DESC OFFSET $3 LIMIT $4`;
    const variants: { name: string; sql: string; params: unknown[] }[] = [
      { name: 'keyset, page 1', sql: messagePageSql(false), params: [chat.sessionId, chat.orgId, chat.jid, limit + 1] },
      {
        name: `keyset, page at ${Math.round((skip / chat.messages) * 100)}% (after ${skip} messages)`,
        sql: messagePageSql(true),
        params: [chat.sessionId, chat.orgId, chat.jid, limit + 1, boundary.ts, boundary.id],
      },
      { name: `OFFSET ${skip}, for comparison`, sql: offsetSql, params: [chat.sessionId, chat.jid, skip, limit + 1] },
    ];
    const costs: PageCost[] = [];
    for (const variant of variants) {
      const explained = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${variant.sql}`, variant.params);
      const plan = explained.rows.map((r) => r['QUERY PLAN']).join('\n');
      const rows = (await client.query(variant.sql, variant.params)).rowCount ?? 0;
      const timings: number[] = [];
      const deadline = performance.now() + budgetMs;
      while (timings.length < runs && (timings.length < 5 || performance.now() < deadline)) {
        const t0 = performance.now();
        await client.query(variant.sql, variant.params);
        timings.push(performance.now() - t0);
      }
      timings.sort((a, b) => a - b);
      const buffers = /Buffers: shared hit=(\d+)(?: read=(\d+))?/.exec(plan);
      costs.push({
        name: variant.name,
        rows,
        executionMs: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN),
        sharedBuffers: buffers ? Number(buffers[1]) + Number(buffers[2] ?? 0) : NaN,
        medianMs: percentile(timings, 0.5),
        p95Ms: percentile(timings, 0.95),
        runs: timings.length,
        plan,
      });
    }
    return costs;
  } finally {
    await client.end();
  }
}

/** The position after the first `skip` messages of the chat, newest first. */
async function positionAt(client: Client, chat: SeededChat, skip: number): Promise<PagePosition> {
  const { rows } = await client.query<{ ts: string; id: string }>(
    'SELECT ts, id FROM messages WHERE session_id = $1 AND chat_jid = $2 ORDER BY ts DESC, id DESC OFFSET $3 LIMIT 1',
    [chat.sessionId, chat.jid, skip - 1],
  );
  return { ts: Number(rows[0].ts), id: rows[0].id };
}

/** How many messages of the chat come before the position, newest first: the OFFSET of the same page. */
async function messagesBefore(client: Client, chat: SeededChat, position: PagePosition): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    'SELECT count(*) AS n FROM messages WHERE session_id = $1 AND chat_jid = $2 AND (ts, id) >= ($3, $4)',
    [chat.sessionId, chat.jid, position.ts, position.id],
  );
  return Number(rows[0].n);
}

async function migrate(databaseUrl: string): Promise<void> {
  const dataSource = await new DataSource({ type: 'postgres', url: databaseUrl, migrations: MIGRATIONS, logging: false }).initialize();
  try {
    await runMigrationsLocked(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

function parseArgs(argv: string[]): { messages: number; keep: boolean } {
  let messages = 1_000_000;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--keep') keep = true;
    else if (argv[i] === '--messages' && /^\d+$/.test(argv[i + 1] ?? '') && Number(argv[i + 1]) >= 1000) {
      messages = Number(argv[++i]);
    } else throw new Error(`unknown or malformed argument "${argv[i]}" (use --messages N with N >= 1000, --keep)`);
  }
  return { messages, keep };
}

async function main(): Promise<void> {
  const { messages, keep } = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const given = process.env.BENCH_DATABASE_URL;
  const database = given ? { url: given, drop: () => Promise.resolve() } : await createTestDatabase('bench');
  log(`database: ${new URL(database.url).pathname.slice(1)}${given ? ' (BENCH_DATABASE_URL)' : ''}`);
  try {
    await migrate(database.url);
    const summary = await seedMessages(database.url, { messages, log });
    log(`seeded ${summary.messages} messages, ${summary.chats} chats, ${summary.sessions.length} sessions in ${summary.seconds.toFixed(1)} s`);
    const chat = summary.largestChats[0];
    log(`largest chat: ${chat.jid} of session ${chat.sessionId}, ${chat.messages} messages\n`);
    const costs = await measurePageCosts(database.url, chat);
    for (const cost of costs) log(`--- ${cost.name}\n${cost.plan}\n`);
    log('query                                              rows  exec ms  buffers  median ms  p95 ms');
    for (const c of costs) {
      log(
        `${c.name.padEnd(50)} ${String(c.rows).padStart(4)} ${c.executionMs.toFixed(3).padStart(8)} ${String(c.sharedBuffers).padStart(8)} ` +
          `${c.medianMs.toFixed(3).padStart(10)} ${c.p95Ms.toFixed(3).padStart(7)}`,
      );
    }
  } finally {
    if (keep) log(`\nkept: ${database.url}`);
    else await database.drop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:seed failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
