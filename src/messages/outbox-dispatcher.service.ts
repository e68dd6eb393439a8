import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hostname } from 'node:os';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ulid } from 'ulid';
import { LOGGER } from '../common/logging/logging.module';
import { sleep, withTimeout } from '../common/time';
import { EventLogRepository } from '../events/event-log.repository';
import { EventNotifications } from '../events/event-notifications.service';
import { MediaStore, objectKey } from '../media/media-store';
import { MetricsService } from '../metrics/metrics.service';
import { ClaimedEntry, ExpiredEntry, OUTBOX_CHANNEL, OutboxRepository } from '../outbox/outbox.repository';
import { SessionOwnershipService } from '../sessions/session-ownership.service';
import { ProviderRegistry } from '../whatsapp/providers/provider-registry';
import {
  ChatAction,
  ChatStateChange,
  OutgoingContacts,
  OutgoingFile,
  OutgoingLocation,
  OutgoingMedia,
  OutgoingMessage,
  OutgoingText,
} from '../whatsapp/whatsapp-provider';
import { ChangeRecorder } from './change-recorder';
import { MessagesRepository } from './messages.repository';

/** What an outbox row of a send carries: the message, with its file's fields (the file is in the media store). */
export type QueuedSend =
  | OutgoingText
  | OutgoingLocation
  | OutgoingContacts
  | (Omit<OutgoingMedia, 'media'> & { media: Omit<OutgoingFile, 'open'> });

/** A send not attempted within this long of its 202 is failed (API.md §11). */
export const SEND_DEADLINE_SECONDS = 60;
/**
 * An attempt whose outcome is not recorded this long after it started was cut short by the death
 * of its replica: it is failed, never attempted again (WhatsApp may have it already).
 */
export const ATTEMPT_LIMIT_SECONDS = 20;
/** How often every replica looks for rows it should carry out (a notification may have been missed) and for expired ones. */
const POLL_MS = 2_000;
/**
 * Rows any replica may carry out (`external` sessions) are left this long to the replica that
 * took the request, which starts at once; after that any replica does.
 */
const STALE_SECONDS = 5;
/** Sessions whose rows are carried out at the same time. */
const CONCURRENT_SESSIONS = 16;
/** Attempts of one session at the same time, started in the order of the requests. */
const ATTEMPTS_PER_SESSION = 8;
const EXPIRE_BATCH = 100;
/** Attempts to record an outcome while the database is briefly unavailable. */
const OUTCOME_WRITE_ATTEMPTS = 3;
const OUTCOME_RETRY_MS = 500;
/** On shutdown, attempts in progress get this long to finish and record their outcome. */
const SHUTDOWN_WAIT_MS = 8_000;

/**
 * Carries out the outbox (see `OutboxRepository`): the replica holding a session sends its
 * messages and applies its chat changes, in order; rows of a provider without a connection in the
 * process (`external`) are carried out by the replica that took the request, or by any replica
 * once that one is late. A row is marked as attempted (committed) before the one attempt, and
 * removed with the outcome. Each replica wakes on the holder's notification, on a send it took
 * itself, and every `POLL_MS`, when it also fails what is past its deadline, with the reason.
 */
@Injectable()
export class OutboxDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** Who attempted a row, in the row and the logs. */
  private readonly replica = `${hostname()}:${process.pid}:${ulid()}`.slice(-64);
  /** Sessions to look at. */
  private readonly wanted = new Set<string>();
  private readonly active = new Map<string, Promise<void>>();
  /** Sessions being carried out that wait for their attempts to end, woken early by a new row. */
  private readonly pokes = new Map<string, () => void>();
  /** Sessions poked since their last claim. */
  private readonly fresh = new Set<string>();
  private idleWaiters: (() => void)[] = [];
  private readonly stopping = new AbortController();
  private polling: Promise<void> | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
    private readonly messages: MessagesRepository,
    private readonly eventLog: EventLogRepository,
    private readonly ownership: SessionOwnershipService,
    private readonly providers: ProviderRegistry,
    private readonly notifications: EventNotifications,
    private readonly metrics: MetricsService,
    private readonly store: MediaStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.notifications.listen(OUTBOX_CHANNEL, (sessionId) => {
      if (sessionId === '*') void this.pollOnce();
      // Every replica hears every row; only the holder has something to do.
      else if (this.ownership.holds(sessionId)) this.poke(sessionId);
    });
    this.polling = this.poll();
  }

  /** Carries out what the session's outbox holds that this replica may carry out. */
  poke(sessionId: string): void {
    if (this.stopping.signal.aborted) return;
    this.wanted.add(sessionId);
    this.fresh.add(sessionId);
    this.pokes.get(sessionId)?.();
    this.kick();
  }

  /** Resolves once nothing is being carried out or waiting to be, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.idle()) return;
    await withTimeout(new Promise<void>((resolve) => this.idleWaiters.push(resolve)), timeoutMs, () => undefined);
  }

  /** Stops taking rows; attempts in progress get to record their outcome. What is left waits for the next holder. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    this.wanted.clear();
    await this.polling;
    await this.drain(SHUTDOWN_WAIT_MS);
  }

  private idle(): boolean {
    return this.wanted.size === 0 && this.active.size === 0;
  }

  private kick(): void {
    for (const sessionId of this.wanted) {
      if (this.active.size >= CONCURRENT_SESSIONS) return;
      // A session being worked on is looked at again when that ends: a row may have come meanwhile.
      if (this.active.has(sessionId)) continue;
      this.wanted.delete(sessionId);
      const run = this.carryOut(sessionId)
        .catch((error: unknown) => this.logger.error({ err: error, sessionId }, 'could not carry out the outbox of a session'))
        .finally(() => {
          this.active.delete(sessionId);
          this.kick();
          if (this.idle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
        });
      this.active.set(sessionId, run);
    }
  }

  /** The session's rows, in order, a few attempts at a time, while this replica may carry them out. */
  private async carryOut(sessionId: string): Promise<void> {
    const attempts = new Set<Promise<void>>();
    try {
      while (!this.stopping.signal.aborted) {
        if (attempts.size >= ATTEMPTS_PER_SESSION) {
          await Promise.race(attempts);
          continue;
        }
        this.fresh.delete(sessionId);
        const providers = this.providersFor(sessionId);
        if (providers.length === 0) return;
        const entry = await this.outbox.claimNext(sessionId, providers, this.replica, SEND_DEADLINE_SECONDS);
        if (!entry) {
          if (attempts.size === 0) return;
          if (this.fresh.has(sessionId)) continue;
          // A row that comes while attempts are in flight starts at once, not after them.
          await Promise.race([...attempts, new Promise<void>((resolve) => this.pokes.set(sessionId, resolve))]);
          this.pokes.delete(sessionId);
          continue;
        }
        // Checked again after the claim's round trip, and then the attempt starts without a pause: a
        // connection that went meanwhile (given away, lost) leaves the row, unattempted, to the next holder.
        if (!this.providersFor(sessionId).includes(entry.provider)) {
          await this.outbox.unclaim(entry, this.replica);
          return;
        }
        const attempt: Promise<void> = this.attempt(entry).finally(() => attempts.delete(attempt));
        attempts.add(attempt);
      }
    } finally {
      await Promise.all(attempts);
    }
  }

  /** The providers whose rows of the session this replica can carry out now (a session has one provider). */
  private providersFor(sessionId: string): string[] {
    return this.providers
      .all()
      .filter((provider) => (!provider.holdsConnection || this.ownership.holds(sessionId)) && provider.canSend(sessionId))
      .map((provider) => provider.name);
  }

  private async attempt(entry: ClaimedEntry): Promise<void> {
    const provider = this.providers.get(entry.provider);
    const session = { id: entry.sessionId, orgId: entry.orgId };
    if (entry.kind !== 'send') {
      // Best effort, as on WhatsApp itself: the stored copy keeps the change whatever the outcome.
      const what = entry.kind === 'chat-state' ? 'a chat change' : 'an action';
      try {
        if (entry.kind === 'chat-state') await provider.applyChatState(session, entry.chatJid, entry.payload as ChatStateChange);
        else await provider.act(session, entry.chatJid, entry.payload as ChatAction);
      } catch (error) {
        this.logger.warn(
          { err: error, sessionId: entry.sessionId, chatJid: entry.chatJid, messageId: entry.messageId },
          `could not apply ${what} to WhatsApp`,
        );
      }
      await this.outbox.complete(entry, this.replica).catch((error: unknown) =>
        this.logger.warn({ err: error, sessionId: entry.sessionId }, `could not remove ${what} from the outbox`),
      );
      return;
    }
    let outcome: 'sent' | 'failed' = 'sent';
    try {
      await provider.send(session, entry.chatJid, this.outgoing(entry.orgId, entry.payload as QueuedSend));
    } catch (error) {
      outcome = 'failed';
      this.logger.warn({ err: error, sessionId: entry.sessionId, chatJid: entry.chatJid, messageId: entry.messageId }, 'send failed');
    }
    this.metrics.recordSend(outcome);
    await this.recordOutcome(entry, outcome);
  }

  /** The stored payload, with the file streamed from the media store when the provider asks for it. */
  private outgoing(orgId: string, queued: QueuedSend): OutgoingMessage {
    if (!('media' in queued)) return queued;
    const key = objectKey(orgId, queued.media.sha256);
    return {
      ...queued,
      media: {
        ...queued.media,
        open: async () => {
          const stream = await this.store.open(key);
          if (!stream) throw new Error('the file to send is missing from the media store');
          return stream;
        },
      },
    };
  }

  /** The outcome moves the message forward (a receipt that came first is kept), and the row goes. */
  private async recordOutcome(entry: ClaimedEntry, status: 'sent' | 'failed'): Promise<void> {
    const { sessionId, chatJid, messageId } = entry;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dataSource.transaction(async (manager) => {
          const runner = manager.queryRunner!;
          const changes = new ChangeRecorder(sessionId);
          changes.messagesWritten(await this.messages.applyChanges(runner, sessionId, [{ chatJid, id: messageId!, status, revoked: false }]));
          await this.eventLog.append(runner, entry.orgId, changes.events());
          await this.outbox.complete(entry, this.replica, runner);
        });
        return;
      } catch (error) {
        if (attempt >= OUTCOME_WRITE_ATTEMPTS) {
          this.logger.error({ err: error, sessionId, chatJid, messageId, status }, 'could not record the outcome of a send');
          return;
        }
        await sleep(OUTCOME_RETRY_MS);
      }
    }
  }

  private async poll(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      await sleep(POLL_MS * (0.75 + Math.random() / 2), this.stopping.signal);
      if (!this.stopping.signal.aborted) await this.pollOnce();
    }
  }

  /** Rows a notification did not bring (missed, or of a session taken over since), and rows past their deadline. */
  private async pollOnce(): Promise<void> {
    try {
      const anyReplica = this.providers.all().filter((provider) => !provider.holdsConnection).map((provider) => provider.name);
      for (const sessionId of await this.outbox.waitingSessions(this.ownership.heldIds(), anyReplica, STALE_SECONDS)) this.poke(sessionId);
      while ((await this.expire()) === EXPIRE_BATCH && !this.stopping.signal.aborted);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not look at the outbox; trying again');
    }
  }

  /** Fails (with the reason in the log) a batch of sends past their deadline and drops chat changes past it; returns how many rows. */
  private async expire(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const runner = manager.queryRunner!;
      const expired = await this.outbox.expire(runner, EXPIRE_BATCH, SEND_DEADLINE_SECONDS, ATTEMPT_LIMIT_SECONDS);
      const bySession = new Map<string, ExpiredEntry[]>();
      for (const entry of expired) {
        const reason = entry.interrupted
          ? 'the replica attempting it stopped before recording the outcome; it is not attempted again'
          : `no replica holding the session could attempt it within ${SEND_DEADLINE_SECONDS} s`;
        this.logger.warn(
          { sessionId: entry.sessionId, chatJid: entry.chatJid, messageId: entry.messageId, kind: entry.kind, reason },
          entry.kind === 'send' ? 'send failed' : entry.kind === 'chat-state' ? 'chat change not applied to WhatsApp' : 'action not applied to WhatsApp',
        );
        if (entry.kind === 'send') bySession.set(entry.sessionId, [...(bySession.get(entry.sessionId) ?? []), entry]);
      }
      for (const [sessionId, entries] of bySession) {
        const changes = new ChangeRecorder(sessionId);
        const failed = entries.map((entry) => ({ chatJid: entry.chatJid, id: entry.messageId!, status: 'failed' as const, revoked: false }));
        changes.messagesWritten(await this.messages.applyChanges(runner, sessionId, failed));
        await this.eventLog.append(runner, entries[0].orgId, changes.events());
        for (let i = 0; i < entries.length; i++) this.metrics.recordSend('failed');
      }
      return expired.length;
    });
  }
}
