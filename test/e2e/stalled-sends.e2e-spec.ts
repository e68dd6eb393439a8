import request from 'supertest';
import { StalledSendsService } from '../../src/messages/stalled-sends.service';
import { auth, createSession, directJid, ingest, messageEvent } from '../support/ingest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

describe('sends left without an outcome', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('are marked failed once stalled, while a recent pending send is left alone', async () => {
    const key = await createKey(t, uniqueOrg('stalled'));
    const sid = await createSession(t, key);
    const chat = directJid(4242);
    const now = Date.now();
    await ingest(t, key, sid, [
      messageEvent(chat, '3EB0STALLED', now - 5 * 60_000, { fromMe: true, status: 'pending' }),
      messageEvent(chat, '3EB0RECENT', now - 1_000, { fromMe: true, status: 'pending' }),
    ]);

    expect(await t.app.get(StalledSendsService).sweep(now)).toBeGreaterThanOrEqual(1);

    const status = async (id: string) =>
      (await request(t.http).get(`/api/v1/sessions/${sid}/chats/${chat}/messages/${id}`).set(...auth(key))).body.status;
    expect(await status('3EB0STALLED')).toBe('failed');
    expect(await status('3EB0RECENT')).toBe('pending');
  });
});
