import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { GoneError } from '../common/errors/app-error';
import { EventFeedQueryDto, DEFAULT_FEED_LIMIT } from './event-feed-query.dto';
import { EventFeedRepository, EventFilter, StoredEvent } from './event-feed.repository';
import { EventNotifications } from './event-notifications.service';
import { decodeEventCursor, encodeEventCursor, EventPosition } from './event-position';
import { EventWaiters } from './event-waiters';

/** A filtered page looks at up to this many events for matches before it answers. */
const FILTERED_SCAN = 2000;
/** How often a long-poll looks again without a notification (one lost while the listener reconnects). */
const FALLBACK_POLL_MS = 2000;
/** How often it looks while committed events wait for an older transaction to end. */
const PENDING_POLL_MS = 200;

export const goneCursor = (): GoneError =>
  new GoneError('cursor is older than the event retention: events after it were pruned; start again without one');

/** The filter of a feed or stream query, or null for none. */
export function filterOf(query: { types?: readonly string[]; sessionId?: string }): EventFilter | null {
  if (!query.types && !query.sessionId) return null;
  return { types: query.types ? [...new Set(query.types)] : null, sessionId: query.sessionId ?? null };
}

/**
 * `{"data":[…],"nextCursor":"…"}` spliced from the stored payloads: each event goes out as the
 * bytes that were written (the same bytes webhooks send), and nothing is parsed or serialized again.
 */
function renderPage(events: StoredEvent[], next: EventPosition): string {
  let body = '{"data":[';
  for (let i = 0; i < events.length; i++) body += i === 0 ? events[i].payload : `,${events[i].payload}`;
  return `${body}],"nextCursor":${JSON.stringify(encodeEventCursor(next))}}`;
}

/**
 * The feed: pages of an organization's events in commit order, continued with `nextCursor`, and
 * long-polls that answer as soon as an event is there. A waiting request holds no database
 * connection: it sleeps until a commit notification for its organization wakes it.
 */
@Injectable()
export class EventFeedService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly waiters = new EventWaiters();
  private unsubscribe: (() => void) | null = null;
  private stopping = false;

  constructor(
    private readonly repository: EventFeedRepository,
    private readonly notifications: EventNotifications,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.notifications.subscribe((orgId) => this.waiters.wake(orgId));
  }

  beforeApplicationShutdown(): void {
    this.beginShutdown();
  }

  /** Long-polls answer at once (what they have: an empty page) rather than hold the shutdown. */
  beginShutdown(): void {
    this.stopping = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.waiters.wake('*');
  }

  /** One page as the JSON text of the answer. `signal` aborts the wait (the client went away). */
  async page(orgId: string, query: EventFeedQueryDto, signal: AbortSignal): Promise<string> {
    const limit = query.limit ?? DEFAULT_FEED_LIMIT;
    const filter = filterOf(query);
    const scan = filter ? Math.max(limit, FILTERED_SCAN) : limit;
    const deadline = Date.now() + (query.wait ?? 0) * 1000;
    let after: EventPosition | null = query.after === undefined ? null : decodeEventCursor(query.after, 'after');
    for (;;) {
      const waiter = this.waiters.arm(orgId);
      try {
        const read = await this.repository.read(orgId, after, scan, limit, filter);
        if (read.gone) throw goneCursor();
        after = read.next;
        const remaining = deadline - Date.now();
        if (read.events.length > 0 || remaining <= 0 || signal.aborted || this.stopping) {
          return renderPage(read.events, after);
        }
        // The filter skipped a whole scan's worth: look further at once.
        if (!read.exhausted) continue;
        await waiter.wait(Math.min(remaining, read.pending ? PENDING_POLL_MS : FALLBACK_POLL_MS), signal);
      } finally {
        waiter.cancel();
      }
    }
  }
}
