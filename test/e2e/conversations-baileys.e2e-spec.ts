import { MessageSendService } from '../../src/messages/message-send.service';
import { eventually } from '../fixtures/baileys/baileys-harness';
import { FakeSocket } from '../fixtures/baileys/fake-socket';
import { BaileysGateway, OWN_NUMBER, startBaileysGateway } from '../support/baileys-gateway';

/**
 * The actions of API.md §9 through a `baileys` session: each reaches the (stand-in) socket as the
 * call Baileys expects, with WhatsApp's key of the message it is about.
 */

const BUDI = '6281234567890@s.whatsapp.net';
const SITI = '6281298765432@s.whatsapp.net';
const GROUP = '120363025246125486@g.us';
const OWN_JID = `${OWN_NUMBER}@s.whatsapp.net`;
const ACTION_ID = /^3EB0[0-9A-F]{36}$/;

describe('conversation actions through a baileys session (stand-in socket)', () => {
  let g: BaileysGateway;
  let sid: string;
  let socket: FakeSocket;
  let n = 0;

  beforeAll(async () => {
    g = await startBaileysGateway();
    ({ id: sid, socket } = await g.connectedSession());
  });
  afterAll(() => g.close());

  const messagePath = (chat: string, id: string, session = sid) => `/api/v1/sessions/${session}/chats/${encodeURIComponent(chat)}/messages/${id}`;
  const settled = () => g.t.app.get(MessageSendService).drain(10_000);

  /** A message someone sends to the number, as the socket reports it; answers its id once stored. */
  async function received(chat: string, text = `pesan ${++n}`, on = socket, session = sid): Promise<string> {
    const id = `3EB0IN${String(++n).padStart(10, '0')}`;
    const key = { remoteJid: chat, fromMe: false, id, ...(chat === GROUP ? { participant: SITI } : {}) };
    on.emit('messages.upsert', { messages: [{ key, messageTimestamp: Math.floor(Date.now() / 1000), message: { conversation: text } }], type: 'notify' });
    await eventually(async () => expect((await g.call('get', messagePath(chat, id, session))).status).toBe(200));
    return id;
  }

  /** A text sent through the API, once WhatsApp took it. */
  async function sent(chat: string, text: string): Promise<string> {
    const res = await g.call('post', `/api/v1/sessions/${sid}/chats/${encodeURIComponent(chat)}/messages`).send({ type: 'text', text });
    expect(res.status).toBe(202);
    await eventually(async () => expect((await g.call('get', messagePath(chat, res.body.id as string))).body).toMatchObject({ status: 'sent' }));
    return res.body.id as string;
  }

  /** What the socket was asked to send after the first `mark` sends. */
  const sendsSince = async (mark: number) => {
    await settled();
    return socket.sent.slice(mark);
  };

  it('sends a reaction with the key of the message, and in a group with its sender', async () => {
    const direct = await received(BUDI);
    const inGroup = await received(GROUP);
    const mark = socket.sent.length;
    expect((await g.call('put', `${messagePath(BUDI, direct)}/reaction`).send({ emoji: '🙏' })).status).toBe(200);
    const res = await g.call('put', `${messagePath(GROUP, inGroup)}/reaction`).send({ emoji: '' });
    expect(res.status).toBe(200);
    const calls = await sendsSince(mark);
    expect(calls).toEqual([
      { jid: BUDI, content: { react: { text: '🙏', key: { remoteJid: BUDI, fromMe: false, id: direct } } }, options: { messageId: expect.stringMatching(ACTION_ID) } },
      {
        jid: GROUP,
        content: { react: { text: '', key: { remoteJid: GROUP, fromMe: false, id: inGroup, participant: SITI } } },
        options: { messageId: expect.stringMatching(ACTION_ID) },
      },
    ]);
    expect((await g.call('get', messagePath(BUDI, direct))).body).toMatchObject({ reactions: [{ senderId: OWN_JID, emoji: '🙏' }] });
  });

  it('sends an edit of an own text, and a revoke', async () => {
    const id = await sent(BUDI, 'salah ketik');
    const mark = socket.sent.length;
    const edited = await g.call('patch', messagePath(BUDI, id)).send({ text: 'sudah dibetulkan' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ text: 'sudah dibetulkan', edited: true });
    const revoked = await g.call('post', `${messagePath(BUDI, id)}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ text: null, revoked: true });
    const key = { remoteJid: BUDI, fromMe: true, id };
    expect(await sendsSince(mark)).toEqual([
      { jid: BUDI, content: { text: 'sudah dibetulkan', edit: key }, options: { messageId: expect.stringMatching(ACTION_ID) } },
      { jid: BUDI, content: { delete: key }, options: { messageId: expect.stringMatching(ACTION_ID) } },
    ]);
  });

  it('revokes someone else\'s message in a group with its sender in the key', async () => {
    const id = await received(GROUP);
    const mark = socket.sent.length;
    expect((await g.call('post', `${messagePath(GROUP, id)}/revoke`)).status).toBe(200);
    expect((await sendsSince(mark)).map((call) => call.content)).toEqual([{ delete: { remoteJid: GROUP, fromMe: false, id, participant: SITI } }]);
  });

  it('sends read receipts for the unread received messages of a chat', async () => {
    const chat = '6281277700001@s.whatsapp.net';
    const first = await received(chat);
    const second = await received(chat);
    socket.emit('chats.upsert', [{ id: chat, unreadCount: 2 }]);
    await eventually(async () => expect((await g.call('get', `/api/v1/sessions/${sid}/chats/${chat}`)).body).toMatchObject({ unreadCount: 2 }));
    const reads = socket.reads.length;
    const res = await g.call('post', `/api/v1/sessions/${sid}/chats/${chat}/read`);
    expect(res.status).toBe(204);
    await settled();
    expect(socket.reads.slice(reads)).toEqual([
      [
        { remoteJid: chat, fromMe: false, id: second },
        { remoteJid: chat, fromMe: false, id: first },
      ],
    ]);
    expect((await g.call('get', `/api/v1/sessions/${sid}/chats/${chat}`)).body).toMatchObject({ unreadCount: 0 });
  });

  it('sends the typing indicator to the chat', async () => {
    await received(BUDI);
    const mark = socket.presences.length;
    for (const state of ['composing', 'recording', 'paused']) {
      expect((await g.call('post', `/api/v1/sessions/${sid}/chats/${BUDI}/presence`).send({ state })).status).toBe(204);
    }
    await settled();
    expect(socket.presences.slice(mark)).toEqual([
      { state: 'composing', jid: BUDI },
      { state: 'recording', jid: BUDI },
      { state: 'paused', jid: BUDI },
    ]);
  });

  it('sends a reply quoting the stored message, and a place and contact cards', async () => {
    const quoted = await received(GROUP, 'jam berapa?');
    const mark = socket.sent.length;
    const chatPath = `/api/v1/sessions/${sid}/chats/${encodeURIComponent(GROUP)}/messages`;
    const reply = await g.call('post', chatPath).send({ type: 'text', text: 'jam 3', replyTo: quoted });
    expect(reply.status).toBe(202);
    const place = await g.call('post', chatPath).send({ type: 'location', location: { latitude: -6.1754, longitude: 106.8272, name: 'Monas' }, replyTo: quoted });
    expect(place.status).toBe(202);
    const cards = await g.call('post', chatPath).send({ type: 'contact', contacts: [{ name: 'Budi, Kantor', phoneNumber: '6281234567890' }] });
    expect(cards.status).toBe(202);
    const quote = { key: { remoteJid: GROUP, fromMe: false, id: quoted, participant: SITI }, message: { conversation: 'jam berapa?' } };
    expect(await sendsSince(mark)).toEqual([
      { jid: GROUP, content: { text: 'jam 3' }, options: { messageId: reply.body.id, quoted: quote } },
      {
        jid: GROUP,
        content: { location: { degreesLatitude: -6.1754, degreesLongitude: 106.8272, name: 'Monas', address: undefined } },
        options: { messageId: place.body.id, quoted: quote },
      },
      {
        jid: GROUP,
        content: {
          contacts: {
            displayName: 'Budi, Kantor',
            contacts: [
              {
                displayName: 'Budi, Kantor',
                vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Budi\\, Kantor\nTEL;type=CELL;type=VOICE;waid=6281234567890:+6281234567890\nEND:VCARD',
              },
            ],
          },
        },
        options: { messageId: cards.body.id },
      },
    ]);
    for (const id of [reply.body.id, place.body.id, cards.body.id] as string[]) {
      await eventually(async () => expect((await g.call('get', messagePath(GROUP, id))).body).toMatchObject({ status: 'sent' }));
    }
  });

  it('answers 409 for every action while the session is not connected, and nothing reaches the socket', async () => {
    const other = await g.createSession();
    const pairing = await g.sockets.waitForSocket(other, 1);
    const id = await received(BUDI, 'halo', pairing, other);
    const inGroup = await received(GROUP, 'halo grup', pairing, other);
    const base = `/api/v1/sessions/${other}/chats/${BUDI}`;
    const calls = [
      g.call('put', `${messagePath(BUDI, id, other)}/reaction`).send({ emoji: '👍' }),
      g.call('post', `${messagePath(GROUP, inGroup, other)}/revoke`),
      g.call('post', `${base}/read`),
      g.call('post', `${base}/presence`).send({ state: 'composing' }),
      g.call('post', `${base}/messages`).send({ type: 'location', location: { latitude: 1, longitude: 1 } }),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.body).toEqual({ error: { code: 'conflict', message: 'the session cannot send: it is not connected', details: {} } });
    }
    const message = (await g.call('get', messagePath(BUDI, id, other))).body as Record<string, unknown>;
    expect(message).toMatchObject({ reactions: [], revoked: false, text: 'halo' });
    expect((await g.call('get', messagePath(GROUP, inGroup, other))).body).toMatchObject({ revoked: false, text: 'halo grup' });
    await settled();
    expect([pairing.sent, pairing.reads, pairing.presences]).toEqual([[], [], []]);
  });
});
