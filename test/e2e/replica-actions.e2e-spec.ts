import { Client } from 'pg';
import { MessageDto } from '../../src/messages/message.dto';
import { SessionOwnershipService } from '../../src/sessions/session-ownership.service';
import { BaileysProvider } from '../../src/whatsapp/baileys/baileys.provider';
import { eventually } from '../fixtures/baileys/baileys-harness';
import { BaileysGateway, startBaileysGateway } from '../support/baileys-gateway';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const BUDI = '6281234567890@s.whatsapp.net';
/** The outbox is looked at every 1.5 to 2.5 s, and a session is taken over within a few looks. */
const POLLS = 12_000;

const messagesPath = (sid: string) => `/api/v1/sessions/${sid}/chats/${encodeURIComponent(BUDI)}/messages`;

/**
 * What needs the WhatsApp connection, asked of a replica that does not hold it: two replicas in
 * this process on a database of their own, `a` holding the sessions, requests going to `b`.
 */
describe('actions that reach the replica holding the session', () => {
  let db: TestDatabase;
  let sql: Client;
  let a: BaileysGateway;
  let b: BaileysGateway;

  beforeAll(async () => {
    db = await createTestDatabase('replica_actions', undefined, { durable: false });
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    a = await startBaileysGateway({ DATABASE_URL: db.url });
    // It takes no sessions over (WA_PROVIDER=external), so that `a` keeps holding them all.
    b = await startBaileysGateway({ DATABASE_URL: db.url, WA_PROVIDER: 'external' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await sql?.end();
    await db?.drop();
  });

  const viaB = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string) => b.call(method, path, a.key);
  const status = async (sid: string, id: string) => ((await viaB('get', `${messagesPath(sid)}/${id}`)).body as MessageDto).status;
  const events = async (id: string) =>
    (await sql.query<{ type: string; status: string }>(`SELECT type, payload::jsonb->'data'->>'status' AS status FROM events WHERE payload::jsonb->'data'->>'id' = $1 ORDER BY seq`, [id])).rows;

  it('sends through the holder a message sent through another replica, once, and records its events', async () => {
    const { id: sid, socket } = await a.connectedSession();
    const res = await viaB('post', messagesPath(sid)).send({ type: 'text', text: 'lewat replika lain' });
    expect(res.status).toBe(202);
    await eventually(async () => expect(await status(sid, res.body.id)).toBe('sent'));
    expect(socket.sent).toEqual([{ jid: BUDI, content: { text: 'lewat replika lain' }, options: { messageId: res.body.id } }]);
    expect(await events(res.body.id)).toEqual([
      { type: 'message.created', status: 'pending' },
      { type: 'message.updated', status: 'sent' },
    ]);
    expect((await sql.query('SELECT 1 FROM outbox WHERE session_id = $1', [sid])).rows).toEqual([]);
  });

  it('applies a chat change made through another replica on the holder', async () => {
    const { id: sid, socket } = await a.connectedSession();
    await viaB('post', messagesPath(sid)).send({ type: 'text', text: 'chat dibuat' });
    const patched = await viaB('patch', `/api/v1/sessions/${sid}/chats/${BUDI}`).send({ archived: true, mutedUntil: -1 });
    expect(patched.status).toBe(200);
    await eventually(() => expect(socket.modifications.map((m) => Object.keys(m.modification)[0])).toEqual(['archive', 'mute']));
  });

  it('carries out on the holder the conversation actions asked of another replica, in order', async () => {
    const { id: sid, socket } = await a.connectedSession();
    const sent = await viaB('post', messagesPath(sid)).send({ type: 'text', text: 'salah ketik' });
    await eventually(async () => expect(await status(sid, sent.body.id)).toBe('sent'));
    const mark = socket.sent.length;
    const message = `${messagesPath(sid)}/${sent.body.id}`;
    expect((await viaB('put', `${message}/reaction`).send({ emoji: '👍' })).status).toBe(200);
    expect((await viaB('patch', message).send({ text: 'sudah benar' })).status).toBe(200);
    expect((await viaB('post', `/api/v1/sessions/${sid}/chats/${BUDI}/presence`).send({ state: 'paused' })).status).toBe(204);
    const key = { remoteJid: BUDI, fromMe: true, id: sent.body.id };
    await eventually(() => expect(socket.presences).toEqual([{ state: 'paused', jid: BUDI }]), POLLS);
    expect(socket.sent.slice(mark).map((call) => call.content)).toEqual([{ react: { text: '👍', key } }, { text: 'sudah benar', edit: key }]);
    await eventually(async () => expect((await sql.query('SELECT 1 FROM outbox WHERE session_id = $1', [sid])).rows).toEqual([]));
  });

  it('leaves a send that the holder cannot attempt yet in the outbox, and fails it with a reason past its 60 s deadline', async () => {
    const { id: sid, socket } = await a.connectedSession();
    // The holder's connection goes away without a word: the session still reads connected.
    await a.t.app.get(BaileysProvider).release(sid);
    const res = await viaB('post', messagesPath(sid)).send({ type: 'text', text: 'terlambat' });
    expect(res.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await status(sid, res.body.id)).toBe('pending');

    await sql.query(`UPDATE outbox SET created_at = now() - interval '61 seconds' WHERE session_id = $1`, [sid]);
    await eventually(async () => expect(await status(sid, res.body.id)).toBe('failed'), POLLS);
    expect(await events(res.body.id)).toEqual([
      { type: 'message.created', status: 'pending' },
      { type: 'message.updated', status: 'failed' },
    ]);
    expect(socket.sent).toEqual([]);
  });

  it('fails, and never attempts again, a send whose attempt was cut short by the death of its replica', async () => {
    const { id: sid, socket } = await a.connectedSession();
    socket.sendBehaviour = () => new Promise(() => undefined);
    const res = await viaB('post', messagesPath(sid)).send({ type: 'text', text: 'terputus' });
    await eventually(() => expect(socket.sent).toHaveLength(1));
    // As the row looks when the replica attempting it died: attempted, long ago, no outcome.
    await sql.query(`UPDATE outbox SET attempt_started_at = now() - interval '21 seconds', attempted_by = 'gone' WHERE session_id = $1`, [sid]);
    await eventually(async () => expect(await status(sid, res.body.id)).toBe('failed'), POLLS);
    expect(socket.sent).toHaveLength(1);
  });

  it('serves the QR the holder shows, and a pairing code the holder asks WhatsApp for', async () => {
    const sid = await a.createSession();
    const socket = await a.sockets.waitForSocket(sid, 1);
    expect((await viaB('get', `/api/v1/sessions/${sid}/qr`)).status).toBe(409);
    socket.emit('connection.update', { qr: '2@pairing-through-another-replica' });
    await a.expectStatus(sid, 'pairing');
    await eventually(async () =>
      expect((await viaB('get', `/api/v1/sessions/${sid}/qr`)).body).toEqual({ qr: '2@pairing-through-another-replica', expiresAt: a.clock.now() + 60_000 }),
    );

    const code = await viaB('post', `/api/v1/sessions/${sid}/pairing-code`).send({ phoneNumber: '6281234567890' });
    expect(code.status).toBe(200);
    expect(code.body).toEqual({ code: 'ABCD2EFG' });
    expect(socket.pairingRequests).toEqual(['6281234567890']);
    expect((await sql.query('SELECT 1 FROM holder_requests')).rows).toEqual([]);

    socket.paired();
    socket.open();
    await a.expectStatus(sid, 'connected');
    const after = await viaB('get', `/api/v1/sessions/${sid}/qr`);
    expect(after.status).toBe(409);
    expect(after.body.error.details).toEqual({ status: 'connected' });
    // The holder's refusal reaches the client as it is.
    const refused = await viaB('post', `/api/v1/sessions/${sid}/pairing-code`).send({ phoneNumber: '6281234567890' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({ code: 'conflict', message: 'session is not waiting to be paired', details: {} });
  });

  it('answers 503 for a pairing code when no replica holds the session, or the holder does not answer within 10 s', async () => {
    const sid = await a.createSession();
    const socket = await a.sockets.waitForSocket(sid, 1);
    socket.emit('connection.update', { qr: '2@slow' });
    await a.expectStatus(sid, 'pairing');
    socket.requestPairingCode = () => new Promise(() => undefined);
    const started = Date.now();
    const slow = await viaB('post', `/api/v1/sessions/${sid}/pairing-code`).send({ phoneNumber: '6281234567890' });
    expect(slow.status).toBe(503);
    expect(slow.body.error.message).toBe('the replica holding this session did not answer in time');
    expect(slow.headers['retry-after']).toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);

    await a.t.app.get(SessionOwnershipService).release(sid);
    const unheld = await viaB('post', `/api/v1/sessions/${sid}/pairing-code`).send({ phoneNumber: '6281234567890' });
    expect(unheld.status).toBe(503);
    expect(unheld.body.error.message).toBe('no replica holds this session right now');
  }, 30_000);

  it('looks numbers up, reads groups and changes them on the holder, for a request made to another replica', async () => {
    const { id: sid, socket } = await a.connectedSession();
    const lookup = await viaB('post', `/api/v1/sessions/${sid}/numbers/lookup`).send({ phoneNumbers: ['6281234567890'] });
    expect(lookup.body).toEqual({ data: [{ phoneNumber: '6281234567890', exists: true, jid: BUDI }] });
    const group = await viaB('get', `/api/v1/sessions/${sid}/groups/120363025246125486@g.us`);
    expect(group.body).toMatchObject({ id: '120363025246125486@g.us', subject: 'Group' });
    const added = await viaB('post', `/api/v1/sessions/${sid}/groups/120363025246125486@g.us/participants`).send({ add: ['6281234567890'] });
    expect(added.body).toEqual({ data: [{ phoneNumber: '6281234567890', result: 'added', reason: null }] });
    expect(socket.directoryCalls.map(([method]) => method)).toEqual(['onWhatsApp', 'groupMetadata', 'groupParticipantsUpdate']);
    expect((await sql.query('SELECT 1 FROM holder_requests')).rows).toEqual([]);

    await a.t.app.get(SessionOwnershipService).release(sid);
    const unheld = await viaB('get', `/api/v1/sessions/${sid}/groups/120363025246125486@g.us/invite-link`);
    expect(unheld.status).toBe(503);
    expect(unheld.body.error.message).toBe('no replica holds this session right now');
  });
});
