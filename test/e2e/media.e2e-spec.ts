import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { auth, createSession, directJid, ingest, messageEvent } from '../support/ingest';
import { filesUnder, freshDataDir, SAMPLE_FILES, sha256Of } from '../support/media-files';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';
import { MediaGcService } from '../../src/media/media-gc.service';

/** Superagent buffers binary answers only when told how; error envelopes are still JSON. */
function binary(res: request.Response & { statusCode?: number }, callback: (error: Error | null, body: unknown) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => {
    const bytes = Buffer.concat(chunks);
    callback(null, (res.statusCode ?? 0) >= 400 ? JSON.parse(bytes.toString()) : bytes);
  });
}

describe('media: PUT and GET …/messages/{mid}/media on the fs store', () => {
  let t: TestApp;
  let db: DataSource;
  let dataDir: string;
  let org: string;
  let key: string;
  let sid: string;
  let chat: string;
  let n = 0;

  beforeAll(async () => {
    dataDir = freshDataDir();
    t = await startTestApp({ DATA_DIR: dataDir, MEDIA_MAX_BYTES: String(1024 * 1024) });
    db = t.app.get(DataSource);
    org = uniqueOrg('media');
    key = await createKey(t, org);
    sid = await createSession(t, key);
    chat = directJid(1);
  });
  afterAll(async () => {
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const mediaPath = (mid: string, session = sid, inChat = chat) => `/api/v1/sessions/${session}/chats/${inChat}/messages/${mid}/media`;
  // A string is sent as it is; superagent would serialize a Buffer to JSON under a JSON content type.
  const put = (mid: string, bytes: Buffer | string, contentType = 'application/octet-stream') =>
    request(t.http).put(mediaPath(mid)).set(...auth(key)).set('Content-Type', contentType).send(bytes);
  const get = (mid: string, headers: Record<string, string> = {}, withKey = key) =>
    request(t.http).get(mediaPath(mid)).set(...auth(withKey)).set(headers).buffer(true).parse(binary);
  const storedObjects = () => filesUnder(`${dataDir}/media`);
  const messageEventsOf = async (mid: string) =>
    (await db.query<{ payload: string }[]>(`SELECT payload FROM events WHERE session_id = $1 ORDER BY xid, seq`, [sid]))
      .map((row) => JSON.parse(row.payload) as { type: string; data: { id: string; media: { status: string } | null } })
      .filter((event) => event.data.id === mid);

  /** Pushes a media message announcing `bytes` and returns its id. */
  async function announce(bytes: Buffer, fields: Record<string, unknown> = {}, type = 'image', inChat = chat): Promise<string> {
    const mid = `MEDIA${++n}`;
    const media = { mimetype: 'image/jpeg', size: bytes.length, sha256: sha256Of(bytes), ...fields };
    await ingest(t, key, sid, [messageEvent(inChat, mid, 1_000 + n, { type, text: null, media })]);
    return mid;
  }

  it('stores announced bytes once they match, serves them, and records the change', async () => {
    const bytes = SAMPLE_FILES.jpeg(5000);
    const mid = await announce(bytes, { width: 1, height: 1 });
    expect((await get(mid)).body).toEqual({ error: { code: 'not_found', message: 'media not found', details: { status: 'pending' } } });

    expect((await put(mid, bytes, 'image/jpeg')).status).toBe(204);
    const res = await get(mid);
    expect(res.status).toBe(200);
    expect(Buffer.compare(res.body as Buffer, bytes)).toBe(0);
    expect(res.headers).toMatchObject({
      'content-type': 'image/jpeg',
      'content-length': '5000',
      etag: `"${sha256Of(bytes)}"`,
      'cache-control': 'private, max-age=86400',
      'content-disposition': 'inline',
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    });
    const message = await request(t.http).get(`/api/v1/sessions/${sid}/chats/${chat}/messages/${mid}`).set(...auth(key));
    expect(message.body.media).toMatchObject({ status: 'ready', sha256: sha256Of(bytes), width: 1 });
    expect((await messageEventsOf(mid)).map((e) => [e.type, e.data.media?.status])).toEqual([
      ['message.created', 'pending'],
      ['message.updated', 'ready'],
    ]);

    // The same bytes again, and the same announcement again: nothing changes.
    expect((await put(mid, bytes)).status).toBe(204);
    await ingest(t, key, sid, [messageEvent(chat, mid, 1_000 + Number(mid.slice(5)), { type: 'image', text: null, media: { mimetype: 'image/jpeg', size: 5000, sha256: sha256Of(bytes), width: 1, height: 1 } })]);
    expect(await messageEventsOf(mid)).toHaveLength(2);
    expect(storedObjects()).toEqual([`${org}/${sha256Of(bytes)}`]);
  });

  it.each([
    ['other bytes of the same size', (b: Buffer) => Buffer.from(b).fill(1, 100, 200), 'sha256'],
    ['fewer bytes', (b: Buffer) => b.subarray(0, 100), 'size'],
    ['more bytes', (b: Buffer) => Buffer.concat([b, Buffer.from('x')]), 'size'],
  ])('answers 422 for %s and stores nothing', async (_name, change, field) => {
    const bytes = SAMPLE_FILES.pdf(3000);
    const mid = await announce(bytes, { mimetype: 'application/pdf' }, 'document');
    const before = storedObjects();
    const objectsBefore = await db.query('SELECT count(*) FROM media_objects WHERE org_id = $1', [org]);
    const res = await put(mid, change(bytes));
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.error.details.fields as object)).toEqual([field]);
    expect(storedObjects()).toEqual(before);
    expect(await db.query('SELECT count(*) FROM media_objects WHERE org_id = $1', [org])).toEqual(objectsBefore);
    expect((await get(mid)).body.error.details).toEqual({ status: 'pending' });
  });

  it('streams the body whatever its type: a JSON file is not parsed', async () => {
    const bytes = Buffer.from('{"not": "parsed", "x": [1, 2, 3]}');
    const mid = await announce(bytes, { mimetype: 'application/json', fileName: 'data "1".json' }, 'document');
    expect((await put(mid, bytes.toString(), 'application/json')).status).toBe(204);
    const res = await get(mid);
    expect(res.body.toString()).toBe(bytes.toString());
    expect(res.headers['content-disposition']).toBe(`attachment; filename="data _1_.json"; filename*=UTF-8''data%20%221%22.json`);
  });

  it('serves ranges (206), refuses a range past the end (416) and answers a known ETag with 304', async () => {
    const bytes = randomBytes(10_000);
    const mid = await announce(bytes, { mimetype: 'video/mp4' }, 'video');
    expect((await put(mid, bytes)).status).toBe(204);

    const first = await get(mid, { Range: 'bytes=0-99' });
    expect(first.status).toBe(206);
    expect(first.headers).toMatchObject({ 'content-range': 'bytes 0-99/10000', 'content-length': '100' });
    expect(Buffer.compare(first.body as Buffer, bytes.subarray(0, 100))).toBe(0);
    const tail = await get(mid, { Range: 'bytes=-10' });
    expect(tail.headers['content-range']).toBe('bytes 9990-9999/10000');
    expect(Buffer.compare(tail.body as Buffer, bytes.subarray(9990))).toBe(0);
    const open = await get(mid, { Range: 'bytes=9000-' });
    expect(open.headers['content-range']).toBe('bytes 9000-9999/10000');
    expect((await get(mid, { Range: 'bytes=0-1,5-6' })).status).toBe(200);

    const past = await request(t.http).get(mediaPath(mid)).set(...auth(key)).set('Range', 'bytes=10000-');
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe('bytes */10000');
    expect(past.body).toEqual({ error: { code: 'range_not_satisfiable', message: 'range not satisfiable', details: { size: 10000 } } });

    const cached = await get(mid, { 'If-None-Match': `"${sha256Of(bytes)}"` });
    expect(cached.status).toBe(304);
    expect(cached.headers.etag).toBe(`"${sha256Of(bytes)}"`);
    expect((await get(mid, { 'If-None-Match': '"other"' })).status).toBe(200);

    // If-Range: the range only when the client's part is of this very file.
    const resumed = await get(mid, { Range: 'bytes=100-199', 'If-Range': `"${sha256Of(bytes)}"` });
    expect(resumed.status).toBe(206);
    expect(Buffer.compare(resumed.body as Buffer, bytes.subarray(100, 200))).toBe(0);
    for (const stale of ['"other"', `W/"${sha256Of(bytes)}"`, 'Sat, 30 Nov 2026 00:00:00 GMT']) {
      const whole = await get(mid, { Range: 'bytes=100-199', 'If-Range': stale });
      expect(whole.status).toBe(200);
      expect(Buffer.compare(whole.body as Buffer, bytes)).toBe(0);
    }
  });

  it('answers HEAD with the headers of the same GET and no bytes', async () => {
    const bytes = randomBytes(5_000);
    const mid = await announce(bytes, { mimetype: 'audio/ogg' }, 'audio');
    expect((await put(mid, bytes)).status).toBe(204);
    const whole = await request(t.http).head(mediaPath(mid)).set(...auth(key));
    expect(whole.status).toBe(200);
    expect(whole.headers).toMatchObject({ 'content-length': '5000', 'content-type': 'audio/ogg', etag: `"${sha256Of(bytes)}"`, 'accept-ranges': 'bytes' });
    expect(whole.text ?? '').toBe('');
    const part = await request(t.http).head(mediaPath(mid)).set(...auth(key)).set('Range', 'bytes=10-19');
    expect(part.status).toBe(206);
    expect(part.headers).toMatchObject({ 'content-length': '10', 'content-range': 'bytes 10-19/5000' });
    expect((await request(t.http).head(mediaPath('NOFILE')).set(...auth(key))).status).toBe(404);
  });

  it('answers 404 media not found for a message without a file, and 404 to another organization', async () => {
    await ingest(t, key, sid, [messageEvent(chat, 'PLAIN', 1)]);
    expect((await get('PLAIN')).body).toEqual({ error: { code: 'not_found', message: 'media not found', details: {} } });
    expect((await put('PLAIN', Buffer.from('x'))).status).toBe(404);
    expect((await get('NOPE')).body.error.message).toBe('message not found');

    const bytes = SAMPLE_FILES.jpeg();
    const mid = await announce(bytes);
    expect((await put(mid, bytes)).status).toBe(204);
    const other = await createKey(t, uniqueOrg('media-other'));
    const foreign = await get(mid, {}, other);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.message).toBe('session not found');
    const foreignPut = await request(t.http).put(mediaPath(mid)).set(...auth(other)).send(bytes);
    expect(foreignPut.status).toBe(404);
  });

  it('keeps one object for the same file in several messages', async () => {
    const bytes = SAMPLE_FILES.jpeg(4321);
    const [a, b] = [await announce(bytes), await announce(bytes)];
    expect((await put(a, bytes)).status).toBe(204);
    expect((await put(b, bytes)).status).toBe(204);
    expect(storedObjects().filter((path) => path.endsWith(sha256Of(bytes)))).toHaveLength(1);
    expect((await get(b)).status).toBe(200);
  });

  it('answers 413 for a file announced larger than MEDIA_MAX_BYTES, reading none of it', async () => {
    const mid = await announce(Buffer.alloc(0), { size: 1024 * 1024 + 1, sha256: 'b'.repeat(64) });
    const res = await put(mid, Buffer.alloc(10));
    expect(res.status).toBe(413);
    expect(res.body.error).toEqual({ code: 'payload_too_large', message: 'request body too large', details: { limitBytes: 1024 * 1024 } });
  });

  it('removes the files no message of the organization refers to any more once their chat is deleted', async () => {
    const other = directJid(2);
    const [only, shared] = [SAMPLE_FILES.jpeg(3333), SAMPLE_FILES.jpeg(2222)];
    const a = await announce(only, {}, 'image', other);
    const b = await announce(shared, {}, 'image', other);
    const c = await announce(shared);
    for (const [mid, bytes, inChat] of [[a, only, other], [b, shared, other], [c, shared, chat]] as const) {
      const res = await request(t.http).put(mediaPath(mid, sid, inChat)).set(...auth(key)).send(bytes);
      expect(res.status).toBe(204);
    }
    const gc = t.app.get(MediaGcService);
    // Sweeps cover every organization of the shared test database: only this one's files are checked.
    await gc.sweep(0);
    expect(storedObjects()).toContain(`${org}/${sha256Of(only)}`);
    expect((await request(t.http).delete(`/api/v1/sessions/${sid}/chats/${other}`).set(...auth(key))).status).toBe(204);
    // A young file is left alone: a send may be about to refer to it.
    await gc.sweep();
    expect(storedObjects()).toContain(`${org}/${sha256Of(only)}`);
    await gc.sweep(0);
    expect(storedObjects()).not.toContain(`${org}/${sha256Of(only)}`);
    expect(storedObjects()).toContain(`${org}/${sha256Of(shared)}`);
    expect(await db.query('SELECT sha256 FROM media_objects WHERE org_id = $1 AND sha256 = $2', [org, sha256Of(only)])).toEqual([]);
    expect((await get(c)).status).toBe(200);
  });

  it('leaves nothing in the staging area', () => {
    expect(storedObjects().filter((path) => path.startsWith('.staging'))).toEqual([]);
  });
});
