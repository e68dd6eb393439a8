import pino from 'pino';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BaileysGateway, startBaileysGateway } from '../support/baileys-gateway';

/**
 * Without SESSION_ENCRYPTION_KEY the development key is written under DATA_DIR. When it cannot
 * be (a read-only image, a DATA_DIR that is not a directory), that is a configuration problem:
 * the session turns `failed` with one clear error line, and is not retried in a loop.
 */
describe('Baileys without a usable encryption key', () => {
  let g: BaileysGateway;
  let dir: string;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wgw-key-'));
    // A DATA_DIR below a regular file cannot be created, also by root (which any mode lets write).
    writeFileSync(join(dir, 'not-a-directory'), '');
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
          done();
        },
      }),
    );
    g = await startBaileysGateway({ SESSION_ENCRYPTION_KEY: '', DATA_DIR: join(dir, 'not-a-directory', 'data') }, {}, logger);
  });
  afterAll(async () => {
    await g?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks a new session failed with a clear log line, and does not retry', async () => {
    const id = await g.createSession();
    await g.expectStatus(id, 'failed');
    const errors = logLines.filter((l) => l.sessionId === id && l.level === 50);
    expect(errors).toHaveLength(1);
    expect(String(errors[0].msg)).toMatch(/^no encryption key for WhatsApp credentials; the session is failed: SESSION_ENCRYPTION_KEY is not set and the development key .* cannot be created or read \(ENOTDIR\)/);
    // Time passing brings no new attempt. (Other timers may be pending: the test database is shared,
    // and this app may hold other test files' sessions, so the check is about this session.)
    for (let round = 0; round < 3; round++) {
      g.clock.advance(120_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(g.sockets.count(id)).toBe(0);
    expect(logLines.filter((l) => l.sessionId === id && l.msg === 'could not start the WhatsApp connection')).toEqual([]);
    expect(logLines.filter((l) => l.sessionId === id && l.level === 50)).toHaveLength(1);
  });
});
