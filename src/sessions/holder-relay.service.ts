import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { ulid } from 'ulid';
import { AppError, ERROR_STATUS, ErrorCode, UnavailableError } from '../common/errors/app-error';
import { LOGGER } from '../common/logging/logging.module';
import { sleep } from '../common/time';
import { EventNotifications } from '../events/event-notifications.service';
import { ANSWERS_CHANNEL, HolderRequestsRepository, REQUESTS_CHANNEL } from './holder-requests.repository';
import { SessionOwnershipService } from './session-ownership.service';

/** How long a replica waits for the holder's answer before answering 503 (API.md §11). */
const ANSWER_TIMEOUT_MS = 10_000;
/** Waiting for an answer looks this often even without a notification. */
const ANSWER_POLL_MS = 500;
/** The holder looks for requests this often even without a notification. */
const REQUEST_POLL_MS = 1_000;

/** Carries out a request on the replica holding the session; what it returns (JSON) is the answer. */
export type HolderRequestHandler = (sessionId: string, payload: unknown) => Promise<unknown>;

type Answer = { value: unknown } | { error: { code: string; message: string; details: Record<string, unknown> } };

/**
 * Request/answer actions that need the WhatsApp connection (a pairing code, later number
 * lookups, group metadata, profile pictures, media downloads), asked on any replica and carried
 * out by the one holding the session, through PostgreSQL: a request row and a notification to the
 * holder, an answer in the row and a notification back. The holder's errors reach the client as
 * they are (a 409 stays a 409); no holder, or no answer within 10 s, is 503 `unavailable`.
 */
@Injectable()
export class HolderRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly handlers = new Map<string, HolderRequestHandler>();
  /** Askers waiting on this replica, by request id. */
  private readonly waiting = new Map<string, () => void>();
  private readonly stopping = new AbortController();
  private polling: Promise<void> | null = null;

  constructor(
    private readonly requests: HolderRequestsRepository,
    private readonly ownership: SessionOwnershipService,
    private readonly notifications: EventNotifications,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Registers what the holder does for requests of `kind`. */
  handle(kind: string, handler: HolderRequestHandler): void {
    this.handlers.set(kind, handler);
  }

  /** The holder's answer to a request of `kind` about session `sessionId`; carried out here when this replica holds it. */
  async ask(sessionId: string, kind: string, payload: unknown): Promise<unknown> {
    if (this.ownership.holds(sessionId)) return this.handler(kind)(sessionId, payload);
    if (!(await this.ownership.heldAnywhere(sessionId))) throw new UnavailableError('no replica holds this session right now');
    const id = ulid();
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    await this.requests.ask({ sessionId, id, kind, payload });
    try {
      for (;;) {
        const answer = (await this.requests.answerOf(sessionId, id)) as Answer | null;
        if (answer) return unwrap(answer);
        const left = deadline - Date.now();
        if (left <= 0) throw new UnavailableError('the replica holding this session did not answer in time');
        await new Promise<void>((resolve) => {
          this.waiting.set(id, resolve);
          void sleep(Math.min(left, ANSWER_POLL_MS)).then(resolve);
        });
      }
    } finally {
      this.waiting.delete(id);
      await this.requests.remove(sessionId, id).catch((error: unknown) => this.logger.warn({ err: error, sessionId }, 'could not remove an answered request'));
    }
  }

  onApplicationBootstrap(): void {
    this.notifications.listen(REQUESTS_CHANNEL, (sessionId) => {
      if (sessionId === '*') void this.serveWaiting();
      else if (this.ownership.holds(sessionId)) void this.serve([sessionId]);
    });
    this.notifications.listen(ANSWERS_CHANNEL, (id) => {
      if (id === '*') for (const wake of this.waiting.values()) wake();
      else this.waiting.get(id)?.();
    });
    this.polling = this.poll();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.polling;
  }

  private handler(kind: string): HolderRequestHandler {
    const handler = this.handlers.get(kind);
    if (!handler) throw new Error(`no handler for ${kind} requests`);
    return handler;
  }

  private async poll(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      await sleep(REQUEST_POLL_MS, this.stopping.signal);
      if (!this.stopping.signal.aborted) await this.serveWaiting();
    }
  }

  private async serveWaiting(): Promise<void> {
    try {
      const sessionIds = await this.requests.waiting(this.ownership.heldIds());
      if (sessionIds.length > 0) await this.serve(sessionIds);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not look for requests to answer');
    }
  }

  /** Answers the waiting requests of sessions this replica holds, each as soon as it is done. */
  private async serve(sessionIds: string[]): Promise<void> {
    try {
      const claimed = await this.requests.claim(sessionIds, ANSWER_TIMEOUT_MS / 1000);
      await Promise.all(claimed.map((request) => this.answer(request.sessionId, request.id, request.kind, request.payload)));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not answer requests for held sessions');
    }
  }

  private async answer(sessionId: string, id: string, kind: string, payload: unknown): Promise<void> {
    let answer: Answer;
    try {
      answer = { value: await this.handler(kind)(sessionId, payload) };
    } catch (error) {
      if (error instanceof AppError) {
        answer = { error: { code: error.code, message: error.message, details: error.details } };
      } else {
        this.logger.error({ err: error, sessionId, kind }, 'a request for a held session failed');
        answer = { error: { code: 'unavailable', message: 'the replica holding this session could not carry out the request', details: {} } };
      }
    }
    await this.requests.answer(sessionId, id, answer);
  }
}

/** The holder's value, or its error thrown again here. */
function unwrap(answer: Answer): unknown {
  if ('value' in answer) return answer.value;
  const { code, message, details } = answer.error;
  if (code === 'unavailable' || !(code in ERROR_STATUS)) throw new UnavailableError(message);
  throw new AppError(code as ErrorCode, message, details);
}
