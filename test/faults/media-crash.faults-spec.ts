import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { ClientRequest, createServer, request, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CAPABILITIES } from '../../src/auth/capability';
import { seedApiKey } from '../support/api-key-seed';
import { EmbeddedPostgresServer, startEmbeddedPostgresServer } from '../support/embedded-postgres-server';
import { freePort, GatewayProcess, HttpResult } from '../support/gateway-process';
import { encryptForWhatsApp, filesUnder, sha256Of } from '../support/media-files';

const MIB = 1024 * 1024;
const CHAT = '6281234567890@s.whatsapp.net';
/** The stand-in WhatsApp sockets around the same gateway (see the file). */
const STAND_IN_GATEWAY = join(__dirname, '..', 'support', 'stand-in-baileys-gateway.ts');

/** External sessions can send once a connector is configured; what becomes of the sends does not matter here. */
const CONNECTOR_ENV = { WA_EXTERNAL_SEND_URL: 'http://127.0.0.1:9/send' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A request whose body is sent slowly: `head` and the first `fastBytes` of `body` at once, then
 * 16 KiB every 100 ms, so that the gateway is still receiving it when it is killed.
 */
function slowUpload(gateway: GatewayProcess, method: string, path: string, headers: Record<string, string>, head: Buffer, body: Buffer, fastBytes: number) {
  const req: ClientRequest = request(`${gateway.baseUrl}${path}`, { method, headers: { ...headers, 'content-length': String(head.length + body.length) } });
  const outcome = new Promise<string>((resolve) => {
    req.on('response', (res) => resolve(`answered ${res.statusCode}`));
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
  req.write(head);
  req.write(body.subarray(0, fastBytes));
  let at = fastBytes;
  const timer = setInterval(() => {
    if (at >= body.length || req.destroyed) return clearInterval(timer);
    req.write(body.subarray(at, at + 16 * 1024));
    at += 16 * 1024;
  }, 100);
  return { outcome, sent: () => at, stop: () => clearInterval(timer) };
}

function multipart(boundary: string, fields: Record<string, string>, fileName: string): { head: Buffer; tail: Buffer } {
  let head = '';
  for (const [name, value] of Object.entries(fields)) head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return { head: Buffer.from(head), tail: Buffer.from(`\r\n--${boundary}--\r\n`) };
}

/**
 * SIGKILL of the gateway while files stream in (a multipart send, a connector's PUT) and while a
 * received file downloads in the background: the store never holds or serves part of a file, and
 * the download resumes and completes straight after a restart.
 */
describe('media across a SIGKILL', () => {
  let pg: EmbeddedPostgresServer;
  let dataDir: string;
  let gateway: GatewayProcess | undefined;
  let key: string;
  const orgId = `org-media-${Date.now().toString(36)}`;
  // One key for every start: the restarted process reads the credentials the first one stored.
  const encryptionKey = randomBytes(32).toString('hex');

  const startGateway = async (env: Record<string, string> = {}, standIn = false) => {
    gateway = await GatewayProcess.start({
      env: { DATABASE_URL: pg.url, DATA_DIR: dataDir, SESSION_ENCRYPTION_KEY: encryptionKey, ...env },
      ...(standIn ? { entry: STAND_IN_GATEWAY, nodeArgs: ['-r', 'ts-node/register/transpile-only'] } : {}),
    });
    return gateway;
  };
  const api = (method: string, path: string, body?: unknown): Promise<HttpResult> =>
    gateway!.request(path, { method, body, timeoutMs: 40_000, headers: { authorization: `Bearer ${key}` } });
  const kill = async () => {
    gateway!.signal('SIGKILL');
    expect((await gateway!.waitForExit(10_000)).signal).toBe('SIGKILL');
  };
  /** Every object in the store is a whole file: its bytes hash to its name (`<org>/<sha256>`). */
  const partialObjects = () =>
    filesUnder(join(dataDir, 'media'))
      .filter((file) => !file.startsWith('.staging/'))
      .filter((file) => sha256Of(readFileSync(join(dataDir, 'media', file))) !== basename(file));
  const mediaPath = (sid: string, id: string) => `/api/v1/sessions/${sid}/chats/${CHAT}/messages/${id}/media`;

  beforeAll(async () => {
    pg = await startEmbeddedPostgresServer();
    dataDir = mkdtempSync(join(tmpdir(), 'wgw-media-crash-'));
    await startGateway(CONNECTOR_ENV);
    key = await seedApiKey(pg.url, orgId, CAPABILITIES);
  });
  afterAll(async () => {
    if (gateway?.alive()) await gateway.stop('SIGTERM').catch(() => undefined);
    await pg?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps nothing of a multipart send or a connector upload cut off by SIGKILL, and takes both whole after a restart', async () => {
    const sid = (await api('POST', '/api/v1/sessions', { name: 'connector' })).body.id as string;
    const sent = randomBytes(8 * MIB);
    const uploaded = randomBytes(8 * MIB);
    const announced = { mimetype: 'application/octet-stream', size: uploaded.length, sha256: sha256Of(uploaded) };
    const ingest = await api('POST', `/api/v1/sessions/${sid}/events`, {
      events: [
        { type: 'session.status', status: 'connected', phoneNumber: '6281200000000' },
        { type: 'message.upsert', message: { id: 'CRASHPUT1', chatId: CHAT, fromMe: false, timestamp: Date.now(), type: 'document', media: announced } },
      ],
    });
    expect(ingest.status).toBe(200);

    const auth = { authorization: `Bearer ${key}` };
    const boundary = `crash${randomBytes(8).toString('hex')}`;
    const form = multipart(boundary, { type: 'document', text: 'terpotong' }, 'cut.bin');
    const send = slowUpload(gateway!, 'POST', `/api/v1/sessions/${sid}/chats/${CHAT}/messages`, { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` }, form.head, Buffer.concat([sent, form.tail]), 2 * MIB);
    const put = slowUpload(gateway!, 'PUT', mediaPath(sid, 'CRASHPUT1'), { ...auth, 'content-type': 'application/octet-stream' }, Buffer.alloc(0), uploaded, 2 * MIB);
    await sleep(1500);
    // While the bytes come in, the file is not served, not even in part.
    const during = await api('GET', mediaPath(sid, 'CRASHPUT1'));
    expect([during.status, during.body.error]).toEqual([404, { code: 'not_found', message: 'media not found', details: { status: 'pending' } }]);
    await kill();
    send.stop();
    put.stop();
    expect(await send.outcome).not.toMatch(/^answered/);
    expect(await put.outcome).not.toMatch(/^answered/);
    const cutAt = { send: send.sent(), put: put.sent() };

    expect(partialObjects()).toEqual([]);
    await startGateway(CONNECTOR_ENV);
    expect(partialObjects()).toEqual([]);
    const after = await api('GET', mediaPath(sid, 'CRASHPUT1'));
    expect([after.status, after.body.error]).toEqual([404, { code: 'not_found', message: 'media not found', details: { status: 'pending' } }]);
    // Only the announced message: the send that was cut off stored no message.
    const listed = (await api('GET', `/api/v1/sessions/${sid}/chats/${CHAT}/messages?limit=100`)).body.data as { id: string }[];
    expect(listed.map((m) => m.id)).toEqual(['CRASHPUT1']);
    // What the killed process had staged stays in the private staging folder (swept an hour on); none of it is an object.
    const staged = filesUnder(join(dataDir, 'media', '.staging'));
    expect(staged.length).toBeLessThanOrEqual(2);

    // The connector and the client try again, whole this time.
    const whole = await rawRequest(gateway!, 'PUT', mediaPath(sid, 'CRASHPUT1'), { ...auth, 'content-type': 'application/octet-stream' }, uploaded);
    expect(whole.status).toBe(204);
    const served = await rawRequest(gateway!, 'GET', mediaPath(sid, 'CRASHPUT1'), auth);
    expect([served.status, served.body.length, sha256Of(served.body)]).toEqual([200, uploaded.length, announced.sha256]);
    const resent = await rawRequest(gateway!, 'POST', `/api/v1/sessions/${sid}/chats/${CHAT}/messages`, { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` }, Buffer.concat([form.head, sent, form.tail]));
    expect(resent.status).toBe(202);
    const media = (JSON.parse(resent.body.toString('utf8')) as { media: { status: string; sha256: string } }).media;
    expect(media).toMatchObject({ status: 'ready', sha256: sha256Of(sent) });
    expect(partialObjects()).toEqual([]);
    process.stdout.write(`FAULTS media-upload-crash ${JSON.stringify({ cutAtBytes: cutAt, stagedLeftovers: staged.length })}\n`);
  });

  it('resumes a background download cut off by SIGKILL as soon as the gateway is back, and stores it whole', async () => {
    await gateway!.stop('SIGTERM');
    const controlPort = await freePort();
    const standInEnv = { WA_PROVIDER: 'baileys', FAKE_CONTROL_PORT: String(controlPort), FAKE_MEDIA_CDN: '127.0.0.1' };
    await startGateway(standInEnv, true);
    const sid = (await api('POST', '/api/v1/sessions', { name: 'phone' })).body.id as string;
    for (let i = 0; i < 100 && (await api('GET', `/api/v1/sessions/${sid}`)).body.status !== 'connected'; i++) await sleep(100);

    // WhatsApp's CDN: first slow (the download is under way when the gateway dies), then whole.
    const plain = randomBytes(6 * MIB);
    const mediaKey = randomBytes(32);
    const encrypted = encryptForWhatsApp(plain, mediaKey, 'WhatsApp Document Keys');
    let slow = true;
    let hits = 0;
    let slowSent = 0;
    const cdn: Server = createServer((_req, res: ServerResponse) => {
      hits += 1;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': encrypted.length });
      if (!slow) return res.end(encrypted);
      res.write(encrypted.subarray(0, MIB));
      slowSent = MIB;
      const timer = setInterval(() => {
        if (slowSent < encrypted.length - 64 * 1024) {
          res.write(encrypted.subarray(slowSent, slowSent + 16 * 1024));
          slowSent += 16 * 1024;
        }
      }, 100);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
    const path = '/mms/document/crash.enc';
    const url = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}${path}`;
    try {
      const message = {
        key: { remoteJid: CHAT, fromMe: false, id: '3EB0CRASHDOWN1' },
        messageTimestamp: Math.floor(Date.now() / 1000),
        message: {
          documentMessage: { url, directPath: path, mediaKey, fileSha256: createHash('sha256').update(plain).digest(), fileLength: plain.length, mimetype: 'application/octet-stream', fileName: 'besar.bin' },
        },
      };
      const control = await fetch(`http://127.0.0.1:${controlPort}/sessions/${sid}/messages`, { method: 'POST', body: JSON.stringify({ messages: [message] }) });
      expect(control.status).toBe(204);
      for (let i = 0; i < 100 && slowSent < 2 * MIB; i++) await sleep(100);
      expect(slowSent).toBeGreaterThanOrEqual(2 * MIB);
      const messagePath = `/api/v1/sessions/${sid}/chats/${CHAT}/messages/3EB0CRASHDOWN1`;
      expect((await api('GET', messagePath)).body.media).toMatchObject({ status: 'pending', size: plain.length });

      await kill();
      expect(partialObjects()).toEqual([]);
      slow = false;
      await startGateway(standInEnv, true);
      const restartedAt = Date.now();
      let status = '';
      while (Date.now() - restartedAt < 60_000) {
        status = (await api('GET', messagePath)).body.media?.status;
        if (status !== 'pending') break;
        await sleep(200);
      }
      const resumedMs = Date.now() - restartedAt;
      expect(status).toBe('ready');
      // Straight away: not when a lease of minutes runs out.
      expect(resumedMs).toBeLessThan(15_000);
      const served = await rawRequest(gateway!, 'GET', `${messagePath}/media`, { authorization: `Bearer ${key}` });
      expect([served.status, served.body.length, sha256Of(served.body)]).toEqual([200, plain.length, sha256Of(plain)]);
      expect(hits).toBe(2);
      expect(partialObjects()).toEqual([]);
      process.stdout.write(`FAULTS media-download-crash ${JSON.stringify({ bytesBeforeKill: slowSent, resumedMs })}\n`);
    } finally {
      cdn.closeAllConnections();
      await new Promise<void>((resolve) => cdn.close(() => resolve()));
    }
  });
});

/** A request with a binary body (or none), answered with the raw bytes. */
function rawRequest(gateway: GatewayProcess, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gateway.baseUrl}${path}`, { method, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(40_000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}
