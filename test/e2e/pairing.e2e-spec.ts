import type { ConnectionState } from 'baileys';
import request from 'supertest';
import { renderQrPng } from '../../src/sessions/qr-png';
import { closeError } from '../fixtures/baileys/fake-socket';
import { loadFixture } from '../fixtures/baileys/load-fixture';
import { BaileysGateway, OWN_NUMBER, startBaileysGateway } from '../support/baileys-gateway';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

const updates = loadFixture<Record<string, Partial<ConnectionState>>>('connection-updates.json');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Supertest collects an image body as a Buffer only when told how. */
function binary(res: request.Response, callback: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}

describe('pairing and the session lifecycle with WA_PROVIDER=baileys (stand-in sockets)', () => {
  let g: BaileysGateway;

  beforeAll(async () => {
    g = await startBaileysGateway();
  });
  afterAll(() => g.close());

  const qr = (sid: string, key = g.key) => g.call('get', `/api/v1/sessions/${sid}/qr`, key);
  const pairingCode = (sid: string, body: unknown, key = g.key) =>
    g.call('post', `/api/v1/sessions/${sid}/pairing-code`, key).send(body as object);

  it('creates a session that is connecting at once, through the baileys provider', async () => {
    const res = await g.call('post', '/api/v1/sessions').send({ name: 'Toko' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Toko', provider: 'baileys', status: 'connecting', phoneNumber: null });
    await g.sockets.waitForSocket(res.body.id, 1);
  });

  it('answers 409 for the QR until WhatsApp shows one, then the QR as JSON or PNG until it expires', async () => {
    const sid = await g.createSession();
    const socket = await g.sockets.waitForSocket(sid, 1);
    const early = await qr(sid);
    expect(early.status).toBe(409);
    expect(early.body).toEqual({ error: { code: 'conflict', message: 'the session is not pairing', details: { status: 'connecting' } } });

    socket.emit('connection.update', updates.firstQr);
    await g.expectStatus(sid, 'pairing');
    const json = await qr(sid);
    expect(json.status).toBe(200);
    expect(json.headers['cache-control']).toBe('no-store');
    expect(json.body).toEqual({ qr: updates.firstQr.qr, expiresAt: g.clock.now() + 60_000 });

    const png = await qr(sid).set('Accept', 'image/png').buffer(true).parse(binary);
    expect(png.status).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    const image = png.body as Buffer;
    expect(image.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    // The image is this QR's: the same payload renders the same bytes, another one does not.
    expect(image.equals(await renderQrPng(updates.firstQr.qr!))).toBe(true);
    expect(image.equals(await renderQrPng(updates.nextQr.qr!))).toBe(false);
    // A client that prefers the image gets it; one that takes anything gets JSON.
    expect((await qr(sid).set('Accept', 'text/html, image/png;q=0.9').buffer(true).parse(binary)).headers['content-type']).toBe('image/png');
    expect((await qr(sid).set('Accept', '*/*')).body).toEqual(json.body);

    g.clock.advance(60_001);
    expect((await qr(sid)).status).toBe(409);
    socket.emit('connection.update', updates.nextQr);
    expect((await qr(sid)).body).toEqual({ qr: updates.nextQr.qr, expiresAt: g.clock.now() + 20_000 });
    // Even asked for a PNG, an error is the JSON envelope.
    socket.paired(`${OWN_NUMBER}:12@s.whatsapp.net`);
    socket.open();
    await g.expectStatus(sid, 'connected');
    const connected = await qr(sid).set('Accept', 'image/png');
    expect(connected.status).toBe(409);
    expect(connected.headers['content-type']).toMatch(/^application\/json/);
    expect(connected.body.error.details).toEqual({ status: 'connected' });
  });

  it('documents the QR as JSON or PNG, and its errors as the JSON envelope', async () => {
    const doc = (await request(g.t.http).get('/docs-json')).body as {
      paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content: Record<string, unknown> }> }>>;
    };
    const operation = doc.paths['/api/v1/sessions/{sid}/qr'].get;
    expect(operation.operationId).toBe('getSessionQr');
    expect(Object.keys(operation.responses['200'].content).sort()).toEqual(['application/json', 'image/png']);
    for (const status of ['401', '403', '404', '409']) expect(Object.keys(operation.responses[status].content)).toEqual(['application/json']);
    expect(doc.paths['/api/v1/sessions/{sid}/pairing-code'].post.operationId).toBe('requestPairingCode');
  });

  it('gives a pairing code for the number while pairing, and 409 otherwise', async () => {
    const sid = await g.createSession();
    const socket = await g.sockets.waitForSocket(sid, 1);
    const early = await pairingCode(sid, { phoneNumber: '6281234567890' });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('conflict');

    socket.emit('connection.update', updates.firstQr);
    await g.expectStatus(sid, 'pairing');
    const res = await pairingCode(sid, { phoneNumber: '6281234567890' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ code: 'ABCD2EFG' });
    expect(socket.pairingRequests).toEqual(['6281234567890']);
  });

  it('answers 503 when WhatsApp does not answer the pairing code request', async () => {
    const sid = await g.createSession();
    const socket = await g.sockets.waitForSocket(sid, 1);
    socket.emit('connection.update', updates.firstQr);
    await g.expectStatus(sid, 'pairing');
    socket.requestPairingCode = () => Promise.reject(new Error('Connection Closed'));
    const res = await pairingCode(sid, { phoneNumber: '6281234567890' });
    expect(res.status).toBe(503);
    expect(res.body.error).toEqual({ code: 'unavailable', message: 'WhatsApp did not answer the pairing code request', details: {} });
    expect(res.headers['retry-after']).toBeDefined();
  });

  it.each([
    ['a leading +', { phoneNumber: '+6281234567890' }],
    ['a leading 0', { phoneNumber: '081234567890' }],
    ['spaces', { phoneNumber: '62 812 3456 7890' }],
    ['too few digits', { phoneNumber: '6281234' }],
    ['too many digits', { phoneNumber: '6281234567890123' }],
    ['a number', { phoneNumber: 6281234567890 }],
    ['nothing', {}],
    ['an unknown field', { phoneNumber: '6281234567890', name: 'x' }],
  ])('answers 422 for a phone number with %s', async (_name, body) => {
    const sid = await g.createSession();
    const socket = await g.sockets.waitForSocket(sid, 1);
    socket.emit('connection.update', updates.firstQr);
    await g.expectStatus(sid, 'pairing');
    const res = await pairingCode(sid, body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_error');
    expect(socket.pairingRequests).toEqual([]);
  });

  it('needs manage, and answers another organization 404 exactly as for a session that never existed', async () => {
    const sid = await g.createSession();
    const socket = await g.sockets.waitForSocket(sid, 1);
    socket.emit('connection.update', updates.firstQr);
    await g.expectStatus(sid, 'pairing');
    const reader = await createKey(g.t, g.orgId, ['read', 'send']);
    expect((await qr(sid, reader)).status).toBe(403);
    expect((await pairingCode(sid, { phoneNumber: '6281234567890' }, reader)).status).toBe(403);

    const stranger = await g.keyFor(uniqueOrg('stranger'));
    for (const [mine, never] of [
      [await qr(sid, stranger), await qr('01HF7Z3K8Q2V5N9T4W6X0Y1B2C', stranger)],
      [
        await pairingCode(sid, { phoneNumber: '6281234567890' }, stranger),
        await pairingCode('01HF7Z3K8Q2V5N9T4W6X0Y1B2C', { phoneNumber: '6281234567890' }, stranger),
      ],
    ]) {
      expect(mine.status).toBe(404);
      expect(mine.text).toBe(never.text);
    }
    expect(socket.pairingRequests).toEqual([]);
  });

  it('reconnects a dropped connection with backoff, keeps serving meanwhile, and stops for good when logged out, keeping the stored copy', async () => {
    const { id: sid, socket } = await g.connectedSession();
    socket.emit('chats.upsert', [{ id: '6281234567890@s.whatsapp.net', name: 'Budi', unreadCount: 0 }]);
    socket.close(closeError(408, 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)'));
    await g.expectStatus(sid, 'connecting');
    expect((await g.call('get', '/health/ready')).status).toBe(200);
    expect((await g.call('get', `/api/v1/sessions/${sid}/chats`)).body.data).toHaveLength(1);
    g.clock.advance(1_000);
    const next = await g.sockets.waitForSocket(sid, 2);
    next.open();
    await g.expectStatus(sid, 'connected');

    next.close(closeError(401, 'Connection Failure'));
    await g.expectStatus(sid, 'logged_out');
    expect((await g.call('get', `/api/v1/sessions/${sid}/chats`)).body.data).toHaveLength(1);
    expect((await qr(sid)).body.error.details).toEqual({ status: 'logged_out' });
    g.clock.advance(120_000);
    expect(g.sockets.count(sid)).toBe(2);
  });

  it('logs the number out before deleting a session', async () => {
    const { id: sid, socket } = await g.connectedSession();
    const res = await g.call('delete', `/api/v1/sessions/${sid}`);
    expect(res.status).toBe(204);
    expect(socket.loggedOut).toBe(true);
    expect((await g.call('get', `/api/v1/sessions/${sid}`)).status).toBe(404);
    expect(await g.dataSource.query('SELECT 1 FROM session_auth WHERE session_id = $1', [sid])).toEqual([]);
  });
});

describe('pairing an external session', () => {
  let t: TestApp;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp();
    key = await createKey(t, uniqueOrg('external-pairing'));
  });
  afterAll(() => t.close());

  it('answers 409 for the QR and the pairing code: its connector pairs it', async () => {
    const sid = (await request(t.http).post('/api/v1/sessions').set('Authorization', `Bearer ${key}`).send({ name: 'x' })).body.id as string;
    const res = await request(t.http).get(`/api/v1/sessions/${sid}/qr`).set('Authorization', `Bearer ${key}`);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: { code: 'conflict', message: 'the session is not pairing', details: { status: 'disconnected' } } });
    const code = await request(t.http)
      .post(`/api/v1/sessions/${sid}/pairing-code`)
      .set('Authorization', `Bearer ${key}`)
      .send({ phoneNumber: '6281234567890' });
    expect(code.status).toBe(409);
    expect(code.body.error.message).toBe('an external session is paired by its connector');
  });
});
