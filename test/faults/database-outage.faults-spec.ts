import { Client } from 'pg';
import { HttpResult } from '../support/gateway-process';
import {
  chatJid,
  createSession,
  envelopeProblem,
  GatewayFixture,
  messageBatch,
  startGatewayFixture,
  storedPerBatch,
} from '../support/gateway-fixture';

/** Every answer while the database is down must come within this long (the contract's bound). */
const ANSWER_WITHIN_MS = 5000;
const RECOVER_WITHIN_MS = 5000;
const BATCH_SIZE = 100;
const CHATS = 5;

type Kind = 'list-chats' | 'get-chat' | 'list-messages' | 'patch' | 'ingest';

interface Outcome {
  kind: Kind;
  started: number;
  ended: number;
  status: number | 'no answer';
  res?: HttpResult;
  batchId?: string;
  mutedUntil?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('database outage under load', () => {
  let f: GatewayFixture;
  let sid: string;

  beforeAll(async () => {
    // Errors only: the thousands of 503s are logged as warnings, and would bury a 500's line.
    f = await startGatewayFixture({ env: { LOG_LEVEL: 'error' } });
    sid = await createSession(f);
    const seeded = await f.api('POST', `/api/v1/sessions/${sid}/events`, messageBatch('S0', 200, CHATS, 1_700_000_000_000));
    expect(seeded.status).toBe(200);
  });
  afterAll(() => f?.close());

  it('answers 503 promptly while PostgreSQL is down, recovers without a restart, and stores whole batches only', async () => {
    const outcomes: Outcome[] = [];
    let running = true;
    let batchCounter = 0;
    let patchCounter = 0;
    const pid = f.gateway.pid;
    const chat = (n: number) => `/api/v1/sessions/${sid}/chats/${encodeURIComponent(chatJid(n))}`;

    const record = async (kind: Kind, send: () => Promise<HttpResult>, extra: Partial<Outcome> = {}): Promise<Outcome> => {
      const started = Date.now();
      const outcome: Outcome = { kind, started, ended: 0, status: 'no answer', ...extra };
      try {
        outcome.res = await send();
        outcome.status = outcome.res.status;
      } catch {
        // A refused or cut connection is recorded as "no answer" and fails the test below.
      }
      outcome.ended = Date.now();
      outcomes.push(outcome);
      return outcome;
    };

    const reader = async (offset: number) => {
      for (let i = offset; running; i++) {
        await record('list-chats', () => f.api('GET', `/api/v1/sessions/${sid}/chats?limit=20`, undefined, { timeoutMs: 10_000 }));
        await record('get-chat', () => f.api('GET', chat(i % CHATS), undefined, { timeoutMs: 10_000 }));
        const first = await record('list-messages', () => f.api('GET', `${chat(i % CHATS)}/messages?limit=10`, undefined, { timeoutMs: 10_000 }));
        const cursor = first.res?.body?.nextCursor;
        if (typeof cursor === 'string') {
          await record('list-messages', () =>
            f.api('GET', `${chat(i % CHATS)}/messages?limit=10&cursor=${encodeURIComponent(cursor)}`, undefined, { timeoutMs: 10_000 }),
          );
        }
      }
    };
    // One sequential writer, so that the last PATCH that succeeded is the value that must be stored.
    const patcher = async () => {
      while (running) {
        patchCounter += 1;
        const mutedUntil = 1_800_000_000_000 + patchCounter;
        await record('patch', () => f.api('PATCH', chat(0), { mutedUntil }, { timeoutMs: 10_000 }), { mutedUntil });
        await sleep(20);
      }
    };
    const ingester = async () => {
      while (running) {
        batchCounter += 1;
        const batchId = `B${String(batchCounter).padStart(5, '0')}`;
        const body = messageBatch(batchId, BATCH_SIZE, CHATS, 1_750_000_000_000 + batchCounter * 1000);
        await record('ingest', () => f.api('POST', `/api/v1/sessions/${sid}/events`, body, { timeoutMs: 10_000 }), { batchId });
      }
    };
    const probes: { at: number; ready: HttpResult; live: HttpResult }[] = [];

    const workers = [reader(0), reader(2), patcher(), ingester(), ingester()];
    await sleep(3000);

    await f.pg.stop();
    const downAt = Date.now();
    while (Date.now() - downAt < 8000) {
      const [ready, live] = await Promise.all([
        f.gateway.request('/health/ready', { timeoutMs: 10_000 }),
        f.gateway.request('/health/live', { timeoutMs: 10_000 }),
      ]);
      probes.push({ at: Date.now(), ready, live });
      await sleep(500);
    }
    const restartAt = Date.now();
    await f.pg.start();
    const upAt = Date.now();
    await sleep(RECOVER_WITHIN_MS + 3000);
    running = false;
    await Promise.all(workers);

    const problems: string[] = [];
    const show = (o: Outcome) => `${o.kind} at +${o.started - downAt} ms: ${o.status} in ${o.ended - o.started} ms`;

    // Every request got an answer, in the envelope when it was an error, and no error but 503.
    for (const o of outcomes) {
      if (o.status === 'no answer') {
        problems.push(`no answer: ${show(o)}`);
        continue;
      }
      if (o.status >= 400) {
        const problem = envelopeProblem(o.res!, 'unavailable');
        if (o.status !== 503 || problem) {
          // With the server's own log line for it, when it logged one (a 500 carries its errorId).
          const errorId = o.res!.body?.error?.details?.errorId as string | undefined;
          const logged = errorId ? f.gateway.logs().split('\n').find((line) => line.includes(errorId)) : undefined;
          problems.push(`${show(o)} ${problem ?? ''} ${o.res!.text.slice(0, 200)}${logged ? `\n  log: ${logged.slice(0, 1500)}` : ''}`);
        }
        else if (!o.res!.headers['retry-after']) problems.push(`503 without Retry-After: ${show(o)}`);
      }
    }
    // While it is down: 503 for every request, each within the bound.
    const whileDown = outcomes.filter((o) => o.started >= downAt && o.ended <= restartAt);
    for (const o of whileDown) {
      if (o.status !== 503) problems.push(`while down: ${show(o)}`);
      if (o.ended - o.started > ANSWER_WITHIN_MS) problems.push(`slow while down: ${show(o)}`);
    }
    for (const kind of ['list-chats', 'get-chat', 'list-messages', 'patch', 'ingest'] as Kind[]) {
      if (!whileDown.some((o) => o.kind === kind)) problems.push(`no ${kind} request ran while the database was down`);
    }
    for (const p of probes) {
      if (p.ready.status !== 503 || envelopeProblem(p.ready, 'unavailable')) problems.push(`readiness while down: ${p.ready.status}`);
      if (p.live.status !== 200) problems.push(`liveness while down: ${p.live.status}`);
    }
    // After it is back: each kind of request succeeds within the bound, and everything after that.
    for (const kind of ['list-chats', 'get-chat', 'list-messages', 'patch', 'ingest'] as Kind[]) {
      const firstOk = outcomes.filter((o) => o.kind === kind && o.started >= upAt && o.status === 200).sort((a, b) => a.ended - b.ended)[0];
      if (!firstOk || firstOk.ended - upAt > RECOVER_WITHIN_MS) {
        problems.push(`${kind} did not recover within ${RECOVER_WITHIN_MS} ms (first success ${firstOk ? firstOk.ended - upAt : 'never'})`);
      }
    }
    for (const o of outcomes.filter((x) => x.started >= upAt + RECOVER_WITHIN_MS)) {
      if (o.status !== 200) problems.push(`after recovery: ${show(o)}`);
    }
    if (f.gateway.pid !== pid || !f.gateway.alive()) problems.push('the gateway process did not stay up');
    const readyAfter = await f.gateway.request('/health/ready');
    if (readyAfter.status !== 200) problems.push(`readiness after recovery: ${readyAfter.status}`);

    // Every batch that got 200 is stored whole; every batch that got an error is not stored at all.
    const stored = await storedPerBatch(f, sid);
    const batches = outcomes.filter((o) => o.kind === 'ingest');
    for (const b of batches) {
      const n = stored.get(b.batchId!) ?? 0;
      const expected = b.status === 200 ? BATCH_SIZE : 0;
      if (n !== expected) problems.push(`batch ${b.batchId} answered ${b.status} but ${n} of ${BATCH_SIZE} messages are stored`);
    }
    // The sequential PATCHes: the stored mute is the last one that was answered 200.
    const lastPatched = outcomes.filter((o) => o.kind === 'patch' && o.status === 200).sort((a, b) => b.started - a.started)[0];
    const [row] = await f.sql<{ muted_until: string }>('SELECT muted_until FROM chats WHERE session_id = $1 AND jid = $2', [sid, chatJid(0)]);
    if (Number(row.muted_until) !== lastPatched.mutedUntil) {
      problems.push(`stored mutedUntil ${row.muted_until}, last successful PATCH set ${lastPatched.mutedUntil}`);
    }

    const failedBatches = batches.filter((b) => b.status !== 200).length;
    process.stdout.write(
      `FAULTS database-outage ${JSON.stringify({
        requests: outcomes.length,
        whileDown: whileDown.length,
        status503: outcomes.filter((o) => o.status === 503).length,
        status5xxOther: outcomes.filter((o) => typeof o.status === 'number' && o.status >= 500 && o.status !== 503).length,
        maxMsWhileDown: Math.max(...whileDown.map((o) => o.ended - o.started)),
        batchesChecked: batches.length,
        batchesRejected: failedBatches,
        downMs: restartAt - downAt,
      })}\n`,
    );
    expect(problems).toEqual([]);
    expect(failedBatches).toBeGreaterThan(0);
    expect(batches.length - failedBatches).toBeGreaterThan(0);
  });

  // PostgreSQL is up but refuses this database: new connections get SQLSTATE 55000 ("not currently
  // accepting connections") and the open ones are terminated (57P01). The database cannot serve
  // now: every route answers 503 like readiness does, never 500.
  it('answers 503 while the server answers but refuses connections to the database, and recovers', async () => {
    const admin = new Client({ connectionString: f.pg.adminUrl });
    await admin.connect();
    const database = new URL(f.pg.url).pathname.slice(1);
    const chat = `/api/v1/sessions/${sid}/chats/${encodeURIComponent(chatJid(1))}`;
    const requests: [string, () => Promise<HttpResult>][] = [
      ['list-sessions', () => f.api('GET', '/api/v1/sessions')],
      ['list-chats', () => f.api('GET', `/api/v1/sessions/${sid}/chats`)],
      ['get-chat', () => f.api('GET', chat)],
      ['list-messages', () => f.api('GET', `${chat}/messages?limit=5`)],
      ['patch', () => f.api('PATCH', chat, { pinned: true })],
      ['ingest', () => f.api('POST', `/api/v1/sessions/${sid}/events`, messageBatch('R0001', 10, CHATS, 1_760_000_000_000))],
      ['ready', () => f.gateway.request('/health/ready')],
    ];
    const problems: string[] = [];
    let answered = 0;
    try {
      await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        for (const [kind, send] of requests) {
          const res = await send();
          answered += 1;
          const problem = envelopeProblem(res, 'unavailable');
          if (res.status !== 503 || problem || !res.headers['retry-after']) {
            problems.push(`${kind}: ${res.status} ${problem ?? ''} ${res.text.slice(0, 200)}`);
          }
        }
      }
    } finally {
      await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    const backAt = Date.now();
    await f.gateway.waitUntilReady(RECOVER_WITHIN_MS);
    for (const [kind, send] of requests) {
      const res = await send();
      if (res.status !== 200) problems.push(`after recovery, ${kind}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    process.stdout.write(`FAULTS database-refusing ${JSON.stringify({ answered, recoveredMs: Date.now() - backAt })}\n`);
    expect(problems).toEqual([]);
  });
});
