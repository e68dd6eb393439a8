/**
 * A replica for the replica tests: the built gateway (`dist/gateway.js`, exactly what
 * `node dist/main.js` runs) with stand-in WhatsApp sockets. Run with
 * `node -r ts-node/register/transpile-only`; only this file and the stand-in are compiled.
 *
 * Each socket pairs and opens at once (unless `FAKE_CONTROL_FILE` holds `{"holdPairing": true}`
 * when it is made: then it shows a QR and waits), WhatsApp accepts a send after `FAKE_SEND_MS`,
 * and what each socket does is appended to `FAKE_SOCKET_LOG`, one JSON line per act:
 * `{"t": <epoch ms>, "pid", "sid": <session>, "sock": <socket number in this process>, "ev": "create" |
 * "open" | "send" | "pairing-code" | "logout" | "end", "id"?: <message id>}`. Lines are written
 * synchronously, so that a SIGKILL loses none.
 */
import 'reflect-metadata';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { runGateway as RunGateway } from '../../src/gateway';
import { BaileysSocket, BaileysSocketOptions } from '../../src/whatsapp/baileys/baileys-socket';
import { FakeSocket, FakeSocketFactory } from '../fixtures/baileys/fake-socket';

const SEND_MS = Number(process.env.FAKE_SEND_MS ?? '0');
const LOG = process.env.FAKE_SOCKET_LOG;
const CONTROL = process.env.FAKE_CONTROL_FILE;

let sockets = 0;

function log(sid: string, sock: number, ev: string, extra: Record<string, unknown> = {}): void {
  if (LOG) appendFileSync(LOG, `${JSON.stringify({ t: Date.now(), pid: process.pid, sid, sock, ev, ...extra })}\n`);
}

function holdPairing(): boolean {
  if (!CONTROL) return false;
  try {
    return (JSON.parse(readFileSync(CONTROL, 'utf8')) as { holdPairing?: boolean }).holdPairing === true;
  } catch {
    return false;
  }
}

class LoggingSocketFactory extends FakeSocketFactory {
  override async create(options: BaileysSocketOptions): Promise<BaileysSocket> {
    const socket = (await super.create(options)) as FakeSocket;
    const sid = options.sessionId;
    const sock = ++sockets;
    log(sid, sock, 'create');
    socket.sendBehaviour = () => {
      log(sid, sock, 'send', { id: socket.sent[socket.sent.length - 1].options.messageId });
      return new Promise((resolve) => setTimeout(resolve, SEND_MS));
    };
    const requestPairingCode = socket.requestPairingCode.bind(socket);
    socket.requestPairingCode = (phoneNumber) => {
      log(sid, sock, 'pairing-code');
      return requestPairingCode(phoneNumber);
    };
    socket.logoutBehaviour = () => {
      log(sid, sock, 'logout');
      return Promise.resolve();
    };
    const end = socket.end.bind(socket);
    socket.end = (error) => {
      if (!socket.ended) log(sid, sock, 'end');
      return end(error);
    };
    const pairing = !options.auth.creds.account && holdPairing();
    setImmediate(() => {
      if (pairing) {
        socket.emit('connection.update', { qr: `2@stand-in-qr-${sid}` });
        return;
      }
      if (!options.auth.creds.account) socket.paired();
      socket.open();
      log(sid, sock, 'open');
    });
    return socket;
  }
}

async function main(): Promise<void> {
  const { runGateway } = (await import(join(__dirname, '..', '..', 'dist', 'gateway.js'))) as { runGateway: typeof RunGateway };
  await runGateway({ baileys: { socketFactory: new LoggingSocketFactory() } });
}

main().catch((error: unknown) => {
  process.stderr.write(`replica failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
