import { Client } from 'pg';
import { MetricsService } from '../../src/metrics/metrics.service';
import { ownershipLockName } from '../../src/sessions/session-ownership.service';
import { eventually } from '../fixtures/baileys/baileys-harness';
import { BaileysGateway, startBaileysGateway } from '../support/baileys-gateway';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/** A look for sessions nobody holds comes every 1.5 to 4.5 s. */
const LOOKS = 12_000;

async function gauge(g: BaileysGateway, metric: 'sessionsHeld' | 'sessionTakeovers'): Promise<number> {
  return (await g.t.app.get(MetricsService)[metric].get()).values[0]?.value ?? 0;
}

/**
 * Two replicas in this process, each with its own stand-in sockets, on a database of their own
 * (advisory locks are per database, and other test files' sessions must not be taken over).
 */
describe('replicas holding sessions between them', () => {
  let db: TestDatabase;
  let sql: Client;
  const running: BaileysGateway[] = [];

  const start = async () => {
    const gateway = await startBaileysGateway({ DATABASE_URL: db.url });
    running.push(gateway);
    return gateway;
  };
  /** The backend of the replica holding the session's lock, or null. */
  const holderPid = async (sid: string): Promise<number | null> => {
    const { rows } = await sql.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
          AND (classid::bigint << 32) | objid::bigint = hashtextextended($1, 0)`,
      [ownershipLockName(sid)],
    );
    return rows[0]?.pid ?? null;
  };

  beforeAll(async () => {
    db = await createTestDatabase('replicas', undefined, { durable: false });
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });
  afterEach(async () => {
    for (const gateway of running.splice(0)) await gateway.close();
    // Each test starts with no sessions: they would count in the shares.
    await sql.query('DELETE FROM sessions');
  });
  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  it('closes the sockets of a replica whose lock connection dies at once, and takes the sessions again on a new one', async () => {
    const a = await start();
    const sessions = [await a.connectedSession(), await a.connectedSession()];
    expect(await gauge(a, 'sessionsHeld')).toBe(2);
    const pid = await holderPid(sessions[0].id);
    expect(pid).not.toBeNull();

    await sql.query('SELECT pg_terminate_backend($1)', [pid]);
    // Closed before another replica could take them; the status is left to the next holder.
    await eventually(() => expect(sessions.map((s) => s.socket.ended)).toEqual([true, true]), 2_000);
    expect(await gauge(a, 'sessionsHeld')).toBe(0);

    // Nobody holds them now: the next look takes them (here, with no other replica, on a new lock connection).
    for (const { id } of sessions) {
      const socket = await a.sockets.waitForSocket(id, 2, LOOKS);
      socket.open();
      await a.expectStatus(id, 'connected');
      expect(await holderPid(id)).not.toBeNull();
      expect(await holderPid(id)).not.toBe(pid);
    }
    expect(await gauge(a, 'sessionsHeld')).toBe(2);
    expect(await gauge(a, 'sessionTakeovers')).toBe(2);
  });

  it('gives a replica that starts later its share', async () => {
    const a = await start();
    for (let i = 0; i < 4; i++) await a.connectedSession();
    const b = await start();
    await eventually(async () => expect([await gauge(a, 'sessionsHeld'), await gauge(b, 'sessionsHeld')]).toEqual([2, 2]), 3 * LOOKS);
  }, 60_000);

  it('hands the sessions of a replica that stops over to the others at once, not at their next look', async () => {
    const a = await start();
    const sessions = [await a.connectedSession(), await a.connectedSession()];
    const b = await start();
    running.splice(running.indexOf(a), 1);
    await a.close();
    const closedAt = Date.now();
    for (const { id } of sessions) await b.sockets.waitForSocket(id, 1, 1_000);
    expect(Date.now() - closedAt).toBeLessThan(1_000);
    expect(await gauge(b, 'sessionsHeld')).toBe(2);
  });

  it('logs a session deleted on another replica out on its holder, and answers once the holder let it go', async () => {
    const a = await start();
    const b = await start();
    const { id, socket } = await a.connectedSession();

    const res = await b.call('delete', `/api/v1/sessions/${id}`, a.key);
    expect(res.status).toBe(204);
    expect(socket.loggedOut).toBe(true);
    expect(socket.ended).toBe(true);
    expect(await holderPid(id)).toBeNull();
    const { rows } = await sql.query('SELECT 1 FROM session_auth WHERE session_id = $1', [id]);
    expect(rows).toEqual([]);
  });

  it('lets go of a held session whose row was marked deleted or removed behind its back, and does not connect it again', async () => {
    const a = await start();
    const marked = await a.connectedSession();
    const removed = await a.connectedSession();
    await sql.query('UPDATE sessions SET deleted_at = now() WHERE id = $1', [marked.id]);
    await sql.query('DELETE FROM sessions WHERE id = $1', [removed.id]);

    // The socket goes first, then the lock: both within a look.
    await eventually(() => expect(marked.socket.loggedOut).toBe(true), LOOKS);
    await eventually(async () => expect(await holderPid(marked.id)).toBeNull(), LOOKS);
    // A row that is gone may be one being created: it is given a few more seconds.
    await eventually(() => expect(removed.socket.ended).toBe(true), 2 * LOOKS);
    await eventually(async () => expect(await holderPid(removed.id)).toBeNull(), LOOKS);
    expect([a.sockets.count(marked.id), a.sockets.count(removed.id)]).toEqual([1, 1]);
  });
});
