import request from 'supertest';
import { MessageDto } from '../../src/messages/message.dto';
import { MessageSendService } from '../../src/messages/message-send.service';
import { MetricsService } from '../../src/metrics/metrics.service';
import { eventually } from '../fixtures/baileys/baileys-harness';
import { FakeSocket } from '../fixtures/baileys/fake-socket';
import { BaileysGateway, OWN_NUMBER, startBaileysGateway } from '../support/baileys-gateway';
import { ConnectorServer } from '../support/connector-server';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

const BUDI = '6281234567890@s.whatsapp.net';
const GROUP = '120363025246125486@g.us';
const OWN_JID = `${OWN_NUMBER}@s.whatsapp.net`;
const WHATSAPP_ID = /^3EB0[0-9A-F]{36}$/;

async function sendCount(t: TestApp, outcome: 'sent' | 'failed'): Promise<number> {
  const metric = await t.app.get(MetricsService).sends.get();
  return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

/** Every send answered so far has its outcome recorded. */
const settled = (t: TestApp) => t.app.get(MessageSendService).drain(15_000);

const messagesPath = (sid: string, jid: string) => `/api/v1/sessions/${sid}/chats/${encodeURIComponent(jid)}/messages`;

describe('sending through a baileys session (stand-in socket, real PostgreSQL)', () => {
  let g: BaileysGateway;

  beforeAll(async () => {
    g = await startBaileysGateway();
  });
  afterAll(() => g.close());

  const send = (sid: string, jid: string, body: unknown, key = g.key) => g.call('post', messagesPath(sid, jid), key).send(body as object);
  const message = async (sid: string, jid: string, id: string) =>
    (await g.call('get', `${messagesPath(sid, jid)}/${id}`)).body as MessageDto;
  const expectMessageStatus = (sid: string, jid: string, id: string, status: string) =>
    eventually(async () => expect((await message(sid, jid, id)).status).toBe(status));
  const receipt = (socket: FakeSocket, jid: string, id: string, status: number) =>
    socket.emit('messages.update', [{ key: { remoteJid: jid, fromMe: true, id }, update: { status } }]);

  it('stores the message as pending, answers 202 at once, sends it under that id, and records sent', async () => {
    const { id: sid, socket } = await g.connectedSession();
    let accept!: () => void;
    socket.sendBehaviour = () => new Promise((resolve) => (accept = () => resolve({})));
    const sentBefore = await sendCount(g.t, 'sent');
    const before = Date.now();

    const res = await send(sid, BUDI, { type: 'text', text: 'Halo, pesanan sudah dikirim' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(WHATSAPP_ID),
      chatId: BUDI,
      fromMe: true,
      senderId: OWN_JID,
      timestamp: expect.any(Number),
      type: 'text',
      text: 'Halo, pesanan sudah dikirim',
      status: 'pending',
      media: null,
      replyTo: null,
      reactions: [],
      edited: false,
      revoked: false,
      location: null,
      contacts: null,
      senderPhoneNumber: '6281200000000',
    });
    const sent = res.body as MessageDto;
    expect(sent.timestamp).toBeGreaterThanOrEqual(before);
    expect(sent.timestamp).toBeLessThanOrEqual(Date.now());

    // The answer did not wait for WhatsApp: the message is stored as pending while the socket has it.
    await eventually(() => expect(socket.sent).toEqual([{ jid: BUDI, content: { text: 'Halo, pesanan sudah dikirim' }, options: { messageId: sent.id } }]));
    expect(await message(sid, BUDI, sent.id)).toEqual(sent);
    // The chat did not exist: sending created it, and its activity is the message.
    expect((await g.call('get', `/api/v1/sessions/${sid}/chats/${BUDI}`)).body).toEqual({
      id: BUDI,
      name: null,
      type: 'direct',
      archived: false,
      pinned: false,
      mutedUntil: null,
      unreadCount: 0,
      lastMessageAt: sent.timestamp,
    });

    accept();
    await expectMessageStatus(sid, BUDI, sent.id, 'sent');
    expect(await sendCount(g.t, 'sent')).toBe(sentBefore + 1);
    expect((await g.call('get', messagesPath(sid, BUDI))).body.data).toEqual([{ ...sent, status: 'sent' }]);
  });

  it('moves a sent message on with receipts, never back', async () => {
    const { id: sid, socket } = await g.connectedSession();
    const { body: sent } = await send(sid, GROUP, { type: 'text', text: 'Rapat jam 3' });
    expect((await g.call('get', `/api/v1/sessions/${sid}/chats/${GROUP}`)).body).toMatchObject({ type: 'group' });
    await expectMessageStatus(sid, GROUP, sent.id, 'sent');

    receipt(socket, GROUP, sent.id, 3);
    await expectMessageStatus(sid, GROUP, sent.id, 'delivered');
    receipt(socket, GROUP, sent.id, 4);
    await expectMessageStatus(sid, GROUP, sent.id, 'read');
    // Late receipts (server ack, delivery) and an error report arrive after "read".
    receipt(socket, GROUP, sent.id, 2);
    receipt(socket, GROUP, sent.id, 3);
    receipt(socket, GROUP, sent.id, 0);
    // Events of a session are written in order: once this one shows, the receipts before it have been applied.
    socket.emit('chats.update', [{ id: GROUP, archived: true }]);
    await eventually(async () => expect((await g.call('get', `/api/v1/sessions/${sid}/chats/${GROUP}`)).body.archived).toBe(true));
    expect((await message(sid, GROUP, sent.id)).status).toBe('read');
  });

  it('keeps a receipt that arrives before WhatsApp confirms the send', async () => {
    const { id: sid, socket } = await g.connectedSession();
    socket.sendBehaviour = async () => {
      const id = socket.sent[socket.sent.length - 1].options.messageId;
      receipt(socket, BUDI, id, 3);
      await expectMessageStatus(sid, BUDI, id, 'delivered');
      return {};
    };
    const { body: sent } = await send(sid, BUDI, { type: 'text', text: 'cepat sekali' });
    await settled(g.t);
    expect((await message(sid, BUDI, sent.id)).status).toBe('delivered');
  });

  it('marks the message failed when WhatsApp refuses it or does not accept it within 8 s', async () => {
    const { id: sid, socket } = await g.connectedSession();
    const failedBefore = await sendCount(g.t, 'failed');
    socket.sendBehaviour = () => Promise.reject(new Error('not-acceptable'));
    const refused = (await send(sid, BUDI, { type: 'text', text: 'ditolak' })).body as MessageDto;
    await expectMessageStatus(sid, BUDI, refused.id, 'failed');

    socket.sendBehaviour = () => new Promise(() => undefined);
    const hanging = (await send(sid, BUDI, { type: 'text', text: 'menggantung' })).body as MessageDto;
    await eventually(() => expect(socket.sent.map((s) => s.options.messageId)).toContain(hanging.id));
    expect((await message(sid, BUDI, hanging.id)).status).toBe('pending');
    g.clock.advance(8_000);
    await expectMessageStatus(sid, BUDI, hanging.id, 'failed');
    expect(await sendCount(g.t, 'failed')).toBe(failedBefore + 2);
  });

  it('answers 409 for a session that is not connected, and stores and sends nothing', async () => {
    const sid = await g.createSession();
    const socket = await g.sockets.waitForSocket(sid, 1);
    const res = await send(sid, BUDI, { type: 'text', text: 'belum tersambung' });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: { code: 'conflict', message: 'the session cannot send: it is not connected', details: {} } });
    expect((await g.call('get', `/api/v1/sessions/${sid}/chats/${BUDI}`)).status).toBe(404);
    expect(socket.sent).toEqual([]);
  });

  it.each([
    ['an empty text', { type: 'text', text: '' }, 'text'],
    ['a text of 4097 characters', { type: 'text', text: 'x'.repeat(4097) }, 'text'],
    ['a text with a NUL', { type: 'text', text: 'a\u0000b' }, 'text'],
    ['a lone surrogate', { type: 'text', text: 'a\ud800b' }, 'text'],
    ['a lone low surrogate', { type: 'text', text: 'a\udc00b' }, 'text'],
    ['4097 code points that class-validator counts as 2049', { type: 'text', text: '❤️'.repeat(2048) + 'x' }, 'text'],
    ['a number as text', { type: 'text', text: 42 }, 'text'],
    ['an unknown type', { type: 'poll', text: 'x' }, 'type'],
    ['an image without a file', { type: 'image', text: 'x' }, 'media'],
    ['a text with a file', { type: 'text', text: 'x', media: { url: 'https://cdn.example.com/a.jpg' } }, 'media'],
    ['no type', { text: 'x' }, 'type'],
    ['an unknown field', { type: 'text', text: 'x', quoted: '3EB0' }, 'quoted'],
  ])('answers 422 for %s and stores and sends nothing', async (_name, body, field) => {
    const { id: sid, socket } = await g.connectedSession();
    const res = await send(sid, BUDI, body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_error');
    expect(Object.keys(res.body.error.details.fields)).toContain(field);
    expect((await g.call('get', `/api/v1/sessions/${sid}/chats/${BUDI}`)).status).toBe(404);
    expect(socket.sent).toEqual([]);
  });

  it('takes a text of exactly 4096 characters, emoji counted as one', async () => {
    const { id: sid } = await g.connectedSession();
    const text = `${'😀'.repeat(96)}${'x'.repeat(4000)}`;
    const res = await send(sid, BUDI, { type: 'text', text });
    expect(res.status).toBe(202);
    expect((await message(sid, BUDI, res.body.id)).text).toBe(text);
  });

  it('needs the send capability, and answers 404 for another organization\'s session or a chat id that is no chat', async () => {
    const { id: sid, socket } = await g.connectedSession();
    const readOnly = await createKey(g.t, g.orgId, ['read']);
    const forbidden = await send(sid, BUDI, { type: 'text', text: 'x' }, readOnly);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('forbidden');

    const otherOrg = await createKey(g.t, uniqueOrg('other'));
    const foreign = await send(sid, BUDI, { type: 'text', text: 'x' }, otherOrg);
    const missing = await send('01HF7Z3K8Q2V5N9T4W6X0Y1B2C', BUDI, { type: 'text', text: 'x' }, otherOrg);
    expect(foreign.status).toBe(404);
    expect(foreign.text).toBe(missing.text);
    expect(foreign.body).toEqual({ error: { code: 'not_found', message: 'session not found', details: {} } });

    for (const cid of ['status@broadcast', '6281234567890', '123@newsletter']) {
      const res = await send(sid, cid, { type: 'text', text: 'x' });
      expect(res.status).toBe(404);
      expect(res.body.error.message).toBe('chat not found');
    }
    await settled(g.t);
    expect(socket.sent).toEqual([]);
  });

  it('applies PATCH archive/pin/mute to the WhatsApp account while connected, and only to the stored copy otherwise', async () => {
    const { id: sid, socket } = await g.connectedSession();
    await send(sid, BUDI, { type: 'text', text: 'chat dibuat' });
    const patched = await g.call('patch', `/api/v1/sessions/${sid}/chats/${BUDI}`).send({ archived: true, pinned: true, mutedUntil: -1 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ archived: true, pinned: true, mutedUntil: -1 });
    await eventually(() =>
      expect(socket.modifications.map((m) => [m.jid, Object.keys(m.modification)[0]])).toEqual([
        [BUDI, 'archive'],
        [BUDI, 'pin'],
        [BUDI, 'mute'],
      ]),
    );
    expect(socket.modifications[2].modification).toEqual({ mute: -1 });

    const pairingId = await g.createSession();
    const pairing = await g.sockets.waitForSocket(pairingId, 1);
    pairing.emit('chats.upsert', [{ id: BUDI, name: 'Budi', unreadCount: 0 }]);
    await eventually(async () => expect((await g.call('get', `/api/v1/sessions/${pairingId}/chats/${BUDI}`)).status).toBe(200));
    const offline = await g.call('patch', `/api/v1/sessions/${pairingId}/chats/${BUDI}`).send({ pinned: true, unmute: true });
    expect(offline.body).toMatchObject({ pinned: true, mutedUntil: null });
    // Mirroring is fire-and-forget; give it the time it would take.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pairing.modifications).toEqual([]);
  });
});

describe('sending through an external session: the connector at WA_EXTERNAL_SEND_URL', () => {
  const connector = new ConnectorServer();
  let t: TestApp;
  let key: string;
  let sid: string;

  beforeAll(async () => {
    const url = await connector.start();
    t = await startTestApp({ WA_EXTERNAL_SEND_URL: url });
    key = await createKey(t, uniqueOrg('external-send'));
    const session = await request(t.http).post('/api/v1/sessions').set('Authorization', `Bearer ${key}`).send({ name: 'connector' });
    expect(session.body).toMatchObject({ provider: 'external' });
    sid = session.body.id as string;
  });
  afterAll(async () => {
    await t.close();
    await connector.stop();
  });

  const send = (text: string) =>
    request(t.http).post(messagesPath(sid, BUDI)).set('Authorization', `Bearer ${key}`).send({ type: 'text', text });
  const status = async (id: string) =>
    ((await request(t.http).get(`${messagesPath(sid, BUDI)}/${id}`).set('Authorization', `Bearer ${key}`)).body as MessageDto).status;

  it('POSTs the message as JSON with its id as Idempotency-Key, once; a 2xx means sent', async () => {
    connector.respond = 204;
    const from = connector.requests.length;
    const res = await send('lewat konektor');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ chatId: BUDI, fromMe: true, senderId: null, status: 'pending', text: 'lewat konektor' });
    await eventually(async () => expect(await status(res.body.id)).toBe('sent'));
    expect(connector.requests.slice(from)).toEqual([
      {
        method: 'POST',
        url: '/send',
        headers: expect.objectContaining({ 'content-type': 'application/json', 'idempotency-key': res.body.id }),
        body: { sessionId: sid, chatId: BUDI, message: { id: res.body.id, type: 'text', text: 'lewat konektor' } },
      },
    ]);
  });

  it('marks the message failed on a non-2xx answer, without retrying', async () => {
    connector.respond = 500;
    const from = connector.requests.length;
    const res = await send('konektor rusak');
    await eventually(async () => expect(await status(res.body.id)).toBe('failed'));
    await settled(t);
    expect(connector.requests.length - from).toBe(1);
  });

  it('marks the message failed when the connector does not answer within 5 s, within the 10 s the contract allows', async () => {
    connector.respond = 'hang';
    const started = Date.now();
    const res = await send('konektor diam');
    expect(res.status).toBe(202);
    await eventually(async () => expect(await status(res.body.id)).toBe('failed'), 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_900);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);

  it('answers 409 without WA_EXTERNAL_SEND_URL, and stores nothing', async () => {
    const noConnector = await startTestApp();
    try {
      const res = await request(noConnector.http)
        .post(messagesPath(sid, '6289999999999@s.whatsapp.net'))
        .set('Authorization', `Bearer ${key}`)
        .send({ type: 'text', text: 'tidak ada konektor' });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        error: { code: 'conflict', message: 'the session cannot send: no connector is configured for external sessions', details: {} },
      });
      const chat = await request(noConnector.http).get(`/api/v1/sessions/${sid}/chats/6289999999999@s.whatsapp.net`).set('Authorization', `Bearer ${key}`);
      expect(chat.status).toBe(404);
    } finally {
      await noConnector.close();
    }
  });
});
