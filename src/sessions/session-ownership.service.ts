import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { Logger } from 'pino';
import { LOGGER } from '../common/logging/logging.module';
import { AppConfig } from '../config/app-config';

/** The advisory lock name of a session's WhatsApp connection; `hashtextextended` makes it a key. */
export function ownershipLockName(sessionId: string): string {
  return `wgw-session-connection\n${sessionId}`;
}

const CLAIM_SQL = 'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked';
const RELEASE_SQL = 'SELECT pg_advisory_unlock(hashtextextended($1, 0))';
const RECONNECT_DELAY_MS = 2_000;

/**
 * Which replica holds a session's WhatsApp connection: the one holding the session's PostgreSQL
 * advisory lock, on a connection of its own kept for that. The lock goes when the process (or
 * that connection) dies, so a replica that crashed never blocks a session for good.
 *
 * If the connection drops while the process lives, the locks are gone too: it is opened again and
 * every session held is claimed again; one that another replica took meanwhile is logged (both
 * then hold a socket, and WhatsApp closes one of them as replaced).
 */
@Injectable()
export class SessionOwnershipService implements OnApplicationShutdown {
  private client: Promise<Client> | null = null;
  private readonly held = new Set<string>();
  private closed = false;

  constructor(
    private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Whether this process holds session `id` now; takes it when no other replica does. */
  async claim(id: string): Promise<boolean> {
    if (this.held.has(id)) return true;
    const client = await this.connection();
    const { rows } = await client.query<{ locked: boolean }>(CLAIM_SQL, [ownershipLockName(id)]);
    if (rows[0].locked) this.held.add(id);
    return rows[0].locked;
  }

  /** Lets another replica take the session (it was deleted). */
  async release(id: string): Promise<void> {
    if (!this.held.delete(id) || !this.client) return;
    try {
      await (await this.client).query(RELEASE_SQL, [ownershipLockName(id)]);
    } catch (error) {
      // The lock dies with its connection anyway.
      this.logger.warn({ err: error, sessionId: id }, 'could not release a session lock');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    const client = await this.client?.catch(() => null);
    await client?.end().catch(() => undefined);
  }

  private connection(): Promise<Client> {
    this.client ??= this.open().catch((error: unknown) => {
      this.client = null;
      throw error;
    });
    return this.client;
  }

  private async open(): Promise<Client> {
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: 'whatsapp-gateway-ownership' });
    client.on('error', (error) => this.onConnectionLost(client, error));
    await client.connect();
    return client;
  }

  private onConnectionLost(client: Client, error: Error): void {
    if (this.closed) return;
    this.logger.error({ err: error, sessions: this.held.size }, 'lost the database connection that holds session locks; taking them again');
    void client.end().catch(() => undefined);
    this.client = null;
    setTimeout(() => void this.reclaim(), RECONNECT_DELAY_MS).unref();
  }

  /** After the connection came back: claims every held session again. */
  private async reclaim(): Promise<void> {
    if (this.closed) return;
    const ids = [...this.held];
    this.held.clear();
    try {
      for (const id of ids) {
        if (!(await this.claim(id))) {
          this.logger.error({ sessionId: id }, 'another replica took this session while the lock was lost');
        }
      }
    } catch (error) {
      for (const id of ids) this.held.add(id);
      this.logger.warn({ err: error }, 'could not take the session locks again; retrying');
      setTimeout(() => void this.reclaim(), RECONNECT_DELAY_MS).unref();
    }
  }
}
