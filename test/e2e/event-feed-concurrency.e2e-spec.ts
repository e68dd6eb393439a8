import request from 'supertest';
import { DataSource } from 'typeorm';
import { EventType } from '../../src/domain/event-types';
import { EventWriter, messageCreated } from '../support/event-log';
import { listen, SseClient } from '../support/event-stream';
import { auth } from '../support/ingest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

/**
 * The feed's guarantee under load: many writer transactions commit concurrently on two replicas
 * (random pauses inside each, so that one that wrote first often commits last; some roll back),
 * while readers on both replicas follow `nextCursor` (and a live stream follows along). At the
 * end every reader has received every committed event exactly once, in log order, and nothing of
 * a rolled-back transaction. A naive `seq > cursor` reader runs beside them for comparison.
 */

const WRITERS = 8;
const TRANSACTIONS_PER_WRITER = 40;
const ROLLBACK_SHARE = 0.15;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const random = (max: number) => Math.floor(Math.random() * max);
const idOf = (event: { data: { id: string } }): string => event.data.id;

describe('event feed under concurrent writers', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    // Writers hold connections for their transactions; leave readers room in the pools.
    a = await startTestApp({ DATABASE_POOL_SIZE: '20' });
    b = await startTestApp({ DATABASE_POOL_SIZE: '20' });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('gives every reader every committed event exactly once, in order, and none of a rolled-back transaction', async () => {
    const org = uniqueOrg('feed-proof');
    const keyA = await createKey(a, org, ['read']);
    const keyB = await createKey(b, org, ['read']);
    const committed = new Set<string>();
    const rolledBack = new Set<string>();
    /** The committed events of the type the filtered reader asks for. */
    const updatedCommitted = new Set<string>();
    let writersDone = false;

    const stream = await SseClient.open(await listen(b), '/api/v1/events/stream', { authorization: `Bearer ${keyB}` });
    expect(stream.status).toBe(200);

    async function writer(w: number): Promise<void> {
      const app = w % 2 === 0 ? a : b;
      for (let i = 0; i < TRANSACTIONS_PER_WRITER; i++) {
        const tx = await EventWriter.begin(app);
        const tags: string[] = [];
        const updated: string[] = [];
        const statements = 1 + random(2);
        for (let s = 0; s < statements; s++) {
          // Pauses inside the transaction, before and after writing: the commit comes late.
          await tx.query(`SELECT pg_sleep(${random(15) / 1000})`);
          const count = 1 + random(3);
          const events = Array.from({ length: count }, (_, k) => {
            const tag = `w${w}-t${i}-s${s}-e${k}`;
            tags.push(tag);
            const type: EventType = random(3) === 0 ? 'message.updated' : 'message.created';
            if (type === 'message.updated') updated.push(tag);
            return messageCreated(tag, null, type);
          });
          await tx.append(org, events);
        }
        await tx.query(`SELECT pg_sleep(${random(25) / 1000})`);
        if (Math.random() < ROLLBACK_SHARE) {
          await tx.rollback();
          for (const tag of tags) rolledBack.add(tag);
        } else {
          await tx.commit();
          for (const tag of tags) committed.add(tag);
          for (const tag of updated) updatedCommitted.add(tag);
        }
      }
    }

    /** Follows the feed from its start until it has as many events as were committed (or far too long passed). */
    async function reader(app: TestApp, key: string, filter: Record<string, string> = {}, expected = () => committed.size) {
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      const deadline = Date.now() + 20_000;
      while (!(writersDone && seen.length >= expected()) && Date.now() < deadline) {
        const query: Record<string, string | number> = { ...filter, limit: 1 + random(50), wait: 1 };
        if (after) query.after = after;
        const res = await request(app.http).get('/api/v1/events').query(query).set(...auth(key));
        if (res.status !== 200) throw new Error(`feed answered ${res.status}: ${res.text}`);
        seen.push(...(res.body.data as { data: { id: string } }[]).map(idOf));
        after = res.body.nextCursor as string;
        pages += 1;
      }
      // One more page: nothing may follow what was expected.
      const last = await request(app.http).get('/api/v1/events').query({ ...filter, after: after! }).set(...auth(key));
      seen.push(...(last.body.data as { data: { id: string } }[]).map(idOf));
      return { seen, pages };
    }

    /** Reads with `WHERE seq > $cursor`, as the feed must not. */
    async function naiveReader(): Promise<string[]> {
      const dataSource = a.app.get(DataSource);
      const seen: string[] = [];
      let cursor = 0;
      while (!writersDone || seen.length < committed.size) {
        const rows = await dataSource.query<{ seq: string; payload: string }[]>(
          'SELECT seq::text, payload FROM events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT 100',
          [org, cursor],
        );
        for (const row of rows) {
          seen.push(idOf(JSON.parse(row.payload) as { data: { id: string } }));
          cursor = Number(row.seq);
        }
        if (writersDone && rows.length === 0) break;
        await sleep(5);
      }
      return seen;
    }

    const began = Date.now();
    const readers = Promise.all([
      reader(a, keyA),
      reader(a, keyA),
      reader(b, keyB),
      reader(b, keyB, { types: 'message.updated' }, () => updatedCommitted.size),
    ]);
    const naive = naiveReader();
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    const wroteMs = Date.now() - began;
    writersDone = true;
    const [r1, r2, r3, filtered] = await readers;
    const naiveSeen = await naive;
    await stream.until(() => stream.events.length >= committed.size, 20_000, 'every committed event on the stream').catch(() => undefined);
    stream.close();

    // The log's own order: by writing transaction, then by seq.
    const logOrder = (
      await a.app.get(DataSource).query<{ tag: string }[]>(
        `SELECT payload::json->'data'->>'id' AS tag FROM events WHERE org_id = $1 ORDER BY xid, seq`,
        [org],
      )
    ).map((r) => r.tag);
    expect(new Set(logOrder)).toEqual(committed);
    expect(rolledBack.size).toBeGreaterThan(0);

    for (const { seen } of [r1, r2, r3]) {
      expect(seen.length).toBe(committed.size);
      expect(seen).toEqual(logOrder);
      expect(seen.filter((tag) => rolledBack.has(tag))).toEqual([]);
    }
    expect(filtered.seen).toEqual(logOrder.filter((tag) => updatedCommitted.has(tag)));
    expect(stream.events.map((e) => idOf(JSON.parse(e.data) as { data: { id: string } }))).toEqual(logOrder);

    const naiveMissed = logOrder.filter((tag) => !naiveSeen.includes(tag)).length;
    process.stdout.write(
      `feed proof: ${committed.size} events committed and ${rolledBack.size} rolled back by ${WRITERS} writers in ` +
        `${wroteMs} ms; feed readers read them in ${r1.pages}, ${r2.pages}, ${r3.pages} pages, none missing; ` +
        `the naive seq > cursor reader missed ${naiveMissed}\n`,
    );
  }, 90_000);
});
