import { Agent, request as httpRequest } from 'node:http';
import { connect, Socket } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { httpJson, HttpResult } from '../support/gateway-process';
import { chatJid, createSession, GatewayFixture, messageBatch, startGatewayFixture, storedPerBatch } from '../support/gateway-fixture';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a new TCP connection to the port is accepted right now. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A POST whose body arrives slowly: the headers and the first half now, the rest when `finish()`
 * is called. This is a connector on a slow link, and a request in flight for as long as we like.
 */
function slowUpload(
  port: number,
  path: string,
  key: string,
  body: unknown,
  agent: Agent | false,
): { finish(): void; response: Promise<HttpResult> } {
  const payload = Buffer.from(JSON.stringify(body));
  const started = Date.now();
  let finish!: () => void;
  const response = new Promise<HttpResult>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': payload.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode!, headers: res.headers, text, body: JSON.parse(text), ms: Date.now() - started });
        });
      },
    );
    req.on('error', reject);
    req.write(payload.subarray(0, payload.length >> 1));
    finish = () => req.end(payload.subarray(payload.length >> 1));
  });
  return { finish, response };
}

/**
 * A request on a connection opened now whose header block is completed only by `finish()`:
 * a keep-alive client that is mid-request when shutdown begins.
 */
function lateRequest(port: number, head: string): Promise<{ finish(body?: string): void; response: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(head);
      const response = new Promise<string>((done) => {
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('close', () => done(Buffer.concat(chunks).toString()));
      });
      resolve({ finish: (body = '') => socket.write(`Connection: close\r\n\r\n${body}`), response });
    });
  });
}

describe('graceful shutdown', () => {
  let f: GatewayFixture;
  let sid: string;

  beforeAll(async () => {
    // The held requests wait on locks for as long as 5 s, the default lock timeout: give them longer.
    f = await startGatewayFixture({ env: { DB_LOCK_TIMEOUT_MS: '8000' } });
    sid = await createSession(f);
    const seeded = await f.api('POST', `/api/v1/sessions/${sid}/events`, messageBatch('S0', 50, 2, 1_700_000_000_000));
    expect(seeded.status).toBe(200);
  });
  afterAll(() => f?.close());

  interface Scenario {
    /** How long the slow requests stay in flight after SIGTERM. */
    holdMs: number;
    /** The slow upload's client: a keep-alive agent (as connectors use), or a connection per request. */
    agent: Agent | false;
    batchId: string;
    mutedUntil: number;
  }

  async function sigtermDuringSlowRequests({ holdMs, agent, batchId, mutedUntil }: Scenario): Promise<void> {
    if (!f.gateway.alive()) await f.restartGateway();
    const { port } = f.gateway;
    const chatPath = `/api/v1/sessions/${sid}/chats/${encodeURIComponent(chatJid(0))}`;

    // Slow requests, each held for real: a body that trickles in, and two queries that wait for
    // locks another database client holds (a PATCH on a row lock, a read on a table lock).
    const holder = new Client({ connectionString: f.pg.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM chats WHERE session_id = $1 AND jid = $2 FOR UPDATE', [sid, chatJid(0)]);
    await holder.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');

    const upload = slowUpload(port, `/api/v1/sessions/${sid}/events`, f.key, messageBatch(batchId, 300, 2, 1_710_000_000_000), agent);
    const patch = f.api('PATCH', chatPath, { pinned: true, mutedUntil });
    const read = f.api('GET', `${chatPath}/messages?limit=5`);
    const readiness = await lateRequest(port, 'GET /health/ready HTTP/1.1\r\nHost: gateway\r\n');
    await sleep(700);

    const sigtermAt = Date.now();
    f.gateway.signal('SIGTERM');

    let refusedAfterMs: number | undefined;
    while (Date.now() - sigtermAt < holdMs) {
      if (!(await accepts(port))) {
        refusedAfterMs = Date.now() - sigtermAt;
        break;
      }
      await sleep(25);
    }
    readiness.finish();
    const readyRaw = await readiness.response;

    await sleep(Math.max(0, sigtermAt + holdMs - Date.now()));
    upload.finish();
    await holder.query('COMMIT');
    await holder.end();
    const [uploaded, patched, listed] = await Promise.all([upload.response, patch, read]);
    const finishedAt = Date.now();
    const exit = await f.gateway.waitForExit(15_000);
    const exitMs = Date.now() - sigtermAt;

    process.stdout.write(
      `FAULTS shutdown ${JSON.stringify({
        holdMs,
        keepAliveClient: agent !== false,
        refusedAfterMs,
        inFlightDoneAfterMs: finishedAt - sigtermAt,
        exitCode: exit.code,
        exitMs,
      })}\n`,
    );

    // New connections were refused while the slow requests were still being served.
    expect(refusedAfterMs).toBeDefined();
    // A request that arrived on an open connection after shutdown began: readiness 503 in the envelope.
    const [head, bodyText] = readyRaw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head.toLowerCase()).toContain('retry-after:');
    expect(JSON.parse(bodyText)).toMatchObject({ error: { code: 'unavailable', details: {} } });
    // The in-flight requests completed, successfully, after the signal.
    expect(uploaded.status).toBe(200);
    expect(uploaded.body).toEqual({ accepted: 300 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ pinned: true, mutedUntil });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(5);
    expect(finishedAt - sigtermAt).toBeGreaterThanOrEqual(holdMs);
    // A clean exit, in time.
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(10_000);
    // What the in-flight requests wrote is stored.
    expect((await storedPerBatch(f, sid)).get(batchId)).toBe(300);
    const [chat] = await f.sql('SELECT pinned, muted_until FROM chats WHERE session_id = $1 AND jid = $2', [sid, chatJid(0)]);
    expect(chat).toEqual({ pinned: true, muted_until: String(mutedUntil) });
    // And nothing listens any more.
    await expect(httpJson(f.gateway.baseUrl, '/health/live')).rejects.toThrow();
  }

  it('on SIGTERM finishes slow in-flight requests, refuses new connections, turns readiness 503 and exits 0 within 10 s', () =>
    sigtermDuringSlowRequests({ holdMs: 3000, agent: false, batchId: 'U0001', mutedUntil: 1_900_000_000_001 }));

  // Connectors keep their connections open between requests (Node's own default agent does): an
  // idle keep-alive connection must not hold the process once the in-flight requests are done.
  it('exits 0 within 10 s also when the slow requests take 5 s and their client keeps its connection alive', () =>
    sigtermDuringSlowRequests({
      holdMs: 5000,
      agent: new Agent({ keepAlive: true }),
      batchId: 'U0002',
      mutedUntil: 1_900_000_000_002,
    }));
});

/** The same gateway process with stand-in WhatsApp sockets (see the file). */
const STAND_IN_GATEWAY = join(__dirname, '..', 'support', 'stand-in-baileys-gateway.ts');
/** How long the stand-in WhatsApp takes to accept a send. */
const SEND_MS = 4000;

describe('graceful shutdown with WhatsApp sessions and sends in flight', () => {
  let f: GatewayFixture;

  beforeAll(async () => {
    f = await startGatewayFixture({
      env: { WA_PROVIDER: 'baileys', FAKE_SEND_MS: String(SEND_MS) },
      process: { entry: STAND_IN_GATEWAY, nodeArgs: ['-r', 'ts-node/register/transpile-only'] },
    });
  });
  afterAll(() => f?.close());

  async function connectedSession(): Promise<string> {
    const sid = await createSession(f);
    for (let i = 0; i < 100; i++) {
      if ((await f.api('GET', `/api/v1/sessions/${sid}`)).body.status === 'connected') return sid;
      await sleep(50);
    }
    throw new Error(`session ${sid} did not connect`);
  }

  it('stops accepting at once, lets every send it accepted finish (also one accepted during the drain), closes the sockets and exits 0 within 10 s', async () => {
    const sids = [await connectedSession(), await connectedSession(), await connectedSession()];
    const { port } = f.gateway;
    const sendPath = (sid: string, chat: number) => `/api/v1/sessions/${sid}/chats/${encodeURIComponent(chatJid(chat))}/messages`;

    // Sends answered 202 just before the signal: WhatsApp accepts them SEND_MS later.
    const before = await Promise.all(sids.map((sid) => f.api('POST', sendPath(sid, 1), { type: 'text', text: 'before' })));
    expect(before.map((r) => r.status)).toEqual([202, 202, 202]);
    // A client already connected, whose send arrives while the gateway drains.
    const body = JSON.stringify({ type: 'text', text: 'during' });
    const late = await lateRequest(
      port,
      `POST ${sendPath(sids[0], 2)} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${f.key}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`,
    );

    const sigtermAt = Date.now();
    f.gateway.signal('SIGTERM');
    let refusedAfterMs: number | undefined;
    while (Date.now() - sigtermAt < 3000) {
      if (!(await accepts(port))) {
        refusedAfterMs = Date.now() - sigtermAt;
        break;
      }
      await sleep(25);
    }
    late.finish(body);
    const lateRaw = await late.response;
    const exit = await f.gateway.waitForExit(15_000);
    const exitMs = Date.now() - sigtermAt;

    const messages = await f.sql<{ text: string; status: string }>(
      'SELECT text, status FROM messages WHERE session_id = ANY($1) ORDER BY text',
      [sids],
    );
    const sessions = await f.sql<{ status: string }>('SELECT status FROM sessions WHERE id = ANY($1)', [sids]);
    process.stdout.write(
      `FAULTS shutdown-whatsapp ${JSON.stringify({ sessions: sids.length, sendMs: SEND_MS, refusedAfterMs, exitCode: exit.code, exitMs })}\n`,
    );

    // New connections were refused at once, not after the sends had drained.
    expect(refusedAfterMs).toBeDefined();
    expect(refusedAfterMs!).toBeLessThan(1000);
    // The send that came in on the open connection was accepted...
    expect(lateRaw).toMatch(/^HTTP\/1\.1 202 /);
    // ...and every send answered 202 reached WhatsApp and has its outcome stored.
    expect(messages).toEqual([
      { text: 'before', status: 'sent' },
      { text: 'before', status: 'sent' },
      { text: 'before', status: 'sent' },
      { text: 'during', status: 'sent' },
    ]);
    // The WhatsApp connections were closed, and said so, before the pool went.
    expect(sessions.map((s) => s.status)).toEqual(['disconnected', 'disconnected', 'disconnected']);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(10_000);
  });
});
