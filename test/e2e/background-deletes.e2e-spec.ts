import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ExternalProvider } from '../../src/whatsapp/external/external.provider';
import { eventually } from '../fixtures/baileys/baileys-harness';
import { createKey, startTestApp, TestApp, testDatabaseUrl, uniqueOrg } from '../support/test-app';
import { auth, createSession, directJid, ingest, messageEvent, pushEvents } from '../support/ingest';

const MESSAGES = 5_000;
/** A send URL makes external sessions able to send; nothing listens there, and no send gets that far. */
const ENV = { WA_EXTERNAL_SEND_URL: 'http://127.0.0.1:9/send', DB_LOCK_TIMEOUT_MS: '1000' };

/**
 * Deleting a session or a large chat answers 204 without waiting for its rows (API.md §5): from
 * the 204 on no read shows them, and they go in bounded batches in the background, also after a
 * restart. Here another client holds a lock that keeps the background purge off the rows (as a
 * slow purge would), so that what reads show in the meantime can be checked.
 */
describe('background deletes', () => {
  let t: TestApp;
  let db: DataSource;
  let key: string;
  let holder: Client;

  beforeAll(async () => {
    t = await startTestApp(ENV);
    db = t.app.get(DataSource);
    key = await createKey(t, uniqueOrg());
    holder = new Client({ connectionString: testDatabaseUrl() });
    await holder.connect();
  });
  afterAll(async () => {
    await holder?.end();
    await t?.close();
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await holder.query('ROLLBACK');
  });

  const get = (path: string) => request(t.http).get(path).set(...auth(key));
  const messageIds = async (path: string) => (await get(path)).body.data.map((m: { id: string }) => m.id);

  async function sessionWithLargeChat(): Promise<{ sid: string; jid: string }> {
    const sid = await createSession(t, key);
    const jid = directJid(1);
    for (let start = 0; start < MESSAGES; start += 1000) {
      await ingest(t, key, sid, Array.from({ length: 1000 }, (_, i) => messageEvent(jid, `old-${start + i}`, 1000 + start + i)));
    }
    await ingest(t, key, sid, [messageEvent(directJid(2), 'other', 1)]);
    return { sid, jid };
  }

  const count = async (sql: string, params: unknown[]) => (await db.query<{ n: number }[]>(sql, params))[0].n;
  const storedMessages = (sid: string, jid: string) =>
    count('SELECT count(*)::int AS n FROM messages WHERE session_id = $1 AND chat_jid = $2', [sid, jid]);

  it('a large chat: 204 at once, gone for every read, purged in the background; a new message starts it over', async () => {
    const { sid, jid } = await sessionWithLargeChat();
    const chat = `/api/v1/sessions/${sid}/chats/${jid}`;
    // The purge claims the chat row FOR UPDATE: this lock keeps it away while the 204 does not need it.
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM chats WHERE session_id = $1 AND jid = $2 FOR KEY SHARE', [sid, jid]);

    const res = await request(t.http).delete(chat).set(...auth(key));
    expect(res.status).toBe(204);
    expect(await storedMessages(sid, jid)).toBe(MESSAGES);
    const notFound = { error: { code: 'not_found', message: 'chat not found', details: {} } };
    expect((await get(chat)).body).toEqual(notFound);
    expect((await get(`${chat}/messages`)).body).toEqual(notFound);
    expect((await get(`${chat}/messages/old-1`)).body).toEqual(notFound);
    expect((await request(t.http).patch(chat).set(...auth(key)).send({ pinned: true })).body).toEqual(notFound);
    expect((await request(t.http).delete(chat).set(...auth(key))).body).toEqual(notFound);
    expect((await get(`/api/v1/sessions/${sid}/chats`)).body.data.map((c: { id: string }) => c.id)).toEqual([directJid(2)]);

    // Until its old rows are gone the chat cannot start over (else they would show again): 503, retry.
    const early = await pushEvents(t, key, sid, [messageEvent(jid, 'old-7', 9_000_000)]);
    expect(early.status).toBe(503);
    expect(early.body.error.code).toBe('unavailable');
    expect(early.headers['retry-after']).toMatch(/^\d+$/);
    const send = await request(t.http).post(`${chat}/messages`).set(...auth(key)).send({ type: 'text', text: 'hi' });
    expect(send.status).toBe(503);

    await holder.query('COMMIT');
    await eventually(async () => expect(await storedMessages(sid, jid)).toBe(0), 15_000);
    await eventually(async () => expect((await pushEvents(t, key, sid, [messageEvent(jid, 'old-7', 9_000_000)])).status).toBe(200), 15_000);
    expect(await messageIds(`${chat}/messages`)).toEqual(['old-7']);
    expect((await get(chat)).body).toMatchObject({ id: jid, lastMessageAt: 9_000_000 });
    expect(await messageIds(`/api/v1/sessions/${sid}/chats/${directJid(2)}/messages`)).toEqual(['other']);
  }, 60_000);

  it('a large session: 204 at once, gone for every read, purged in the background, also after a restart', async () => {
    const { sid, jid } = await sessionWithLargeChat();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM sessions WHERE id = $1 FOR KEY SHARE', [sid]);

    const res = await request(t.http).delete(`/api/v1/sessions/${sid}`).set(...auth(key));
    expect(res.status).toBe(204);
    expect(await storedMessages(sid, jid)).toBe(MESSAGES);
    const notFound = { error: { code: 'not_found', message: 'session not found', details: {} } };
    for (const path of ['', '/chats', `/chats/${jid}`, `/chats/${jid}/messages`, `/chats/${jid}/messages/old-1`]) {
      expect((await get(`/api/v1/sessions/${sid}${path}`)).body).toEqual(notFound);
    }
    expect((await get('/api/v1/sessions?limit=100')).body.data.map((s: { id: string }) => s.id)).not.toContain(sid);
    expect((await pushEvents(t, key, sid, [messageEvent(jid, 'late', 1)])).body).toEqual(notFound);
    expect((await request(t.http).delete(`/api/v1/sessions/${sid}`).set(...auth(key))).body).toEqual(notFound);

    // The purge state is in the database: another process (here a restarted gateway) finishes it.
    await t.close();
    await holder.query('COMMIT');
    t = await startTestApp(ENV);
    db = t.app.get(DataSource);
    await eventually(async () => expect(await count('SELECT count(*)::int AS n FROM sessions WHERE id = $1', [sid])).toBe(0), 15_000);
    expect(await storedMessages(sid, jid)).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM chats WHERE session_id = $1', [sid])).toBe(0);
  }, 60_000);

  it('session delete: gone for reads before the logout runs; a delete that fails logs nothing out', async () => {
    const sid = await createSession(t, key);
    const provider = t.app.get(ExternalProvider);
    let readDuringLogout: number | undefined;
    jest.spyOn(provider, 'logout').mockImplementationOnce(async () => {
      readDuringLogout = (await get(`/api/v1/sessions/${sid}`)).status;
    });
    expect((await request(t.http).delete(`/api/v1/sessions/${sid}`).set(...auth(key))).status).toBe(204);
    expect(readDuringLogout).toBe(404);

    // The delete cannot be stored (the row is locked past the lock timeout): the number stays logged in.
    const kept = await createSession(t, key);
    const logout = jest.spyOn(provider, 'logout');
    logout.mockClear();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [kept]);
    const failed = await request(t.http).delete(`/api/v1/sessions/${kept}`).set(...auth(key));
    await holder.query('ROLLBACK');
    expect(failed.status).toBe(503);
    expect(logout).not.toHaveBeenCalled();
    expect((await get(`/api/v1/sessions/${kept}`)).status).toBe(200);
  }, 30_000);
});
