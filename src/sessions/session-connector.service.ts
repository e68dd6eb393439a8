import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../common/logging/logging.module';
import { sleep, withTimeout } from '../common/time';
import { AppConfig, ProviderName } from '../config/app-config';
import { EventNotifications } from '../events/event-notifications.service';
import { MetricsService } from '../metrics/metrics.service';
import { ProviderRegistry } from '../whatsapp/providers/provider-registry';
import { ProviderSession, WhatsAppProvider } from '../whatsapp/whatsapp-provider';
import { OWNERSHIP_LOCK_PREFIX, RELEASED_CHANNEL, SessionOwnershipService } from './session-ownership.service';
import { SESSIONS_CHANNEL, SessionsRepository } from './sessions.repository';

/** Every replica looks for sessions nobody holds this often, give or take half, so that replicas do not look in step. */
const TAKEOVER_INTERVAL_MS = 3_000;
/** The sessions one look takes are connected one after another, at most this far apart... */
const MAX_CONNECT_STAGGER_MS = 100;
/** ...and all within this long: no thundering herd on WhatsApp, and a dead replica's sessions back within 15 s. */
const CONNECT_SPREAD_MS = 3_000;
/** A session deleted on another replica is logged out by its holder within this long at most. */
const LOGOUT_TIMEOUT_MS = 5_000;
/** A held session without a row is left alone this long: it may be one this replica is creating right now. */
const CREATING_GRACE_MS = 10_000;

/**
 * Connects sessions and keeps each `baileys` session held, by exactly one replica, while it is not
 * logged out. Every replica that runs with `WA_PROVIDER=baileys` looks every few seconds (the
 * first time at start) for sessions no replica holds (see `SessionOwnershipService`) and takes its
 * share of them: the connectable sessions divided by the replicas, rounded up. So a dead replica's
 * sessions come back on the others within seconds, and a new replica gets sessions as the others
 * give away what they hold beyond their share (while some replica holds less, or they hold a
 * tenth more), a few at a time; none takes them all.
 *
 * The holder also lets go of what it should not hold any more: a session deleted (on any replica:
 * a notification, or the next look), purged or logged out. And when its lock connection is lost,
 * it closes every socket at once, before another replica can take the sessions.
 *
 * Only a gateway that runs with `WA_PROVIDER=baileys` takes sessions over: one that runs with
 * `external` holds no WhatsApp Web connection of its own. (This also keeps test apps, which run
 * `external`, away from other tests' sessions.)
 */
@Injectable()
export class SessionConnectorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** Aborted on shutdown: the loop stops, a pause in it ends at once. */
  private readonly stopping = new AbortController();
  private looping: Promise<void> | null = null;
  /** Deleted sessions being logged out, so that a notification and a look do not do it twice. */
  private readonly letting = new Map<string, Promise<void>>();
  /** Ends the pause before the next look (another replica gave sessions away). */
  private wake: (() => void) | null = null;

  constructor(
    private readonly repository: SessionsRepository,
    private readonly providers: ProviderRegistry,
    private readonly ownership: SessionOwnershipService,
    private readonly notifications: EventNotifications,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Makes this process the holder of a session it is about to create, when its provider needs
   * one; called before the row exists, so that no other replica can take it first.
   */
  async hold(provider: ProviderName, sessionId: string): Promise<void> {
    if (this.providers.get(provider).holdsConnection) await this.ownership.claim(sessionId);
  }

  /** Lets go of a session whose row could not be stored. */
  async drop(provider: ProviderName, sessionId: string): Promise<void> {
    if (this.providers.get(provider).holdsConnection) await this.ownership.release(sessionId);
  }

  /** Whether this process holds the session's connection. */
  holdsHere(sessionId: string): boolean {
    return this.ownership.holds(sessionId);
  }

  /** Asks the provider to connect; a failure is logged, never thrown (the status tells the rest). */
  async connect(provider: WhatsAppProvider, session: ProviderSession): Promise<void> {
    try {
      await provider.connect(session);
    } catch (error) {
      this.logger.warn({ err: error, sessionId: session.id }, 'provider could not start the session');
    }
  }

  /**
   * After session `sessionId` was marked deleted: logs it out and lets it go when this replica
   * holds it; otherwise waits (as long as a logout may take) for the replica that holds it to do
   * so, and logs it out here when nobody does (its credentials go).
   */
  async letGoOfDeleted(provider: WhatsAppProvider, sessionId: string): Promise<void> {
    if (!provider.holdsConnection) {
      await this.logoutBounded(provider, sessionId);
      return;
    }
    if (this.ownership.holds(sessionId)) {
      await this.letGo(sessionId);
      return;
    }
    const deadline = Date.now() + LOGOUT_TIMEOUT_MS + 1_000;
    while (await this.ownership.heldAnywhere(sessionId)) {
      if (Date.now() > deadline) {
        this.logger.warn({ sessionId }, 'the replica holding a deleted session did not let it go in time');
        return;
      }
      await sleep(100);
    }
    await this.logoutBounded(provider, sessionId);
  }

  /** In the background: readiness does not wait for it. */
  onApplicationBootstrap(): void {
    this.ownership.onLost((ids) => this.onLost(ids));
    this.notifications.listen(SESSIONS_CHANNEL, (id) => this.onSessionDeleted(id));
    // Sessions given away are taken at once by a replica short of its share, not at its next look.
    this.notifications.listen(RELEASED_CHANNEL, () => this.wake?.());
    if (this.config.waProvider !== 'baileys') return;
    this.looping = this.loop('baileys');
  }

  /** Takes no more sessions; resolves once the loop has stopped. */
  async stopReconnecting(): Promise<void> {
    this.stopping.abort();
    await this.looping;
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stopReconnecting();
  }

  private async loop(name: ProviderName): Promise<void> {
    let first = true;
    while (!this.stopping.signal.aborted) {
      try {
        await this.look(name, first);
        first = false;
      } catch (error) {
        this.logger.warn({ err: error }, 'could not look for sessions to hold; trying again');
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        void sleep(TAKEOVER_INTERVAL_MS * (0.5 + Math.random()), this.stopping.signal).then(resolve);
      });
      this.wake = null;
    }
  }

  /** One look: lets go of what should not be held, then takes or gives away sessions towards this replica's share. */
  private async look(name: ProviderName, first: boolean): Promise<void> {
    const provider = this.providers.get(name);
    await this.ownership.connect();
    await this.letGoOfGone(provider);
    const [total, holdings] = await Promise.all([this.repository.countConnectable(name), this.ownership.holdings()]);
    const share = Math.ceil(total / Math.max(1, holdings.length));
    const held = this.ownership.heldCount;
    // Some slack, so that a count that changes for a moment moves nothing; none when a replica is short.
    const slack = Math.max(1, Math.ceil(share / 10));
    let connected = 0;
    if (held < share) connected = await this.take(provider, share - held);
    else if (held > share + slack || (held > share && Math.min(...holdings) < share)) await this.giveAway(provider, held - share, share);
    if (first) {
      this.logger.info({ provider: name, connected, heldElsewhere: Math.max(0, total - this.ownership.heldCount) }, 'reconnected sessions at start');
    }
  }

  /** Takes up to `wanted` sessions nobody holds and connects them, spread over a few seconds; returns how many. */
  private async take(provider: WhatsAppProvider, wanted: number): Promise<number> {
    const candidates = await this.repository.listUnheld(provider.name, OWNERSHIP_LOCK_PREFIX, wanted * 2);
    const taken: ProviderSession[] = [];
    // A few at a time: another replica may be taking from the same list.
    for (let i = 0; i < candidates.length && taken.length < wanted && !this.stopping.signal.aborted; ) {
      const batch = candidates.slice(i, i + wanted - taken.length);
      i += batch.length;
      const claimed = new Set(await this.ownership.claimMany(batch.map((session) => session.id)));
      taken.push(...batch.filter((session) => claimed.has(session.id)));
    }
    if (taken.length === 0) return 0;
    this.metrics.sessionTakeovers.inc(taken.length);
    this.logger.info({ provider: provider.name, sessions: taken.length }, 'taking over sessions no replica holds');
    const stagger = Math.min(MAX_CONNECT_STAGGER_MS, CONNECT_SPREAD_MS / taken.length);
    const connecting: Promise<void>[] = [];
    for (const session of taken) {
      if (connecting.length > 0) await sleep(stagger, this.stopping.signal);
      if (this.stopping.signal.aborted) break;
      // Lost since (its lock connection went), or deleted meanwhile: not ours to connect.
      if (!this.ownership.holds(session.id) || this.letting.has(session.id)) continue;
      connecting.push(this.connect(provider, session));
    }
    await Promise.all(connecting);
    return connecting.length;
  }

  /** Gives away sessions beyond this replica's share, a tenth of the share at a time, to the replicas that hold fewer. */
  private async giveAway(provider: WhatsAppProvider, excess: number, share: number): Promise<void> {
    const ids = this.ownership.heldIds().slice(0, Math.min(excess, Math.max(1, Math.ceil(share / 10))));
    this.logger.info({ provider: provider.name, sessions: ids.length }, 'giving away sessions beyond this replica\'s share');
    for (const id of ids) {
      if (this.stopping.signal.aborted || this.letting.has(id)) continue;
      // Its last status is written before the lock goes, so that it cannot land after the next holder's.
      await provider.disconnect(id);
      await provider.release(id);
      await this.ownership.release(id);
    }
    await this.repository.announceReleased();
  }

  /** Lets go of held sessions that were deleted (logged out), purged, or logged out on WhatsApp. */
  private async letGoOfGone(provider: WhatsAppProvider): Promise<void> {
    const ids = this.ownership.heldIds();
    if (ids.length === 0) return;
    const states = new Map((await this.repository.holdingStates(ids)).map((row) => [row.id, row]));
    for (const id of ids) {
      const state = states.get(id);
      if (state?.deleted || (!state && Date.now() - (this.ownership.heldSince(id) ?? 0) > CREATING_GRACE_MS)) {
        void this.letGo(id);
      } else if (state?.status === 'logged_out') {
        await provider.release(id);
        await this.ownership.release(id);
      }
    }
  }

  private onSessionDeleted(payload: string): void {
    if (payload === '*') {
      // Notifications may have been missed: the next look finds what was deleted meanwhile.
      return;
    }
    if (this.ownership.holds(payload)) void this.letGo(payload);
  }

  /** Logs out a deleted session this replica holds and releases its lock; once, however often asked. */
  private letGo(sessionId: string): Promise<void> {
    let letting = this.letting.get(sessionId);
    if (!letting) {
      letting = Promise.all(this.inProcess().map((provider) => this.logoutBounded(provider, sessionId)))
        .then(() => this.ownership.release(sessionId))
        .finally(() => this.letting.delete(sessionId));
      this.letting.set(sessionId, letting);
    }
    return letting;
  }

  private async logoutBounded(provider: WhatsAppProvider, sessionId: string): Promise<void> {
    try {
      if ((await withTimeout(provider.logout(sessionId), LOGOUT_TIMEOUT_MS, () => 'timeout' as const)) === 'timeout') {
        this.logger.warn({ sessionId }, 'logout did not finish in time; deleting the session anyway');
      }
    } catch (error) {
      this.logger.warn({ err: error, sessionId }, 'logout failed; deleting the session anyway');
    }
  }

  /** The lock connection is gone: another replica may take these sessions any moment, so their sockets close now. */
  private onLost(ids: string[]): void {
    for (const id of ids) {
      for (const provider of this.inProcess()) void provider.release(id);
    }
  }

  /** The providers whose connections a replica holds (a held session is of one of them). */
  private inProcess(): WhatsAppProvider[] {
    return this.providers.all().filter((provider) => provider.holdsConnection);
  }
}
