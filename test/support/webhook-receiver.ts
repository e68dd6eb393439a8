import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

/** One POST as the receiver got it. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  /** The three Standard Webhooks headers, as a verifier takes them. */
  signed: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string };
  /** The raw body, as sent. */
  body: string;
  /** Parsed body. */
  event: { id: string; type: string; sessionId: string | null; history: boolean; createdAt: number; data: Record<string, unknown> };
  at: number;
}

/** How the receiver answers a request: a status (with headers), or `'hang'` to never answer; possibly later. */
export type ReceiverAnswer = number | { status: number; headers: Record<string, string> } | 'hang';

/**
 * A real HTTP server on 127.0.0.1 standing in for a client's webhook endpoint: it records every
 * request and answers what `answer` says (204 by default).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (request: ReceivedWebhook, index: number) => ReceiverAnswer | Promise<ReceiverAnswer> = () => 204;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on `port` (any free one by default; the same one again after `stop`, to play a receiver coming back). */
  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Events received so far with this type. */
  ofType(type: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.event.type === type);
  }

  /** Resolves once `count` requests have arrived in all; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`receiver got ${this.received.length} of ${count} requests within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => String(req.headers[name] ?? '');
      const record: ReceivedWebhook = {
        headers: req.headers,
        signed: { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') },
        body,
        event: JSON.parse(body) as ReceivedWebhook['event'],
        at: Date.now(),
      };
      const index = this.received.length;
      this.received.push(record);
      for (const waiter of [...this.waiters]) {
        if (this.received.length >= waiter.count) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      void Promise.resolve(this.answer(record, index)).then((answer) => {
        if (answer === 'hang') return;
        if (typeof answer === 'number') {
          res.statusCode = answer;
        } else {
          res.statusCode = answer.status;
          for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
        }
        res.end();
      });
    });
  }
}
