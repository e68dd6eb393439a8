import { createServer, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

type Route = (res: ServerResponse, base: string) => void;

/** A local HTTP server for `media.url` sends: each path answers as its route says; it counts the requests it got. */
export class FileServer {
  readonly hits: string[] = [];
  private server: Server | null = null;
  private base = '';

  constructor(private readonly routes: Record<string, Route>) {}

  async start(host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      this.hits.push(req.url ?? '');
      const route = this.routes[req.url ?? ''];
      if (route) route(res, this.base);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, host, resolve));
    this.base = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export const serve =
  (bytes: Buffer, contentType = 'application/octet-stream'): Route =>
  (res) =>
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': bytes.length }).end(bytes);

export const redirect =
  (to: string | ((base: string) => string)): Route =>
  (res, base) =>
    res.writeHead(302, { Location: typeof to === 'string' ? to : to(base) }).end();

/** Sends one byte every `everyMs`, for ever (until the client goes away). */
export const trickle =
  (everyMs: number): Route =>
  (res) => {
    res.writeHead(200, { 'Content-Type': 'image/jpeg' });
    const timer = setInterval(() => res.write(Buffer.from([0xff])), everyMs);
    res.on('close', () => clearInterval(timer));
  };
