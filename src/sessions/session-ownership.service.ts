import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../common/logging/logging.module';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';

/** What every lock name starts with; the session id follows. */
export const OWNERSHIP_LOCK_PREFIX = 'wgw-session-connection\n';

/** The advisory lock name of a session's WhatsApp connection; `hashtextextended` makes it a key. */
export function ownershipLockName(sessionId: string): string {
  return `${OWNERSHIP_LOCK_PREFIX}${sessionId}`;
}

/** The channel on which a replica that let sessions go (gave them away, stopped) tells the others to take them now. */
export const RELEASED_CHANNEL = 'gateway_sessions_released';

/** How the lock connection shows in `pg_stat_activity`: one per replica, which is how replicas are counted. */
export const OWNERSHIP_APPLICATION_NAME = 'whatsapp-gateway-ownership';

/**
 * The lease: PostgreSQL ends the lock connection (and so releases its locks) once it has been
 * idle this long (`idle_session_timeout`). A replica that is frozen, cut off or too busy to send
 * its heartbeat loses its sessions to the others after this.
 */
export const LEASE_MS = 6_000;
/** A heartbeat a second keeps the lease alive. */
const HEARTBEAT_MS = 1_000;
/**
 * The replica stops trusting its locks this long before the lease could run out on the server,
 * counted from when the last answered query was sent, so that it closes its sockets before
 * another replica can take the sessions.
 */
const LEASE_MARGIN_MS = 1_500;
const WATCHDOG_MS = 200;

const CLAIM_SQL = `SELECT name FROM unnest($1::text[]) AS name WHERE pg_try_advisory_lock(hashtextextended(name, 0))`;
const RELEASE_SQL = 'SELECT pg_advisory_unlock(hashtextextended($1, 0))';
/** An advisory lock's 64-bit key, rebuilt from the two halves `pg_locks` shows. */
const HELD_KEYS = `SELECT (l.classid::bigint << 32) | l.objid::bigint AS key
                     FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
                      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/**
 * The lock that says a replica's lock connection is alive: the two-key form (`objsubid` 2 in
 * `pg_locks`, apart from the session locks), this constant and a number drawn at random for each
 * lock connection. Work leased under that number (media downloads) is taken over as soon as the
 * lock is gone: the process died, or its connection did.
 */
export const LIVENESS_LOCK_CLASS = 0x77677731;
/** The live liveness numbers, as `pg_locks` shows them (`objid`, an oid: the number is kept positive). */
export const LIVE_HOLDERS_SQL = `SELECT l.objid::bigint AS holder
                                   FROM pg_locks l
                                  WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted AND l.classid = ${LIVENESS_LOCK_CLASS}
                                    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/** Told which sessions this replica can no longer prove it holds (its lock connection is gone). */
export type OwnershipLostListener = (sessionIds: string[]) => void;

/**
 * Which replica holds a session's WhatsApp connection: the one holding the session's PostgreSQL
 * advisory lock, on a connection of its own kept for that. The lock goes when the process or that
 * connection dies, and, through `idle_session_timeout`, when the process stops answering (frozen,
 * cut off from the database): a lease of `LEASE_MS` that a heartbeat renews.
 *
 * When the connection is lost, or its lease cannot be proven any more, every session is let go at
 * once (the listeners close their sockets) and the connection is closed; the take-over loop takes
 * sessions again, on a new connection, like any replica would.
 */
@Injectable()
export class SessionOwnershipService implements OnApplicationShutdown {
  private client: Promise<Client> | null = null;
  /** Held sessions, with when each was taken. */
  private readonly held = new Map<string, number>();
  private readonly lostListeners = new Set<OwnershipLostListener>();
  /** Until when the locks are proven ours (`performance.now()` time: steady when the wall clock jumps). */
  private provenUntil = 0;
  /** The liveness number of the current lock connection (see `LIVENESS_LOCK_CLASS`). */
  private holderNumber: number | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  holds(id: string): boolean {
    return this.held.has(id);
  }

  heldIds(): string[] {
    return [...this.held.keys()];
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** When this replica took session `id` (epoch ms), if it holds it. */
  heldSince(id: string): number | undefined {
    return this.held.get(id);
  }

  onLost(listener: OwnershipLostListener): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** Opens the lock connection, which makes this process count as a replica that holds sessions. */
  async connect(): Promise<void> {
    await this.connection();
  }

  /**
   * The number under which this replica leases work while its lock connection lives; the
   * connection is opened when there is none. When it is lost, the `onLost` listeners hear of it
   * and the number is dead for every replica at once.
   */
  async liveHolder(): Promise<number> {
    await this.connection();
    if (this.holderNumber === null) throw new Error('the lock connection has no liveness lock');
    return this.holderNumber;
  }

  /** Whether `holder` is still the liveness number of this replica's lock connection. */
  isLiveHolder(holder: number): boolean {
    return this.holderNumber === holder;
  }

  /** Whether this process holds session `id` now; takes it when no other replica does. */
  async claim(id: string): Promise<boolean> {
    return (await this.claimMany([id])).length === 1;
  }

  /** Takes, of `ids`, the sessions no replica holds; returns those it took (and already held). */
  async claimMany(ids: readonly string[]): Promise<string[]> {
    const fresh = ids.filter((id) => !this.held.has(id));
    if (fresh.length > 0) {
      const client = await this.connection();
      const sent = performance.now();
      const { rows } = await client.query<{ name: string }>(CLAIM_SQL, [fresh.map(ownershipLockName)]);
      this.proven(sent);
      for (const { name } of rows) this.held.set(name.slice(OWNERSHIP_LOCK_PREFIX.length), Date.now());
      this.metrics.sessionsHeld.set(this.held.size);
    }
    return ids.filter((id) => this.held.has(id));
  }

  /** Lets another replica take the session. */
  async release(id: string): Promise<void> {
    if (!this.held.delete(id)) return;
    this.metrics.sessionsHeld.set(this.held.size);
    const client = await this.client?.catch(() => null);
    try {
      await client?.query(RELEASE_SQL, [ownershipLockName(id)]);
    } catch (error) {
      // The lock dies with its connection anyway.
      this.logger.warn({ err: error, sessionId: id }, 'could not release a session lock');
    }
  }

  /**
   * How many sessions each replica holds: one lock connection per replica that holds (or may
   * take) sessions, in this database, and the session locks on it.
   */
  async holdings(): Promise<number[]> {
    const rows = await this.dataSource.query<{ held: number }[]>(
      `SELECT (SELECT count(*)::int FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted) AS held
         FROM pg_stat_activity a
        WHERE a.datname = current_database() AND a.application_name = $1`,
      [OWNERSHIP_APPLICATION_NAME],
    );
    return rows.map((row) => row.held);
  }

  /** Whether any replica (this one included) holds session `id`. */
  async heldAnywhere(id: string): Promise<boolean> {
    if (this.held.has(id)) return true;
    const rows = await this.dataSource.query<{ held: boolean }[]>(
      `SELECT hashtextextended($1, 0) IN (${HELD_KEYS}) AS held`,
      [ownershipLockName(id)],
    );
    return rows[0].held;
  }

  /**
   * The sockets are closed by now (the providers close them before this hook): the sessions go to
   * the other replicas at once, not when they next look.
   */
  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    this.stopTimers();
    const client = await this.client?.catch(() => null);
    await client?.end().catch(() => undefined);
    if (!client || this.held.size === 0) return;
    this.held.clear();
    // Once the locks are gone with their connection, so that the others no longer count this replica.
    const notifier = new Client({ connectionString: this.config.databaseUrl, application_name: 'whatsapp-gateway' });
    try {
      await notifier.connect();
      await notifier.query(`SELECT pg_notify('${RELEASED_CHANNEL}', '')`);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not tell the other replicas to take the sessions now');
    } finally {
      await notifier.end().catch(() => undefined);
    }
  }

  private connection(): Promise<Client> {
    if (this.closed) return Promise.reject(new Error('shutting down'));
    this.client ??= this.open().catch((error: unknown) => {
      this.client = null;
      throw error;
    });
    return this.client;
  }

  private async open(): Promise<Client> {
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: OWNERSHIP_APPLICATION_NAME });
    client.on('error', (error) => this.lose(client, error));
    client.on('end', () => this.lose(client, new Error('the connection ended')));
    await client.connect();
    const sent = performance.now();
    await client.query(`SET idle_session_timeout = ${LEASE_MS}`);
    this.holderNumber = await this.takeLivenessLock(client);
    this.proven(sent);
    this.startTimers(client);
    return client;
  }

  /** A number no live lock connection has, locked on `client` for as long as it lives. */
  private async takeLivenessLock(client: Client): Promise<number> {
    for (;;) {
      const number = randomInt(1, 2 ** 31);
      const { rows } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS taken', [LIVENESS_LOCK_CLASS, number]);
      if (rows[0].taken) return number;
    }
  }

  private proven(sentAt: number): void {
    this.provenUntil = Math.max(this.provenUntil, sentAt + LEASE_MS - LEASE_MARGIN_MS);
  }

  private startTimers(client: Client): void {
    this.stopTimers();
    let beating = false;
    this.heartbeat = setInterval(() => {
      if (beating) return;
      beating = true;
      const sent = performance.now();
      client
        .query('SELECT 1')
        .then(() => this.proven(sent))
        .catch(() => undefined)
        .finally(() => (beating = false));
    }, HEARTBEAT_MS).unref();
    // Timers run first when a frozen process resumes: the sockets close before anything else happens.
    this.watchdog = setInterval(() => {
      if (performance.now() > this.provenUntil) this.lose(client, new Error(`no heartbeat answered for ${LEASE_MS - LEASE_MARGIN_MS} ms`));
    }, WATCHDOG_MS).unref();
  }

  private stopTimers(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.watchdog) clearInterval(this.watchdog);
    this.heartbeat = this.watchdog = null;
  }

  /** The locks of `client` can no longer be proven: every session goes, and the connection with them. */
  private lose(client: Client, error: Error): void {
    if (this.closed) return;
    void this.client?.then((current) => {
      if (current !== client) return;
      this.client = null;
      this.stopTimers();
      this.provenUntil = 0;
      this.holderNumber = null;
      client.removeAllListeners('end');
      void client.end().catch(() => undefined);
      const lost = [...this.held.keys()];
      this.held.clear();
      this.metrics.sessionsHeld.set(0);
      this.logger.error({ err: error, sessions: lost.length }, 'lost the database connection that holds session locks; letting every session go');
      for (const listener of this.lostListeners) {
        try {
          listener(lost);
        } catch (listenerError) {
          this.logger.error({ err: listenerError }, 'a listener failed on lost session locks');
        }
      }
    }, () => undefined);
  }
}
