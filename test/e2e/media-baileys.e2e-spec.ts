import type { WAMessage } from 'baileys';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { WhatsAppMediaDownloader } from '../../src/whatsapp/baileys/whatsapp-media-downloader';
import { eventually } from '../fixtures/baileys/baileys-harness';
import { FileServer, serve } from '../support/file-server';
import { BaileysGateway, startBaileysGateway } from '../support/baileys-gateway';
import { encryptForWhatsApp, filesUnder, freshDataDir, SAMPLE_FILES, sha256Of } from '../support/media-files';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const BUDI = '6281234567890@s.whatsapp.net';
const AUTO_MAX = 8 * 1024;

describe('receiving media through Baileys: background downloads, decrypted and checked', () => {
  const routes: Record<string, (res: import('node:http').ServerResponse, base: string) => void> = {};
  const cdn = new FileServer(routes);
  let g: BaileysGateway;
  let dataDir: string;
  let base: string;
  let sid: string;
  let socket: Awaited<ReturnType<BaileysGateway['connectedSession']>>['socket'];
  let n = 0;

  beforeAll(async () => {
    base = await cdn.start();
    dataDir = freshDataDir();
    const downloader = new WhatsAppMediaDownloader({ allowUrl: (url) => url.hostname === '127.0.0.1' });
    g = await startBaileysGateway({ DATA_DIR: dataDir, MEDIA_AUTO_DOWNLOAD_MAX_BYTES: String(AUTO_MAX) }, {}, undefined, downloader);
    ({ id: sid, socket } = await g.connectedSession());
  });
  afterAll(async () => {
    await g.close();
    await cdn.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Puts an encrypted copy of `plain` on the CDN at `path` (or nothing there) and has the phone receive it. */
  function receive(plain: Buffer, options: { path?: string | null; announcedSha256?: Buffer; tamper?: boolean } = {}): { id: string; message: WAMessage } {
    const id = `3EB0MEDIA${String(++n).padStart(8, '0')}`;
    const mediaKey = randomBytes(32);
    const path = options.path === undefined ? `/mms/image/${id}.enc` : options.path;
    if (path) {
      const encrypted = encryptForWhatsApp(plain, mediaKey, 'WhatsApp Image Keys');
      if (options.tamper) encrypted[5] ^= 0xff;
      routes[path] = serve(encrypted);
    }
    const message = {
      key: { remoteJid: BUDI, fromMe: false, id },
      messageTimestamp: 1732400000 + n,
      message: {
        imageMessage: {
          url: `${base}${path ?? `/mms/image/${id}.gone`}`,
          directPath: path ?? `/mms/image/${id}.gone`,
          mediaKey,
          fileSha256: options.announcedSha256 ?? Buffer.from(sha256Of(plain), 'hex'),
          fileLength: plain.length,
          mimetype: 'image/jpeg',
          width: 640,
          height: 480,
          caption: 'kiriman',
        },
      },
    } as unknown as WAMessage;
    socket.emit('messages.upsert', { messages: [message], type: 'notify' });
    return { id, message };
  }

  const media = async (id: string) =>
    (await g.call('get', `/api/v1/sessions/${sid}/chats/${BUDI}/messages/${id}`)).body.media as { status: string } | undefined;
  const file = (id: string) => g.call('get', `/api/v1/sessions/${sid}/chats/${BUDI}/messages/${id}/media`).buffer(true);
  const expectMediaStatus = (id: string, status: string) => eventually(async () => expect(await media(id)).toMatchObject({ status }), 15_000);

  it('downloads a received image, checks it against what WhatsApp announced, and serves it', async () => {
    const plain = SAMPLE_FILES.jpeg(3000);
    const { id } = receive(plain);
    await expectMediaStatus(id, 'ready');
    expect(await media(id)).toEqual({
      mimetype: 'image/jpeg', size: 3000, fileName: null, sha256: sha256Of(plain), width: 640, height: 480, durationMs: null, voiceNote: false, status: 'ready',
    });
    const res = await file(id);
    expect(res.status).toBe(200);
    expect(Buffer.compare(res.body as Buffer, plain)).toBe(0);
    const events = await g.dataSource.query<{ type: string; payload: string }[]>(
      `SELECT type, payload FROM events WHERE session_id = $1 AND payload LIKE '%' || $2 || '%' ORDER BY xid, seq`,
      [sid, id],
    );
    expect(events.map((e) => [e.type, (JSON.parse(e.payload) as { data: { media: { status: string } } }).data.media.status])).toEqual([
      ['message.created', 'pending'],
      ['message.updated', 'ready'],
    ]);
  });

  it('marks a file failed, and never serves it, when its MAC or its sha256 does not check out', async () => {
    const tampered = receive(SAMPLE_FILES.jpeg(2000), { tamper: true });
    const mismatched = receive(SAMPLE_FILES.jpeg(2001), { announcedSha256: randomBytes(32) });
    for (const { id } of [tampered, mismatched]) {
      await expectMediaStatus(id, 'failed');
      const res = await file(id);
      expect(res.status).toBe(404);
      expect(res.body.error.details).toMatchObject({ status: 'failed', reason: expect.any(String) });
    }
  });

  it('asks the phone to upload a file WhatsApp no longer has, once, then gives up as expired', async () => {
    const plain = SAMPLE_FILES.jpeg(2500);
    socket.reuploadBehaviour = (message) => {
      const fresh = `/mms/image/fresh-${message.key.id}.enc`;
      routes[fresh] = routes[`/mms/image/${message.key.id}.later`];
      const image = message.message!.imageMessage!;
      return Promise.resolve({ ...message, message: { imageMessage: { ...image, directPath: fresh, url: `${base}${fresh}` } } } as WAMessage);
    };
    const reuploaded = receive(plain, { path: null });
    // What the phone uploads again: the same file, encrypted with the same key, at a new path.
    const mediaKey = (reuploaded.message.message!.imageMessage!.mediaKey as Buffer);
    routes[`/mms/image/${reuploaded.id}.later`] = serve(encryptForWhatsApp(plain, mediaKey, 'WhatsApp Image Keys'));
    await expectMediaStatus(reuploaded.id, 'ready');
    expect(socket.reuploadRequests).toContain(reuploaded.id);

    socket.reuploadBehaviour = () => Promise.reject(new Error('Media re-upload failed by device'));
    const lost = receive(SAMPLE_FILES.jpeg(2600), { path: null });
    await expectMediaStatus(lost.id, 'expired');
    expect(socket.reuploadRequests.filter((id) => id === lost.id)).toHaveLength(1);
  });

  it('leaves a file over MEDIA_AUTO_DOWNLOAD_MAX_BYTES for its first request, which fetches it', async () => {
    const plain = SAMPLE_FILES.jpeg(AUTO_MAX + 1);
    const { id } = receive(plain);
    await eventually(async () => expect(await media(id)).toMatchObject({ status: 'pending' }));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await media(id)).toMatchObject({ status: 'pending' });
    const res = await file(id);
    expect(res.status).toBe(200);
    expect(sha256Of(res.body as Buffer)).toBe(sha256Of(plain));
    expect(await media(id)).toMatchObject({ status: 'ready' });
  });

  it('leaves no staged file behind', () => {
    expect(filesUnder(`${dataDir}/media/.staging`)).toEqual([]);
  });
});

/** A database of its own: the session is reconnected at start, and other test files' apps must not meet it. */
describe('receiving media through Baileys: a download cut off by a restart is taken up again', () => {
  let db: TestDatabase;
  const routes: Record<string, (res: import('node:http').ServerResponse, base: string) => void> = {};
  const cdn = new FileServer(routes);
  const held: import('node:http').ServerResponse[] = [];
  let base: string;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase('mediarestart');
    base = await cdn.start();
    dataDir = freshDataDir();
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await cdn.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('releases the download on shutdown and finishes it in the next process', async () => {
    const downloader = new WhatsAppMediaDownloader({ allowUrl: (url) => url.hostname === '127.0.0.1' });
    const env = { DATABASE_URL: db.url, DATA_DIR: dataDir };
    const first = await startBaileysGateway(env, {}, undefined, downloader);
    const { id: sid, socket } = await first.connectedSession();
    const plain = SAMPLE_FILES.jpeg(4000);
    const mediaKey = randomBytes(32);
    const path = '/mms/image/restart.enc';
    // The CDN answers the first process's download with headers and then nothing.
    routes[path] = (res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(encryptForWhatsApp(plain, mediaKey, 'WhatsApp Image Keys').subarray(0, 16));
      held.push(res);
    };
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        {
          key: { remoteJid: BUDI, fromMe: false, id: '3EB0RESTART000001' },
          messageTimestamp: 1732400000,
          message: { imageMessage: { url: `${base}${path}`, directPath: path, mediaKey, fileSha256: Buffer.from(sha256Of(plain), 'hex'), fileLength: plain.length, mimetype: 'image/jpeg' } },
        },
      ],
    });
    await eventually(() => expect(held).toHaveLength(1), 10_000);
    routes[path] = serve(encryptForWhatsApp(plain, mediaKey, 'WhatsApp Image Keys'));
    await first.close();

    const second = await startBaileysGateway(env, {}, undefined, downloader);
    try {
      (await second.sockets.waitForSocket(sid, 1)).open();
      const path = `/api/v1/sessions/${sid}/chats/${BUDI}/messages/3EB0RESTART000001`;
      await eventually(async () => expect((await second.call('get', path, first.key)).body.media).toMatchObject({ status: 'ready' }), 15_000);
      const file = await second.call('get', `${path}/media`, first.key).buffer(true);
      expect(Buffer.compare(file.body as Buffer, plain)).toBe(0);
    } finally {
      await second.close();
    }
  }, 60_000);
});
