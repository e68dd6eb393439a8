import request from 'supertest';
import { DataSource } from 'typeorm';
import { MessageSendService } from '../../src/messages/message-send.service';
import { eventually } from '../fixtures/baileys/baileys-harness';
import { ConnectorServer } from '../support/connector-server';
import { auth, createSession, ingest } from '../support/ingest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

/**
 * The actions of API.md §9 through an `external` session: each request stores its effect (the
 * message, the chat, the event log) as the same change an incoming one would make, and reaches the
 * connector at `WA_EXTERNAL_SEND_URL` as `{"sessionId", "chatId", "action"}`.
 */

const OWN_NUMBER = '6281200000001';
const OWN_JID = `${OWN_NUMBER}@s.whatsapp.net`;
const BUDI = '6281234567890@s.whatsapp.net';
const SITI = '6281298765432@s.whatsapp.net';
const GROUP = '120363025246125486@g.us';
const MINUTE = 60_000;

interface LoggedEvent {
  type: string;
  sessionId: string;
  data: Record<string, unknown>;
}

describe('conversation actions through an external session and its connector', () => {
  const connector = new ConnectorServer();
  let t: TestApp;
  let db: DataSource;
  let org: string;
  let key: string;
  let sid: string;
  let n = 0;

  beforeAll(async () => {
    t = await startTestApp({ WA_EXTERNAL_SEND_URL: await connector.start() });
    db = t.app.get(DataSource);
    org = uniqueOrg('conversations');
    key = await createKey(t, org);
    sid = await createSession(t, key);
    await ingest(t, key, sid, [{ type: 'session.status', status: 'connected', phoneNumber: OWN_NUMBER }]);
  });
  afterAll(async () => {
    await t?.close();
    await connector.stop();
  });

  const call = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, withKey = key) =>
    request(t.http)[method](`/api/v1/sessions/${path}`).set(...auth(withKey));
  const messagePath = (chat: string, id: string, session = sid) => `${session}/chats/${encodeURIComponent(chat)}/messages/${id}`;
  const get = async (path: string) => (await call('get', path)).body as Record<string, unknown>;

  /** Stores a message as a connector would report it; answers its id. */
  async function stored(chat: string, fields: Record<string, unknown> = {}): Promise<string> {
    const id = `CONV${String(++n).padStart(6, '0')}`;
    const fromMe = fields.fromMe === true;
    await ingest(t, key, sid, [
      {
        type: 'message.upsert',
        message: {
          id,
          chatId: chat,
          fromMe,
          senderId: fromMe ? OWN_JID : chat === GROUP ? SITI : chat,
          timestamp: Date.now(),
          type: 'text',
          text: `message ${n}`,
          status: fromMe ? 'sent' : null,
          ...fields,
        },
      },
    ]);
    return id;
  }

  async function eventCount(): Promise<number> {
    return (await db.query<{ n: number }[]>('SELECT count(*)::int AS n FROM events WHERE org_id = $1', [org]))[0].n;
  }

  /** The organization's events after the first `mark`, in log order. */
  async function eventsSince(mark: number): Promise<LoggedEvent[]> {
    const rows = await db.query<{ payload: string }[]>('SELECT payload FROM events WHERE org_id = $1 ORDER BY xid, seq', [org]);
    return rows.slice(mark).map((row) => JSON.parse(row.payload) as LoggedEvent);
  }

  /** The actions the connector received since `mark` requests. */
  const actionsSince = (mark: number) => connector.requests.slice(mark).filter((r) => (r.body as { action?: unknown }).action);

  /** Waits for the connector to have received exactly `actions` since `mark`. */
  async function expectActions(mark: number, chatId: string, actions: unknown[]): Promise<void> {
    await eventually(() => expect(actionsSince(mark).map((r) => r.body)).toEqual(actions.map((action) => ({ sessionId: sid, chatId, action }))));
    for (const r of actionsSince(mark)) expect([r.method, r.url, r.headers['content-type']]).toEqual(['POST', '/send', 'application/json']);
  }

  /** Nothing reaches the connector: the outbox is empty and nothing new was posted. */
  async function expectNoAction(mark: number): Promise<void> {
    await t.app.get(MessageSendService).drain(5_000);
    expect(actionsSince(mark)).toEqual([]);
    expect((await db.query<{ n: number }[]>('SELECT count(*)::int AS n FROM outbox WHERE session_id = $1', [sid]))[0].n).toBe(0);
  }

  describe('reactions', () => {
    it('sets the number\'s reaction, stores it as WhatsApp would report it, and tells the connector', async () => {
      const mid = await stored(BUDI);
      const mark = connector.requests.length;
      const events = await eventCount();
      const before = Date.now();

      const res = await call('put', `${messagePath(BUDI, mid)}/reaction`).send({ emoji: '👍🏽' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: mid, chatId: BUDI, reactions: [{ senderId: OWN_JID, emoji: '👍🏽', timestamp: expect.any(Number) }] });
      const reaction = (res.body as { reactions: { timestamp: number }[] }).reactions[0];
      expect(reaction.timestamp).toBeGreaterThanOrEqual(before);
      expect(await get(messagePath(BUDI, mid))).toEqual(res.body);
      expect(await eventsSince(events)).toEqual([expect.objectContaining({ type: 'message.updated', sessionId: sid, data: res.body })]);
      await expectActions(mark, BUDI, [{ type: 'reaction', messageId: mid, emoji: '👍🏽' }]);
    });

    it('replaces the number\'s reaction and keeps others\', and removes it with ""', async () => {
      const mid = await stored(GROUP);
      await ingest(t, key, sid, [{ type: 'message.react', chatId: GROUP, messageId: mid, senderId: BUDI, emoji: '😂', timestamp: Date.now() - 1000 }]);
      const mark = connector.requests.length;

      expect((await call('put', `${messagePath(GROUP, mid)}/reaction`).send({ emoji: '❤️' })).status).toBe(200);
      const replaced = await call('put', `${messagePath(GROUP, mid)}/reaction`).send({ emoji: '👨‍👩‍👧‍👦' });
      expect(replaced.status).toBe(200);
      const reactions = (replaced.body as { reactions: { senderId: string; emoji: string }[] }).reactions;
      expect(reactions.map((r) => [r.senderId, r.emoji]).sort()).toEqual([[BUDI, '😂'], [OWN_JID, '👨‍👩‍👧‍👦']].sort());

      const events = await eventCount();
      const removed = await call('put', `${messagePath(GROUP, mid)}/reaction`).send({ emoji: '' });
      expect(removed.status).toBe(200);
      expect((removed.body as { reactions: { senderId: string }[] }).reactions.map((r) => r.senderId)).toEqual([BUDI]);
      expect(await eventsSince(events)).toEqual([expect.objectContaining({ type: 'message.updated', data: removed.body })]);
      await expectActions(mark, GROUP, [
        { type: 'reaction', messageId: mid, emoji: '❤️' },
        { type: 'reaction', messageId: mid, emoji: '👨‍👩‍👧‍👦' },
        { type: 'reaction', messageId: mid, emoji: '' },
      ]);
    });

    it.each([
      ['two emoji', '👍👍'],
      ['an emoji and a letter', '👍a'],
      ['a letter', 'a'],
      ['a NUL', '\u0000'],
      ['a number', 1],
      ['null', null],
    ])('refuses %s with 422, changing nothing', async (_, emoji) => {
      const mid = await stored(BUDI);
      const mark = connector.requests.length;
      const events = await eventCount();
      const message = await get(messagePath(BUDI, mid));
      const res = await call('put', `${messagePath(BUDI, mid)}/reaction`).send({ emoji });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'validation_error', details: { fields: { emoji: [expect.any(String)] } } });
      expect(await get(messagePath(BUDI, mid))).toEqual(message);
      expect(await eventCount()).toBe(events);
      await expectNoAction(mark);
    });

    it('refuses a body without emoji, or with another field, with 422', async () => {
      const mid = await stored(BUDI);
      for (const body of [{}, { emoji: '👍', extra: 1 }]) {
        const res = await call('put', `${messagePath(BUDI, mid)}/reaction`).send(body);
        expect(res.status).toBe(422);
      }
    });
  });

  describe('edits', () => {
    it('replaces the text of a text sent from this number, marks it edited, and tells the connector', async () => {
      const mid = await stored(BUDI, { fromMe: true, timestamp: Date.now() - 14 * MINUTE });
      const mark = connector.requests.length;
      const events = await eventCount();

      const res = await call('patch', messagePath(BUDI, mid)).send({ text: 'fixed typo ✍️' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: mid, fromMe: true, type: 'text', text: 'fixed typo ✍️', edited: true, revoked: false });
      expect(await get(messagePath(BUDI, mid))).toEqual(res.body);
      expect(await eventsSince(events)).toEqual([expect.objectContaining({ type: 'message.updated', data: res.body })]);
      await expectActions(mark, BUDI, [{ type: 'edit', messageId: mid, text: 'fixed typo ✍️' }]);
    });

    it('answers 409 past WhatsApp\'s 15 minutes, changing nothing', async () => {
      const mid = await stored(BUDI, { fromMe: true, timestamp: Date.now() - 15 * MINUTE - 5_000 });
      const mark = connector.requests.length;
      const message = await get(messagePath(BUDI, mid));
      const res = await call('patch', messagePath(BUDI, mid)).send({ text: 'too late' });
      expect(res.status).toBe(409);
      expect(res.body.error).toEqual({ code: 'conflict', message: 'a message can only be edited within 15 minutes of its timestamp', details: {} });
      expect(await get(messagePath(BUDI, mid))).toEqual(message);
      await expectNoAction(mark);
    });

    it('refuses with 422 to edit someone else\'s message, a file, or a revoked message', async () => {
      const others = await stored(BUDI);
      const image = await stored(BUDI, {
        fromMe: true,
        type: 'image',
        text: 'caption',
        media: { mimetype: 'image/jpeg', size: 10, sha256: 'a'.repeat(64) },
      });
      const revoked = await stored(BUDI, { fromMe: true });
      await ingest(t, key, sid, [{ type: 'message.revoke', chatId: BUDI, messageId: revoked }]);
      const mark = connector.requests.length;
      for (const mid of [others, image, revoked]) {
        const message = await get(messagePath(BUDI, mid));
        const res = await call('patch', messagePath(BUDI, mid)).send({ text: 'not mine' });
        expect([mid, res.status, res.body.error?.details]).toEqual([mid, 422, { fields: { mid: [expect.any(String)] } }]);
        expect(await get(messagePath(BUDI, mid))).toEqual(message);
      }
      await expectNoAction(mark);
    });

    it.each([
      ['empty', ''],
      ['too long', 'x'.repeat(4097)],
      ['a lone surrogate', 'a\ud800'],
      ['not a string', 5],
    ])('refuses a text that is %s with 422', async (_, text) => {
      const mid = await stored(BUDI, { fromMe: true });
      const res = await call('patch', messagePath(BUDI, mid)).send({ text });
      expect([res.status, Object.keys(res.body.error.details.fields)]).toEqual([422, ['text']]);
    });
  });

  describe('revokes', () => {
    it('deletes an own message for everyone: kept, revoked, text cleared, and the connector told', async () => {
      const mid = await stored(BUDI, { fromMe: true, timestamp: Date.now() - 3 * 24 * 60 * MINUTE });
      const mark = connector.requests.length;
      const events = await eventCount();

      const res = await call('post', `${messagePath(BUDI, mid)}/revoke`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: mid, revoked: true, text: null });
      expect(await get(messagePath(BUDI, mid))).toEqual(res.body);
      expect(await eventsSince(events)).toEqual([expect.objectContaining({ type: 'message.updated', data: res.body })]);
      await expectActions(mark, BUDI, [{ type: 'revoke', messageId: mid }]);

      // Again: already revoked, nothing changes and nothing is sent.
      const again = await call('post', `${messagePath(BUDI, mid)}/revoke`);
      expect([again.status, again.body]).toEqual([200, res.body]);
      expect(await eventsSince(events)).toHaveLength(1);
      await expectNoAction(mark + 1);
    });

    it('revokes someone else\'s message in a group', async () => {
      const mid = await stored(GROUP);
      const mark = connector.requests.length;
      const res = await call('post', `${messagePath(GROUP, mid)}/revoke`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: mid, fromMe: false, senderId: SITI, revoked: true, text: null });
      await expectActions(mark, GROUP, [{ type: 'revoke', messageId: mid }]);
    });

    it('refuses with 422 to revoke someone else\'s message in a direct chat', async () => {
      const mid = await stored(BUDI);
      const mark = connector.requests.length;
      const message = await get(messagePath(BUDI, mid));
      const res = await call('post', `${messagePath(BUDI, mid)}/revoke`);
      expect([res.status, res.body.error.details]).toEqual([422, { fields: { mid: [expect.any(String)] } }]);
      expect(await get(messagePath(BUDI, mid))).toEqual(message);
      await expectNoAction(mark);
    });
  });

  describe('local deletes', () => {
    it('removes one message from the stored copy only, records message.deleted, and moves lastMessageAt back', async () => {
      const chat = '6281255500001@s.whatsapp.net';
      const older = await stored(chat, { timestamp: 1_732_400_000_000 });
      const newest = await stored(chat, { timestamp: 1_732_400_050_000 });
      expect(await get(`${sid}/chats/${chat}`)).toMatchObject({ lastMessageAt: 1_732_400_050_000 });
      const mark = connector.requests.length;
      const events = await eventCount();

      const res = await call('delete', messagePath(chat, newest));
      expect([res.status, res.text]).toEqual([204, '']);
      const gone = await call('get', messagePath(chat, newest));
      expect([gone.status, gone.body.error.message]).toEqual([404, 'message not found']);
      expect((await get(messagePath(chat, older))).id).toBe(older);
      expect(await get(`${sid}/chats/${chat}`)).toMatchObject({ lastMessageAt: 1_732_400_000_000 });
      expect(await eventsSince(events)).toEqual([expect.objectContaining({ type: 'message.deleted', sessionId: sid, data: { id: newest, chatId: chat } })]);
      await expectNoAction(mark);

      const again = await call('delete', messagePath(chat, newest));
      expect([again.status, again.body.error.message]).toEqual([404, 'message not found']);
    });
  });

  describe('read receipts', () => {
    it('sets unreadCount to 0 and sends receipts for the unread received messages, newest first', async () => {
      const chat = '6281255500002@s.whatsapp.net';
      const now = Date.now();
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push(await stored(chat, { timestamp: now - (10 - i) * 1000 }));
      await stored(chat, { fromMe: true, timestamp: now });
      await ingest(t, key, sid, [{ type: 'chat.upsert', chat: { id: chat, unreadCount: 3 } }]);
      const mark = connector.requests.length;
      const events = await eventCount();

      const res = await call('post', `${sid}/chats/${chat}/read`);
      expect([res.status, res.text]).toEqual([204, '']);
      const readChat = await get(`${sid}/chats/${chat}`);
      expect(readChat).toMatchObject({ unreadCount: 0 });
      expect(await eventsSince(events)).toEqual([expect.objectContaining({ type: 'chat.updated', data: readChat })]);
      await expectActions(mark, chat, [{ type: 'read', messageIds: [ids[3], ids[2], ids[1]] }]);

      // Read already: nothing changes, and the newest received message is acknowledged again.
      const again = await call('post', `${sid}/chats/${chat}/read`);
      expect(again.status).toBe(204);
      expect(await eventsSince(events)).toHaveLength(1);
      await expectActions(mark, chat, [
        { type: 'read', messageIds: [ids[3], ids[2], ids[1]] },
        { type: 'read', messageIds: [ids[3]] },
      ]);
    });
  });

  describe('presence', () => {
    it.each(['composing', 'recording', 'paused'])('shows %s to the chat, storing nothing', async (state) => {
      const mark = connector.requests.length;
      const events = await eventCount();
      const res = await call('post', `${sid}/chats/${BUDI}/presence`).send({ state });
      expect([res.status, res.text]).toEqual([204, '']);
      await expectActions(mark, BUDI, [{ type: 'presence', state }]);
      expect(await eventCount()).toBe(events);
    });

    it.each([[{ state: 'typing' }], [{}], [{ state: 'paused', extra: true }], [['composing']]])('refuses %j with 422', async (body) => {
      const mark = connector.requests.length;
      const res = await call('post', `${sid}/chats/${BUDI}/presence`).send(body);
      expect([res.status, res.body.error.code]).toEqual([422, 'validation_error']);
      await expectNoAction(mark);
    });
  });

  describe('what cannot be found or done', () => {
    it('answers 404 for an unknown session, chat or message, and for another organization\'s', async () => {
      const mid = await stored(BUDI);
      const otherOrg = uniqueOrg('conversations-other');
      const otherKey = await createKey(t, otherOrg);
      const otherSid = await createSession(t, otherKey);
      const mark = connector.requests.length;
      const cases: [string, 'put' | 'patch' | 'post' | 'delete', string, unknown, string][] = [];
      const routes: ['put' | 'patch' | 'post' | 'delete', (s: string, c: string, m: string) => string, unknown][] = [
        ['put', (s, c, m) => `${messagePath(c, m, s)}/reaction`, { emoji: '👍' }],
        ['patch', (s, c, m) => messagePath(c, m, s), { text: 'x' }],
        ['post', (s, c, m) => `${messagePath(c, m, s)}/revoke`, undefined],
        ['delete', (s, c, m) => messagePath(c, m, s), undefined],
        ['post', (s, c) => `${s}/chats/${c}/read`, undefined],
        ['post', (s, c) => `${s}/chats/${c}/presence`, { state: 'composing' }],
      ];
      for (const [method, path, body] of routes) {
        cases.push([key, method, path('01HF7Z3K8Q2V5N9T4W6X0Y1B2C', BUDI, mid), body, 'session not found']);
        cases.push([key, method, path('not-a-session', BUDI, mid), body, 'session not found']);
        cases.push([otherKey, method, path(sid, BUDI, mid), body, 'session not found']);
        cases.push([otherKey, method, path(otherSid, BUDI, mid), body, 'chat not found']);
        cases.push([key, method, path(sid, '6281200000999@s.whatsapp.net', mid), body, 'chat not found']);
        cases.push([key, method, path(sid, 'not-a-chat', mid), body, 'chat not found']);
        if (path(sid, BUDI, 'X').endsWith('/X') || path(sid, BUDI, 'X').includes('/X/')) {
          cases.push([key, method, path(sid, BUDI, 'NEVER0STORED'), body, 'message not found']);
          cases.push([key, method, path(sid, GROUP, mid), body, 'message not found']);
        }
      }
      for (const [withKey, method, path, body, message] of cases) {
        const req = call(method, path, withKey);
        const res = body === undefined ? await req : await req.send(body as object);
        expect([method, path, res.status, res.body]).toEqual([method, path, 404, { error: { code: 'not_found', message, details: {} } }]);
      }
      await expectNoAction(mark);
    });

    it('answers 409 when the session cannot act: its own number is not known yet for a reaction', async () => {
      const other = await createSession(t, key);
      await ingest(t, key, other, [
        { type: 'message.upsert', message: { id: 'NONUMBER1', chatId: BUDI, fromMe: false, senderId: BUDI, timestamp: Date.now(), type: 'text', text: 'x', status: null } },
      ]);
      const res = await call('put', `${messagePath(BUDI, 'NONUMBER1', other)}/reaction`).send({ emoji: '👍' });
      expect([res.status, res.body.error.message]).toEqual([409, 'the session cannot act: its own number is not known yet']);
      expect((await get(messagePath(BUDI, 'NONUMBER1', other))).reactions).toEqual([]);
    });
  });

  describe('sends: replies, places and contact cards', () => {
    const send = (chat: string, body: unknown, headers: Record<string, string> = {}) =>
      call('post', `${sid}/chats/${encodeURIComponent(chat)}/messages`).set(headers).send(body as object);
    const sendsSince = (mark: number) => connector.requests.slice(mark).filter((r) => (r.body as { message?: unknown }).message);

    it('sends a reply quoting a stored message of the chat', async () => {
      const quoted = await stored(GROUP);
      const mark = connector.requests.length;
      const res = await send(GROUP, { type: 'text', text: 'setuju', replyTo: quoted });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ chatId: GROUP, fromMe: true, type: 'text', text: 'setuju', replyTo: quoted, status: 'pending' });
      await eventually(() =>
        expect(sendsSince(mark).map((r) => r.body)).toEqual([
          { sessionId: sid, chatId: GROUP, message: { id: res.body.id, type: 'text', text: 'setuju', replyTo: quoted } },
        ]),
      );
      await eventually(async () => expect(await get(messagePath(GROUP, res.body.id as string))).toMatchObject({ replyTo: quoted, status: 'sent' }));
    });

    it('refuses with 422 a reply to a message that is not stored in the chat, storing nothing', async () => {
      const elsewhere = await stored(BUDI);
      await t.app.get(MessageSendService).drain(5_000);
      for (const replyTo of ['NEVER0STORED', elsewhere, '', 'a b', 5, null]) {
        const events = await eventCount();
        const res = await send(GROUP, { type: 'text', text: 'x', replyTo });
        expect([replyTo, res.status, Object.keys(res.body.error?.details?.fields ?? {})]).toEqual([replyTo, 422, ['replyTo']]);
        expect(await eventCount()).toBe(events);
      }
    });

    it('sends a place, stored with it', async () => {
      const mark = connector.requests.length;
      const location = { latitude: -6.1754, longitude: 106.8272, name: 'Monas', address: 'Gambir, Jakarta Pusat' };
      const res = await send(BUDI, { type: 'location', location });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ type: 'location', text: null, location, status: 'pending' });
      await eventually(() =>
        expect(sendsSince(mark).map((r) => r.body)).toEqual([{ sessionId: sid, chatId: BUDI, message: { id: res.body.id, type: 'location', text: null, location } }]),
      );
      const bare = await send(BUDI, { type: 'location', location: { latitude: 90, longitude: -180 } });
      expect(bare.status).toBe(202);
      expect(bare.body).toMatchObject({ location: { latitude: 90, longitude: -180, name: null, address: null } });
    });

    it.each([
      ['latitude 91', { type: 'location', location: { latitude: 91, longitude: 0 } }, 'location.latitude'],
      ['longitude -180.5', { type: 'location', location: { latitude: 0, longitude: -180.5 } }, 'location.longitude'],
      ['a latitude as a string', { type: 'location', location: { latitude: '1', longitude: 0 } }, 'location.latitude'],
      ['no longitude', { type: 'location', location: { latitude: 1 } }, 'location.longitude'],
      ['a name of 257 characters', { type: 'location', location: { latitude: 1, longitude: 1, name: 'x'.repeat(257) } }, 'location.name'],
      ['an unknown field', { type: 'location', location: { latitude: 1, longitude: 1, altitude: 3 } }, 'location.altitude'],
      ['no place', { type: 'location' }, 'location'],
      ['a place and a text', { type: 'location', text: 'x', location: { latitude: 1, longitude: 1 } }, 'text'],
      ['a place on a text', { type: 'text', text: 'x', location: { latitude: 1, longitude: 1 } }, 'location'],
      ['no cards', { type: 'contact', contacts: [] }, 'contacts'],
      ['11 cards', { type: 'contact', contacts: Array.from({ length: 11 }, () => ({ name: 'a', phoneNumber: '62812345' })) }, 'contacts'],
      ['a number with +', { type: 'contact', contacts: [{ name: 'a', phoneNumber: '+6281234567' }] }, 'contacts.0.phoneNumber'],
      ['a number of 4 digits', { type: 'contact', contacts: [{ name: 'a', phoneNumber: '1234' }] }, 'contacts.0.phoneNumber'],
      ['an empty name', { type: 'contact', contacts: [{ name: '', phoneNumber: '6281234567' }] }, 'contacts.0.name'],
      ['cards on a text', { type: 'text', text: 'x', contacts: [{ name: 'a', phoneNumber: '6281234567' }] }, 'contacts'],
    ])('refuses a body with %s with 422 naming the field', async (_, body, field) => {
      // The outcomes of earlier sends are recorded first.
      await t.app.get(MessageSendService).drain(5_000);
      const events = await eventCount();
      const res = await send(BUDI, body);
      expect(res.status).toBe(422);
      expect(Object.keys(res.body.error.details.fields as object)).toEqual([field]);
      expect(await eventCount()).toBe(events);
    });

    it('sends contact cards, stored with them', async () => {
      const mark = connector.requests.length;
      const contacts = [
        { name: 'Budi Santoso', phoneNumber: '6281234567890' },
        { name: 'Siti; "Kantor"', phoneNumber: '6281298765432' },
      ];
      const res = await send(BUDI, { type: 'contact', contacts });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ type: 'contact', text: null, contacts, status: 'pending' });
      await eventually(() =>
        expect(sendsSince(mark).map((r) => r.body)).toEqual([{ sessionId: sid, chatId: BUDI, message: { id: res.body.id, type: 'contact', text: null, contacts } }]),
      );
    });

    it('covers places, cards and replies with the Idempotency-Key', async () => {
      const quoted = await stored(BUDI);
      const body = { type: 'location', location: { latitude: 1.5, longitude: 2.5, name: 'Here' }, replyTo: quoted };
      const first = await send(BUDI, body, { 'Idempotency-Key': 'place-1' });
      expect(first.status).toBe(202);
      const reordered = { replyTo: quoted, location: { name: 'Here', longitude: 2.5, latitude: 1.5 }, type: 'location' };
      const replay = await send(BUDI, reordered, { 'Idempotency-Key': 'place-1' });
      expect([replay.status, replay.body, replay.headers['idempotent-replayed']]).toEqual([202, first.body, 'true']);
      for (const other of [
        { ...body, location: { ...body.location, latitude: 1.6 } },
        { ...body, replyTo: undefined },
        { type: 'contact', contacts: [{ name: 'Here', phoneNumber: '6281234567' }] },
      ]) {
        const res = await send(BUDI, other, { 'Idempotency-Key': 'place-1' });
        expect([res.status, res.body.error.details]).toEqual([422, { fields: { 'Idempotency-Key': [expect.any(String)] } }]);
      }
    });
  });
});
