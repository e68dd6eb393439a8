import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface ConnectorRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/**
 * A stand-in for the connector service of `external` sessions, on a local port: it records every
 * send and answers as `respond` says (a status, or never).
 */
export class ConnectorServer {
  readonly requests: ConnectorRequest[] = [];
  /** The status to answer with; `'hang'` never answers. */
  respond: number | 'hang' = 200;
  /** The JSON body of a 2xx answer to a request/answer action (API.md §10), from the request's body; unset answers `{"ok":true}`. */
  answer: ((body: Record<string, unknown>) => unknown) | null = null;
  private server: Server | null = null;
  private readonly hanging = new Set<ServerResponse>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: text ? JSON.parse(text) : undefined });
        if (this.respond === 'hang') {
          this.hanging.add(res);
          return;
        }
        const body = this.answer && text ? this.answer(JSON.parse(text) as Record<string, unknown>) : { ok: true };
        res.writeHead(this.respond, { 'Content-Type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/send`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
