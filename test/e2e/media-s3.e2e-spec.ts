import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import request from 'supertest';
import { MediaGcService } from '../../src/media/media-gc.service';
import { MediaStore } from '../../src/media/media-store';
import { ConnectorServer } from '../support/connector-server';
import { auth, createSession, directJid, ingest, messageEvent } from '../support/ingest';
import { filesUnder, freshDataDir, SAMPLE_FILES, sha256Of } from '../support/media-files';
import { S3Server } from '../support/s3-server';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

const CHAT = directJid(3);

describe('media on the s3 store (a real S3 protocol server)', () => {
  const s3 = new S3Server();
  const connector = new ConnectorServer();
  let t: TestApp;
  let dataDir: string;
  let org: string;
  let key: string;
  let sid: string;

  beforeAll(async () => {
    dataDir = freshDataDir();
    t = await startTestApp({ ...(await s3.start()), DATA_DIR: dataDir, WA_EXTERNAL_SEND_URL: await connector.start() });
    org = uniqueOrg('media-s3');
    key = await createKey(t, org);
    sid = await createSession(t, key);
  });
  afterAll(async () => {
    await t.close();
    await connector.stop();
    await s3.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const mediaPath = (mid: string, chat = CHAT) => `/api/v1/sessions/${sid}/chats/${chat}/messages/${mid}/media`;
  const objectsInBucket = () => filesUnder(s3.directory).filter((path) => path.includes(org));

  it('uploads in parts, serves whole and by range, and keeps nothing on the local disk', async () => {
    expect(t.app.get(MediaStore).kind).toBe('s3');
    const bytes = randomBytes(12 * 1024 * 1024 + 123);
    const sha256 = sha256Of(bytes);
    await ingest(t, key, sid, [messageEvent(CHAT, 'S3VIDEO', 1_000, { type: 'video', text: null, media: { mimetype: 'video/mp4', size: bytes.length, sha256 } })]);
    const put = await request(t.http).put(mediaPath('S3VIDEO')).set(...auth(key)).set('Content-Type', 'video/mp4').send(bytes);
    expect(put.status).toBe(204);
    expect(objectsInBucket().length).toBeGreaterThan(0);
    // No media under the data folder (it may hold the development encryption key, made when this
    // app's webhook dispatcher signs a delivery of another test's organization).
    expect(filesUnder(`${dataDir}/media`).filter((path) => !path.startsWith('.staging'))).toEqual([]);
    expect(filesUnder(`${dataDir}/media/.staging`)).toEqual([]);

    const range = await request(t.http).get(mediaPath('S3VIDEO')).set(...auth(key)).set('Range', 'bytes=1048576-2097151').buffer(true);
    expect(range.status).toBe(206);
    expect(range.headers['content-range']).toBe(`bytes 1048576-2097151/${bytes.length}`);
    expect(Buffer.compare(range.body as Buffer, bytes.subarray(1048576, 2097152))).toBe(0);
    const whole = await request(t.http).get(mediaPath('S3VIDEO')).set(...auth(key)).buffer(true);
    expect(sha256Of(whole.body as Buffer)).toBe(sha256);
  });

  it('sends a file from the bucket, and collects it once no message refers to it', async () => {
    const send = await request(t.http)
      .post(`/api/v1/sessions/${sid}/chats/${directJid(4)}/messages`)
      .set(...auth(key))
      .send({ type: 'image', media: { data: SAMPLE_FILES.png.toString('base64') }, text: 'dari s3' });
    expect(send.status).toBe(202);
    const file = await request(t.http).get(mediaPath(send.body.id as string, directJid(4))).set(...auth(key)).buffer(true);
    expect(Buffer.compare(file.body as Buffer, SAMPLE_FILES.png)).toBe(0);
    const countOf = () => objectsInBucket().filter((path) => path.includes(sha256Of(SAMPLE_FILES.png))).length;
    expect(countOf()).toBeGreaterThan(0);

    expect((await request(t.http).delete(`/api/v1/sessions/${sid}/chats/${directJid(4)}`).set(...auth(key))).status).toBe(204);
    await t.app.get(MediaGcService).sweep(0);
    expect(countOf()).toBe(0);
  });
});
