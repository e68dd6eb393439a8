import { Agent, createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { IngestResult, IngestSettings, IngestTarget, runIngestScenario } from './ingest-load';

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A webhook receiver as a client would run one: keep-alive HTTP on loopback, every request's
 * signature checked with the official `standardwebhooks` verifier, deduplicated by `webhook-id`.
 * While `down`, the port is closed (connections are refused).
 */
export class WebhookReceiver {
  /** Epoch ms of the first arrival, by event id. */
  readonly arrivals = new Map<string, number>();
  /** Event creation instant (from the body), by event id. */
  readonly createdAt = new Map<string, number>();
  duplicates = 0;
  badSignatures = 0;
  /** The verifier of each webhook, by the path its URL names. */
  private readonly verifiers = new Map<string, Webhook>();
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  /** The URL for one webhook; `secret` verifies what arrives there. */
  urlFor(name: string): string {
    return `http://127.0.0.1:${this.port}/hook/${name}`;
  }

  trust(name: string, secret: string): void {
    this.verifiers.set(`/hook/${name}`, new Webhook(secret));
  }

  async up(): Promise<void> {
    this.server = createServer({ keepAlive: true }, (req, res) => this.handle(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const now = Date.now();
      let event: { id: string; createdAt: number };
      try {
        const verifier = this.verifiers.get(req.url ?? '');
        if (!verifier) throw new Error('no such webhook');
        event = verifier.verify(body, req.headers as Record<string, string>) as { id: string; createdAt: number };
      } catch {
        this.badSignatures += 1;
        res.writeHead(400).end();
        return;
      }
      if (this.arrivals.has(event.id)) this.duplicates += 1;
      else {
        this.arrivals.set(event.id, now);
        this.createdAt.set(event.id, event.createdAt);
      }
      res.writeHead(204).end();
    });
  }

  /** Resolves once `ids` have all arrived, or rejects after `timeoutMs`; returns the last arrival. */
  async waitFor(ids: readonly string[], timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = ids.filter((id) => !this.arrivals.has(id)).length;
      if (missing === 0) return Math.max(...ids.map((id) => this.arrivals.get(id)!));
      if (Date.now() > deadline) throw new Error(`${missing} of ${ids.length} events not delivered within ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}

async function api<T>(baseUrl: string, method: string, path: string, key: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** Ids of the organizations' events recorded after `mark` (a `(xid, seq)` position), in log order. */
async function eventIdsSince(db: Client, orgIds: string[], mark: EventMark): Promise<{ ids: string[]; mark: EventMark }> {
  const { rows } = await db.query<{ id: string; xid: string; seq: string }>(
    `SELECT id, xid::text AS xid, seq::text AS seq FROM events
      WHERE org_id = ANY ($1::text[]) AND (xid, seq) > ($2::xid8, $3::bigint) ORDER BY xid, seq`,
    [orgIds, mark.xid, mark.seq],
  );
  const last = rows[rows.length - 1];
  return { ids: rows.map((r) => r.id.trim()), mark: last ? { xid: last.xid, seq: last.seq } : mark };
}

interface EventMark {
  xid: string;
  seq: string;
}

const START: EventMark = { xid: '0', seq: '0' };

/** A batch of new messages, as the ingest scenario writes them. */
function messagesBody(tag: string, n: number, size: number, chat: string): string {
  const events: string[] = [];
  for (let i = 0; i < size; i++) {
    events.push(
      `{"type":"message.upsert","message":{"id":"${tag}-${n}-${i}","chatId":"${chat}","fromMe":false,` +
        `"senderId":"${chat}","timestamp":${Date.now()},"type":"text","text":"event bench ${n}/${i}","status":null}}`,
    );
  }
  return `{"events":[${events.join(',')}]}`;
}

async function push(baseUrl: string, target: IngestTarget, body: string): Promise<void> {
  const res = await fetch(new URL(`/api/v1/sessions/${target.sessionId}/events`, baseUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${target.key}`, 'content-type': 'application/json' },
    body,
  });
  if (res.status !== 200) throw new Error(`push answered ${res.status}: ${await res.text()}`);
}

export interface WebhookBench {
  ingestWithWebhook: IngestResult;
  webhookDeliveriesPerSec: number;
  deliveryP50Ms: number;
  deliveryP99Ms: number;
  steadyEventsPerSec: number;
  backlogEvents: number;
  backlogDrainPerSec: number;
  /** Seconds from the receiver coming back to the first delivery (the retry schedule's wait). */
  backlogFirstDeliverySec: number;
  duplicates: number;
  badSignatures: number;
  undelivered: number;
}

/**
 * The webhook scenarios of one run, with one `*` webhook per organization to a local receiver:
 * ingestion with the webhooks on (the same load as the plain ingestion scenario), delivery
 * throughput, latency at a steady rate, and a backlog recorded while the receiver is down.
 */
export async function runWebhookScenarios(
  baseUrl: string,
  databaseUrl: string,
  orgs: { orgId: string; manageKey: string }[],
  targets: IngestTarget[],
  settings: IngestSettings & { steadySeconds: number; steadyRate: number; backlog: number; log: (line: string) => void },
): Promise<WebhookBench> {
  const receiver = new WebhookReceiver();
  await receiver.up();
  const webhooks: { id: string; orgId: string; manageKey: string }[] = [];
  for (const [i, { orgId, manageKey }] of orgs.entries()) {
    const created = await api<{ id: string; secret: string }>(baseUrl, 'POST', '/api/v1/webhooks', manageKey, {
      url: receiver.urlFor(String(i)),
      events: ['*'],
    });
    receiver.trust(String(i), created.secret);
    webhooks.push({ id: created.id, orgId, manageKey });
  }
  const orgIds = orgs.map((o) => o.orgId);
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    // 1. Ingestion with the webhook on; then everything it recorded must arrive.
    let mark = START;
    ({ mark } = await eventIdsSince(db, orgIds, mark));
    const ingestStart = Date.now();
    const ingestWithWebhook = await runIngestScenario(baseUrl, databaseUrl, targets, settings);
    const recorded = await eventIdsSince(db, orgIds, mark);
    mark = recorded.mark;
    const lastArrival = await receiver.waitFor(recorded.ids, 600_000);
    const webhookDeliveriesPerSec = recorded.ids.length / ((lastArrival - ingestStart) / 1000);
    settings.log(
      `  ingestion with a * webhook: ${ingestWithWebhook.messagesPerSec.toFixed(0)} msgs/s; ${recorded.ids.length} events ` +
        `delivered ${(((lastArrival - ingestStart) / 1000)).toFixed(1)} s after ingestion began (${webhookDeliveriesPerSec.toFixed(0)}/s)`,
    );

    // 2. Commit → delivery at a steady rate: batches of 10 every 1/rate*10 s.
    const target = targets[0];
    const chat = target.chats[0];
    const perBatch = 10;
    const interval = (1000 * perBatch) / settings.steadyRate;
    const steadyStart = performance.now();
    let n = 0;
    const pushes: Promise<void>[] = [];
    while (performance.now() - steadyStart < settings.steadySeconds * 1000) {
      pushes.push(push(baseUrl, target, messagesBody('steady', n++, perBatch, chat)));
      await sleep(Math.max(0, steadyStart + n * interval - performance.now()));
    }
    await Promise.all(pushes);
    const steady = await eventIdsSince(db, orgIds, mark);
    mark = steady.mark;
    await receiver.waitFor(steady.ids, 120_000);
    const latencies = steady.ids.map((id) => receiver.arrivals.get(id)! - receiver.createdAt.get(id)!).sort((a, b) => a - b);
    const steadyEventsPerSec = steady.ids.length / settings.steadySeconds;
    settings.log(
      `  steady ${steadyEventsPerSec.toFixed(0)} events/s: commit → delivery p50 ${percentile(latencies, 0.5)} ms, ` +
        `p99 ${percentile(latencies, 0.99)} ms`,
    );

    // 3. A backlog recorded while the receiver is down, delivered once it is back.
    await receiver.down();
    const batch = 500;
    for (let i = 0; i * batch < settings.backlog; i++) await push(baseUrl, target, messagesBody('backlog', i, batch, chat));
    const backlog = await eventIdsSince(db, orgIds, mark);
    mark = backlog.mark;
    await receiver.up();
    const upAt = Date.now();
    const drainedAt = await receiver.waitFor(backlog.ids, 900_000);
    const firstAt = Math.min(...backlog.ids.map((id) => receiver.arrivals.get(id)!));
    const backlogDrainPerSec = backlog.ids.length / Math.max(0.001, (drainedAt - firstAt) / 1000);
    settings.log(
      `  backlog of ${backlog.ids.length} events: first delivery ${((firstAt - upAt) / 1000).toFixed(1)} s after the receiver ` +
        `came back, drained at ${backlogDrainPerSec.toFixed(0)}/s; ${receiver.duplicates} duplicates`,
    );

    await sleep(1000);
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ANY ($1::text[]) AND status <> 'delivered'`,
      [webhooks.map((w) => w.id)],
    );
    return {
      ingestWithWebhook,
      webhookDeliveriesPerSec,
      deliveryP50Ms: percentile(latencies, 0.5),
      deliveryP99Ms: percentile(latencies, 0.99),
      steadyEventsPerSec,
      backlogEvents: backlog.ids.length,
      backlogDrainPerSec,
      backlogFirstDeliverySec: (firstAt - upAt) / 1000,
      duplicates: receiver.duplicates,
      badSignatures: receiver.badSignatures,
      undelivered: Number(rows[0].n),
    };
  } finally {
    for (const w of webhooks) await api(baseUrl, 'DELETE', `/api/v1/webhooks/${w.id}`, w.manageKey).catch(() => undefined);
    await db.end();
    await receiver.down();
  }
}

export interface StreamBench {
  streams: number;
  fanoutP50Ms: number;
  fanoutP99Ms: number;
}

/**
 * `streams` live streams open on the gateway (10 per key, the per-credential limit), then single
 * events pushed one at a time: the time from the push's answer (its commit) to each stream seeing it.
 */
export async function runStreamFanout(
  baseUrl: string,
  manageKey: string,
  target: IngestTarget,
  settings: { streams: number; events: number; log: (line: string) => void },
): Promise<StreamBench> {
  const keys: string[] = [];
  for (let i = 0; i < Math.ceil(settings.streams / 10); i++) {
    keys.push((await api<{ key: string }>(baseUrl, 'POST', '/api/v1/api-keys', manageKey, { name: `stream ${i}`, capabilities: ['read'] })).key);
  }
  const agent = new Agent({ keepAlive: true, maxSockets: settings.streams + 10 });
  const waiters = new Map<string, number[]>();
  const requests: ReturnType<typeof request>[] = [];
  let open = 0;
  for (let i = 0; i < settings.streams; i++) {
    const req = request(
      new URL(`/api/v1/events/stream?types=message.created&sessionId=${target.sessionId}`, baseUrl),
      { agent, headers: { authorization: `Bearer ${keys[Math.floor(i / 10)]}`, accept: 'text/event-stream' } },
      (res) => {
        if (res.statusCode !== 200) throw new Error(`stream ${i} answered ${res.statusCode}`);
        open += 1;
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          const now = performance.now();
          for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
            const frame = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            const match = /"id":"(fan-[^"]+)"/.exec(frame);
            if (match) (waiters.get(match[1]) ?? waiters.set(match[1], []).get(match[1])!).push(now);
          }
        });
      },
    );
    req.on('error', () => undefined);
    req.end();
    requests.push(req);
  }
  const deadline = Date.now() + 60_000;
  while (open < settings.streams && Date.now() < deadline) await sleep(50);
  if (open < settings.streams) throw new Error(`only ${open} of ${settings.streams} streams opened`);
  const delays: number[] = [];
  try {
    for (let e = 0; e < settings.events; e++) {
      const id = `fan-${Date.now().toString(36)}-${e}`;
      const body = `{"events":[{"type":"message.upsert","message":{"id":"${id}","chatId":"${target.chats[0]}","fromMe":false,"senderId":"${target.chats[0]}","timestamp":${Date.now()},"type":"text","text":"fan-out","status":null}}]}`;
      await push(baseUrl, target, body);
      const committed = performance.now();
      const until = Date.now() + 10_000;
      while ((waiters.get(id)?.length ?? 0) < settings.streams && Date.now() < until) await sleep(5);
      const seen = waiters.get(id) ?? [];
      if (seen.length < settings.streams) throw new Error(`event ${id} reached ${seen.length} of ${settings.streams} streams in 10 s`);
      delays.push(...seen.map((at) => at - committed));
      await sleep(200);
    }
  } finally {
    for (const req of requests) req.destroy();
    agent.destroy();
  }
  delays.sort((a, b) => a - b);
  const result = { streams: settings.streams, fanoutP50Ms: percentile(delays, 0.5), fanoutP99Ms: percentile(delays, 0.99) };
  settings.log(`  ${settings.streams} streams: an event reached all of them, p50 ${result.fanoutP50Ms.toFixed(0)} ms, p99 ${result.fanoutP99Ms.toFixed(0)} ms`);
  return result;
}
