import { Logger } from 'pino';
import { AppError } from '../../common/errors/app-error';
import { isDatabaseUnavailable } from '../../common/errors/database-errors';
import { GatewayEvent } from '../../domain/gateway-events';
import { sleep, withTimeout } from '../../common/time';
import { BaileysClock } from './baileys-clock';
import { IngestionSink } from '../ingestion-sink';
import { backoffDelay } from './baileys-reconnect-policy';
import { BaileysTuning } from './baileys-tuning';

/** `history` is bulk backfill (given up first under pressure); `live` is what happens now. */
export type EventOrigin = 'history' | 'live';

/**
 * What a failed write means: `retry` (the database is busy or away: the same batch again, later),
 * `reject` (the batch itself is refused: find and drop the offending event), `session-gone` (the
 * session was deleted: nothing of this batch can land).
 */
export type WriteFailure = 'retry' | 'reject' | 'session-gone';

/** SQLSTATEs of a query that may well succeed when tried again. */
const TRANSIENT_SQLSTATE = /^(40001|40P01|55P03|57014|53)/;
/** SQLSTATE classes of data the statement refuses: retrying the same data fails the same way. */
const REJECTED_SQLSTATE = /^(22|23|42)/;

function sqlStateOf(error: unknown): string | null {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

export function classifyWriteFailure(error: unknown): WriteFailure {
  if (error instanceof AppError) {
    if (error.code === 'not_found') return 'session-gone';
    return error.code === 'unavailable' || error.code === 'rate_limited' ? 'retry' : 'reject';
  }
  if (isDatabaseUnavailable(error)) return 'retry';
  const state = sqlStateOf(error);
  if (state && TRANSIENT_SQLSTATE.test(state)) return 'retry';
  if (state && REJECTED_SQLSTATE.test(state)) return 'reject';
  // A programming error in the write path will fail again however long we wait.
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) return 'reject';
  return 'retry';
}

interface Chunk {
  events: GatewayEvent[];
  origin: EventOrigin;
}

/** What identifies an event in a log line (never its content). */
function eventRef(event: GatewayEvent): Record<string, unknown> {
  switch (event.type) {
    case 'message.upsert':
      return { type: event.type, chatId: event.message.chatId, messageId: event.message.id };
    case 'message.status':
    case 'message.edit':
    case 'message.revoke':
    case 'message.react':
      return { type: event.type, chatId: event.chatId, messageId: event.messageId };
    case 'contact.upsert':
      return { type: event.type, contactId: event.contact.id };
    case 'group.upsert':
      return { type: event.type, groupId: event.group.id };
    case 'group.participants':
      return { type: event.type, groupId: event.groupId };
    case 'chat.upsert':
      return { type: event.type, chatId: event.chat.id };
    case 'chat.delete':
      return { type: event.type, chatId: event.chatId };
    case 'session.status':
      return { type: event.type, status: event.status };
  }
}

/**
 * The events every session's queue of the process holds together. While writes fail, the queues
 * cannot shrink, so past `maxEvents` the failing queues give up events: the oldest history first
 * (history can be synced again; live events cannot), from the largest backlog first, then the
 * oldest live events. While writes succeed nothing is given up: the backlog is on its way.
 */
export class WriteQueueBudget {
  private readonly queues = new Set<SessionWriteQueue>();
  private total = 0;

  constructor(readonly maxEvents: number) {}

  /** Events waiting in every queue. */
  get size(): number {
    return this.total;
  }

  join(queue: SessionWriteQueue): void {
    this.queues.add(queue);
  }

  leave(queue: SessionWriteQueue): void {
    this.queues.delete(queue);
  }

  change(events: number): void {
    this.total += events;
  }

  /** Brings the total back under the budget at the expense of the queues whose writes fail. */
  enforce(): void {
    if (this.total <= this.maxEvents) return;
    const failing = [...this.queues].filter((queue) => queue.failing).sort((a, b) => b.waiting - a.waiting);
    for (const origin of ['history', 'live'] as const) {
      for (const queue of failing) {
        if (this.total <= this.maxEvents) break;
        queue.giveUp(origin, this.total - this.maxEvents);
      }
    }
    for (const queue of failing) queue.reportGivenUp(this.maxEvents);
  }
}

/**
 * One session's events on their way to the ingestion service: in order, in batches of at most
 * `maxBatchEvents`, each batch retried with capped backoff until the database takes it. Events
 * that arrive while a batch is being written are batched together for the next write.
 *
 * Memory is bounded process-wide by the `WriteQueueBudget` the queues share (`maxQueuedEvents`):
 * only while writes fail, past it, events are given up, and every event given up is counted in
 * an error log line. An event that the ingestion service refuses (validation, constraint) is
 * isolated by halving its batch and dropped alone, logged, so that it cannot block the session
 * forever.
 */
export class SessionWriteQueue {
  private readonly pending: Chunk[] = [];
  private pendingCount = 0;
  private inFlight = 0;
  private running = false;
  private closed = false;
  /** The last write attempt failed for a reason that waiting may fix (the database is away). */
  private writesFailing = false;
  private givenUp = { history: 0, live: 0 };
  private lingerTimer: unknown = null;
  private idleWaiters: (() => void)[] = [];
  /** Aborted by `close`: a backoff in progress ends at once. */
  private readonly closing = new AbortController();

  constructor(
    private readonly sessionId: string,
    private readonly sink: IngestionSink,
    private readonly tuning: BaileysTuning,
    private readonly clock: BaileysClock,
    private readonly logger: Logger,
    private readonly budget = new WriteQueueBudget(tuning.maxQueuedEvents),
  ) {
    budget.join(this);
  }

  /** Events waiting or being written. */
  get size(): number {
    return this.pendingCount + this.inFlight;
  }

  /** Events waiting (not yet being written): what giving up can free. */
  get waiting(): number {
    return this.pendingCount;
  }

  get failing(): boolean {
    return this.writesFailing && !this.closed;
  }

  push(events: readonly GatewayEvent[], origin: EventOrigin): void {
    if (this.closed || events.length === 0) return;
    // Chunks no larger than a batch, so that giving up history under pressure is fine-grained.
    for (let start = 0; start < events.length; start += this.tuning.maxBatchEvents) {
      const slice = events.slice(start, start + this.tuning.maxBatchEvents);
      this.pending.push({ events: slice, origin });
      this.count(slice.length);
    }
    this.budget.enforce();
    this.schedule();
  }

  /** Resolves once everything queued so far is written or given up, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.size === 0) return true;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    return withTimeout(idle, timeoutMs, () => false, this.clock);
  }

  /**
   * Stops writing; whatever has not been written is given up and counted in the log, as an error
   * unless giving it up is `expected` (the session is being deleted).
   */
  close(reason: string, expected = false): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.lingerTimer);
    if (this.size > 0) {
      // An in-flight write may still land; the pending events will not.
      const details = { sessionId: this.sessionId, pendingEvents: this.pendingCount, inFlightEvents: this.inFlight, reason };
      if (expected) this.logger.info(details, 'gave up events not yet written');
      else this.logger.error(details, 'gave up events not yet written');
    }
    this.pending.length = 0;
    this.count(-this.pendingCount);
    this.budget.leave(this);
    this.closing.abort();
    this.notifyIdle();
  }

  /**
   * Forgets the session status changes waiting to be written: the session moved to another
   * replica, whose statuses they would overwrite. What happened on WhatsApp is still written.
   */
  dropStatuses(): void {
    for (const chunk of this.pending) {
      const kept = chunk.events.filter((event) => event.type !== 'session.status');
      this.count(kept.length - chunk.events.length);
      chunk.events = kept;
    }
  }

  /** Gives up to `events` waiting events of `origin`, oldest first, a chunk at a time. */
  giveUp(origin: EventOrigin, events: number): void {
    let freed = 0;
    for (let i = 0; i < this.pending.length && freed < events; ) {
      if (this.pending[i].origin !== origin) {
        i += 1;
        continue;
      }
      const [chunk] = this.pending.splice(i, 1);
      this.count(-chunk.events.length);
      this.givenUp[origin] += chunk.events.length;
      freed += chunk.events.length;
    }
  }

  /** One error line for what `giveUp` dropped since the last one. */
  reportGivenUp(limit: number): void {
    const { history, live } = this.givenUp;
    if (history + live === 0) return;
    this.givenUp = { history: 0, live: 0 };
    this.logger.error(
      { sessionId: this.sessionId, historyEvents: history, liveEvents: live, limit },
      'write queues full while the database is unavailable: gave up the oldest events',
    );
  }

  private count(events: number): void {
    this.pendingCount += events;
    this.budget.change(events);
  }

  private schedule(): void {
    if (this.running || this.lingerTimer !== null || this.closed) return;
    this.lingerTimer = this.clock.setTimeout(() => {
      this.lingerTimer = null;
      void this.run();
    }, this.tuning.batchLingerMs);
  }

  /** The next chunks of one origin, up to a batch: a history sync is recorded as such in the event log. */
  private takeBatch(): { events: GatewayEvent[]; history: boolean } {
    const events: GatewayEvent[] = [];
    const origin = this.pending[0]?.origin;
    while (
      this.pending.length > 0 &&
      this.pending[0].origin === origin &&
      events.length + this.pending[0].events.length <= this.tuning.maxBatchEvents
    ) {
      const chunk = this.pending.shift()!;
      this.count(-chunk.events.length);
      events.push(...chunk.events);
    }
    return { events, history: origin === 'history' };
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.closed) {
        const batch = this.takeBatch();
        if (batch.events.length === 0) break;
        this.inFlight = batch.events.length;
        await this.write(batch.events, batch.history);
        this.inFlight = 0;
      }
    } catch (error) {
      // `write` handles every sink failure; this is a bug in the queue itself.
      this.logger.error({ err: error, sessionId: this.sessionId }, 'write queue stopped by an unexpected error');
    } finally {
      this.inFlight = 0;
      this.running = false;
      if (this.pendingCount > 0 && !this.closed) this.schedule();
      else this.notifyIdle();
    }
  }

  /** Writes one batch, halving it around events the ingestion service refuses. */
  private async write(batch: GatewayEvent[], history: boolean): Promise<void> {
    const parts = [batch];
    while (parts.length > 0 && !this.closed) {
      const events = parts.pop()!;
      const failure = await this.writeWithRetry(events, history);
      if (failure === null || this.closed) continue;
      if (failure.kind === 'session-gone') {
        this.logger.error(
          { sessionId: this.sessionId, events: events.length, err: failure.error },
          'session no longer exists: gave up its events',
        );
      } else if (events.length > 1) {
        const middle = Math.ceil(events.length / 2);
        parts.push(events.slice(middle), events.slice(0, middle));
      } else {
        this.logger.error(
          { sessionId: this.sessionId, event: eventRef(events[0]), err: failure.error },
          'ingestion refused an event: gave it up',
        );
      }
    }
  }

  /** Null once written; the failure when it is not one that waiting can fix. */
  private async writeWithRetry(events: GatewayEvent[], history: boolean): Promise<{ kind: WriteFailure; error: unknown } | null> {
    for (let attempt = 0; !this.closed; attempt += 1) {
      try {
        await this.sink.ingest(this.sessionId, events, history);
        this.writesFailing = false;
        return null;
      } catch (error) {
        const kind = classifyWriteFailure(error);
        if (kind !== 'retry') return { kind, error };
        if (!this.writesFailing) {
          this.writesFailing = true;
          // What piled up while writes still succeeded may now be over the budget.
          this.budget.enforce();
        }
        const delay = backoffDelay(attempt, this.tuning.writeRetry, this.clock.random());
        this.logger.warn(
          { err: error, sessionId: this.sessionId, events: events.length, attempt: attempt + 1, retryInMs: delay },
          'could not write events; retrying',
        );
        await sleep(delay, this.closing.signal, this.clock);
      }
    }
    return null;
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
