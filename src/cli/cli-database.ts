import { join } from 'node:path';
import { Client } from 'pg';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { embeddedDatabaseUrl, startEmbeddedPostgres } from '../database/embedded-postgres';

export interface CliDatabase {
  url: string;
  /** Stops the embedded PostgreSQL when the CLI started it; otherwise nothing. */
  release(): Promise<void>;
}

/** True when a PostgreSQL answers at `url`, false when nothing listens there. */
async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ECONNREFUSED') return false;
    throw new Error(`something answers on ${new URL(url).host} but not as the embedded PostgreSQL: ${String(error)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The gateway's database, as the gateway itself would find it: `DATABASE_URL`, or else the
 * embedded PostgreSQL under `DATA_DIR`, which is used as it is when the gateway is running and
 * started (then stopped again) for the command when it is not.
 */
export async function openCliDatabase(config: AppConfig, logger: Logger): Promise<CliDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, release: () => Promise.resolve() };
  const url = embeddedDatabaseUrl(config.embeddedPostgresPort);
  if (await answers(url)) return { url, release: () => Promise.resolve() };
  const embedded = await startEmbeddedPostgres(join(config.dataDir, 'postgres'), config.embeddedPostgresPort, logger);
  return { url: embedded.url, release: () => embedded.stop() };
}
