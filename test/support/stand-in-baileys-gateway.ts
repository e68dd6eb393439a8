/**
 * The gateway process exactly as `src/main.ts` runs it, but with stand-in WhatsApp sockets: each
 * pairs and opens at once, and WhatsApp accepts a send after `FAKE_SEND_MS`. Run with
 * `node -r ts-node/register/transpile-only`, for the fault suite's Baileys scenarios.
 *
 * With `FAKE_CONTROL_PORT`, a control server on that port of 127.0.0.1 lets the test play the
 * phone: `POST /sessions/<id>/messages` with `{"messages": [<WAMessage>]}` (buffers as Node's
 * JSON gives them) has the session's socket receive them (204; 404 when it has no socket). With
 * `FAKE_MEDIA_CDN` (a host name), received files are downloaded from plain-HTTP URLs on that host
 * instead of WhatsApp's CDN.
 */
import 'reflect-metadata';
import type { WAMessage } from 'baileys';
import { createServer } from 'node:http';
import { runGateway } from '../../src/gateway';
import { BaileysSocket, BaileysSocketOptions } from '../../src/whatsapp/baileys/baileys-socket';
import { WhatsAppMediaDownloader } from '../../src/whatsapp/baileys/whatsapp-media-downloader';
import { FakeSocket, FakeSocketFactory } from '../fixtures/baileys/fake-socket';

const SEND_MS = Number(process.env.FAKE_SEND_MS ?? '0');
const CONTROL_PORT = process.env.FAKE_CONTROL_PORT;
const MEDIA_CDN = process.env.FAKE_MEDIA_CDN;

/** The newest socket of each session. */
const sockets = new Map<string, FakeSocket>();

class PairingSocketFactory extends FakeSocketFactory {
  override async create(options: BaileysSocketOptions): Promise<BaileysSocket> {
    const socket = (await super.create(options)) as FakeSocket;
    sockets.set(options.sessionId, socket);
    socket.sendBehaviour = () => new Promise((resolve) => setTimeout(resolve, SEND_MS));
    setImmediate(() => {
      if (!options.auth.creds.account) socket.paired();
      socket.open();
    });
    return socket;
  }
}

/** Node's JSON of a Buffer (`{"type": "Buffer", "data": [...]}`) back into a Buffer. */
const reviveBuffers = (_key: string, value: unknown): unknown =>
  value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)
    ? Buffer.from((value as { data: number[] }).data)
    : value;

function startControl(port: number): void {
  createServer((req, res) => {
    const match = /^\/sessions\/([^/]+)\/messages$/.exec(req.url ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const socket = match && req.method === 'POST' ? sockets.get(match[1]) : undefined;
      if (!socket) {
        res.writeHead(404).end();
        return;
      }
      const { messages } = JSON.parse(Buffer.concat(chunks).toString('utf8'), reviveBuffers) as { messages: WAMessage[] };
      socket.emit('messages.upsert', { type: 'notify', messages });
      res.writeHead(204).end();
    });
  }).listen(port, '127.0.0.1');
}

if (CONTROL_PORT) startControl(Number(CONTROL_PORT));
const mediaDownloader = MEDIA_CDN ? new WhatsAppMediaDownloader({ allowUrl: (url) => url.hostname === MEDIA_CDN }) : undefined;

runGateway({ baileys: { socketFactory: new PairingSocketFactory(), mediaDownloader } }).catch((error: unknown) => {
  process.stderr.write(`stand-in gateway failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
