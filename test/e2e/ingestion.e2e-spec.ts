import { AddressInfo, connect } from 'node:net';
import { DataSource } from 'typeorm';
import request from 'supertest';
import { generateApiKey } from '../../src/auth/api-keys/api-key-format';
import { ExternalProvider } from '../../src/whatsapp/external/external.provider';
import { IngestionService } from '../../src/ingestion/ingestion.service';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';
import { auth, chatEvent, createSession, directJid, groupJid, ingest, messageEvent, pushEvents } from '../support/ingest';

/** What a plain message carries beside its own fields. */
const NO_EXTRAS = { replyTo: null, reactions: [], edited: false, revoked: false, location: null, contacts: null, senderPhoneNumber: null };

describe('ingestion: POST /api/v1/sessions/{sid}/events', () => {
  let t: TestApp;
  let db: DataSource;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: 'scrape' });
    db = t.app.get(DataSource);
    key = await createKey(t, uniqueOrg());
  });
  afterAll(() => t.close());

  const get = (path: string) => request(t.http).get(`/api/v1/sessions/${path}`).set(...auth(key));
  const chats = async (sid: string) => (await get(`${sid}/chats?limit=100`)).body.data;
  const messages = async (sid: string, jid: string) => (await get(`${sid}/chats/${jid}/messages?limit=100`)).body.data;

  /** Every stored row of a session with its row version: equal snapshots mean nothing was written. */
  async function snapshot(sid: string): Promise<unknown> {
    return {
      session: await db.query('SELECT xmin::text, status, phone_number, updated_at FROM sessions WHERE id = $1', [sid]),
      chats: await db.query('SELECT xmin::text, * FROM chats WHERE session_id = $1 ORDER BY jid', [sid]),
      messages: await db.query('SELECT xmin::text, * FROM messages WHERE session_id = $1 ORDER BY chat_jid, id', [sid]),
    };
  }

  it('applies every event type and answers the number of events', async () => {
    const sid = await createSession(t, key);
    const group = groupJid(1);
    const direct = directJid(2);
    const res = await pushEvents(t, key, sid, [
      { type: 'session.status', status: 'connected', phoneNumber: '6281234567890' },
      chatEvent(group, { name: 'Tim Gudang', archived: true, pinned: true, mutedUntil: -1, unreadCount: 4 }),
      messageEvent(group, 'G1', 1_732_400_000_000),
      messageEvent(direct, 'D1', 1_732_400_000_500, { fromMe: true, status: 'sent', senderId: null, text: null, type: 'image' }),
      { type: 'message.status', chatId: direct, messageId: 'D1', status: 'delivered' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 5 });

    expect((await get(sid)).body).toMatchObject({ status: 'connected', phoneNumber: '6281234567890' });
    expect(await chats(sid)).toEqual([
      { id: direct, name: null, type: 'direct', archived: false, pinned: false, mutedUntil: null, unreadCount: 0, lastMessageAt: 1_732_400_000_500 },
      { id: group, name: 'Tim Gudang', type: 'group', archived: true, pinned: true, mutedUntil: -1, unreadCount: 4, lastMessageAt: 1_732_400_000_000 },
    ]);
    expect(await messages(sid, direct)).toEqual([
      { id: 'D1', chatId: direct, fromMe: true, senderId: null, timestamp: 1_732_400_000_500, type: 'image', text: null, status: 'delivered', media: null, ...NO_EXTRAS },
    ]);
    expect(await messages(sid, group)).toEqual([
      { id: 'G1', chatId: group, fromMe: false, senderId: directJid(1), timestamp: 1_732_400_000_000, type: 'text', text: 'text of G1', status: null, media: null, ...NO_EXTRAS, senderPhoneNumber: '6281200000001' },
    ]);
  });

  it('changes nothing when a batch is replayed', async () => {
    const sid = await createSession(t, key);
    const batch = [
      { type: 'session.status', status: 'connected', phoneNumber: '6281234567890' },
      chatEvent(directJid(1), { name: 'Budi', pinned: true }),
      ...Array.from({ length: 20 }, (_, i) => messageEvent(directJid(i % 3), `R${i}`, 1000 + i)),
      { type: 'message.status', chatId: directJid(0), messageId: 'R0', status: 'read' },
    ];
    await ingest(t, key, sid, batch);
    const before = await snapshot(sid);
    const replay = await pushEvents(t, key, sid, batch);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ accepted: batch.length });
    expect(await snapshot(sid)).toEqual(before);
  });

  it('upserts a message by (session, chat, id): again means update, never a duplicate', async () => {
    const sid = await createSession(t, key);
    await ingest(t, key, sid, [messageEvent(directJid(1), 'M1', 5000)]);
    await ingest(t, key, sid, [messageEvent(directJid(1), 'M1', 5000, { text: 'corrected' })]);
    // The same id in another chat is another message.
    await ingest(t, key, sid, [messageEvent(directJid(2), 'M1', 6000)]);
    expect(await messages(sid, directJid(1))).toEqual([expect.objectContaining({ id: 'M1', text: 'corrected' })]);
    expect(await messages(sid, directJid(2))).toEqual([expect.objectContaining({ id: 'M1', timestamp: 6000 })]);
  });

  it('rejects a batch with one invalid event whole, naming its index, and changes nothing', async () => {
    const sid = await createSession(t, key);
    await ingest(t, key, sid, [chatEvent(directJid(1), { name: 'Before' }), messageEvent(directJid(1), 'OLD', 10)]);
    const before = await snapshot(sid);
    const res = await pushEvents(t, key, sid, [
      { type: 'session.status', status: 'connected', phoneNumber: '6281234567890' },
      chatEvent(directJid(1), { name: 'After' }),
      { type: 'chat.delete', chatId: directJid(1) },
      messageEvent(directJid(2), 'BAD', -5),
      messageEvent(directJid(2), 'GOOD', 20),
    ]);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      error: {
        code: 'validation_error',
        message: 'event 3 is invalid',
        details: { index: 3, fields: { 'message.timestamp': ['must be a non-negative integer'] } },
      },
    });
    expect(await snapshot(sid)).toEqual(before);
  });

  it.each([
    ['no events', { events: [] }],
    ['1001 events', { events: Array.from({ length: 1001 }, (_, i) => messageEvent(directJid(1), `X${i}`, i)) }],
    ['events that are not an array', { events: { 0: messageEvent(directJid(1), 'X', 1) } }],
    ['no events field', {}],
    ['an unknown top-level field', { events: [messageEvent(directJid(1), 'X', 1)], session: 'x' }],
    ['`raw`', { events: [{ ...messageEvent(directJid(1), 'X', 1), raw: { key: 1 } }] }],
    ['a provider-only event', { events: [{ type: 'group.upsert', group: { id: '120363025246125888@g.us' } }] }],
    ['a status broadcast', { events: [messageEvent('status@broadcast', 'X', 1)] }],
    ['text with NUL', { events: [messageEvent(directJid(1), 'X', 1, { text: 'a\u0000b' })] }],
    ['a body that is an array', [messageEvent(directJid(1), 'X', 1)]],
  ])('answers 422 for %s and stores nothing', async (_name, body) => {
    const sid = await createSession(t, key);
    const res = await request(t.http).post(`/api/v1/sessions/${sid}/events`).set(...auth(key)).send(body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_error');
    expect(await chats(sid)).toEqual([]);
  });

  it('answers 422 for malformed JSON', async () => {
    const sid = await createSession(t, key);
    const res = await request(t.http)
      .post(`/api/v1/sessions/${sid}/events`)
      .set(...auth(key))
      .set('Content-Type', 'application/json')
      .send('{"events": [');
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_error');
  });

  it('takes 1000 events and bodies up to 8 MiB, and answers 413 above', async () => {
    const sid = await createSession(t, key);
    const big = Array.from({ length: 1000 }, (_, i) => messageEvent(directJid(i % 10), `B${i}`, i, { text: 'x'.repeat(4000) }));
    const ok = await pushEvents(t, key, sid, big);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ accepted: 1000 });
    const [{ count }] = await db.query('SELECT count(*)::int AS count FROM messages WHERE session_id = $1', [sid]);
    expect(count).toBe(1000);

    const tooBig = Array.from({ length: 200 }, (_, i) => messageEvent(directJid(1), `T${i}`, i, { text: 'y'.repeat(60_000) }));
    const res = await pushEvents(t, key, sid, tooBig);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  /**
   * Sends the head of an 8 MiB POST and its first 64 KiB, then waits: whatever the server answers
   * before the rest of the body, and whether it closed the connection.
   */
  async function answerBeforeBody(authorization?: string): Promise<{ head: string; body: string; closed: boolean }> {
    if (!t.http.listening) await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
    const { port } = t.http.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.write(
      `POST /api/v1/sessions/01HF7Z3K8Q2V5N9T4W6X0Y1B2C/events HTTP/1.1\r\nHost: gateway\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${8 * 1024 * 1024 - 1}\r\n` +
        (authorization ? `Authorization: ${authorization}\r\n` : '') +
        '\r\n',
    );
    socket.write(`{"events": [${' '.repeat(64 * 1024)}`);
    const done = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000))]);
    socket.destroy();
    const [head, body] = Buffer.concat(received).toString().split('\r\n\r\n');
    return { head, body, closed: done };
  }

  it.each([
    ['no credential', undefined],
    ['a malformed API key', `Bearer wgw_${'A'.repeat(40)}`],
    ['a well-formed key that does not exist', `Bearer ${generateApiKey().key}`],
  ])('answers 401 to a large body with %s before reading the body, and closes the connection', async (_name, authorization) => {
    const { head, body, closed } = await answerBeforeBody(authorization);
    expect(closed).toBe(true);
    expect(head).toMatch(/^HTTP\/1\.1 401 /);
    expect(head.toLowerCase()).toContain('www-authenticate: bearer');
    expect(head.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(body)).toEqual({ error: { code: 'unauthorized', message: 'missing or invalid credential', details: {} } });
  });

  it('applies a batch in order: delete after upsert removes, upsert after delete starts over', async () => {
    const sid = await createSession(t, key);
    const a = directJid(1);
    const b = directJid(2);
    await ingest(t, key, sid, [
      chatEvent(a, { name: 'A', pinned: true }),
      messageEvent(a, 'A1', 100),
      { type: 'chat.delete', chatId: a },
      messageEvent(b, 'B1', 100),
      { type: 'chat.delete', chatId: b },
      messageEvent(b, 'B2', 50, { fromMe: true }),
      { type: 'message.status', chatId: b, messageId: 'B2', status: 'read' },
      messageEvent(b, 'B2', 50, { fromMe: true, status: 'sent' }),
    ]);
    expect(await chats(sid)).toEqual([expect.objectContaining({ id: b, name: null, pinned: false, lastMessageAt: 50 })]);
    // The later upsert's `sent` does not undo the receipt.
    expect(await messages(sid, b)).toEqual([expect.objectContaining({ id: 'B2', status: 'read' })]);
  });

  it('creates a chat for a message with defaults, and applies only the chat fields present', async () => {
    const sid = await createSession(t, key);
    const jid = groupJid(7);
    await ingest(t, key, sid, [messageEvent(jid, 'G1', 300)]);
    expect(await chats(sid)).toEqual([
      { id: jid, name: null, type: 'group', archived: false, pinned: false, mutedUntil: null, unreadCount: 0, lastMessageAt: 300 },
    ]);
    await ingest(t, key, sid, [chatEvent(jid, { name: 'Group', mutedUntil: 99, unreadCount: 2 })]);
    await ingest(t, key, sid, [chatEvent(jid, { archived: true })]);
    await ingest(t, key, sid, [chatEvent(jid, { mutedUntil: null })]);
    expect(await chats(sid)).toEqual([
      { id: jid, name: 'Group', type: 'group', archived: true, pinned: false, mutedUntil: null, unreadCount: 2, lastMessageAt: 300 },
    ]);
    await ingest(t, key, sid, [chatEvent(directJid(9))]);
    expect((await chats(sid))[1]).toEqual({
      id: directJid(9), name: null, type: 'direct', archived: false, pinned: false, mutedUntil: null, unreadCount: 0, lastMessageAt: null,
    });
  });

  it('keeps lastMessageAt at the newest stored message', async () => {
    const sid = await createSession(t, key);
    const jid = directJid(1);
    const lastMessageAt = async () => (await get(`${sid}/chats/${jid}`)).body.lastMessageAt;
    await ingest(t, key, sid, [messageEvent(jid, 'N1', 500), messageEvent(jid, 'N2', 900)]);
    expect(await lastMessageAt()).toBe(900);
    await ingest(t, key, sid, [messageEvent(jid, 'N0', 100)]);
    expect(await lastMessageAt()).toBe(900);
    // The newest message re-sent with an earlier time: the next newest counts.
    await ingest(t, key, sid, [messageEvent(jid, 'N2', 50)]);
    expect(await lastMessageAt()).toBe(500);
  });

  it('moves message statuses forward only and skips receipts for unknown messages', async () => {
    const sid = await createSession(t, key);
    const jid = directJid(1);
    const status = async () => (await get(`${sid}/chats/${jid}/messages/S1`)).body.status;
    await ingest(t, key, sid, [messageEvent(jid, 'S1', 1, { fromMe: true, status: 'pending' })]);
    await ingest(t, key, sid, [{ type: 'message.status', chatId: jid, messageId: 'S1', status: 'read' }]);
    expect(await status()).toBe('read');
    await ingest(t, key, sid, [{ type: 'message.status', chatId: jid, messageId: 'S1', status: 'delivered' }]);
    expect(await status()).toBe('read');
    await ingest(t, key, sid, [{ type: 'message.status', chatId: jid, messageId: 'S1', status: 'played' }]);
    expect(await status()).toBe('played');
    const res = await pushEvents(t, key, sid, [{ type: 'message.status', chatId: directJid(5), messageId: 'NOPE', status: 'read' }]);
    expect(res.body).toEqual({ accepted: 1 });
    expect(await chats(sid)).toHaveLength(1);
  });

  it('updates the session status and number; an absent number is kept, null clears it', async () => {
    const sid = await createSession(t, key);
    const created = (await get(sid)).body;
    await ingest(t, key, sid, [{ type: 'session.status', status: 'pairing' }]);
    expect((await get(sid)).body).toMatchObject({ status: 'pairing', phoneNumber: null });
    await ingest(t, key, sid, [{ type: 'session.status', status: 'connected', phoneNumber: '6281234567890' }]);
    await ingest(t, key, sid, [{ type: 'session.status', status: 'disconnected' }]);
    const after = (await get(sid)).body;
    expect(after).toMatchObject({ status: 'disconnected', phoneNumber: '6281234567890', createdAt: created.createdAt });
    expect(after.updatedAt).toBeGreaterThanOrEqual(created.updatedAt);
    await ingest(t, key, sid, [{ type: 'session.status', status: 'logged_out', phoneNumber: null }]);
    expect((await get(sid)).body).toMatchObject({ status: 'logged_out', phoneNumber: null });
  });

  it('needs the ingest capability and an existing session of the caller', async () => {
    const org = uniqueOrg();
    const manage = await createKey(t, org, ['manage', 'read']);
    const sid = await createSession(t, manage);
    for (const caps of [['read'], ['read', 'send', 'manage']] as const) {
      const res = await pushEvents(t, await createKey(t, org, caps), sid, [messageEvent(directJid(1), 'X', 1)]);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    const anonymous = await request(t.http).post(`/api/v1/sessions/${sid}/events`).send({ events: [messageEvent(directJid(1), 'X', 1)] });
    expect(anonymous.status).toBe(401);
    const ingestKey = await createKey(t, org, ['ingest']);
    for (const missing of ['01HF7Z3K8Q2V5N9T4W6X0Y1B2C', 'not-a-session', sid.toLowerCase()]) {
      const res = await pushEvents(t, ingestKey, missing, [messageEvent(directJid(1), 'X', 1)]);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'not_found', message: 'session not found', details: {} } });
    }
    expect((await request(t.http).get(`/api/v1/sessions/${sid}/chats`).set(...auth(manage))).body.data).toEqual([]);
  });

  it('lands concurrent batches for one session whole, without errors', async () => {
    const sid = await createSession(t, key);
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 100 }, (_, i) => messageEvent(directJid(i % 4), `C${b}-${i}`, b * 1000 + i)),
    );
    const results = await Promise.all(batches.map((events) => pushEvents(t, key, sid, events)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    const [{ count }] = await db.query('SELECT count(*)::int AS count FROM messages WHERE session_id = $1', [sid]);
    expect(count).toBe(800);
    expect((await chats(sid)).map((c: { lastMessageAt: number }) => c.lastMessageAt)).toEqual([7099, 7098, 7097, 7096]);
  });

  it('counts ingested events and stored messages in the metrics', async () => {
    const sid = await createSession(t, key);
    const scrape = async () => (await request(t.http).get('/metrics').set('Authorization', 'Bearer scrape')).text;
    const value = (text: string, name: string) =>
      Number(text.split('\n').find((l) => l.startsWith(`${name}{provider="external"}`))?.split(' ').pop() ?? 0);
    const before = await scrape();
    await ingest(t, key, sid, [messageEvent(directJid(1), 'P1', 1), messageEvent(directJid(1), 'P2', 2), chatEvent(directJid(1), { name: 'x' })]);
    await ingest(t, key, sid, [messageEvent(directJid(1), 'P1', 1)]);
    const after = await scrape();
    expect(value(after, 'gateway_ingested_events_total') - value(before, 'gateway_ingested_events_total')).toBe(4);
    expect(value(after, 'gateway_messages_stored_total') - value(before, 'gateway_messages_stored_total')).toBe(2);
  });

  describe('IngestionService.ingest, as providers call it', () => {
    it('applies edits and revokes, and keeps `raw` stored but never served', async () => {
      const sid = await createSession(t, key);
      const jid = directJid(1);
      const ingestion = t.app.get(IngestionService);
      const result = await ingestion.ingest(sid, [
        { type: 'message.upsert', message: { id: 'E1', chatId: jid, fromMe: false, senderId: jid, timestamp: 10, type: 'text', text: 'first', status: null }, raw: { key: { id: 'E1' } } },
        { type: 'message.upsert', message: { id: 'E2', chatId: jid, fromMe: false, senderId: jid, timestamp: 20, type: 'text', text: 'secret', status: null }, raw: { secret: true } },
        { type: 'message.edit', chatId: jid, messageId: 'E1', text: 'second' },
        { type: 'message.revoke', chatId: jid, messageId: 'E2' },
      ]);
      expect(result).toEqual({ events: 4, messagesStored: 2 });
      const raw = await db.query('SELECT id, raw, text FROM messages WHERE session_id = $1 ORDER BY id', [sid]);
      expect(raw).toEqual([
        { id: 'E1', raw: { key: { id: 'E1' } }, text: 'second' },
        { id: 'E2', raw: null, text: null },
      ]);
      const served = await messages(sid, jid);
      expect(served.map((m: Record<string, unknown>) => Object.keys(m).sort())).toEqual(
        Array(2).fill([
          'chatId', 'contacts', 'edited', 'fromMe', 'id', 'location', 'media', 'reactions', 'replyTo', 'revoked',
          'senderId', 'senderPhoneNumber', 'status', 'text', 'timestamp', 'type',
        ]),
      );
      expect(JSON.stringify(served)).not.toContain('secret');
    });

    it('throws a validation error naming the event, or not found for an unknown session, and writes nothing', async () => {
      const sid = await createSession(t, key);
      const ingestion = t.app.get(IngestionService);
      await expect(
        ingestion.ingest(sid, [
          { type: 'chat.delete', chatId: directJid(1) },
          { type: 'chat.delete', chatId: 'status@broadcast' },
        ]),
      ).rejects.toMatchObject({ code: 'validation_error', details: { index: 1 } });
      await expect(ingestion.ingest('01HF7Z3K8Q2V5N9T4W6X0Y1B2C', [{ type: 'chat.delete', chatId: directJid(1) }])).rejects.toMatchObject({
        code: 'not_found',
        message: 'session not found',
      });
      expect(await chats(sid)).toEqual([]);
    });
  });

  describe('the external provider', () => {
    it('connects nothing, pairs nothing and sends only with a connector URL', () => {
      const provider = t.app.get(ExternalProvider);
      expect(provider.name).toBe('external');
      expect(provider.currentQr()).toBeNull();
      expect(provider.canSend()).toBe(false);
      return expect(provider.requestPairingCode()).rejects.toMatchObject({ code: 'conflict' });
    });
  });
});
