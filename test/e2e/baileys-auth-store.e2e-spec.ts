import type { AuthenticationCreds } from 'baileys';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Writable } from 'node:stream';
import request from 'supertest';
import { loadConfig } from '../../src/config/app-config';
import { DEFAULT_BAILEYS_TUNING } from '../../src/whatsapp/baileys/baileys-tuning';
import { CredentialsUnreadableError } from '../../src/whatsapp/baileys/session-auth-cipher';
import { SessionAuthRepository } from '../../src/whatsapp/baileys/session-auth.repository';
import { SessionAuthService } from '../../src/whatsapp/baileys/session-auth.service';
import { DEVELOPMENT_KEY_FILE, SessionEncryptionKeyService } from '../../src/whatsapp/baileys/session-encryption-key.service';
import { BaileysHarness, startBaileysHarness } from '../fixtures/baileys/baileys-harness';
import { fakeCreds } from '../fixtures/baileys/fake-socket';
import { ManualClock } from '../fixtures/baileys/manual-clock';
import { testDatabaseUrl } from '../support/test-app';

describe('Baileys credentials in PostgreSQL', () => {
  let h: BaileysHarness;

  beforeAll(async () => {
    h = await startBaileysHarness();
  });
  afterAll(() => h.close());

  const rows = (sessionId: string) =>
    h.dataSource.query<{ key: string; value: Buffer }[]>(
      'SELECT key, value FROM session_auth WHERE session_id = $1 ORDER BY key',
      [sessionId],
    );

  /** The same store as the app's, on a key of its own (another deployment, or a rotated key). */
  function storeWithKey(key: Buffer | undefined, dataDir?: string, logger = pino({ level: 'silent' })): SessionAuthService {
    const config = loadConfig({ DATABASE_URL: testDatabaseUrl(), ...(dataDir ? { DATA_DIR: dataDir } : {}) });
    config.sessionEncryptionKey = key;
    return new SessionAuthService(
      h.t.app.get(SessionAuthRepository, { strict: false }),
      new SessionEncryptionKeyService(config, logger),
      new ManualClock(),
      DEFAULT_BAILEYS_TUNING,
      logger,
    );
  }

  it('stores fresh credentials at once and reads them back with their Buffers', async () => {
    const sessionId = await h.createSession();
    const creds = fakeCreds();
    const auth = await h.auth.load(sessionId, () => Promise.resolve(creds));
    expect(auth.state.creds).toBe(creds);

    const again = await h.auth.load(sessionId, () => Promise.reject(new Error('must not make new creds')));
    const stored = again.state.creds;
    expect(Buffer.isBuffer(stored.noiseKey.public)).toBe(true);
    expect(Buffer.from(stored.noiseKey.private).equals(Buffer.from(creds.noiseKey.private))).toBe(true);
    expect(Buffer.from(stored.signedPreKey.signature).equals(Buffer.from(creds.signedPreKey.signature))).toBe(true);
    expect(stored.advSecretKey).toBe(creds.advSecretKey);
    expect(stored.registrationId).toBe(4242);
    expect(stored.accountSettings).toEqual({ unarchiveChats: false });
  });

  it('keeps every value unreadable in the table: sealed, no plaintext, no JSON', async () => {
    const sessionId = await h.createSession();
    const creds = fakeCreds();
    const auth = await h.auth.load(sessionId, () => Promise.resolve(creds));
    await auth.state.keys.set({ 'pre-key': { '1': { public: Buffer.from('pre-key-public-bytes'), private: Buffer.from('pre-key-private') } } });
    const stored = await rows(sessionId);
    expect(stored.map((r) => r.key)).toEqual(['creds', 'pre-key:1']);
    for (const { value } of stored) {
      expect(value[0]).toBe(1);
      for (const secret of [creds.advSecretKey, Buffer.from(creds.noiseKey.private).toString('base64'), 'pre-key-private', 'noiseKey', '"type":"Buffer"']) {
        expect(value.includes(Buffer.from(secret))).toBe(false);
      }
    }
  });

  it('saves changed creds (coalesced) and reads signal keys by type and id; null deletes', async () => {
    const sessionId = await h.createSession();
    const auth = await h.auth.load(sessionId, () => Promise.resolve(fakeCreds()));
    const { keys } = auth.state;
    await keys.set({
      session: { 'a.0': Buffer.from('session-a'), 'b.0': Buffer.from('session-b') },
      'sender-key-memory': { '120363025246125486@g.us': { '6285611112222@s.whatsapp.net': true } },
      'lid-mapping': { '6281234567890': '215400000000001' },
    });
    await keys.set({ session: { 'b.0': null, 'a.0': Buffer.from('session-a2') } });
    const sessions = await keys.get('session', ['a.0', 'b.0', 'c.0']);
    expect(Object.keys(sessions)).toEqual(['a.0']);
    expect(Buffer.from(sessions['a.0']).toString()).toBe('session-a2');
    expect(await keys.get('sender-key-memory', ['120363025246125486@g.us'])).toEqual({
      '120363025246125486@g.us': { '6285611112222@s.whatsapp.net': true },
    });
    expect(await keys.get('lid-mapping', ['6281234567890'])).toEqual({ '6281234567890': '215400000000001' });

    auth.state.creds.me = { id: '6281200000000:12@s.whatsapp.net', name: 'Gateway' };
    auth.saveCreds();
    auth.state.creds.nextPreKeyId = 31;
    auth.saveCreds();
    await auth.close();
    const reread = await h.auth.load(sessionId, () => Promise.reject(new Error('stored')));
    expect(reread.state.creds.me?.id).toBe('6281200000000:12@s.whatsapp.net');
    expect(reread.state.creds.nextPreKeyId).toBe(31);
  });

  it('fails loudly under another key, and never replaces the stored credentials', async () => {
    const sessionId = await h.createSession();
    await h.auth.load(sessionId, () => Promise.resolve(fakeCreds()));
    const before = await rows(sessionId);
    const other = storeWithKey(Buffer.alloc(32, 7));
    await expect(other.load(sessionId, () => Promise.resolve(fakeCreds()))).rejects.toThrow(CredentialsUnreadableError);
    await expect(other.load(sessionId, () => Promise.resolve(fakeCreds()))).rejects.toThrow(/another SESSION_ENCRYPTION_KEY/);
    expect(await rows(sessionId)).toEqual(before);
  });

  it('refuses a value copied from another session', async () => {
    const [a, b] = [await h.createSession(), await h.createSession()];
    await h.auth.load(a, () => Promise.resolve(fakeCreds()));
    await h.auth.load(b, () => Promise.resolve(fakeCreds()));
    await h.dataSource.query(
      `UPDATE session_auth SET value = (SELECT value FROM session_auth WHERE session_id = $1 AND key = 'creds')
        WHERE session_id = $2 AND key = 'creds'`,
      [a, b],
    );
    await expect(h.auth.load(b, () => Promise.resolve(fakeCreds()))).rejects.toThrow(/failed authentication/);
  });

  it('clear (logout) deletes the session credentials and nothing else', async () => {
    const [a, b] = [await h.createSession(), await h.createSession()];
    for (const id of [a, b]) {
      const auth = await h.auth.load(id, () => Promise.resolve(fakeCreds()));
      await auth.state.keys.set({ 'pre-key': { '1': { public: Buffer.from('x'), private: Buffer.from('y') } } });
    }
    await h.auth.clear(a);
    expect(await rows(a)).toEqual([]);
    expect((await rows(b)).map((r) => r.key)).toEqual(['creds', 'pre-key:1']);
  });

  it('goes with its session when the session is deleted', async () => {
    const sessionId = await h.createSession();
    await h.auth.load(sessionId, () => Promise.resolve(fakeCreds()));
    const res = await request(h.t.http).delete(`/api/v1/sessions/${sessionId}`).set('Authorization', `Bearer ${h.key}`);
    expect(res.status).toBe(204);
    expect(await rows(sessionId)).toEqual([]);
  });

  it('without SESSION_ENCRYPTION_KEY, generates a 0600 key file once, warns, and reuses it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wgw-key-'));
    try {
      const lines: Record<string, unknown>[] = [];
      const logger = pino(
        { level: 'warn' },
        new Writable({
          write(chunk: Buffer, _enc, done) {
            for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
            done();
          },
        }),
      );
      const sessionId = await h.createSession();
      const first = storeWithKey(undefined, dataDir, logger);
      const creds: AuthenticationCreds = fakeCreds();
      await first.load(sessionId, () => Promise.resolve(creds));

      const path = join(dataDir, DEVELOPMENT_KEY_FILE);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')).toHaveLength(32);
      expect(lines).toEqual([
        expect.objectContaining({ level: 40, path, msg: expect.stringMatching(/^SESSION_ENCRYPTION_KEY is not set: generated/) }),
      ]);

      // A restart (a new process) finds the same key and reads what the first one wrote.
      const second = storeWithKey(undefined, dataDir, logger);
      const reread = await second.load(sessionId, () => Promise.reject(new Error('stored')));
      expect(reread.state.creds.advSecretKey).toBe(creds.advSecretKey);
      expect(lines[1]).toMatchObject({ level: 40, msg: expect.stringMatching(/using the development key/) });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
