import type { BaileysEventMap } from 'baileys';
import pino from 'pino';
import { Writable } from 'node:stream';
import { BaileysHarness, eventually, startBaileysHarness } from '../fixtures/baileys/baileys-harness';
import { loadFixture } from '../fixtures/baileys/load-fixture';
import { TcpProxy } from '../support/tcp-proxy';
import { testDatabaseUrl } from '../support/test-app';

describe('Baileys provider while the database is down', () => {
  let h: BaileysHarness;
  let proxy: TcpProxy;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    proxy = TcpProxy.forUrl(testDatabaseUrl());
    const port = await proxy.start();
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
          done();
        },
      }),
    );
    h = await startBaileysHarness(
      { DATABASE_URL: proxy.urlFor(testDatabaseUrl(), port) },
      { writeRetry: { baseMs: 100, maxMs: 400 } },
      logger,
    );
  });
  afterAll(async () => {
    proxy.restore();
    await h.close();
    await proxy.stop();
  });

  it('keeps what the socket reports, retries, and writes it all in order once the database is back', async () => {
    const { id, socket } = await h.connectedSession();
    proxy.cut();
    socket.emit('messaging-history.set', loadFixture<BaileysEventMap['messaging-history.set']>('history-sync.json'));
    socket.emit('chats.update', [{ id: '6281234567890@s.whatsapp.net', archived: true }]);
    const retrying = () => logLines.filter((l) => l.msg === 'could not write events; retrying').length;
    await eventually(() => expect(retrying()).toBe(1), 15_000);
    // Each retry waits on the test's clock; while the database stays away, each one fails again.
    h.clock.advance(100);
    await eventually(() => expect(retrying()).toBe(2), 15_000);
    expect(logLines.filter((l) => String(l.msg).startsWith('gave up') || String(l.msg).startsWith('write queues full'))).toEqual([]);

    proxy.restore();
    // The retry waits on the test's clock: let it run out.
    h.clock.advance(200);
    await eventually(async () => {
      const chats = await h.chats(id);
      expect(chats.map((c) => [c.id, c.archived])).toEqual([
        ['6281234567890@s.whatsapp.net', true],
        ['120363025246125486@g.us', true],
        ['215492034568291@lid', false],
        ['6281234567890-1609459200@g.us', false],
      ]);
    }, 15_000);
    expect(await h.messages(id, '6281234567890@s.whatsapp.net')).toHaveLength(5);
    await h.provider.disconnect(id);
  }, 60_000);
});
