import type { WAMessage } from 'baileys';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { ServerResponse } from 'node:http';
import { Client } from 'pg';
import { REQUESTS_CHANNEL } from '../../src/sessions/holder-requests.repository';
import { LIVENESS_LOCK_CLASS, SessionOwnershipService } from '../../src/sessions/session-ownership.service';
import { eventually } from '../fixtures/baileys/baileys-harness';
import { closeError, FakeSocket } from '../fixtures/baileys/fake-socket';
import { BaileysGateway, startBaileysGateway } from '../support/baileys-gateway';
import { FileServer, serve } from '../support/file-server';
import { encryptForWhatsApp, freshDataDir, SAMPLE_FILES, sha256Of } from '../support/media-files';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const BUDI = '6281234567890@s.whatsapp.net';
/** Files above this are fetched on their first request, not in the background. */
const AUTO_MAX = 8 * 1024;

/**
 * Received files with two replicas on one database: `a` holds the sessions (and downloads from a
 * local stand-in CDN), `b` holds none (`WA_PROVIDER=external`) and gets the requests.
 */
describe('received files and replicas', () => {
  const routes: Record<string, (res: ServerResponse, base: string) => void> = {};
  const cdn = new FileServer(routes);
  let db: TestDatabase;
  let sql: Client;
  let a: BaileysGateway;
  let b: BaileysGateway;
  let base: string;
  let dataDir: string;
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase('media_replicas', undefined, { durable: false });
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    base = await cdn.start();
    dataDir = freshDataDir();
    const env = { DATABASE_URL: db.url, DATA_DIR: dataDir, MEDIA_AUTO_DOWNLOAD_MAX_BYTES: String(AUTO_MAX) };
    a = await startBaileysGateway(env);
    b = await startBaileysGateway({ ...env, WA_PROVIDER: 'external' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await sql?.end();
    await cdn.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The phone receives `plain` as an image, served encrypted by the CDN; its message id. */
  function receive(socket: FakeSocket, plain: Buffer): string {
    const id = `3EB0REPLICA${String(++n).padStart(6, '0')}`;
    const mediaKey = randomBytes(32);
    const path = `/mms/image/${id}.enc`;
    routes[path] = serve(encryptForWhatsApp(plain, mediaKey, 'WhatsApp Image Keys'));
    const message = {
      key: { remoteJid: BUDI, fromMe: false, id },
      messageTimestamp: 1732400000 + n,
      message: {
        imageMessage: { url: `${base}${path}`, directPath: path, mediaKey, fileSha256: Buffer.from(sha256Of(plain), 'hex'), fileLength: plain.length, mimetype: 'image/jpeg' },
      },
    } as unknown as WAMessage;
    socket.emit('messages.upsert', { messages: [message], type: 'notify' });
    return id;
  }

  const messagePath = (sid: string, id: string) => `/api/v1/sessions/${sid}/chats/${BUDI}/messages/${id}`;
  const mediaOf = async (sid: string, id: string) => (await b.call('get', messagePath(sid, id), a.key)).body.media as { status: string } | undefined;
  const cdnHits = (id: string) => cdn.hits.filter((hit) => hit.includes(id)).length;

  it('relays the first request for a large file, made on a replica that does not hold the session, to the holder', async () => {
    const { id: sid, socket } = await a.connectedSession();
    const plain = SAMPLE_FILES.jpeg(AUTO_MAX * 4);
    const id = receive(socket, plain);
    await eventually(async () => expect(await mediaOf(sid, id)).toMatchObject({ status: 'pending' }));

    const listener = new Client({ connectionString: db.url });
    await listener.connect();
    const asked: string[] = [];
    listener.on('notification', (note) => asked.push(note.payload ?? ''));
    await listener.query(`LISTEN ${REQUESTS_CHANNEL}`);
    try {
      const res = await b.call('get', `${messagePath(sid, id)}/media`, a.key).buffer(true);
      expect(res.status).toBe(200);
      expect(sha256Of(res.body as Buffer)).toBe(sha256Of(plain));
      // The request went to the holder through PostgreSQL, which downloaded the file once.
      expect(asked).toContain(sid);
    } finally {
      await listener.end();
    }
    expect(cdnHits(id)).toBe(1);
    expect((await sql.query('SELECT 1 FROM holder_requests')).rows).toEqual([]);
    expect(await mediaOf(sid, id)).toMatchObject({ status: 'ready' });
    // Served from the store by either replica from now on.
    const again = await a.call('get', `${messagePath(sid, id)}/media`).buffer(true);
    expect(sha256Of(again.body as Buffer)).toBe(sha256Of(plain));
    expect(cdnHits(id)).toBe(1);
  });

  it('resumes at once a download whose replica is gone, and never takes one from a replica that lives', async () => {
    // One session each: a session whose file another live replica is downloading waits for it.
    const first = await a.connectedSession();
    const second = await a.connectedSession();
    const dead = receive(first.socket, SAMPLE_FILES.jpeg(AUTO_MAX + 100));
    const alive = receive(second.socket, SAMPLE_FILES.jpeg(AUTO_MAX + 200));
    await eventually(async () => expect(await mediaOf(second.id, alive)).toMatchObject({ status: 'pending' }));
    // Another replica's liveness lock, on a connection of the test's own.
    const other = new Client({ connectionString: db.url });
    await other.connect();
    const liveNumber = 1_234_567;
    await other.query('SELECT pg_advisory_lock($1::int, $2::int)', [LIVENESS_LOCK_CLASS, liveNumber]);
    try {
      // Both leased by a replica an hour ago; neither lease runs out by time.
      await sql.query(
        `INSERT INTO media_downloads (session_id, chat_jid, message_id, attempts, next_attempt_at, leased_by)
         VALUES ($1, $2, $3, 1, now() + interval '1 hour', $4), ($5, $2, $6, 1, now() + interval '1 hour', $7)`,
        [first.id, BUDI, dead, 7_654_321, second.id, alive, liveNumber],
      );
      await eventually(async () => expect(await mediaOf(first.id, dead)).toMatchObject({ status: 'ready' }), 5_000);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(await mediaOf(second.id, alive)).toMatchObject({ status: 'pending' });
      expect(cdnHits(alive)).toBe(0);
    } finally {
      // The other replica dies: its lease goes with its lock.
      await other.end();
    }
    await eventually(async () => expect(await mediaOf(second.id, alive)).toMatchObject({ status: 'ready' }), 5_000);
    expect(cdnHits(dead)).toBe(1);
    expect(cdnHits(alive)).toBe(1);
    expect((await sql.query('SELECT 1 FROM media_downloads WHERE session_id = ANY ($1)', [[first.id, second.id]])).rows).toEqual([]);
  });

  it('stops a download at once when its replica loses its lock connection, and downloads it again under a new lease', async () => {
    const { id: sid, socket } = await a.connectedSession();
    const plain = SAMPLE_FILES.jpeg(AUTO_MAX - 100);
    const id = receive(socket, plain);
    const path = `/mms/image/${id}.enc`;
    // The first attempt trickles: it is still running when the lock connection goes.
    const served = routes[path];
    const cut: number[] = [];
    routes[path] = (res) => {
      routes[path] = served;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(16));
      res.on('close', () => cut.push(Date.now()));
    };
    await eventually(() => expect(cdnHits(id)).toBe(1), 5_000);
    const [{ leased_by: before }] = (await sql.query<{ leased_by: string }>('SELECT leased_by FROM media_downloads WHERE message_id = $1', [id])).rows;
    const { rows } = await sql.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid = $1 AND objid = $2::bigint::oid`,
      [LIVENESS_LOCK_CLASS, before],
    );
    const terminatedAt = Date.now();
    await sql.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
    await eventually(() => expect(cut).toHaveLength(1), 3_000);
    expect(cut[0] - terminatedAt).toBeLessThan(3_000);
    // The holder takes its sessions again on a new lock connection and downloads the file under its new number.
    (await a.sockets.waitForSocket(sid, 2, 15_000)).open();
    await eventually(async () => expect(await mediaOf(sid, id)).toMatchObject({ status: 'ready' }), 20_000);
    expect(cdnHits(id)).toBe(2);
  });

  it('answers 503 for a file to fetch when no replica holds the session', async () => {
    const { id: sid, socket } = await a.connectedSession();
    const id = receive(socket, SAMPLE_FILES.jpeg(AUTO_MAX * 2));
    await eventually(async () => expect(await mediaOf(sid, id)).toMatchObject({ status: 'pending' }));
    // Logged out on the phone: the holder lets the session go and no replica takes it again.
    socket.end(closeError(401, 'Intentional Logout'));
    await eventually(async () => expect(await a.t.app.get(SessionOwnershipService).heldAnywhere(sid)).toBe(false), 10_000);
    const res = await b.call('get', `${messagePath(sid, id)}/media`, a.key);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('unavailable');
    expect(cdnHits(id)).toBe(0);
  });
});
