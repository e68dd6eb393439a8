/**
 * Soak: the built gateway under minutes of mixed load, watched for 5xx answers and memory growth.
 *
 *   npm run soak                       # 3 minutes at 50 connections
 *   npm run soak -- --duration 60      # shorter
 *
 * Starts `node dist/main.js` on an embedded PostgreSQL of its own, seeds a session with chats and
 * messages, then runs autocannon over a mix of reads (message pages, first and later; chat list;
 * one chat), PATCHes and ingest batches, sampling the server's RSS every few seconds. Prints one
 * `SOAK {json}` line and exits non-zero on any 5xx, any request without an answer, or RSS growth
 * of 20% or more from minute 1 (a third of the run, when shorter) to the end.
 */
import autocannon from 'autocannon';
import { chatJid, createSession, messageBatch, startGatewayFixture } from '../support/gateway-fixture';

interface Options {
  durationSeconds: number;
  connections: number;
}

const CHATS = 20;
const SEED_MESSAGES_PER_CHAT = 300;
const SAMPLE_EVERY_MS = 5000;
const MAX_GROWTH = 0.2;

function parseOptions(argv: string[]): Options {
  const options: Options = { durationSeconds: 180, connections: 50 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${argv[i]} needs a positive integer`);
    if (argv[i] === '--duration') options.durationSeconds = value;
    else if (argv[i] === '--connections') options.connections = value;
    else throw new Error(`unknown option ${argv[i]} (use --duration <s>, --connections <n>)`);
  }
  return options;
}

interface ConnectionContext {
  chat?: string;
  cursor?: string;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const fixture = await startGatewayFixture();
  try {
    const sid = await createSession(fixture, 'soak');
    for (let b = 0; b < (CHATS * SEED_MESSAGES_PER_CHAT) / 1000; b++) {
      const res = await fixture.api('POST', `/api/v1/sessions/${sid}/events`, messageBatch(`SEED${b}`, 1000, CHATS, 1_700_000_000_000 + b * 1000));
      if (res.status !== 200) throw new Error(`seeding answered ${res.status}: ${res.text}`);
    }

    const chatsPath = `/api/v1/sessions/${sid}/chats`;
    const chatPath = (n: number) => `${chatsPath}/${encodeURIComponent(chatJid(n))}`;
    const headers = { authorization: `Bearer ${fixture.key}`, 'content-type': 'application/json' };
    let connectionTurn = 0;
    let batchCounter = 0;
    let patchCounter = 0;

    const requests: autocannon.Request[] = [
      {
        // First page of a chat's messages; its cursor feeds the next request on this connection.
        method: 'GET',
        setupRequest: (req, context: ConnectionContext) => {
          context.chat = chatPath(connectionTurn++ % CHATS);
          return { ...req, path: `${context.chat}/messages?limit=20` };
        },
        onResponse: (status, body, context: ConnectionContext) => {
          context.cursor = status === 200 ? ((JSON.parse(body) as { nextCursor: string | null }).nextCursor ?? undefined) : undefined;
        },
      },
      {
        method: 'GET',
        setupRequest: (req, context: ConnectionContext) => ({
          ...req,
          path: `${context.chat}/messages?limit=20${context.cursor ? `&cursor=${encodeURIComponent(context.cursor)}` : ''}`,
        }),
      },
      { method: 'GET', path: `${chatsPath}?limit=20` },
      { method: 'GET', setupRequest: (req, context: ConnectionContext) => ({ ...req, path: context.chat }) },
      {
        method: 'PATCH',
        setupRequest: (req, context: ConnectionContext) => {
          patchCounter += 1;
          const body = patchCounter % 3 === 0 ? { unmute: true } : { pinned: patchCounter % 2 === 0, mutedUntil: 1_800_000_000_000 + patchCounter };
          return { ...req, path: context.chat, body: JSON.stringify(body) };
        },
      },
      {
        method: 'POST',
        setupRequest: (req) => {
          batchCounter += 1;
          const body = messageBatch(`L${batchCounter}`, 10, CHATS, 1_750_000_000_000 + batchCounter * 10);
          return { ...req, path: `/api/v1/sessions/${sid}/events`, body: JSON.stringify(body) };
        },
      },
    ];

    const started = Date.now();
    const samples: { atSeconds: number; rssMb: number }[] = [];
    const sample = () => samples.push({ atSeconds: Math.round((Date.now() - started) / 1000), rssMb: fixture.gateway.rssBytes() / 2 ** 20 });
    sample();
    const sampler = setInterval(sample, SAMPLE_EVERY_MS);
    const result = await autocannon({
      url: fixture.gateway.baseUrl,
      connections: options.connections,
      duration: options.durationSeconds,
      headers,
      requests,
      timeout: 10,
    });
    clearInterval(sampler);
    sample();

    const baselineAt = Math.min(60, options.durationSeconds / 3);
    const baseline = samples.find((s) => s.atSeconds >= baselineAt) ?? samples[0];
    const end = samples[samples.length - 1];
    const byStatus = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([status, s]) => [status, s.count ?? 0]));
    const non2xx = Object.fromEntries(Object.entries(byStatus).filter(([status]) => !status.startsWith('2')));
    const status5xx = Object.entries(byStatus)
      .filter(([status]) => status.startsWith('5'))
      .reduce((sum, [, count]) => sum + count, 0);
    const growth = (end.rssMb - baseline.rssMb) / baseline.rssMb;
    const summary = {
      durationSeconds: options.durationSeconds,
      connections: options.connections,
      requests: result.requests.total,
      requestsPerSecond: Math.round(result.requests.average),
      latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      non2xxByStatus: non2xx,
      status5xx,
      errors: result.errors,
      timeouts: result.timeouts,
      rssMbAtBaseline: Number(baseline.rssMb.toFixed(1)),
      baselineAtSeconds: baseline.atSeconds,
      rssMbAtEnd: Number(end.rssMb.toFixed(1)),
      rssGrowthPercent: Number((growth * 100).toFixed(1)),
      rssMbMax: Number(Math.max(...samples.map((s) => s.rssMb)).toFixed(1)),
      serverAlive: fixture.gateway.alive(),
    };
    process.stdout.write(`SOAK ${JSON.stringify(summary)}\n`);
    const failures = [
      status5xx > 0 && `${status5xx} answers were 5xx`,
      result.errors > 0 && `${result.errors} requests got no answer (${result.timeouts} timeouts)`,
      growth >= MAX_GROWTH && `RSS grew ${summary.rssGrowthPercent}% (limit ${MAX_GROWTH * 100}%)`,
      !summary.serverAlive && 'the server died',
    ].filter(Boolean);
    if (failures.length > 0) {
      process.stderr.write(`soak failed: ${failures.join('; ')}\n${fixture.gateway.logs().slice(-4000)}\n`);
      process.exitCode = 1;
    }
  } finally {
    await fixture.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`soak could not run: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
