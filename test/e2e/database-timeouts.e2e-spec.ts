import { Client } from 'pg';
import request from 'supertest';
import { createKey, startTestApp, TestApp, testDatabaseUrl, uniqueOrg } from '../support/test-app';
import { auth, createSession, directJid, ingest, messageEvent } from '../support/ingest';

/**
 * A request never waits on the database without bound: a lock held elsewhere (here by another
 * client, as a long transaction or a stuck replica would) ends the request with 503 `unavailable`
 * and `Retry-After` once the lock or statement timeout passes.
 */
describe.each([
  ['lock_timeout', { DB_LOCK_TIMEOUT_MS: '300', DB_STATEMENT_TIMEOUT_MS: '0' }],
  ['statement_timeout', { DB_LOCK_TIMEOUT_MS: '0', DB_STATEMENT_TIMEOUT_MS: '300' }],
])('a request blocked by a lock, with %s', (_name, env) => {
  let t: TestApp;
  let key: string;
  let sid: string;
  let holder: Client;

  beforeAll(async () => {
    t = await startTestApp(env);
    key = await createKey(t, uniqueOrg());
    sid = await createSession(t, key);
    await ingest(t, key, sid, [messageEvent(directJid(1), 'm1', 1000)]);
    holder = new Client({ connectionString: testDatabaseUrl() });
    await holder.connect();
  });
  afterAll(async () => {
    await holder?.end();
    await t?.close();
  });
  afterEach(() => holder.query('ROLLBACK'));

  const chatPath = () => `/api/v1/sessions/${sid}/chats/${directJid(1)}`;

  it('answers 503 unavailable with Retry-After instead of waiting for the lock', async () => {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM chats WHERE session_id = $1 AND jid = $2 FOR UPDATE', [sid, directJid(1)]);
    const res = await request(t.http).patch(chatPath()).set(...auth(key)).send({ pinned: true });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.body).toEqual({ error: { code: 'unavailable', message: 'database unavailable', details: {} } });
  });

  it('also for an ingestion batch that waits on the session lock, and stores nothing of it', async () => {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [sid]);
    const res = await request(t.http)
      .post(`/api/v1/sessions/${sid}/events`)
      .set(...auth(key))
      .send({ events: [messageEvent(directJid(1), 'm2', 2000)] });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    await holder.query('ROLLBACK');
    const stored = await request(t.http).get(`${chatPath()}/messages`).set(...auth(key));
    expect(stored.body.data.map((m: { id: string }) => m.id)).toEqual(['m1']);
  });

  it('serves again as soon as the lock is gone', async () => {
    const res = await request(t.http).patch(chatPath()).set(...auth(key)).send({ pinned: true });
    expect(res.status).toBe(200);
    expect(res.body.pinned).toBe(true);
  });
});
