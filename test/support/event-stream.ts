import { ClientRequest, get, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'superagent';
import { TestApp } from './test-app';

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  /** When the client parsed it (Date.now()). */
  at: number;
}

/**
 * A Server-Sent Events client over plain `node:http`, reading frames as they arrive: events,
 * comment lines, and the end of the stream.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** The body of an answer that is not a stream (an error envelope). */
  body = '';
  endedAt: number | null = null;
  private buffer = '';
  private pending: Partial<SseEvent> & { data?: string } = {};
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly req: ClientRequest,
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.feed(chunk));
    const end = (): void => {
      if (this.endedAt === null) this.endedAt = Date.now();
      this.notify();
    };
    res.on('end', end);
    res.on('close', end);
    res.on('error', end);
  }

  /** Opens `path` on the app's listening server; resolves once the response head is in. */
  static open(baseUrl: string, path: string, headers: Record<string, string>): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = get(`${baseUrl}${path}`, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
        resolve(new SseClient(req, res.statusCode ?? 0, res.headers, res));
      });
      req.on('error', reject);
    });
  }

  get ended(): boolean {
    return this.endedAt !== null;
  }

  /** The body parsed as JSON (for error answers). */
  json(): unknown {
    return JSON.parse(this.body);
  }

  /** Resolves once `done()` holds, rejects after `ms`. */
  until(done: () => boolean, ms: number, what = 'the stream'): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`${what}: not there after ${ms} ms (${this.events.length} events, ended: ${this.ended})`));
      }, ms);
      this.listeners.add(check);
    });
  }

  /** Waits for at least `count` events in all. */
  async nextEvents(count: number, ms = 5000): Promise<SseEvent[]> {
    await this.until(() => this.events.length >= count, ms, `${count} events`);
    return this.events.slice(0, count);
  }

  whenEnded(ms = 10_000): Promise<void> {
    return this.until(() => this.ended, ms, 'the end of the stream');
  }

  close(): void {
    this.req.destroy();
  }

  private feed(chunk: string): void {
    if (this.status !== 200) {
      this.body += chunk;
      return;
    }
    this.buffer += chunk;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) this.line(line);
    this.notify();
  }

  private line(line: string): void {
    if (line === '') {
      if (this.pending.data !== undefined) this.events.push({ ...this.pending, data: this.pending.data, at: Date.now() });
      this.pending = {};
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.pending.data = this.pending.data === undefined ? value : `${this.pending.data}\n${value}`;
    else if (field === 'id') this.pending.id = value;
    else if (field === 'event') this.pending.event = value;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** Makes the app listen on an ephemeral port (for clients that need a URL); returns its base URL. */
export async function listen(t: TestApp): Promise<string> {
  if (!t.http.listening) await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(t.http.address() as AddressInfo).port}`;
}

/**
 * For suites that send generated requests to every route: supertest must not wait for the end of
 * an event stream (it has none, and supertest closes its server, which waits for every open
 * connection, before it answers). The head is answer enough: the client hangs up at once.
 */
export function answerEventStreamsAtTheirHead(): void {
  const parsers = (request as unknown as { parse: Record<string, (res: IncomingMessage, done: (error: null, body: string) => void) => void> }).parse;
  parsers['text/event-stream'] = (res, done) => {
    res.destroy();
    done(null, '');
  };
}
