import { rmSync } from 'node:fs';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ConnectorServer } from '../support/connector-server';
import { FileServer, redirect, serve } from '../support/file-server';
import { auth, createSession, directJid } from '../support/ingest';
import { DESCRIBED_FILES, filesUnder, freshDataDir, SAMPLE_FILES, sha256Of } from '../support/media-files';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';
import { MessageSendService } from '../../src/messages/message-send.service';

const LIMIT = 64 * 1024;
const CHAT = directJid(7);

describe('sending media: by URL, as base64 and as a multipart upload', () => {
  const connector = new ConnectorServer();
  const files = new FileServer({
    '/photo.png': serve(SAMPLE_FILES.png, 'image/png'),
    '/invoice.pdf': serve(SAMPLE_FILES.pdf(), 'application/pdf'),
    '/moved.png': redirect('/photo.png'),
    '/big.jpg': serve(SAMPLE_FILES.jpeg(LIMIT + 1), 'image/jpeg'),
  });
  let t: TestApp;
  let db: DataSource;
  let dataDir: string;
  let fileBase: string;
  let key: string;
  let sid: string;

  beforeAll(async () => {
    dataDir = freshDataDir();
    fileBase = await files.start();
    t = await startTestApp({
      DATA_DIR: dataDir,
      WA_EXTERNAL_SEND_URL: await connector.start(),
      MEDIA_ALLOW_PRIVATE_URLS: 'true',
      MEDIA_MAX_BYTES: String(LIMIT),
    });
    db = t.app.get(DataSource);
    key = await createKey(t, uniqueOrg('media-send'));
    sid = await createSession(t, key);
  });
  afterAll(async () => {
    await t.close();
    await connector.stop();
    await files.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const path = `/api/v1/sessions/{sid}/chats/${CHAT}/messages`;
  const send = (body: object, idempotencyKey?: string) => {
    const req = request(t.http).post(path.replace('{sid}', sid)).set(...auth(key));
    return (idempotencyKey ? req.set('Idempotency-Key', idempotencyKey) : req).send(body);
  };
  const upload = () => request(t.http).post(path.replace('{sid}', sid)).set(...auth(key));
  const objects = () => filesUnder(`${dataDir}/media`);
  const messageCount = async () => Number((await db.query('SELECT count(*) FROM messages WHERE session_id = $1', [sid]))[0].count);
  const settled = () => t.app.get(MessageSendService).drain(5000);

  it('fetches a URL (following a redirect), stores the file, answers it ready and hands the connector the gateway URL', async () => {
    const res = await send({ type: 'image', media: { url: `${fileBase}/moved.png` }, text: 'foto' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      type: 'image',
      text: 'foto',
      status: 'pending',
      media: { mimetype: 'image/png', size: SAMPLE_FILES.png.length, sha256: sha256Of(SAMPLE_FILES.png), fileName: null, voiceNote: false, status: 'ready' },
    });
    await settled();
    const sent = connector.requests.at(-1)!.body as { message: { id: string; media: { url: string; sha256: string } } };
    expect(sent.message.id).toBe(res.body.id);
    expect(sent.message.media).toMatchObject({ mimetype: 'image/png', sha256: sha256Of(SAMPLE_FILES.png), fileName: null });
    const url = new URL(sent.message.media.url);
    expect(url.pathname).toBe(`/api/v1/sessions/${sid}/chats/${CHAT}/messages/${res.body.id}/media`);
    const file = await request(t.http).get(url.pathname).set(...auth(key)).buffer(true);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('image/png');
    expect((await request(t.http).get(`${path.replace('{sid}', sid)}/${res.body.id}`).set(...auth(key))).body.status).toBe('sent');
  });

  it('takes a document as base64 with its name, and labels it with the declared type when its bytes do not tell', async () => {
    const csv = Buffer.from('a,b\n1,2\n');
    const res = await send({ type: 'document', media: { data: csv.toString('base64'), mimetype: 'text/csv', fileName: 'data.csv' }, text: 'laporan' });
    expect(res.status).toBe(202);
    expect(res.body.media).toMatchObject({ mimetype: 'text/csv', fileName: 'data.csv', size: csv.length, status: 'ready' });
    const file = await request(t.http).get(`${path.replace('{sid}', sid)}/${res.body.id}/media`).set(...auth(key));
    expect(file.headers['content-disposition']).toBe(`attachment; filename="data.csv"; filename*=UTF-8''data.csv`);
    expect(file.text).toBe(csv.toString());
  });

  it('takes a multipart upload with its fields, and a voice note as Opus in Ogg', async () => {
    const photo = await upload().field('type', 'image').field('text', 'dari kamera').attach('file', SAMPLE_FILES.jpeg(), 'cam.jpg');
    expect(photo.status).toBe(202);
    expect(photo.body).toMatchObject({ type: 'image', text: 'dari kamera', media: { mimetype: 'image/jpeg', status: 'ready' } });
    const note = await upload().field('type', 'audio').field('voiceNote', 'true').attach('file', SAMPLE_FILES.opus(), 'note.ogg');
    expect(note.status).toBe(202);
    expect(note.body.media).toMatchObject({ mimetype: 'audio/ogg; codecs=opus', voiceNote: true });
    const pdf = await upload().field('type', 'document').attach('file', SAMPLE_FILES.pdf(), 'invoice.pdf');
    expect(pdf.body.media).toMatchObject({ mimetype: 'application/pdf', fileName: 'invoice.pdf' });
  });

  it('reads the sides of a sent picture and the duration of a sent video or voice note from their headers', async () => {
    const photo = await upload().field('type', 'image').attach('file', DESCRIBED_FILES.png(640, 480), 'photo.png');
    expect(photo.status).toBe(202);
    expect(photo.body.media).toMatchObject({ mimetype: 'image/png', width: 640, height: 480, durationMs: null });
    const clip = DESCRIBED_FILES.mp4({ durationMs: 7_250, width: 1280, height: 720, turned: true });
    const video = await send({ type: 'video', media: { data: clip.toString('base64') } });
    expect(video.status).toBe(202);
    expect(video.body.media).toMatchObject({ mimetype: 'video/mp4', width: 720, height: 1280, durationMs: 7_250 });
    const note = await upload().field('type', 'audio').field('voiceNote', 'true').attach('file', DESCRIBED_FILES.oggOpus(4_000), 'note.ogg');
    expect(note.body.media).toMatchObject({ mimetype: 'audio/ogg; codecs=opus', width: null, height: null, durationMs: 4_000 });
    // A document is not described, whatever it holds.
    const doc = await upload().field('type', 'document').attach('file', DESCRIBED_FILES.png(10, 10), 'scan.png');
    expect(doc.body.media).toMatchObject({ width: null, height: null, durationMs: null });
    // Stored as answered.
    const stored = await request(t.http).get(`${path.replace('{sid}', sid)}/${video.body.id}`).set(...auth(key));
    expect(stored.body.media).toMatchObject({ width: 720, height: 1280, durationMs: 7_250 });
  });

  it('replays an Idempotency-Key for the same file, and refuses it for another file', async () => {
    const body = { type: 'image', media: { data: SAMPLE_FILES.png.toString('base64') } };
    const first = await send(body, 'file-once');
    const again = await send(body, 'file-once');
    expect([first.status, again.status, again.headers['idempotent-replayed']]).toEqual([202, 202, 'true']);
    expect(again.body.id).toBe(first.body.id);
    const other = await send({ type: 'image', media: { data: SAMPLE_FILES.jpeg().toString('base64') } }, 'file-once');
    expect(other.status).toBe(422);
    expect(other.body.error.details.fields).toEqual({ 'Idempotency-Key': ['was already used with another request body'] });
  });

  describe('refuses every bad file with 4xx, storing nothing and leaving no file behind', () => {
    const truncated = (): string =>
      '--xyz\r\nContent-Disposition: form-data; name="type"\r\n\r\nimage\r\n' +
      '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n' +
      SAMPLE_FILES.jpeg().toString('latin1');
    const cases: [string, () => request.Test, number, string][] = [
      ['bad base64', () => send({ type: 'image', media: { data: 'not base64!' } }), 422, 'media.data'],
      ['base64 of the wrong length', () => send({ type: 'image', media: { data: 'abc' } }), 422, 'media.data'],
      ['a PDF sent as an image', () => send({ type: 'image', media: { data: SAMPLE_FILES.pdf().toString('base64') } }), 422, 'media'],
      ['a PNG sent as a sticker', () => send({ type: 'sticker', media: { data: SAMPLE_FILES.png.toString('base64') } }), 422, 'media'],
      ['a JPEG sent as a voice note', () => send({ type: 'audio', voiceNote: true, media: { data: SAMPLE_FILES.jpeg().toString('base64') } }), 422, 'media'],
      ['an empty file', () => send({ type: 'document', media: { data: '' } }), 422, 'media'],
      ['both url and data', () => send({ type: 'image', media: { data: 'AAAA', url: `${fileBase}/photo.png` } }), 422, 'media'],
      ['base64 over MEDIA_MAX_BYTES', () => send({ type: 'image', media: { data: SAMPLE_FILES.jpeg(LIMIT + 1).toString('base64') } }), 413, ''],
      ['a URL serving more than MEDIA_MAX_BYTES', () => send({ type: 'image', media: { url: `${fileBase}/big.jpg` } }), 422, 'media.url'],
      ['a URL that answers 404', () => send({ type: 'image', media: { url: `${fileBase}/gone.jpg` } }), 422, 'media.url'],
      ['a URL of another scheme', () => send({ type: 'image', media: { url: 'ftp://127.0.0.1/a.jpg' } }), 422, 'media.url'],
      ['a multipart upload over MEDIA_MAX_BYTES', () => upload().field('type', 'image').attach('file', SAMPLE_FILES.jpeg(LIMIT + 1), 'a.jpg'), 413, ''],
      ['a multipart upload cut off', () => upload().set('Content-Type', 'multipart/form-data; boundary=xyz').send(truncated()), 422, ''],
      ['a multipart upload without a file', () => upload().field('type', 'image'), 422, 'file'],
      ['a multipart upload with an unknown field', () => upload().field('type', 'image').field('url', 'x').attach('file', SAMPLE_FILES.png, 'a.png'), 422, 'url'],
      ['a multipart voiceNote that is not a boolean', () => upload().field('type', 'audio').field('voiceNote', 'yes').attach('file', SAMPLE_FILES.opus(), 'a.ogg'), 422, 'voiceNote'],
    ];
    it.each(cases)('%s', async (_name, call, status, field) => {
      const [before, objectsBefore] = [await messageCount(), objects()];
      const res = await call();
      expect(res.status).toBe(status);
      if (field) expect(Object.keys(res.body.error.details.fields as object)).toEqual([field]);
      expect(await messageCount()).toBe(before);
      expect(objects()).toEqual(objectsBefore);
      expect(objects().filter((p) => p.startsWith('.staging'))).toEqual([]);
    });
  });
});

describe('sending media by URL: only public addresses by default', () => {
  const files = new FileServer({ '/photo.png': serve(SAMPLE_FILES.png, 'image/png'), '/to-private': redirect('http://10.0.0.1/photo.png') });
  let t: TestApp;
  let key: string;
  let sid: string;
  let fileBase: string;

  beforeAll(async () => {
    fileBase = await files.start();
    t = await startTestApp({ DATA_DIR: freshDataDir(), WA_EXTERNAL_SEND_URL: 'http://127.0.0.1:9/send' });
    key = await createKey(t, uniqueOrg('media-ssrf'));
    sid = await createSession(t, key);
  });
  afterAll(async () => {
    await t.close();
    await files.stop();
  });

  it.each([
    `/photo.png`,
    'http://127.0.0.1:9/x.png',
    'http://10.0.0.1/x.png',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/x.png',
    'http://localhost/x.png',
    'http://0.0.0.0/x.png',
  ])('refuses %s with 422 without fetching it', async (target) => {
    const url = target.startsWith('/') ? `${fileBase}${target}` : target;
    const res = await request(t.http)
      .post(`/api/v1/sessions/${sid}/chats/${CHAT}/messages`)
      .set(...auth(key))
      .send({ type: 'image', media: { url } });
    expect(res.status).toBe(422);
    expect(res.body.error.details.fields['media.url'][0]).toMatch(/public/);
    expect(files.hits).toEqual([]);
  });
});
