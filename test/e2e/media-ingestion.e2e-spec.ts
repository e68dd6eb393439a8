import request from 'supertest';
import { DataSource } from 'typeorm';
import { auth, createSession, directJid, ingest, messageEvent, pushEvents } from '../support/ingest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

const SHA = 'a'.repeat(64);

describe('media messages in the stored copy: the `media` object through ingestion', () => {
  let t: TestApp;
  let db: DataSource;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    key = await createKey(t, uniqueOrg('media-ingest'));
  });
  afterAll(() => t.close());

  const get = (sid: string, chat: string, mid: string) =>
    request(t.http).get(`/api/v1/sessions/${sid}/chats/${chat}/messages/${mid}`).set(...auth(key));
  const image = (extra: Record<string, unknown> = {}) => ({ mimetype: 'image/jpeg', size: 48213, sha256: SHA, ...extra });
  const eventsOf = async (sid: string) =>
    (await db.query<{ payload: string }[]>('SELECT payload FROM events WHERE session_id = $1 ORDER BY xid, seq', [sid])).map(
      (row) => JSON.parse(row.payload) as { type: string; data: { media: unknown } },
    );

  it('serves the announced file with its defaults, pending, and records it in the event', async () => {
    const sid = await createSession(t, key);
    const chat = directJid(1);
    await ingest(t, key, sid, [messageEvent(chat, 'IMG1', 1_000, { type: 'image', text: 'caption', media: image({ width: 1280, height: 960 }) })]);
    const expected = {
      mimetype: 'image/jpeg', size: 48213, fileName: null, sha256: SHA, width: 1280, height: 960, durationMs: null, voiceNote: false, status: 'pending',
    };
    expect((await get(sid, chat, 'IMG1')).body).toMatchObject({ type: 'image', text: 'caption', media: expected });
    expect((await eventsOf(sid)).find((e) => e.type === 'message.created')?.data.media).toEqual(expected);
  });

  it('keeps the stored file when an upsert announces none, and changes nothing on a replay', async () => {
    const sid = await createSession(t, key);
    const chat = directJid(2);
    const batch = [messageEvent(chat, 'AUD1', 1_000, { type: 'audio', text: null, media: image({ mimetype: 'audio/ogg; codecs=opus', voiceNote: true, durationMs: 4200 }) })];
    await ingest(t, key, sid, batch);
    const before = await eventsOf(sid);
    await ingest(t, key, sid, batch);
    await ingest(t, key, sid, [messageEvent(chat, 'AUD1', 1_000, { type: 'audio', text: null })]);
    expect(await eventsOf(sid)).toHaveLength(before.length);
    expect((await get(sid, chat, 'AUD1')).body.media).toMatchObject({ voiceNote: true, durationMs: 4200, status: 'pending' });
  });

  it('drops the file when the message turns into a type without one, and serves null for other types', async () => {
    const sid = await createSession(t, key);
    const chat = directJid(3);
    await ingest(t, key, sid, [messageEvent(chat, 'DOC1', 1_000, { type: 'document', media: image({ fileName: 'a.pdf' }) })]);
    await ingest(t, key, sid, [messageEvent(chat, 'DOC1', 1_000, { type: 'unknown' })]);
    expect((await get(sid, chat, 'DOC1')).body.media).toBeNull();
  });

  it.each([
    ['a file on a text message', { type: 'text', media: image() }, 'message.media'],
    ['no sha256', { type: 'image', media: { mimetype: 'image/jpeg', size: 1 } }, 'message.media.sha256'],
    ['an upper-case sha256', { type: 'image', media: image({ sha256: 'A'.repeat(64) }) }, 'message.media.sha256'],
    ['a negative size', { type: 'image', media: image({ size: -1 }) }, 'message.media.size'],
    ['a mimetype without a subtype', { type: 'image', media: image({ mimetype: 'image' }) }, 'message.media.mimetype'],
    ['the status ready, which only the gateway sets', { type: 'image', media: image({ status: 'ready' }) }, 'message.media.status'],
    ['an unknown field', { type: 'image', media: image({ url: 'https://x' }) }, 'message.media.url'],
  ])('answers 422 for %s and stores nothing', async (_name, fields, field) => {
    const sid = await createSession(t, key);
    const res = await pushEvents(t, key, sid, [messageEvent(directJid(4), 'BAD', 1_000, fields)]);
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.error.details.fields as object)).toEqual([field]);
    expect(await db.query('SELECT 1 FROM messages WHERE session_id = $1', [sid])).toEqual([]);
  });
});
