import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';

/** A session to push into, with the `ingest` key of its organization and chats to spread over. */
export interface IngestTarget {
  sessionId: string;
  key: string;
  chats: string[];
}

export interface IngestSettings {
  /** Batches in flight at once; worker `w` pushes into target `w % targets.length`. */
  concurrency: number;
  seconds: number;
  batchSize: number;
  /** Stop after this many batches in all (a fixed amount of history), before `seconds` if sooner. */
  maxBatches?: number;
  /**
   * Reactions per batch (a history sync carries them beside the messages): half to messages of the
   * batch, half to messages of the worker's previous batch, which are stored by then.
   */
  reactionsPerBatch?: number;
  /** Pushes the batches as a history sync (`"history": true`). */
  history?: boolean;
}

export interface IngestResult {
  batches: number;
  acceptedBatches: number;
  /** Messages of accepted batches found in the database afterwards. */
  storedMessages: number;
  /** Accepted batches with fewer (or more) stored messages than they carried: must be 0. */
  incompleteBatches: number;
  wallSeconds: number;
  messagesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Batches answered with anything but 200 `{accepted: batchSize}`, or not answered. */
  errors: number;
}

/** A batch of `size` new text messages, written as JSON text directly (the generator must not be the bottleneck). */
function batchBody(batchId: string, size: number, chats: string[], baseTs: number, extra: { reactions: number; previous: string | null; history: boolean }): string {
  const events: string[] = [];
  for (let i = 0; i < size; i++) {
    const chat = chats[i % chats.length];
    const fromMe = i % 3 === 0;
    const message =
      `{"id":"${batchId}-${i}","chatId":"${chat}","fromMe":${fromMe},` +
      `"senderId":${fromMe ? 'null' : `"${chat.endsWith('@g.us') ? '6281200000001@s.whatsapp.net' : chat}"`},` +
      `"timestamp":${baseTs + i},"type":"text","text":"pesan ${i} dari ${batchId}, sampai jumpa besok pagi",` +
      `"status":${fromMe ? '"sent"' : 'null'}}`;
    events.push(`{"type":"message.upsert","message":${message}}`);
  }
  for (let r = 0; r < extra.reactions; r++) {
    // Every 5th message gets one: in this batch for even r, in the previous one for odd r.
    const target = (r * 5) % size;
    const batch = r % 2 === 1 && extra.previous ? extra.previous : batchId;
    const sender = `628130000${String(r % 1000).padStart(4, '0')}@s.whatsapp.net`;
    events.push(
      `{"type":"message.react","chatId":"${chats[target % chats.length]}","messageId":"${batch}-${target}",` +
        `"senderId":"${sender}","emoji":"👍","timestamp":${baseTs + size + r}}`,
    );
  }
  return `{"events":[${events.join(',')}]${extra.history ? ',"history":true' : ''}}`;
}

function post(agent: Agent, url: URL, key: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/**
 * Pushes batches of new messages through `POST /sessions/{sid}/events` for `seconds`, then counts
 * in PostgreSQL what each accepted batch left behind. Throughput is the stored messages divided by
 * the wall time from the first request to the last answer.
 */
export async function runIngestScenario(
  baseUrl: string,
  databaseUrl: string,
  targets: IngestTarget[],
  settings: IngestSettings,
): Promise<IngestResult> {
  const tag = `BI${Date.now().toString(36)}`;
  const agent = new Agent({ keepAlive: true, maxSockets: settings.concurrency });
  const accepted: string[] = [];
  const latencies: number[] = [];
  let batches = 0;
  let errors = 0;
  const baseTs = Date.now();
  const started = performance.now();
  const deadline = started + settings.seconds * 1000;

  const worker = async (w: number): Promise<void> => {
    const target = targets[w % targets.length];
    const url = new URL(`/api/v1/sessions/${target.sessionId}/events`, baseUrl);
    let previous: string | null = null;
    while (performance.now() < deadline && batches < (settings.maxBatches ?? Infinity)) {
      const n = batches++;
      const batchId = `${tag}N${n}`;
      const extra = { reactions: settings.reactionsPerBatch ?? 0, previous, history: settings.history ?? false };
      const body = batchBody(batchId, settings.batchSize, target.chats, baseTs + n * settings.batchSize, extra);
      previous = batchId;
      const t0 = performance.now();
      try {
        const res = await post(agent, url, target.key, body);
        latencies.push(performance.now() - t0);
        const events = settings.batchSize + (settings.reactionsPerBatch ?? 0);
        if (res.status === 200 && (JSON.parse(res.text) as { accepted?: number }).accepted === events) {
          accepted.push(batchId);
        } else errors += 1;
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, (_, w) => worker(w)));
  const wallSeconds = (performance.now() - started) / 1000;
  agent.destroy();

  const stored = await storedPerBatch(databaseUrl, tag);
  const storedMessages = accepted.reduce((sum, id) => sum + (stored.get(id) ?? 0), 0);
  const incompleteBatches = accepted.filter((id) => stored.get(id) !== settings.batchSize).length;
  latencies.sort((a, b) => a - b);
  return {
    batches,
    acceptedBatches: accepted.length,
    storedMessages,
    incompleteBatches,
    wallSeconds,
    messagesPerSec: storedMessages / wallSeconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors,
  };
}

/** Stored messages per batch id of this run (ids are `<batch>-<i>`). */
async function storedPerBatch(databaseUrl: string, tag: string): Promise<Map<string, number>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ batch: string; n: string }>(
      `SELECT split_part(id, '-', 1) AS batch, count(*) AS n FROM messages WHERE id LIKE $1 GROUP BY 1`,
      [`${tag}N%`],
    );
    return new Map(rows.map((r) => [r.batch, Number(r.n)]));
  } finally {
    await client.end();
  }
}
