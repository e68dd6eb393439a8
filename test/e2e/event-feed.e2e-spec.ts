import request from 'supertest';
import { DataSource } from 'typeorm';
import { ulid } from 'ulid';
import { encodeCursor } from '../../src/common/pagination/cursor';
import { EventLogPrunerService } from '../../src/events/event-log-pruner.service';
import { encodeEventCursor } from '../../src/events/event-position';
import { EventWriter, messageCreated, record, storedPayloads, untilVisible } from '../support/event-log';
import { auth } from '../support/ingest';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { createKey, startTestApp, TestApp, testDatabaseUrl, uniqueOrg } from '../support/test-app';

/** The feed, `GET /api/v1/events`: pages in commit order, cursors, filters, long-polls, retention. */
describe('event feed', () => {
  let t: TestApp;
  let dataSource: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    dataSource = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  const feed = (key: string, query: Record<string, string | number> = {}) =>
    request(t.http).get('/api/v1/events').query(query).set(...auth(key));

  const tags = (body: { data: { data: { id: string } }[] }): string[] => body.data.map((e) => e.data.id);

  async function orgWithKey(label: string): Promise<{ org: string; key: string }> {
    const org = uniqueOrg(label);
    return { org, key: await createKey(t, org, ['read']) };
  }

  it('serves an empty organization an empty page and a cursor that stays the same while nothing comes', async () => {
    const { key } = await orgWithKey('feed-empty');
    const first = await feed(key);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.body).toEqual({ data: [], nextCursor: expect.any(String) });
    const again = await feed(key, { after: first.body.nextCursor });
    expect(again.body).toEqual({ data: [], nextCursor: first.body.nextCursor });
  });

  it('serves events oldest first, byte for byte as stored, and pages through them with nextCursor', async () => {
    const { org, key } = await orgWithKey('feed-pages');
    const sid = ulid();
    await record(t, org, [messageCreated('a1', sid), messageCreated('a2', sid)]);
    await record(t, org, [messageCreated('b1', null, 'chat.updated')]);
    await record(t, org, [messageCreated('c1', sid), messageCreated('c2', sid, 'session.updated')], true);
    await untilVisible(t, key, 5);

    const all = await feed(key);
    expect(all.status).toBe(200);
    expect(tags(all.body)).toEqual(['a1', 'a2', 'b1', 'c1', 'c2']);
    // The answer is the stored payloads spliced together: what webhooks send, to the byte.
    const payloads = await storedPayloads(t, org);
    expect(all.text).toBe(`{"data":[${payloads.join(',')}],"nextCursor":${JSON.stringify(all.body.nextCursor)}}`);
    expect(all.body.data[0]).toEqual({
      id: expect.stringMatching(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/),
      type: 'message.created',
      createdAt: expect.any(Number),
      sessionId: sid,
      history: false,
      data: { id: 'a1', chatId: '6281234567890@s.whatsapp.net', text: 'text of a1' },
    });
    expect(all.body.data[4]).toMatchObject({ type: 'session.updated', history: true });

    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 3; page++) {
      const res = await feed(key, after ? { limit: 2, after } : { limit: 2 });
      expect(res.status).toBe(200);
      seen.push(...tags(res.body));
      after = res.body.nextCursor;
    }
    expect(seen).toEqual(['a1', 'a2', 'b1', 'c1', 'c2']);
    // Past the end: nothing, and the same position.
    const end = await feed(key, { after: after! });
    expect(end.body).toEqual({ data: [], nextCursor: after });
    await record(t, org, [messageCreated('d1')]);
    expect(tags((await feed(key, { after: after!, wait: 10 })).body)).toEqual(['d1']);
  });

  it('filters by types and sessionId, and moves the position past the events it skips', async () => {
    const { org, key } = await orgWithKey('feed-filter');
    const [s1, s2] = [ulid(), ulid()];
    await record(t, org, [
      messageCreated('m1', s1),
      messageCreated('u1', s1, 'message.updated'),
      messageCreated('m2', s2),
      messageCreated('c1', null, 'chat.deleted'),
      messageCreated('m3', s1),
    ]);
    await untilVisible(t, key, 5);
    expect(tags((await feed(key, { types: 'message.updated,chat.deleted' })).body)).toEqual(['u1', 'c1']);
    expect(tags((await feed(key, { types: 'message.created', sessionId: s1 })).body)).toEqual(['m1', 'm3']);
    expect(tags((await feed(key, { sessionId: s2 })).body)).toEqual(['m2']);
    expect(tags((await feed(key).query('types=chat.deleted&types=message.updated')).body)).toEqual(['u1', 'c1']);

    // A page that matched nothing still moves on: the skipped events are not looked at again.
    const none = await feed(key, { types: 'session.deleted' });
    expect(none.body.data).toEqual([]);
    await record(t, org, [messageCreated('m4', s1), messageCreated('d1', s1, 'session.deleted')]);
    await untilVisible(t, key, 7);
    const after = await feed(key, { types: 'session.deleted', after: none.body.nextCursor });
    expect(tags(after.body)).toEqual(['d1']);
    expect(tags((await feed(key, { after: none.body.nextCursor })).body)).toEqual(['m4', 'd1']);

    // A filtered page that fills up ends at its last event; the next one goes on from there.
    const first = await feed(key, { types: 'message.created', limit: 2 });
    expect(tags(first.body)).toEqual(['m1', 'm2']);
    expect(tags((await feed(key, { types: 'message.created', after: first.body.nextCursor })).body)).toEqual(['m3', 'm4']);
  });

  it('answers 422 for unknown types, bad session ids, out-of-range limit and wait, and unknown parameters', async () => {
    const { key } = await orgWithKey('feed-422');
    const queries: Record<string, string | number>[] = [
      { types: 'message.created,message.exploded' },
      { types: '' },
      { types: 'message.created,' },
      { sessionId: 'not-a-ulid' },
      { sessionId: ulid().toLowerCase() },
      { limit: 0 },
      { limit: 1001 },
      { limit: 'ten' },
      { wait: 31 },
      { wait: -1 },
      { wait: 1.5 },
      { cursor: 'x' },
    ];
    for (const query of queries) {
      const res = await feed(key, query);
      expect([query, res.status, res.body.error?.code]).toEqual([query, 422, 'validation_error']);
    }
    expect((await feed(key, { limit: 1000, wait: 0 })).status).toBe(200);
  });

  it('answers 422 for a malformed, tampered or foreign cursor', async () => {
    const { key } = await orgWithKey('feed-cursor');
    const good = (await feed(key)).body.nextCursor as string;
    const tampered = `${good.slice(0, 4)}${good[4] === 'A' ? 'B' : 'A'}${good.slice(5)}`;
    for (const after of [
      'garbage',
      good.slice(0, -2),
      tampered,
      encodeCursor([1732400000000, '01HF7Z3K8Q2V5N9T4W6X0Y1B2C']),
      encodeCursor(['ev', -1, 0]),
      encodeCursor(['ev', 1, 0.5]),
      encodeCursor(['xx', 1, 1]),
    ]) {
      const res = await feed(key, { after });
      expect([after, res.status, res.body]).toEqual([
        after,
        422,
        { error: { code: 'validation_error', message: 'request validation failed', details: { fields: { after: ['is not a valid event cursor'] } } } },
      ]);
    }
  });

  it('never serves an event of a rolled-back transaction', async () => {
    const { org, key } = await orgWithKey('feed-rollback');
    const rolledBack = await EventWriter.begin(t);
    await rolledBack.append(org, [messageCreated('never')]);
    await rolledBack.rollback();
    await record(t, org, [messageCreated('kept')]);
    await untilVisible(t, key, 1);
    expect(tags((await feed(key)).body)).toEqual(['kept']);
  });

  it('never shows one organization another\'s events, whatever the cursor', async () => {
    const a = await orgWithKey('feed-a');
    const b = await orgWithKey('feed-b');
    await record(t, a.org, [messageCreated('a-secret')]);
    await untilVisible(t, a.key, 1);
    const aPage = await feed(a.key);
    expect(tags(aPage.body)).toEqual(['a-secret']);
    const queries: Record<string, string>[] = [{}, { after: aPage.body.nextCursor }, { after: encodeEventCursor({ xid: 0, seq: 0 }) }];
    for (const query of queries) {
      const res = await feed(b.key, query);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('a-secret');
      expect(res.body.data).toEqual([]);
    }
  });

  describe('an event whose transaction commits late', () => {
    it('is served in its place, after the earlier transaction commits; a naive seq > cursor reader skips it', async () => {
      const { org, key } = await orgWithKey('feed-late');
      const start = (await feed(key)).body.nextCursor as string;
      // T1 writes first and commits last; T2 writes later and commits first.
      const t1 = await EventWriter.begin(t);
      await t1.append(org, [messageCreated('early-writer')]);
      const t2 = await EventWriter.begin(t);
      await t2.append(org, [messageCreated('late-writer')]);
      await t2.commit();

      // T2 has committed, but T1 may still add events before it: nothing is visible yet.
      const held = await feed(key, { after: start });
      expect(held.body).toEqual({ data: [], nextCursor: start });

      // The naive reader takes T2's event (the highest seq) and moves its cursor past T1's seq.
      const naive = async (after: number) =>
        dataSource.query<{ seq: string; payload: string }[]>(
          'SELECT seq::text, payload FROM events WHERE org_id = $1 AND seq > $2 ORDER BY seq',
          [org, after],
        );
      const naiveFirst = await naive(0);
      expect(naiveFirst.map((r) => JSON.parse(r.payload).data.id)).toEqual(['late-writer']);
      const naiveCursor = Number(naiveFirst[0].seq);

      await t1.commit();
      await untilVisible(t, key, 2);
      // The feed now serves both, in commit position order; the naive reader never sees T1's.
      const res = await feed(key, { after: start });
      expect(tags(res.body)).toEqual(['early-writer', 'late-writer']);
      expect(await naive(naiveCursor)).toEqual([]);
      const [{ seq: earlySeq }] = await dataSource.query<{ seq: string }[]>(
        `SELECT seq::text FROM events WHERE org_id = $1 AND payload LIKE '%early-writer%'`,
        [org],
      );
      expect(Number(earlySeq)).toBeLessThan(naiveCursor);
    });

    it('holds a long-poll until it is visible, then answers with it', async () => {
      const { org, key } = await orgWithKey('feed-late-poll');
      const start = (await feed(key)).body.nextCursor as string;
      const t1 = await EventWriter.begin(t);
      await t1.append(org, [messageCreated('t1')]);
      await record(t, org, [messageCreated('t2')]);
      const poll = feed(key, { after: start, wait: 10 }).then((r) => r);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await t1.commit();
      const res = await poll;
      expect(tags(res.body)).toEqual(['t1', 't2']);
    });
  });

  describe('long-poll (wait)', () => {
    it('answers as soon as an event is committed', async () => {
      const { org, key } = await orgWithKey('feed-wait');
      const start = (await feed(key)).body.nextCursor as string;
      const began = Date.now();
      const poll = feed(key, { after: start, wait: 20 }).then((r) => r);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await record(t, org, [messageCreated('woken')]);
      const res = await poll;
      expect(tags(res.body)).toEqual(['woken']);
      // Woken by the commit, long before the 20 s were up.
      expect(Date.now() - began).toBeLessThan(10_000);
    });

    it('answers an empty page with the same cursor when nothing comes in time', async () => {
      const { key } = await orgWithKey('feed-wait-empty');
      const start = (await feed(key)).body.nextCursor as string;
      const began = Date.now();
      const res = await feed(key, { after: start, wait: 1 });
      expect(res.body).toEqual({ data: [], nextCursor: start });
      expect(Date.now() - began).toBeGreaterThanOrEqual(900);
    });

    it('is not woken by another organization\'s events', async () => {
      const a = await orgWithKey('feed-wait-a');
      const b = await orgWithKey('feed-wait-b');
      const start = (await feed(b.key)).body.nextCursor as string;
      const poll = feed(b.key, { after: start, wait: 1 }).then((r) => r);
      await record(t, a.org, [messageCreated('for-a')]);
      expect((await poll).body).toEqual({ data: [], nextCursor: start });
    });
  });
});

/** Pruning deletes every organization's old events: it runs on a database of its own. */
describe('event feed retention', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('retention', testDatabaseUrl());
    t = await startTestApp({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const feed = (key: string, query: Record<string, string | number> = {}) =>
    request(t.http).get('/api/v1/events').query(query).set(...auth(key));
  const tags = (body: { data: { data: { id: string } }[] }): string[] => body.data.map((e) => e.data.id);
  async function orgWithKey(label: string): Promise<{ org: string; key: string }> {
    const org = uniqueOrg(label);
    return { org, key: await createKey(t, org, ['read']) };
  }

  it('prunes old events, answers 410 for a cursor that missed pruned events, and starts after them without one', async () => {
    const { org, key } = await orgWithKey('feed-gone');
    const quiet = await orgWithKey('feed-quiet');
    await record(t, quiet.org, [messageCreated('quiet-1')]);
    await untilVisible(t, quiet.key, 1);
    const quietCursor = (await feed(quiet.key)).body.nextCursor as string;
    const start = (await feed(key)).body.nextCursor as string;
    await record(t, org, [messageCreated('old-1'), messageCreated('old-2')]);
    await untilVisible(t, key, 2);
    const afterOld1 = (await feed(key, { limit: 1 })).body.nextCursor as string;
    const afterOld = (await feed(key)).body.nextCursor as string;

    // Everything recorded so far is past the retention a week and a day from now.
    const pruned = await t.app.get(EventLogPrunerService).prune(Date.now() + 8 * 24 * 3_600_000);
    expect(pruned.events).toBe(3);
    await record(t, org, [messageCreated('new-1')]);

    for (const after of [start, afterOld1]) {
      const gone = await feed(key, { after });
      expect(gone.status).toBe(410);
      expect(gone.body).toEqual({
        error: { code: 'gone', message: expect.stringContaining('older than the event retention'), details: {} },
      });
    }
    // A reader that had read everything pruned missed nothing.
    expect(tags((await feed(key, { after: afterOld, wait: 10 })).body)).toEqual(['new-1']);
    // Without a cursor: from the oldest event kept.
    expect(tags((await feed(key)).body)).toEqual(['new-1']);
    // An organization whose reader was at its last event keeps its cursor, though its events went.
    expect((await feed(quiet.key, { after: quietCursor })).body).toEqual({ data: [], nextCursor: quietCursor });
    expect(await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM events WHERE org_id = $1', [quiet.org])).toEqual([{ n: 0 }]);
  });
});
