import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { seedApiKey } from '../support/api-key-seed';
import { EmbeddedPostgresServer, startEmbeddedPostgresServer } from '../support/embedded-postgres-server';
import { GatewayProcess } from '../support/gateway-process';

const ROOT = resolve(__dirname, '..', '..');
/** The user the image runs as has no name here; any unprivileged one shows the same. */
const NOBODY = 65534;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stands in for the network while the gateway runs: WhatsApp (and anything else not on loopback)
 * is unreachable, as in a sandbox; nothing leaves the machine.
 */
const NO_NETWORK = `
const net = require('node:net');
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === 'object' && first !== null ? first : { port: first, host: args[1] };
  const host = options.path ? 'localhost' : String(options.host ?? 'localhost');
  if (!/^(127\\.|::1$|localhost$)/.test(host)) {
    process.nextTick(() => this.destroy(Object.assign(new Error('no network in this test: ' + host), { code: 'ENETUNREACH' })));
    return this;
  }
  return connect.apply(this, args);
};
`;

/**
 * The Docker image without Docker: its start command (`node dist/main.js` in WORKDIR /app, as
 * USER node) run as an unprivileged user in a root-owned /app, with the database of
 * docker-compose.yml (`DATABASE_URL` set) and no `SESSION_ENCRYPTION_KEY`, as `docker compose up`
 * starts it. With the image's `DATA_DIR` (a directory owned by that user, as the Dockerfile makes
 * /data) a new session gets its development key and connects; without it (the image before) the
 * key cannot be written into /app and the session is `failed` at once, with one clear log line.
 */
describe('the Docker image as an unprivileged user', () => {
  let pg: EmbeddedPostgresServer;
  let dir: string;
  let app: string;
  let data: string;
  let gateway: GatewayProcess | undefined;
  const runAsRoot = process.getuid?.() === 0;

  beforeAll(async () => {
    if (!runAsRoot) return;
    pg = await startEmbeddedPostgresServer();
    dir = mkdtempSync('/tmp/wgw-image-');
    chmodSync(dir, 0o755);
    // /app as the image has it: root's, readable by everyone, writable by root only.
    app = join(dir, 'app');
    mkdirSync(app, { mode: 0o755 });
    symlinkSync(join(ROOT, 'dist'), join(app, 'dist'));
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
    copyFileSync(join(ROOT, 'package.json'), join(app, 'package.json'));
    // /data as the Dockerfile makes it: `mkdir /data && chown node:node /data`.
    data = join(dir, 'data');
    mkdirSync(data, { mode: 0o755 });
    chownSync(data, NOBODY, NOBODY);
    writeFileSync(join(dir, 'no-network.js'), NO_NETWORK);
  });
  afterEach(async () => {
    await gateway?.stop().catch(() => undefined);
    gateway = undefined;
  });
  afterAll(async () => {
    if (!runAsRoot) return;
    await pg?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startImage(env: Record<string, string>): Promise<{ id: string; status: () => Promise<string>; logs: () => string }> {
    gateway = await GatewayProcess.start({
      entry: 'dist/main.js',
      cwd: app,
      uid: NOBODY,
      gid: NOBODY,
      nodeArgs: ['--require', join(dir, 'no-network.js')],
      env: { DATABASE_URL: pg.url, WA_PROVIDER: 'baileys', SESSION_ENCRYPTION_KEY: '', LOG_LEVEL: 'info', ...env },
    });
    const started = gateway;
    const key = await seedApiKey(pg.url, `org-image-${Date.now()}`);
    const created = await started.request('/api/v1/sessions', {
      method: 'POST',
      body: { name: 'docker compose up' },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    return {
      id,
      status: async () =>
        (await started.request(`/api/v1/sessions/${id}`, { headers: { authorization: `Bearer ${key}` } })).body.status as string,
      logs: () => started.logs(),
    };
  }

  (runAsRoot ? it : it.skip)('with the image DATA_DIR: the development key is written there and the session connects', async () => {
    const session = await startImage({ DATA_DIR: data });
    const keyFile = join(data, 'session-encryption.key');
    for (let i = 0; i < 100 && !existsSync(keyFile); i++) await sleep(50);
    const stat = statSync(keyFile);
    expect({ uid: stat.uid, mode: stat.mode & 0o777 }).toEqual({ uid: NOBODY, mode: 0o600 });
    expect(session.logs()).toContain('generated a development key for WhatsApp credentials at rest');
    // WhatsApp is out of reach here: the session keeps connecting, as it would on a network outage.
    await sleep(1000);
    expect(await session.status()).toBe('connecting');
    expect(session.logs()).not.toContain('no encryption key');
    process.stdout.write(`FAULTS docker-image ${JSON.stringify({ dataDir: 'writable', keyMode: (stat.mode & 0o777).toString(8) })}\n`);
  });

  (runAsRoot ? it : it.skip)('without it (the image before): the key cannot be written into /app, and the session is failed, not retried', async () => {
    const session = await startImage({});
    let status = '';
    for (let i = 0; i < 100 && status !== 'failed'; i++) {
      status = await session.status();
      await sleep(50);
    }
    expect(status).toBe('failed');
    expect(existsSync(join(app, '.data'))).toBe(false);
    // (The first test's session, reconnected at this start, fails the same way.)
    const lines = session
      .logs()
      .split('\n')
      .filter((l) => l.includes(session.id) && l.includes('no encryption key for WhatsApp credentials'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('(EACCES)');
    await sleep(1500);
    expect(session.logs()).not.toContain('could not start the WhatsApp connection');
  });
});
