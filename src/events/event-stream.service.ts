import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Response } from 'express';
import { Logger } from 'pino';
import { ApiKeysService } from '../auth/api-keys/api-keys.service';
import { Caller } from '../auth/caller.decorator';
import { AppError, UnavailableError } from '../common/errors/app-error';
import { LOGGER } from '../common/logging/logging.module';
import { EventFeedRepository, EventFilter, EventRead, StoredEvent } from './event-feed.repository';
import { goneCursor } from './event-feed.service';
import { EventNotifications } from './event-notifications.service';
import { comparePositions, decodeEventCursor, encodeEventCursor, EventPosition, laterOf } from './event-position';

export interface EventStreamOptions {
  /** Between `: keep-alive` comments. */
  keepAliveMs: number;
  /** Between reads of every organization with open streams when no notification came. */
  pollMs: number;
  /** Between checks that each stream's credential is still valid. */
  credentialCheckMs: number;
}

export const EVENT_STREAM_OPTIONS = Symbol('EVENT_STREAM_OPTIONS');

export const DEFAULT_EVENT_STREAM_OPTIONS: EventStreamOptions = {
  keepAliveMs: 15_000,
  // Notifications wake the streams within milliseconds of a commit; this only covers one lost
  // while the listening connection was down.
  pollMs: 5_000,
  // An API key's check is a cached lookup; the cache itself trusts a key for 4 s, so revocation on
  // another replica closes the stream within 4.5 s.
  credentialCheckMs: 500,
};

export const MAX_STREAMS_PER_CREDENTIAL = 10;
/** Events read per query for all of an organization's streams. */
const BATCH = 500;
/** How soon to read again while committed events wait for an older transaction to end. */
const PENDING_POLL_MS = 200;
const RETRY_MS = 1000;

export interface StreamRequest {
  caller: Caller;
  /** The bearer token, checked again while the stream is open. */
  token: string;
  after?: string;
  lastEventId?: string;
  filter: EventFilter | null;
  res: Response;
}

interface OpenStream {
  caller: Caller;
  token: string;
  credential: string;
  /** A login token's `exp`, epoch ms; null for API keys. */
  expiresAt: number | null;
  filter: EventFilter | null;
  /** Everything up to here was sent (or skipped by the filter). */
  position: EventPosition;
  res: Response;
  /** The client reads slower than events come: nothing more is written until it drains. */
  paused: boolean;
  closed: boolean;
}

/** The open streams of one organization, all served by one query per round. */
interface OrgStreams {
  orgId: string;
  streams: Set<OpenStream>;
  reading: boolean;
  /** Something happened during a read: read again when it ends. */
  again: boolean;
  soon: NodeJS.Timeout | null;
}

const tooManyStreams = (): AppError =>
  new AppError(
    'rate_limited',
    `at most ${MAX_STREAMS_PER_CREDENTIAL} event streams may be open per credential`,
    { limit: MAX_STREAMS_PER_CREDENTIAL },
    { 'Retry-After': '5' },
  );

/** A verified login token's `exp` in epoch ms (the guard has checked the token already). */
function loginExpiry(token: string): number | null {
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const exp = (payload as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

function matches(filter: EventFilter | null, event: StoredEvent): boolean {
  if (!filter) return true;
  return (!filter.types || filter.types.includes(event.type)) && (!filter.sessionId || filter.sessionId === event.sessionId);
}

/**
 * The live stream (Server-Sent Events). No stream holds a database connection: streams are
 * grouped by organization, and one query per organization and round (woken by a commit
 * notification, a short re-read while committed events wait for an older transaction, or a slow
 * poll) reads the log from the lowest position among its streams and serves every one of them.
 * The query is the feed's, so a stream never skips an event either.
 */
@Injectable()
export class EventStreamService implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly orgs = new Map<string, OrgStreams>();
  private readonly perCredential = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | null = null;
  private checking = false;
  private stopping = false;

  constructor(
    private readonly repository: EventFeedRepository,
    private readonly notifications: EventNotifications,
    private readonly apiKeys: ApiKeysService,
    @Inject(EVENT_STREAM_OPTIONS) private readonly options: EventStreamOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.notifications.subscribe((orgId) => {
      if (orgId === '*') this.readAll();
      else this.readOrg(this.orgs.get(orgId));
    });
    this.timers.push(
      setInterval(() => this.readAll(), this.options.pollMs).unref(),
      setInterval(() => this.keepAlive(), this.options.keepAliveMs).unref(),
      setInterval(() => void this.checkCredentials(), this.options.credentialCheckMs).unref(),
    );
  }

  onModuleDestroy(): void {
    this.beginShutdown();
  }

  beforeApplicationShutdown(): void {
    this.beginShutdown();
  }

  /**
   * Ends every open stream and refuses new ones. Streams never end by themselves: the server,
   * which waits for its requests when it stops, would wait for them until the grace runs out.
   */
  beginShutdown(): void {
    this.stopping = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    for (const org of this.orgs.values()) {
      if (org.soon) clearTimeout(org.soon);
      for (const stream of org.streams) this.close(stream, 'server shutting down');
    }
  }

  /** How many streams are open on this replica. */
  get openStreams(): number {
    let count = 0;
    for (const org of this.orgs.values()) count += org.streams.size;
    return count;
  }

  /**
   * Checks the request (cursor, retention, the credential's open streams), then answers 200 and
   * keeps the response open. Errors are thrown before anything is written, so they go out in the
   * envelope.
   */
  async open(request: StreamRequest): Promise<void> {
    const { caller, res } = request;
    if (this.stopping) throw new UnavailableError('shutting down');
    const lastEventId = request.lastEventId?.trim() ? request.lastEventId.trim() : undefined;
    const resumeFrom = lastEventId ?? request.after;
    let position: EventPosition;
    if (resumeFrom !== undefined) {
      position = decodeEventCursor(resumeFrom, lastEventId !== undefined ? 'Last-Event-ID' : 'after');
      if (await this.repository.isGone(caller.orgId, position)) throw goneCursor();
    } else {
      position = await this.repository.head();
    }
    // From here on nothing waits, so that two requests cannot both take the last free place.
    const credential = `${caller.kind}:${caller.orgId}:${caller.subject}`;
    const open = this.perCredential.get(credential) ?? 0;
    if (open >= MAX_STREAMS_PER_CREDENTIAL) throw tooManyStreams();
    if (this.stopping) throw new UnavailableError('shutting down');
    // The client went away while its cursor was checked.
    if (res.destroyed) return;
    this.perCredential.set(credential, open + 1);
    const stream: OpenStream = {
      caller,
      token: request.token,
      credential,
      expiresAt: caller.kind === 'user' ? loginExpiry(request.token) : null,
      filter: request.filter,
      position,
      res,
      paused: false,
      closed: false,
    };
    let org = this.orgs.get(caller.orgId);
    if (!org) {
      org = { orgId: caller.orgId, streams: new Set(), reading: false, again: false, soon: null };
      this.orgs.set(caller.orgId, org);
    }
    org.streams.add(stream);
    res.on('close', () => this.remove(stream));
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    // No cache or proxy may hold events back or transform the stream (nginx buffers unless told).
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    this.readOrg(org);
  }

  private remove(stream: OpenStream): void {
    if (stream.closed) return;
    stream.closed = true;
    const left = (this.perCredential.get(stream.credential) ?? 1) - 1;
    if (left > 0) this.perCredential.set(stream.credential, left);
    else this.perCredential.delete(stream.credential);
    const org = this.orgs.get(stream.caller.orgId);
    if (!org) return;
    org.streams.delete(stream);
    if (org.streams.size === 0) {
      if (org.soon) clearTimeout(org.soon);
      this.orgs.delete(org.orgId);
    }
  }

  /** Ends a stream from this side, with a comment line saying why (clients ignore comments). */
  private close(stream: OpenStream, reason: string): void {
    if (stream.closed) return;
    this.remove(stream);
    stream.res.end(`: closed: ${reason}\n\n`);
  }

  private readAll(): void {
    for (const org of [...this.orgs.values()]) this.readOrg(org);
  }

  private readOrg(org: OrgStreams | undefined): void {
    if (!org || this.stopping) return;
    if (org.reading) {
      org.again = true;
      return;
    }
    org.reading = true;
    void this.readLoop(org).finally(() => {
      org.reading = false;
    });
  }

  private async readLoop(org: OrgStreams): Promise<void> {
    try {
      do {
        org.again = false;
        // Only the streams there now: one that opens during the query may start lower, and is
        // served by the next round (its opening asks for one).
        const active = [...org.streams].filter((s) => !s.paused);
        if (active.length === 0) return;
        const from = active.reduce((low, s) => (comparePositions(s.position, low) < 0 ? s.position : low), active[0].position);
        const read = await this.repository.read(org.orgId, from, BATCH, BATCH, null);
        this.deliver(org, active, read);
        if (!read.exhausted) org.again = true;
        if (read.pending) this.readSoon(org, PENDING_POLL_MS);
      } while (org.again && !this.stopping);
    } catch (error) {
      this.logger.warn({ err: error, orgId: org.orgId }, 'could not read events for open streams; will retry');
      this.readSoon(org, RETRY_MS);
    }
  }

  private deliver(org: OrgStreams, streams: OpenStream[], read: EventRead): void {
    const frames = new Map<StoredEvent, string>();
    const frameOf = (event: StoredEvent): string => {
      let frame = frames.get(event);
      if (frame === undefined) {
        frame = `id: ${encodeEventCursor(event.position)}\nevent: ${event.type}\ndata: ${event.payload}\n\n`;
        frames.set(event, frame);
      }
      return frame;
    };
    for (const stream of streams) {
      if (stream.closed) continue;
      let out = '';
      for (const event of read.events) {
        if (comparePositions(event.position, stream.position) > 0 && matches(stream.filter, event)) out += frameOf(event);
      }
      stream.position = laterOf(stream.position, read.next);
      if (out && !stream.res.write(out)) this.pause(org, stream);
    }
  }

  private pause(org: OrgStreams, stream: OpenStream): void {
    stream.paused = true;
    stream.res.once('drain', () => {
      stream.paused = false;
      this.readOrg(org);
    });
  }

  private readSoon(org: OrgStreams, ms: number): void {
    if (org.soon || this.stopping) return;
    org.soon = setTimeout(() => {
      org.soon = null;
      this.readOrg(org);
    }, ms).unref();
  }

  private keepAlive(): void {
    for (const org of this.orgs.values()) {
      for (const stream of org.streams) if (!stream.paused) stream.res.write(': keep-alive\n\n');
    }
  }

  /**
   * Ends the streams whose credential no longer holds: a login token past its `exp`, an API key
   * that the guard would now refuse (revoked). A check that cannot be made (the database is down)
   * leaves the stream open.
   */
  private async checkCredentials(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const now = Date.now();
      const byKey = new Map<string, OpenStream[]>();
      for (const org of [...this.orgs.values()]) {
        for (const stream of [...org.streams]) {
          if (stream.expiresAt !== null && now >= stream.expiresAt) this.close(stream, 'credential expired');
          else if (stream.caller.kind === 'api_key') byKey.set(stream.token, [...(byKey.get(stream.token) ?? []), stream]);
        }
      }
      for (const [token, streams] of byKey) {
        // The guard's own check of an API key (a cached lookup; the database every few seconds).
        const caller = await this.apiKeys.authenticate(token).catch(() => undefined);
        if (caller === null) for (const stream of streams) this.close(stream, 'credential revoked');
      }
    } finally {
      this.checking = false;
    }
  }
}
