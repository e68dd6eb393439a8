import { Client } from 'pg';
import { Capability, CAPABILITIES } from '../../src/auth/capability';
import { seedApiKey } from './api-key-seed';
import { EmbeddedPostgresServer, startEmbeddedPostgresServer } from './embedded-postgres-server';
import { GatewayProcess, GatewayProcessOptions, HttpOptions, HttpResult } from './gateway-process';

/** The built gateway as a child process on its own embedded PostgreSQL, with an org and a key. */
export interface GatewayFixture {
  pg: EmbeddedPostgresServer;
  gateway: GatewayProcess;
  orgId: string;
  key: string;
  /** A request as the org's key (all capabilities). */
  api(method: string, path: string, body?: unknown, options?: HttpOptions): Promise<HttpResult>;
  /** Starts the gateway again on the same database (after a crash or a stop). */
  restartGateway(): Promise<GatewayProcess>;
  /** SQL on the gateway's database, on a connection of its own. */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function startGatewayFixture(
  options: {
    env?: Record<string, string>;
    capabilities?: readonly Capability[];
    echo?: boolean;
    /** Another entry point than `dist/main.js` (a harness around the same gateway). */
    process?: Pick<GatewayProcessOptions, 'entry' | 'nodeArgs'>;
  } = {},
): Promise<GatewayFixture> {
  const pg = await startEmbeddedPostgresServer();
  const start = () =>
    GatewayProcess.start({ env: { DATABASE_URL: pg.url, ...options.env }, echo: options.echo, ...options.process });
  let gateway: GatewayProcess;
  try {
    gateway = await start();
  } catch (error) {
    await pg.destroy();
    throw error;
  }
  const orgId = `org-${Date.now().toString(36)}`;
  // After the first start: the migrations have created the table.
  const key = await seedApiKey(pg.url, orgId, options.capabilities ?? CAPABILITIES);
  const fixture: GatewayFixture = {
    pg,
    gateway,
    orgId,
    key,
    api: (method, path, body, requestOptions = {}) =>
      fixture.gateway.request(path, {
        timeoutMs: 30_000,
        ...requestOptions,
        method,
        body,
        headers: { authorization: `Bearer ${key}`, ...requestOptions.headers },
      }),
    restartGateway: async () => {
      fixture.gateway = await start();
      return fixture.gateway;
    },
    sql: async <T>(text: string, params: unknown[] = []) => {
      const client = new Client({ connectionString: pg.url });
      await client.connect();
      try {
        return (await client.query(text, params)).rows as T[];
      } finally {
        await client.end();
      }
    },
    close: async () => {
      if (fixture.gateway.alive()) await fixture.gateway.stop('SIGTERM').catch(() => undefined);
      await pg.destroy();
    },
  };
  return fixture;
}

/** Creates a session through the API and returns its id. */
export async function createSession(fixture: GatewayFixture, name = 'faults'): Promise<string> {
  const res = await fixture.api('POST', '/api/v1/sessions', { name });
  if (res.status !== 201) throw new Error(`session create answered ${res.status}: ${res.text}`);
  return res.body.id as string;
}

export const chatJid = (n: number): string => `62812000${String(n).padStart(5, '0')}@s.whatsapp.net`;

/**
 * An ingest batch of `size` new text messages spread over `chats` chats, with ids that name the
 * batch (`<batchId>-<i>`), so that what is stored of it can be counted afterwards.
 */
export function messageBatch(batchId: string, size: number, chats: number, baseTs = Date.now()): { events: unknown[] } {
  const events = [];
  for (let i = 0; i < size; i++) {
    const jid = chatJid(i % chats);
    events.push({
      type: 'message.upsert',
      message: {
        id: `${batchId}-${i}`,
        chatId: jid,
        fromMe: i % 3 === 0,
        senderId: i % 3 === 0 ? null : jid,
        timestamp: baseTs + i,
        type: 'text',
        text: `message ${i} of ${batchId}`,
        status: i % 3 === 0 ? 'sent' : null,
      },
    });
  }
  return { events };
}

/** How many messages of each batch are stored, by batch id (batches with none are absent). */
export async function storedPerBatch(fixture: GatewayFixture, sessionId: string): Promise<Map<string, number>> {
  const rows = await fixture.sql<{ batch: string; n: string }>(
    `SELECT split_part(id, '-', 1) AS batch, count(*) AS n FROM messages WHERE session_id = $1 GROUP BY 1`,
    [sessionId],
  );
  return new Map(rows.map((r) => [r.batch, Number(r.n)]));
}

/** Checks the envelope of an error answer; returns a description of what is wrong, or null. */
export function envelopeProblem(res: HttpResult, code?: string): string | null {
  const error = res.body?.error;
  if (!res.headers['content-type']?.startsWith('application/json')) return `content-type ${res.headers['content-type']}`;
  if (!error || Object.keys(res.body).join() !== 'error') return `not an envelope: ${res.text.slice(0, 200)}`;
  if (typeof error.code !== 'string' || typeof error.message !== 'string') return `bad envelope: ${res.text.slice(0, 200)}`;
  if (typeof error.details !== 'object' || error.details === null || Array.isArray(error.details)) {
    return `details is not an object: ${res.text.slice(0, 200)}`;
  }
  if (code && error.code !== code) return `code ${error.code}, expected ${code}`;
  return null;
}
