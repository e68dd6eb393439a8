import { Agent, request as httpRequest } from 'node:http';
import { connect, Socket } from 'node:net';
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
function lateRequest(port: number, head: string): Promise<{ finish(): void; response: Promise<string> }> {
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
      resolve({ finish: () => socket.write('Connection: close\r\n\r\n'), response });
    });
  });
}

describe('graceful shutdown', () => {
  let f: GatewayFixture;
  let sid: string;

  beforeAll(async () => {
    f = await startGatewayFixture();
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
