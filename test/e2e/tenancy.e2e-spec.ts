import { DataSource } from 'typeorm';
import request from 'supertest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';
import { auth, chatEvent, createSession, directJid, groupJid, ingest, messageEvent } from '../support/ingest';

const SESSION_NOT_FOUND = JSON.stringify({ error: { code: 'not_found', message: 'session not found', details: {} } });

describe('tenancy: one organization never reaches another\'s sessions', () => {
  let t: TestApp;
  let db: DataSource;
  let keyA: string;
  let keyB: string;
  let sidA: string;
  let sidB: string;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    keyA = await createKey(t, uniqueOrg('a'));
    keyB = await createKey(t, uniqueOrg('b'));
    sidA = await createSession(t, keyA, 'A');
    sidB = await createSession(t, keyB, 'B');
    await ingest(t, keyA, sidA, [
      chatEvent(directJid(1), { name: 'A chat' }),
      messageEvent(directJid(1), 'A1', 1000),
      messageEvent(groupJid(2), 'A2', 2000),
    ]);
    await ingest(t, keyB, sidB, [messageEvent(directJid(1), 'B1', 3000)]);
  });
  afterAll(() => t.close());

  async function storedCopyOfA(): Promise<unknown> {
    return {
      session: await db.query('SELECT xmin::text, * FROM sessions WHERE id = $1', [sidA]),
      chats: await db.query('SELECT xmin::text, * FROM chats WHERE session_id = $1 ORDER BY jid', [sidA]),
      messages: await db.query('SELECT xmin::text, * FROM messages WHERE session_id = $1 ORDER BY chat_jid, id', [sidA]),
    };
  }

  /** Every route that names a session, with a body where it takes one. */
  const routes = (sid: string): [string, string, object?][] => [
    ['get', `/api/v1/sessions/${sid}`],
    ['get', `/api/v1/sessions/${sid}/chats`],
    ['get', `/api/v1/sessions/${sid}/chats?archived=false&limit=5`],
    ['get', `/api/v1/sessions/${sid}/chats/${directJid(1)}`],
    ['patch', `/api/v1/sessions/${sid}/chats/${directJid(1)}`, { archived: true, pinned: true, mutedUntil: -1 }],
    ['patch', `/api/v1/sessions/${sid}/chats/${directJid(1)}`, {}],
    ['get', `/api/v1/sessions/${sid}/chats/${directJid(1)}/messages`],
    ['get', `/api/v1/sessions/${sid}/chats/${directJid(1)}/messages/A1`],
    ['post', `/api/v1/sessions/${sid}/events`, { events: [messageEvent(directJid(1), 'EVIL', 9999), { type: 'chat.delete', chatId: groupJid(2) }] }],
    ['delete', `/api/v1/sessions/${sid}/chats/${encodeURIComponent(groupJid(2))}`],
    ['delete', `/api/v1/sessions/${sid}`],
  ];

  it('answers every route of A\'s session to B with the bytes of a session that does not exist, and changes nothing', async () => {
    const before = await storedCopyOfA();
    for (const [method, url, body] of routes(sidA)) {
      const call = (sid: string) => {
        const req = request(t.http)[method as 'get'](url.replace(sidA, sid)).set(...auth(keyB));
        return body ? req.send(body) : req;
      };
      const foreign = await call(sidA);
      const missing = await call('01HF7Z3K8Q2V5N9T4W6X0Y1B2C');
      expect([method, url, foreign.status]).toEqual([method, url, 404]);
      expect(foreign.text).toBe(SESSION_NOT_FOUND);
      expect(missing.text).toBe(SESSION_NOT_FOUND);
    }
    expect(await storedCopyOfA()).toEqual(before);
  });

  it('still serves A its own session afterwards', async () => {
    for (const [method, url] of routes(sidA).filter(([m]) => m === 'get')) {
      expect([method, url, (await request(t.http).get(url).set(...auth(keyA))).status]).toEqual([method, url, 200]);
    }
  });

  it('never lists another organization\'s sessions', async () => {
    const listA = (await request(t.http).get('/api/v1/sessions?limit=100').set(...auth(keyA))).body;
    const listB = (await request(t.http).get('/api/v1/sessions?limit=100').set(...auth(keyB))).body;
    expect(listA.data.map((s: { id: string }) => s.id)).toEqual([sidA]);
    expect(listB.data.map((s: { id: string }) => s.id)).toEqual([sidB]);
  });

  it('does not let a cursor from A\'s pages reach A\'s data through B', async () => {
    const page = (await request(t.http).get(`/api/v1/sessions/${sidA}/chats?limit=1`).set(...auth(keyA))).body;
    const res = await request(t.http)
      .get(`/api/v1/sessions/${sidA}/chats?cursor=${encodeURIComponent(page.nextCursor)}`)
      .set(...auth(keyB));
    expect(res.text).toBe(SESSION_NOT_FOUND);
    const own = await request(t.http).get(`/api/v1/sessions/${sidB}/chats?cursor=${encodeURIComponent(page.nextCursor)}`).set(...auth(keyB));
    expect(own.status).toBe(200);
    expect(JSON.stringify(own.body)).not.toContain('A chat');
  });
});
