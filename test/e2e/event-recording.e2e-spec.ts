import request from 'supertest';
import { DataSource } from 'typeorm';
import { ConnectorServer } from '../support/connector-server';
import { auth, chatEvent, createSession, directJid, ingest, messageEvent, pushEvents } from '../support/ingest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

interface LoggedEvent {
  id: string;
  type: string;
  createdAt: number;
  sessionId: string | null;
  history: boolean;
  data: Record<string, unknown>;
}

/**
 * What each change records in the event log (API.md §7): in the change's transaction, only when
 * something changed, with the resource exactly as the REST API serves it.
 */
describe('event recording', () => {
  const connector = new ConnectorServer();
  let t: TestApp;
  let db: DataSource;
  let org: string;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp({ WA_EXTERNAL_SEND_URL: await connector.start() });
    db = t.app.get(DataSource);
    org = uniqueOrg('events');
    key = await createKey(t, org);
  });
  afterAll(async () => {
    await t.close();
    await connector.stop();
  });

  /** The organization's events after `mark`, in log order. */
  async function eventsSince(mark: number): Promise<LoggedEvent[]> {
    const rows = await db.query<{ payload: string }[]>('SELECT payload FROM events WHERE org_id = $1 ORDER BY xid, seq', [org]);
    return rows.slice(mark).map((row) => JSON.parse(row.payload) as LoggedEvent);
  }
  const count = async () => (await eventsSince(0)).length;
  const get = async (path: string) => (await request(t.http).get(`/api/v1/sessions/${path}`).set(...auth(key))).body as Record<string, unknown>;

  it('records a session when it is created, with its data as GET serves it', async () => {
    const mark = await count();
    const sid = await createSession(t, key);
    const events = await eventsSince(mark);
    expect(events).toEqual([
      { id: expect.stringMatching(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/), type: 'session.created', createdAt: expect.any(Number), sessionId: sid, history: false, data: await get(sid) },
    ]);
  });

  it('records what a batch changed, once per row with its final state, and nothing for a replay', async () => {
    const sid = await createSession(t, key);
    const chat = directJid(1);
    const mark = await count();
    const batch = [
      { type: 'session.status', status: 'connected', phoneNumber: '6281234567890' },
      chatEvent(chat, { name: 'Budi' }),
      messageEvent(chat, 'M1', 1_000, { fromMe: true, status: 'sent', senderId: null }),
      { type: 'message.status', chatId: chat, messageId: 'M1', status: 'delivered' },
    ];
    await ingest(t, key, sid, batch);
    const events = await eventsSince(mark);
    expect(events.map((e) => e.type)).toEqual(['chat.created', 'message.created', 'session.updated']);
    expect(events[0].data).toEqual(await get(`${sid}/chats/${chat}`));
    expect(events[1].data).toEqual(await get(`${sid}/chats/${chat}/messages/M1`));
    expect(events[1].data).toMatchObject({ status: 'delivered' });
    expect(events[2].data).toEqual(await get(sid));
    expect(new Set(events.map((e) => e.id)).size).toBe(3);

    await ingest(t, key, sid, batch);
    expect(await eventsSince(mark + 3)).toEqual([]);
  });

  it('records nothing for a receipt or a re-sync that would move a status backwards, and keeps a sent message in place', async () => {
    const sid = await createSession(t, key);
    const chat = directJid(2);
    await ingest(t, key, sid, [messageEvent(chat, 'M1', 5_000, { fromMe: true, status: 'read', senderId: null })]);
    const mark = await count();
    await ingest(t, key, sid, [
      { type: 'message.status', chatId: chat, messageId: 'M1', status: 'delivered' },
      messageEvent(chat, 'M1', 9_000, { fromMe: true, status: 'sent', senderId: null }),
    ]);
    expect(await eventsSince(mark)).toEqual([]);
    expect(await get(`${sid}/chats/${chat}/messages/M1`)).toMatchObject({ status: 'read', timestamp: 5_000 });
  });

  it('never gives an incoming message a status, by upsert or by receipt', async () => {
    const sid = await createSession(t, key);
    const chat = directJid(3);
    await ingest(t, key, sid, [
      messageEvent(chat, 'IN', 1_000, { status: 'delivered' }),
      { type: 'message.status', chatId: chat, messageId: 'IN', status: 'read' },
    ]);
    const mark = await count();
    await ingest(t, key, sid, [{ type: 'message.status', chatId: chat, messageId: 'IN', status: 'played' }]);
    expect(await eventsSince(mark)).toEqual([]);
    expect(await get(`${sid}/chats/${chat}/messages/IN`)).toMatchObject({ status: null });
  });

  it('marks a history backfill, and records nothing for a batch that is rejected', async () => {
    const sid = await createSession(t, key);
    const mark = await count();
    const res = await request(t.http)
      .post(`/api/v1/sessions/${sid}/events`)
      .set(...auth(key))
      .send({ events: [messageEvent(directJid(4), 'H1', 1)], history: true });
    expect(res.status).toBe(200);
    const events = await eventsSince(mark);
    expect(events.map((e) => [e.type, e.history])).toEqual([
      ['chat.created', true],
      ['message.created', true],
    ]);
    const bad = await pushEvents(t, key, sid, [messageEvent(directJid(5), 'X', 1), messageEvent(directJid(5), 'Y', -1)]);
    expect(bad.status).toBe(422);
    expect(await eventsSince(mark + 2)).toEqual([]);
  });

  it('tells created, deleted and created again for a chat deleted within a batch', async () => {
    const sid = await createSession(t, key);
    const chat = directJid(6);
    const mark = await count();
    await ingest(t, key, sid, [messageEvent(chat, 'A', 1), { type: 'chat.delete', chatId: chat }, messageEvent(chat, 'B', 2)]);
    expect((await eventsSince(mark)).map((e) => [e.type, e.data.id])).toEqual([
      ['chat.created', chat],
      ['message.created', 'A'],
      ['chat.deleted', chat],
      ['chat.created', chat],
      ['message.created', 'B'],
    ]);
  });

  it('records a PATCH that changes the chat, not one that sets what is set, and a local delete', async () => {
    const sid = await createSession(t, key);
    const chat = directJid(7);
    await ingest(t, key, sid, [chatEvent(chat)]);
    const mark = await count();
    const patch = () => request(t.http).patch(`/api/v1/sessions/${sid}/chats/${chat}`).set(...auth(key)).send({ pinned: true });
    expect((await patch()).status).toBe(200);
    expect((await patch()).status).toBe(200);
    const events = await eventsSince(mark);
    expect(events.map((e) => e.type)).toEqual(['chat.updated']);
    expect(events[0].data).toEqual(await get(`${sid}/chats/${chat}`));

    expect((await request(t.http).delete(`/api/v1/sessions/${sid}/chats/${chat}`).set(...auth(key))).status).toBe(204);
    expect((await eventsSince(mark + 1)).map((e) => [e.type, e.data])).toEqual([['chat.deleted', { id: chat }]]);
  });

  it('records a send when it is accepted and again when its outcome is known', async () => {
    const sid = await createSession(t, key);
    const chat = directJid(8);
    const mark = await count();
    const sent = await request(t.http).post(`/api/v1/sessions/${sid}/chats/${chat}/messages`).set(...auth(key)).send({ type: 'text', text: 'halo' });
    expect(sent.status).toBe(202);
    for (let i = 0; i < 50 && (await eventsSince(mark)).length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const events = await eventsSince(mark);
    expect(events.map((e) => e.type)).toEqual(['chat.created', 'message.created', 'message.updated']);
    expect(events[1].data).toEqual(sent.body);
    expect(events[2].data).toEqual({ ...sent.body, status: 'sent' });
  });

  it('records a session delete', async () => {
    const sid = await createSession(t, key);
    const mark = await count();
    expect((await request(t.http).delete(`/api/v1/sessions/${sid}`).set(...auth(key))).status).toBe(204);
    expect((await eventsSince(mark)).map((e) => [e.type, e.sessionId, e.data])).toEqual([['session.deleted', sid, { id: sid }]]);
  });

  it('answers 409 to events pushed into a session whose provider is not external, and writes nothing', async () => {
    const sid = await createSession(t, key);
    await db.query(`UPDATE sessions SET provider = 'baileys' WHERE id = $1`, [sid]);
    const mark = await count();
    const res = await pushEvents(t, key, sid, [{ type: 'session.status', status: 'connected' }]);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
    expect(await get(sid)).toMatchObject({ status: 'disconnected' });
    expect(await eventsSince(mark)).toEqual([]);
  });
});
