import type { ConnectionState } from 'baileys';
import { Client } from 'pg';
import pino, { Logger } from 'pino';
import { Writable } from 'node:stream';
import { ownershipLockName } from '../../src/sessions/session-ownership.service';
import { eventually } from '../fixtures/baileys/baileys-harness';
import { closeError } from '../fixtures/baileys/fake-socket';
import { loadFixture } from '../fixtures/baileys/load-fixture';
import { BaileysGateway, startBaileysGateway } from '../support/baileys-gateway';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const updates = loadFixture<Record<string, Partial<ConnectionState>>>('connection-updates.json');

/** A logger whose lines the test reads. */
function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const reconnectLine = (lines: Record<string, unknown>[]) => lines.find((l) => l.msg === 'reconnected sessions at start');

/**
 * Replicas starting on one database, each with its own stand-in sockets. A database of its own:
 * advisory locks are per database, and other test files' apps must not meet these sessions.
 */
describe('reconnecting sessions at start', () => {
  let db: TestDatabase;
  const running: BaileysGateway[] = [];
  let otherReplica: Client;

  const start = async (env: Record<string, string> = {}) => {
    const { logger, lines } = capturingLogger();
    const gateway = await startBaileysGateway({ DATABASE_URL: db.url, ...env }, {}, logger);
    running.push(gateway);
    return { gateway, lines };
  };
  const stop = async (gateway: BaileysGateway) => {
    running.splice(running.indexOf(gateway), 1);
    await gateway.close();
  };

  beforeAll(async () => {
    db = await createTestDatabase('boot', undefined, { durable: false });
    otherReplica = new Client({ connectionString: db.url });
    await otherReplica.connect();
  });
  afterAll(async () => {
    for (const gateway of running) await gateway.close();
    await otherReplica?.end();
    await db?.drop();
  });

  it('reconnects every baileys session that is not logged out, one after another, but none another replica holds', async () => {
    // The first replica attaches numbers in every state, then stops.
    const { gateway: first } = await start();
    const connected = await first.connectedSession();
    const pairing = await first.createSession();
    (await first.sockets.waitForSocket(pairing, 1)).emit('connection.update', updates.firstQr);
    await first.expectStatus(pairing, 'pairing');
    const failed = await first.connectedSession();
    failed.socket.close(closeError(403));
    await first.expectStatus(failed.id, 'failed');
    const loggedOut = await first.connectedSession();
    loggedOut.socket.close(closeError(401));
    await first.expectStatus(loggedOut.id, 'logged_out');
    const elsewhere = await first.connectedSession();
    const { gateway: externalReplica } = await start({ WA_PROVIDER: 'external' });
    const external = await externalReplica.createSession();
    await stop(externalReplica);
    await stop(first);
    // Stopping closes the connections: they read disconnected; failed and logged out stay so.
    await eventually(async () => {
      const rows = await otherReplica.query<{ id: string; status: string }>('SELECT id, status FROM sessions ORDER BY id');
      expect(Object.fromEntries(rows.rows.map((r) => [r.id, r.status]))).toEqual({
        [connected.id]: 'disconnected',
        [pairing]: 'disconnected',
        [failed.id]: 'failed',
        [loggedOut.id]: 'logged_out',
        [elsewhere.id]: 'disconnected',
        [external]: 'disconnected',
      });
    });
    // Another replica holds one of them.
    await otherReplica.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [ownershipLockName(elsewhere.id)]);

    const startedAt = Date.now();
    const { gateway: second, lines } = await start();
    // Readiness does not wait for the reconnects.
    expect((await second.call('get', '/health/ready')).status).toBe(200);
    const line = await eventually(() => {
      const found = reconnectLine(lines);
      expect(found).toBeDefined();
      return found!;
    });
    expect(line).toMatchObject({ provider: 'baileys', connected: 3, heldElsewhere: 1 });
    // Staggered: three connects, two pauses between them.
    expect((line.time as number) - startedAt).toBeGreaterThanOrEqual(200);
    for (const id of [connected.id, pairing, failed.id]) expect(second.sockets.count(id)).toBe(1);
    await eventually(async () => {
      const { rows } = await otherReplica.query<{ status: string }>('SELECT status FROM sessions WHERE id = ANY($1) ORDER BY id', [
        [connected.id, pairing, failed.id],
      ]);
      expect(rows.map((r) => r.status)).toEqual(['connecting', 'connecting', 'connecting']);
    });
    for (const id of [loggedOut.id, elsewhere.id, external]) expect(second.sockets.count(id)).toBe(0);

    // The reconnected session works as before: it pairs with its stored credentials.
    const socket = second.sockets.latest(connected.id);
    expect(socket.options.auth.creds.me?.id).toBe(connected.socket.options.auth.creds.me?.id);
    socket.open();
    await eventually(async () => {
      const { rows } = await otherReplica.query<{ status: string }>('SELECT status FROM sessions WHERE id = $1', [connected.id]);
      expect(rows).toEqual([{ status: 'connected' }]);
    });

    // A third replica starting now takes nothing: the second one holds three, the other one the fourth.
    const { gateway: third, lines: thirdLines } = await start();
    await eventually(() => expect(reconnectLine(thirdLines)).toMatchObject({ connected: 0, heldElsewhere: 4 }));
    for (const id of [connected.id, pairing, failed.id, elsewhere.id]) expect(third.sockets.count(id)).toBe(0);
    await stop(third);
    await stop(second);
  });

  it('reconnects nothing in a gateway that runs with WA_PROVIDER=external', async () => {
    // No replica holds the sessions now.
    const { gateway, lines } = await start({ WA_PROVIDER: 'external' });
    const sessions = await otherReplica.query<{ id: string }>("SELECT id FROM sessions WHERE provider = 'baileys' AND status <> 'logged_out'");
    expect(sessions.rows.length).toBeGreaterThanOrEqual(3);
    // Give a reconnect the time it would take to show.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(reconnectLine(lines)).toBeUndefined();
    for (const { id } of sessions.rows) expect(gateway.sockets.count(id)).toBe(0);
  });
});
