import request from 'supertest';
import { encodeCursor } from '../../src/common/pagination/cursor';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';
import { auth, chatEvent, createSession, directJid, groupJid, ingest, messageEvent, pageAll } from '../support/ingest';

const notFound = (message: string) => ({ error: { code: 'not_found', message, details: {} } });

/** (timestamp desc, id desc), as the API orders messages. */
function newestFirst(a: { timestamp: number; id: string }, b: { timestamp: number; id: string }): number {
  return b.timestamp - a.timestamp || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

describe('messages', () => {
  let t: TestApp;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp();
    key = await createKey(t, uniqueOrg());
  });
  afterAll(() => t.close());

  const path = (sid: string, jid: string) => `/api/v1/sessions/${sid}/chats/${jid}/messages`;
  const get = (url: string, k = key) => request(t.http).get(url).set(...auth(k));

  /** `count` messages in one chat (and some in another), with timestamps that collide often. */
  async function chatWith(count: number, timestampOf: (i: number) => number): Promise<{ sid: string; jid: string; expected: { id: string; timestamp: number }[] }> {
    const sid = await createSession(t, key);
    const jid = groupJid(1);
    const events = Array.from({ length: count }, (_, i) => messageEvent(jid, `M${(i * 7919) % 100_000}`, timestampOf(i)));
    for (let i = 0; i < events.length; i += 500) await ingest(t, key, sid, events.slice(i, i + 500));
    await ingest(t, key, sid, [messageEvent(directJid(2), 'OTHER', 5_000_000_000_000)]);
    const expected = events.map((e) => ({ id: e.message.id as string, timestamp: e.message.timestamp as number })).sort(newestFirst);
    return { sid, jid, expected };
  }

  it('pages through 250 messages with an odd page size, newest first, each exactly once', async () => {
    const { sid, jid, expected } = await chatWith(250, (i) => 1_732_400_000_000 + Math.floor(i / 3) * 1000);
    const { items, pages } = await pageAll(t, key, path(sid, jid), 7);
    expect(pages).toBe(36);
    expect(items.map((m) => m.id)).toEqual(expected.map((m) => m.id));
    expect(new Set(items.map((m) => m.id)).size).toBe(250);
    expect(items.every((m) => m.chatId === jid)).toBe(true);
  });

  it('pages exactly through 30 messages with the same timestamp', async () => {
    const { sid, jid, expected } = await chatWith(30, () => 1_732_400_000_000);
    for (const limit of [1, 4, 29, 30]) {
      const { items, pages } = await pageAll(t, key, path(sid, jid), limit);
      expect(items.map((m) => m.id)).toEqual(expected.map((m) => m.id));
      expect(pages).toBe(Math.ceil(30 / limit));
    }
  });

  it('stays exact while new messages arrive between pages', async () => {
    const { sid, jid, expected } = await chatWith(100, (i) => 1_000_000 + i * 10);
    let arrived = 0;
    const { items } = await pageAll(t, key, path(sid, jid), 9, async () => {
      // Newer messages, and one at the very timestamp of the page boundary region.
      arrived += 1;
      await ingest(t, key, sid, [messageEvent(jid, `NEW${arrived}`, 2_000_000 + arrived), messageEvent(jid, `ZNEW${arrived}`, 1_000_000 + 990)]);
    });
    const seen = items.map((m) => m.id as string);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => !id.includes('NEW'))).toEqual(expected.map((m) => m.id));
  });

  it('answers a page of the default size 50 with a cursor, and an empty chat with an empty last page', async () => {
    const { sid, jid, expected } = await chatWith(60, (i) => i);
    const first = await get(path(sid, jid));
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(50);
    expect(typeof first.body.nextCursor).toBe('string');
    const second = await get(`${path(sid, jid)}?cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.body.data.map((m: { id: string }) => m.id)).toEqual(expected.slice(50).map((m) => m.id));
    expect(second.body.nextCursor).toBeNull();
    expect((await get(`${path(sid, jid)}?limit=100`)).body.data).toHaveLength(60);

    await ingest(t, key, sid, [chatEvent(directJid(9), { name: 'quiet' })]);
    expect((await get(path(sid, directJid(9)))).body).toEqual({ data: [], nextCursor: null });
  });

  it('answers 422 for limit 0, 101, abc, 1.5 and other bad limits', async () => {
    const { sid, jid } = await chatWith(3, (i) => i);
    for (const limit of ['0', '101', 'abc', '1.5', '-1', '', '1e2', ' 5', '9999999999999999999']) {
      const res = await get(`${path(sid, jid)}?limit=${encodeURIComponent(limit)}`);
      expect([limit, res.status, res.body.error?.code]).toEqual([limit, 422, 'validation_error']);
      expect(res.body.error.details.fields).toHaveProperty('limit');
    }
    expect((await get(`${path(sid, jid)}?limit=1&limit=2`)).status).toBe(422);
  });

  it('answers 422, never 500, for garbage, truncated and tampered cursors', async () => {
    const { sid, jid } = await chatWith(5, (i) => i);
    const cursor: string = (await get(`${path(sid, jid)}?limit=2`)).body.nextCursor;
    const [payload, check] = cursor.split('.');
    const flipped = `${payload.slice(0, -1)}${payload.endsWith('A') ? 'B' : 'A'}.${check}`;
    const forged = `${Buffer.from('[1,"x","y"]').toString('base64url')}.${check}`;
    // Checksummed, but carrying what no message position can hold.
    const wellFormed = [encodeCursor([5, 'bad\u0000id']), encodeCursor([-5, 'A']), encodeCursor([1, 'x'.repeat(300)]), encodeCursor(['A', 5])];
    for (const bad of ['garbage', '.', 'a.b', cursor.slice(0, -1), cursor.slice(0, cursor.length / 2), payload, `${cursor}A`, flipped, forged, 'x'.repeat(2000), '%FF%FE', '😀.😀', ...wellFormed]) {
      const res = await get(`${path(sid, jid)}?cursor=${encodeURIComponent(bad)}`);
      expect([bad, res.status, res.body.error?.code]).toEqual([bad, 422, 'validation_error']);
    }
  });

  it('gets one message by id within its chat', async () => {
    const sid = await createSession(t, key);
    await ingest(t, key, sid, [
      messageEvent(directJid(1), '3EB0C1A2B3C4D5E6', 1_732_400_000_000, { fromMe: true, senderId: null, status: 'read', text: 'halo' }),
      messageEvent(directJid(2), 'OTHER', 1),
    ]);
    const res = await get(`${path(sid, encodeURIComponent(directJid(1)))}/3EB0C1A2B3C4D5E6`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: '3EB0C1A2B3C4D5E6', chatId: directJid(1), fromMe: true, senderId: null, timestamp: 1_732_400_000_000, type: 'text', text: 'halo', status: 'read', media: null,
      replyTo: null, reactions: [], edited: false, revoked: false, location: null, contacts: null, senderPhoneNumber: null,
    });
    for (const mid of ['OTHER', 'NOPE', 'a%20b', '%00', 'x'.repeat(200)]) {
      expect((await get(`${path(sid, directJid(1))}/${mid}`)).body).toEqual(notFound('message not found'));
    }
    expect((await get(`${path(sid, directJid(3))}/OTHER`)).body).toEqual(notFound('chat not found'));
    expect((await get(`${path('01HF7Z3K8Q2V5N9T4W6X0Y1B2C', directJid(1))}/3EB0C1A2B3C4D5E6`)).body).toEqual(notFound('session not found'));
  });

  it('answers 404 for an unknown chat or session, checking the session first', async () => {
    const sid = await createSession(t, key);
    expect((await get(path(sid, directJid(1)))).body).toEqual(notFound('chat not found'));
    expect((await get(path(sid, 'not-a-jid'))).body).toEqual(notFound('chat not found'));
    for (const bad of ['01HF7Z3K8Q2V5N9T4W6X0Y1B2C', sid.toLowerCase(), 'x']) {
      expect((await get(path(bad, 'not-a-jid'))).body).toEqual(notFound('session not found'));
      expect((await get(path(bad, directJid(1)))).body).toEqual(notFound('session not found'));
    }
  });

  it('requires read', async () => {
    const org = uniqueOrg();
    const all = await createKey(t, org);
    const sid = await createSession(t, all);
    await ingest(t, all, sid, [messageEvent(directJid(1), 'A', 1)]);
    const writer = await createKey(t, org, ['send', 'ingest', 'manage']);
    expect((await get(path(sid, directJid(1)), writer)).status).toBe(403);
    expect((await get(`${path(sid, directJid(1))}/A`, writer)).status).toBe(403);
    expect((await get(`${path(sid, directJid(1))}/A`, await createKey(t, org, ['read']))).status).toBe(200);
  });

  it('documents the message routes', async () => {
    const doc = (await request(t.http).get('/docs-json')).body;
    const list = doc.paths['/api/v1/sessions/{sid}/chats/{cid}/messages'].get;
    expect(list.operationId).toBe('listChatMessages');
    expect(list.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['cid', 'cursor', 'limit', 'sid']);
    expect(doc.paths['/api/v1/sessions/{sid}/chats/{cid}/messages/{mid}'].get.operationId).toBe('getChatMessage');
    expect(doc.components.schemas.MessagePageDto.properties.nextCursor.nullable).toBe(true);
  });
});
