import { Client } from 'pg';
import { decodeCursor } from '../src/common/pagination/cursor';
import { CONTACTS_PAGE_SQL } from '../src/contacts/contacts.repository';
import { combineRounds, HttpResult, runHttpScenario } from './http-load';

/** The contacts list (API.md §10): its first page and a page deep in 50,000 contacts cost the same. */
export interface ContactsBench {
  contactsFirstPageRps: number;
  contactsDeepPageRps: number;
  contactsFirstP99Ms: number;
  contactsDeepP99Ms: number;
  /** Server-side execution of the page statement (`EXPLAIN ANALYZE`), first and deep. */
  contactsFirstExplainMs: number;
  contactsDeepExplainMs: number;
  /** Answers other than 200, and requests without an answer. */
  contactsErrors: number;
}

export interface ContactsBenchOptions {
  baseUrl: string;
  databaseUrl: string;
  sessionId: string;
  orgId: string;
  /** A `read` key of `orgId`. */
  key: string;
  contacts: number;
  /** Where the deep page starts. */
  deepAt: number;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  rounds: number;
  log: (line: string) => void;
}

const PAGE = 50;
const WALK_PAGE = 100;

/** `contacts` people for the session, set-based: numbers in order, names, a third with a LID. */
async function seedContacts(client: Client, sessionId: string, contacts: number): Promise<void> {
  await client.query(
    `INSERT INTO contacts (session_id, jid, phone_number, lid, name, push_name, is_business)
     SELECT $1, (6281000000000 + g)::text || '@s.whatsapp.net', (6281000000000 + g)::text,
            CASE WHEN g % 3 = 0 THEN (100000000000000 + g)::text || '@lid' END,
            'Contact ' || g, 'Person ' || g, g % 10 = 0
       FROM generate_series(1, $2::int) AS g`,
    [sessionId, contacts],
  );
  await client.query('ANALYZE contacts');
}

/** Walks the list through the API, 100 a page, to `depth` contacts; the cursor of the page that starts there. */
async function walk(options: ContactsBenchOptions): Promise<string> {
  let seen = 0;
  let cursor: string | null = null;
  while (seen < options.deepAt) {
    const limit = Math.min(WALK_PAGE, options.deepAt - seen);
    const query = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await fetch(new URL(`/api/v1/sessions/${options.sessionId}/contacts${query}`, options.baseUrl), {
      headers: { authorization: `Bearer ${options.key}` },
    });
    if (res.status !== 200) throw new Error(`contacts walk: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { data: unknown[]; nextCursor: string | null };
    seen += page.data.length;
    if (!page.nextCursor) throw new Error(`the contacts walk ended after ${seen}, before ${options.deepAt}`);
    cursor = page.nextCursor;
  }
  return cursor!;
}

/** The page statement's plan, run: its execution time and whether it walks an index. */
async function explain(client: Client, options: ContactsBenchOptions, after: string): Promise<{ ms: number; indexed: boolean }> {
  const { rows } = await client.query<{ 'QUERY PLAN': { 'Execution Time': number; Plan: unknown }[] }>(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${CONTACTS_PAGE_SQL}`,
    [options.sessionId, options.orgId, PAGE + 1, after],
  );
  const [plan] = rows[0]['QUERY PLAN'];
  return { ms: Number(plan['Execution Time'].toFixed(3)), indexed: /"Index (Only )?Scan"/.test(JSON.stringify(plan.Plan)) && !/"Sort"/.test(JSON.stringify(plan.Plan)) };
}

export async function runContactsBench(options: ContactsBenchOptions): Promise<ContactsBench> {
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    await seedContacts(client, options.sessionId, options.contacts);
    const deepCursor = await walk(options);
    const [afterJid] = decodeCursor<[string]>(deepCursor, ['string']);
    const first = await explain(client, options, '');
    const deep = await explain(client, options, afterJid);
    options.log(
      `  contacts: ${options.contacts} seeded; page statement ${first.ms} ms first, ${deep.ms} ms after ${afterJid} ` +
        `(${first.indexed && deep.indexed ? 'both an index walk, no sort' : 'NOT an index walk'})`,
    );
    const path = `/api/v1/sessions/${options.sessionId}/contacts?limit=${PAGE}`;
    const scenarios = [
      { name: 'list contacts, first page', path, headers: { authorization: `Bearer ${options.key}` } },
      { name: `list contacts, page after ${options.deepAt}`, path: `${path}&cursor=${encodeURIComponent(deepCursor)}`, headers: { authorization: `Bearer ${options.key}` } },
    ];
    const results: HttpResult[][] = [[], []];
    for (let round = 1; round <= options.rounds; round++) {
      for (const [i, scenario] of scenarios.entries()) {
        if (round === 1) await runHttpScenario(options.baseUrl, scenario, { connections: options.connections, seconds: options.warmupSeconds });
        const result = await runHttpScenario(options.baseUrl, scenario, { connections: options.connections, seconds: options.seconds / options.rounds });
        results[i].push(result);
        options.log(`  round ${round}, ${scenario.name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99Ms} ms, ${result.errors} errors`);
      }
    }
    const [firstPage, deepPage] = results.map(combineRounds);
    options.log(
      `  contacts: first page ${firstPage.rps.toFixed(0)} req/s, deep page ${deepPage.rps.toFixed(0)} req/s ` +
        `(${(deepPage.rps / firstPage.rps).toFixed(2)} x)`,
    );
    return {
      contactsFirstPageRps: Math.round(firstPage.rps),
      contactsDeepPageRps: Math.round(deepPage.rps),
      contactsFirstP99Ms: firstPage.p99Ms,
      contactsDeepP99Ms: deepPage.p99Ms,
      contactsFirstExplainMs: first.ms,
      contactsDeepExplainMs: deep.ms,
      contactsErrors: firstPage.errors + deepPage.errors,
    };
  } finally {
    await client.end();
  }
}
