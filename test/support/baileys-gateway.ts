import { DynamicModule } from '@nestjs/common';
import { Logger } from 'pino';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import { AppModule } from '../../src/app.module';
import { Capability, CAPABILITIES } from '../../src/auth/capability';
import { createLogger } from '../../src/common/logging/logger';
import { BaileysTuning } from '../../src/whatsapp/baileys/baileys-tuning';
import { WhatsAppMediaDownloader } from '../../src/whatsapp/baileys/whatsapp-media-downloader';
import { eventually, TEST_ENCRYPTION_KEY } from '../fixtures/baileys/baileys-harness';
import { FakeSocket, FakeSocketFactory } from '../fixtures/baileys/fake-socket';
import { ManualClock } from '../fixtures/baileys/manual-clock';
import { createKey, TestApp, testConfig, uniqueOrg } from './test-app';

/** The number the stand-in sockets pair as. */
export const OWN_NUMBER = '6281200000000';

export interface BaileysGateway {
  t: TestApp;
  sockets: FakeSocketFactory;
  clock: ManualClock;
  dataSource: DataSource;
  orgId: string;
  /** A key of `orgId` with every capability. */
  key: string;
  /** A request with `orgId`'s key (or `key`). */
  call(method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, key?: string): request.Test;
  /** `POST /api/v1/sessions`: the id of the new session. */
  createSession(name?: string): Promise<string>;
  /** Pairs a new session through its stand-in socket: `connected` as OWN_NUMBER. */
  connectedSession(): Promise<{ id: string; socket: FakeSocket }>;
  /** Waits until the session reads `status`. */
  expectStatus(id: string, status: string): Promise<void>;
  keyFor(orgId: string, capabilities?: readonly Capability[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real gateway as `node dist/main.js` builds it, with the `baileys` provider registered
 * (`WA_PROVIDER=baileys` unless `env` says otherwise), on stand-in sockets and a manual clock.
 * `DATABASE_URL` in `env` points it at another database.
 */
export async function startBaileysGateway(
  env: Record<string, string> = {},
  tuning: Partial<BaileysTuning> = {},
  logger?: Logger,
  mediaDownloader?: WhatsAppMediaDownloader,
): Promise<BaileysGateway> {
  const sockets = new FakeSocketFactory();
  const clock = new ManualClock();
  const config = testConfig({ WA_PROVIDER: 'baileys', SESSION_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, ...env });
  logger ??= createLogger(config.logLevel);
  const root: DynamicModule = {
    module: class BaileysGatewayRootModule {},
    imports: [AppModule.forRoot(config, logger, {
          baileys: {
            socketFactory: sockets,
            clock,
            tuning: { batchLingerMs: 0, ...tuning },
            // Received files are fetched only from a test's own server, never from the network.
            mediaDownloader: mediaDownloader ?? new WhatsAppMediaDownloader({ allowUrl: (url) => url.hostname === '127.0.0.1' }),
          },
        })],
  };
  const app = await createApp(config, logger, root);
  await app.init();
  const t: TestApp = { app, http: app.getHttpServer(), close: () => app.close() };
  const orgId = uniqueOrg('wa');
  const key = await createKey(t, orgId);

  const gateway: BaileysGateway = {
    t,
    sockets,
    clock,
    dataSource: app.get(DataSource),
    orgId,
    key,
    call(method, path, withKey = key) {
      return request(t.http)[method](path).set('Authorization', `Bearer ${withKey}`);
    },
    async createSession(name = 'phone') {
      const res = await gateway.call('post', '/api/v1/sessions').send({ name });
      if (res.status !== 201) throw new Error(`session not created: ${res.status} ${res.text}`);
      return (res.body as { id: string }).id;
    },
    async connectedSession() {
      const id = await gateway.createSession();
      const socket = await sockets.waitForSocket(id, 1);
      socket.paired(`${OWN_NUMBER}:12@s.whatsapp.net`);
      socket.open();
      await gateway.expectStatus(id, 'connected');
      return { id, socket };
    },
    async expectStatus(id, status) {
      await eventually(async () => expect((await gateway.call('get', `/api/v1/sessions/${id}`)).body).toMatchObject({ status }));
    },
    keyFor(other, capabilities = CAPABILITIES) {
      return createKey(t, other, capabilities);
    },
    async close() {
      // Shutdown waits (bounded) on the manual clock for queued writes; let that time pass.
      const ticking = setInterval(() => clock.advance(1000), 10);
      try {
        await t.close();
      } finally {
        clearInterval(ticking);
      }
    },
  };
  return gateway;
}
