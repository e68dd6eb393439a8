/**
 * The gateway process exactly as `src/main.ts` runs it, but with stand-in WhatsApp sockets: each
 * pairs and opens at once, and WhatsApp accepts a send after `FAKE_SEND_MS`. Run with
 * `node -r ts-node/register/transpile-only`, for the fault suite's Baileys scenarios.
 */
import 'reflect-metadata';
import { runGateway } from '../../src/gateway';
import { BaileysSocket, BaileysSocketOptions } from '../../src/whatsapp/baileys/baileys-socket';
import { FakeSocket, FakeSocketFactory } from '../fixtures/baileys/fake-socket';

const SEND_MS = Number(process.env.FAKE_SEND_MS ?? '0');

class PairingSocketFactory extends FakeSocketFactory {
  override async create(options: BaileysSocketOptions): Promise<BaileysSocket> {
    const socket = (await super.create(options)) as FakeSocket;
    socket.sendBehaviour = () => new Promise((resolve) => setTimeout(resolve, SEND_MS));
    setImmediate(() => {
      if (!options.auth.creds.account) socket.paired();
      socket.open();
    });
    return socket;
  }
}

runGateway({ baileys: { socketFactory: new PairingSocketFactory() } }).catch((error: unknown) => {
  process.stderr.write(`stand-in gateway failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
