import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../common/logging/logging.module';
import { AppConfig } from '../config/app-config';
import { EventNotifications } from '../events/event-notifications.service';
import { ClaimedDelivery, deliveryKey, WebhookDeliveriesRepository, WebhookRef } from './webhook-deliveries.repository';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookSecretBox } from './webhook-secret-box';
import { AttemptResult, WebhookSender } from './webhook-sender';
import { backoffDelayMs, WEBHOOK_TUNING, WebhookTuning } from './webhook-tuning';

/** A claim outlives its attempt by this much, so that the outcome is recorded before anyone else may claim. */
const LEASE_MARGIN_MS = 5000;
/** A queued delivery starts only if it waited less than the lease margin minus this. */
const QUEUE_SAFETY_MS = 1000;
const GONE = 410;

/**
 * A claim takes up to this many rounds of a webhook's slots, queued here, so that a busy webhook
 * is not held back by a claim per attempt. A queued delivery starts only while its lease still
 * covers a whole attempt; one that waited longer is given back.
 */
const PREFETCH_ROUNDS = 4;
/** Most 2xx answers recorded by one statement. */
const DELIVERED_BATCH = 500;

interface DeliveredAnswer {
  delivery: ClaimedDelivery;
  statusCode: number;
  resolve: (recorded: boolean) => void;
  reject: (error: unknown) => void;
}

interface InFlight {
  delivery: ClaimedDelivery;
  done: Promise<void>;
}

/**
 * Delivers the event log's webhook deliveries. Any replica delivers, none an attempt that another
 * is making: due rows are claimed with `FOR UPDATE SKIP LOCKED` and leased, the claim committed
 * before the request, the outcome recorded after it. Each webhook has at most
 * `WEBHOOK_CONCURRENCY` attempts in flight in this process, and a claim takes at most a few rounds
 * of a webhook's slots (queued here), so a slow receiver only ever holds its own. The event log's
 * notifications, and a poll every `pollMs` (retries coming due, notifications lost), look at every
 * webhook; an attempt that ends starts the next queued one and refills its own webhook only. A failed attempt
 * pauses its whole webhook (5 s, 30 s, 2 min, … by failed round): a receiver that is down is
 * probed once per pause, and its backlog flows as soon as it answers again.
 */
@Injectable()
export class WebhookDispatcher implements OnModuleInit, BeforeApplicationShutdown {
  private readonly inFlight = new Map<string, Set<InFlight>>();
  /** Claimed deliveries waiting for a slot, by webhook key, oldest first. */
  private readonly queued = new Map<string, { delivery: ClaimedDelivery; claimedAt: number }[]>();
  private readonly abort = new AbortController();
  private readonly leaseMs: number;
  private poll: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  /** The claim loop running now, if any. */
  private claiming: Promise<void> | null = null;
  /** What the next claim is for: every webhook, or these. */
  private claimEverything = false;
  private readonly refills = new Map<string, WebhookRef>();
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private readonly deliveredQueue: DeliveredAnswer[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly config: AppConfig,
    @Inject(WEBHOOK_TUNING) private readonly tuning: WebhookTuning,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly sender: WebhookSender,
    private readonly secrets: WebhookSecretBox,
    private readonly notifications: EventNotifications,
    private readonly metrics: WebhookMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.leaseMs = config.webhookTimeoutMs + LEASE_MARGIN_MS;
  }

  onModuleInit(): void {
    this.unsubscribe = this.notifications.subscribe(() => this.wake());
    this.poll = setInterval(() => this.wake(), this.tuning.pollMs);
    this.poll.unref();
    this.wake();
  }

  /**
   * Stops claiming, lets attempts in flight finish for up to `drainMs`, then abandons the rest and
   * makes them due again at once, for another replica or the next start. Called once by the
   * graceful shutdown with its share of the grace, and again (finding nothing to do) by `app.close()`.
   */
  stop(drainMs = this.tuning.drainMs): Promise<void> {
    this.stopping ??= this.drain(drainMs);
    return this.stopping;
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  private async drain(drainMs: number): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.poll) clearInterval(this.poll);
    await this.claiming;
    const waiting = [...this.queued.values()].flatMap((queue) => queue.map((q) => q.delivery));
    this.queued.clear();
    await this.giveBack(waiting);
    const pending = [...this.inFlight.values()].flatMap((set) => [...set]);
    if (pending.length === 0) {
      await this.flushing;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      // Attempts, then the outcomes they answered, still being written.
      Promise.all(pending.map((p) => p.done))
        .then(() => this.flushing)
        .then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), drainMs);
      }),
    ]);
    clearTimeout(timer);
    if (drained) return;
    const abandoned = [...this.inFlight.values()].flatMap((set) => [...set].map((p) => p.delivery));
    this.abort.abort();
    try {
      await this.deliveries.release(abandoned, true);
    } catch (error) {
      // Their leases run out by themselves; they are retried then.
      this.logger.warn({ err: error, deliveries: abandoned.length }, 'could not give back abandoned webhook deliveries');
    }
  }

  /** Looks for due deliveries of every webhook now. */
  wake(): void {
    this.claimEverything = true;
    this.kick();
  }

  /** Looks for due deliveries of one webhook now (one of its attempts ended). */
  private refill(orgId: string, webhookId: string): void {
    this.refills.set(webhookKey(orgId, webhookId), { orgId, webhookId });
    this.kick();
  }

  /**
   * Claims run one at a time, so that each sees what the one before started: no webhook gets more
   * than its slots. Requests arriving meanwhile are merged into the next claim.
   */
  private kick(): void {
    if (this.stopped || this.claiming) return;
    this.claiming = this.claimLoop().finally(() => {
      this.claiming = null;
    });
  }

  private async claimLoop(): Promise<void> {
    try {
      while (!this.stopped && (this.claimEverything || this.refills.size > 0)) {
        const only = this.claimEverything ? null : [...this.refills.values()];
        this.claimEverything = false;
        this.refills.clear();
        const busy = new Set([...this.inFlight.keys(), ...this.queued.keys()]);
        const claimed = await this.deliveries.claim(
          this.config.webhookConcurrency * PREFETCH_ROUNDS,
          [...busy].map((key) => ({ ...splitKey(key), inFlight: (this.inFlight.get(key)?.size ?? 0) + (this.queued.get(key)?.length ?? 0) })),
          this.tuning.claimBatch,
          this.leaseMs,
          only,
        );
        if (this.stopped) {
          // Shutdown began during the claim: give the deliveries back rather than start them.
          await this.deliveries.release(claimed, false);
          return;
        }
        const claimedAt = Date.now();
        const keys = new Set<string>();
        for (const delivery of claimed) {
          const key = webhookKey(delivery.orgId, delivery.webhookId);
          const queue = this.queued.get(key) ?? [];
          queue.push({ delivery, claimedAt });
          this.queued.set(key, queue);
          keys.add(key);
        }
        for (const key of keys) this.pump(key);
        // A full batch may have left due deliveries behind.
        if (claimed.length >= this.tuning.claimBatch) this.claimEverything = true;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not claim webhook deliveries; trying again at the next poll');
    }
  }

  /** Starts queued deliveries of one webhook while it has free slots; asks for more when few are left. */
  private pump(key: string): void {
    const queue = this.queued.get(key) ?? [];
    const stale: ClaimedDelivery[] = [];
    while (queue.length > 0 && (this.inFlight.get(key)?.size ?? 0) < this.config.webhookConcurrency) {
      const { delivery, claimedAt } = queue.shift()!;
      // The lease (timeout + margin, from the claim) must outlast the whole attempt.
      if (Date.now() - claimedAt > LEASE_MARGIN_MS - QUEUE_SAFETY_MS) stale.push(delivery);
      else this.start(delivery);
    }
    if (queue.length === 0) this.queued.delete(key);
    void this.giveBack(stale);
    if (!this.stopped && queue.length < this.config.webhookConcurrency) {
      const { orgId, webhookId } = splitKey(key);
      this.refill(orgId, webhookId);
    }
  }

  /** Claims never started: due again at once, and not counted as attempts. */
  private async giveBack(deliveries: ClaimedDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    try {
      await this.deliveries.release(deliveries, false);
    } catch (error) {
      // Their leases run out by themselves; they are claimed again then.
      this.logger.warn({ err: error, deliveries: deliveries.length }, 'could not give back queued webhook deliveries');
    }
  }

  private start(delivery: ClaimedDelivery): void {
    const key = webhookKey(delivery.orgId, delivery.webhookId);
    let set = this.inFlight.get(key);
    if (!set) {
      set = new Set();
      this.inFlight.set(key, set);
    }
    const entry: InFlight = { delivery, done: Promise.resolve() };
    set.add(entry);
    entry.done = this.attempt(delivery)
      .catch((error: unknown) => {
        // The lease runs out and the delivery is claimed again.
        this.logger.error({ err: error, webhookId: delivery.webhookId, eventId: delivery.eventId }, 'webhook delivery attempt failed');
      })
      .finally(() => {
        set.delete(entry);
        if (set.size === 0 && this.inFlight.get(key) === set) this.inFlight.delete(key);
        if (!this.stopped) this.pump(key);
      });
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    if (delivery.payload === null) {
      await this.recordFailure(delivery, { statusCode: null, durationMs: 0, error: 'the event is no longer kept' }, true);
      return;
    }
    let secrets: string[];
    try {
      secrets = this.secrets.signingSecrets(delivery.orgId, delivery.webhookId, delivery.secret, delivery.previousSecret);
    } catch (error) {
      this.logger.error({ err: error, webhookId: delivery.webhookId }, 'cannot read a webhook signing secret');
      await this.recordFailure(delivery, { statusCode: null, durationMs: 0, error: 'the signing secret cannot be read' }, false);
      return;
    }
    const result = await this.sender.send(delivery.url, secrets, delivery.eventId, delivery.payload, this.abort.signal);
    // Abandoned at shutdown: `beforeApplicationShutdown` gives it back.
    if (this.abort.signal.aborted) return;
    if (result.error === null) {
      // The slot is free as soon as the receiver answered: the delivery stays leased until its
      // outcome is written (with others', by the next batch), so nobody attempts it again meanwhile.
      const answeredAt = Date.now();
      void this.recordDelivered(delivery, result.statusCode!).then(
        (recorded) => {
          if (!recorded) return;
          this.metrics.deliveries.inc({ outcome: 'delivered' });
          if (delivery.eventCreatedAt !== null) {
            this.metrics.deliverySeconds.observe(Math.max(0, answeredAt - delivery.eventCreatedAt) / 1000);
          }
        },
        (error: unknown) => {
          // The lease runs out and the delivery is attempted again: at least once.
          this.logger.warn({ err: error, webhookId: delivery.webhookId, eventId: delivery.eventId }, 'could not record a webhook delivery');
        },
      );
      return;
    }
    await this.recordFailure(delivery, result, result.statusCode === GONE);
  }

  /**
   * Records a 2xx. Answers that arrive while a write is under way are written together by the
   * next one: under load, one statement records many deliveries.
   */
  private recordDelivered(delivery: ClaimedDelivery, statusCode: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.deliveredQueue.push({ delivery, statusCode, resolve, reject });
      this.flushing ??= this.flushDelivered().finally(() => {
        this.flushing = null;
      });
    });
  }

  private async flushDelivered(): Promise<void> {
    while (this.deliveredQueue.length > 0) {
      const batch = this.deliveredQueue.splice(0, DELIVERED_BATCH);
      try {
        const recorded = await this.deliveries.recordDelivered(batch);
        for (const item of batch) item.resolve(recorded.has(deliveryKey(item.delivery)));
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
  }

  private async recordFailure(delivery: ClaimedDelivery, result: AttemptResult, final: boolean): Promise<void> {
    // The webhook is paused now: what is queued for it waits for the next round, on any replica.
    const key = webhookKey(delivery.orgId, delivery.webhookId);
    const waiting = this.queued.get(key) ?? [];
    this.queued.delete(key);
    void this.giveBack(waiting.map((q) => q.delivery));
    const gone = result.statusCode === GONE;
    const outcome = await this.deliveries.recordFailed(delivery, {
      statusCode: result.statusCode,
      error: result.error ?? 'failed',
      final,
      disableReason: gone ? 'the receiver answered 410 Gone' : null,
      retryInMs: backoffDelayMs(this.tuning, delivery.attempts),
      giveUpAfterMs: this.tuning.giveUpAfterMs,
      disableAfterMs: this.tuning.disableAfterMs,
      pauseScheduleMs: this.tuning.backoffMs,
      pauseJitter: 1 - this.tuning.jitter + 2 * this.tuning.jitter * Math.random(),
    });
    if (!outcome) return;
    this.metrics.deliveries.inc({ outcome: outcome.status === 'failed' ? 'failed' : 'retry' });
    if (outcome.disabled) {
      this.logger.warn({ orgId: delivery.orgId, webhookId: delivery.webhookId, error: result.error }, 'webhook disabled');
    }
  }
}

function webhookKey(orgId: string, webhookId: string): string {
  return `${webhookId}\n${orgId}`;
}

function splitKey(key: string): { orgId: string; webhookId: string } {
  const cut = key.indexOf('\n');
  return { webhookId: key.slice(0, cut), orgId: key.slice(cut + 1) };
}
