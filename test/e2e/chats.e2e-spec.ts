import request from 'supertest';
import { encodeCursor } from '../../src/common/pagination/cursor';
import { ExternalProvider } from '../../src/whatsapp/external/external.provider';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';
import { auth, chatEvent, createSession, directJid, groupJid, ingest, messageEvent, pageAll } from '../support/ingest';

const notFound = (message: string) => ({ error: { code: 'not_found', message, details: {} } });

describe('chats', () => {
  let t: TestApp;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp();
    key = await createKey(t, uniqueOrg());
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const base = (sid: string) => `/api/v1/sessions/${sid}/chats`;
  const get = (path: string, k = key) => request(t.http).get(path).set(...auth(k));
  const patch = (path: string, body: unknown, k = key) => request(t.http).patch(path).set(...auth(k)).send(body as object);
  const ids = (res: request.Response) => res.body.data.map((c: { id: string }) => c.id);

  /** A session with chats of known activity: two with the same last message time, two without messages. */
  async function seeded(): Promise<{ sid: string; order: string[] }> {
    const sid = await createSession(t, key);
    await ingest(t, key, sid, [
      messageEvent(directJid(1), 'a', 3000),
      messageEvent(directJid(2), 'b', 1000),
      messageEvent(groupJid(3), 'c', 2000),
      messageEvent(directJid(4), 'd', 2000),
      messageEvent(directJid(5), 'e', 500),
      messageEvent(directJid(5), 'f', 4000),
      chatEvent(directJid(6), { name: 'no messages', archived: true }),
      chatEvent(groupJid(7), { name: 'no messages either', pinned: true }),
      chatEvent(directJid(2), { archived: true, pinned: true }),
    ]);
    // lastMessageAt desc, chats without messages last, ties by id desc.
    return { sid, order: [directJid(5), directJid(1), directJid(4), groupJid(3), directJid(2), directJid(6), groupJid(7)] };
  }

  it('lists chats by most recent activity, chats without messages last, ties by id', async () => {
    const { sid, order } = await seeded();
    const res = await get(base(sid));
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual(order);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.data[0]).toEqual({
      id: directJid(5), name: null, type: 'direct', archived: false, pinned: false, mutedUntil: null, unreadCount: 0, lastMessageAt: 4000,
    });
  });

  it.each([1, 2, 3, 6])('pages through every chat exactly once with limit %i, across the chats without messages', async (limit) => {
    const { sid, order } = await seeded();
    const { items, pages } = await pageAll(t, key, base(sid), limit);
    expect(items.map((c) => c.id)).toEqual(order);
    expect(pages).toBe(Math.ceil(order.length / limit));
  });

  it('filters by archived and pinned, also across pages', async () => {
    const { sid, order } = await seeded();
    const archived = [directJid(2), directJid(6)];
    const pinned = [directJid(2), groupJid(7)];
    expect(ids(await get(`${base(sid)}?archived=true`))).toEqual(archived);
    expect(ids(await get(`${base(sid)}?archived=false`))).toEqual(order.filter((id) => !archived.includes(id)));
    expect(ids(await get(`${base(sid)}?pinned=true`))).toEqual(pinned);
    expect(ids(await get(`${base(sid)}?pinned=false&archived=false`))).toEqual(order.filter((id) => !archived.includes(id) && !pinned.includes(id)));
    expect(ids(await get(`${base(sid)}?pinned=true&archived=true`))).toEqual([directJid(2)]);
    const paged = await pageAll(t, key, `${base(sid)}?archived=false`, 2);
    expect(paged.items.map((c) => c.id)).toEqual(order.filter((id) => !archived.includes(id)));
  });

  it('answers 422 for bad filters, limits and cursors', async () => {
    const { sid } = await seeded();
    const cursor: string = (await get(`${base(sid)}?limit=1`)).body.nextCursor;
    const forged = [encodeCursor([1, 'not-a-jid']), encodeCursor([-2, directJid(1)]), encodeCursor([1, `${directJid(1)}\u0000`])].map(
      (c) => `cursor=${encodeURIComponent(c)}`,
    );
    for (const query of [...forged, 'archived=yes', 'archived=1', 'pinned=TRUE', 'pinned=', 'limit=0', 'limit=101', 'limit=abc', 'limit=1.5', 'cursor=abc', `cursor=${cursor.slice(0, 10)}`, `cursor=x${cursor}`, 'sort=name']) {
      const res = await get(`${base(sid)}?${query}`);
      expect([query, res.status, res.body.error?.code]).toEqual([query, 422, 'validation_error']);
    }
  });

  it('gets a chat by its JID, raw or URL-encoded', async () => {
    const { sid } = await seeded();
    for (const cid of [groupJid(3), encodeURIComponent(groupJid(3))]) {
      const res = await get(`${base(sid)}/${cid}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: groupJid(3), name: null, type: 'group', archived: false, pinned: false, mutedUntil: null, unreadCount: 0, lastMessageAt: 2000,
      });
    }
  });

  it('answers 404 chat not found for an unknown or malformed chat id', async () => {
    const { sid } = await seeded();
    for (const cid of [directJid(99), 'status@broadcast', 'nonsense', '6281234567890', `${directJid(1)}x`, '%00']) {
      const res = await get(`${base(sid)}/${cid}`);
      expect([cid, res.status, res.body]).toEqual([cid, 404, notFound('chat not found')]);
      expect((await patch(`${base(sid)}/${cid}`, { archived: true })).body).toEqual(notFound('chat not found'));
      expect((await request(t.http).delete(`${base(sid)}/${cid}`).set(...auth(key))).body).toEqual(notFound('chat not found'));
    }
  });

  describe('PATCH', () => {
    it('changes only the fields sent and answers the updated chat', async () => {
      const { sid } = await seeded();
      const path = `${base(sid)}/${directJid(1)}`;
      const before = (await get(path)).body;
      const archived = await patch(path, { archived: true });
      expect(archived.status).toBe(200);
      expect(archived.body).toEqual({ ...before, archived: true });
      expect((await patch(path, { pinned: true })).body).toEqual({ ...before, archived: true, pinned: true });
      expect((await patch(path, { mutedUntil: 1_800_000_000_000 })).body).toEqual({ ...before, archived: true, pinned: true, mutedUntil: 1_800_000_000_000 });
      expect((await patch(path, { mutedUntil: -1, archived: false })).body).toEqual({ ...before, pinned: true, mutedUntil: -1 });
      expect((await patch(path, { mutedUntil: 0 })).body.mutedUntil).toBe(0);
      expect((await get(path)).body).toEqual({ ...before, pinned: true, mutedUntil: 0 });
    });

    it('lets unmute win over mutedUntil', async () => {
      const { sid } = await seeded();
      const path = `${base(sid)}/${directJid(1)}`;
      await patch(path, { mutedUntil: -1 });
      expect((await patch(path, { unmute: true, mutedUntil: 1_800_000_000_000 })).body.mutedUntil).toBeNull();
      expect((await patch(path, { unmute: false, mutedUntil: 1_800_000_000_000 })).body.mutedUntil).toBe(1_800_000_000_000);
      expect((await patch(path, { unmute: false })).body.mutedUntil).toBe(1_800_000_000_000);
      expect((await patch(path, { unmute: true })).body.mutedUntil).toBeNull();
      expect((await get(path)).body.mutedUntil).toBeNull();
    });

    it('changes nothing for an empty object', async () => {
      const { sid } = await seeded();
      const path = `${base(sid)}/${directJid(2)}`;
      const before = (await get(path)).body;
      const res = await patch(path, {});
      expect(res.status).toBe(200);
      expect(res.body).toEqual(before);
    });

    it.each([
      ['archived "true"', { archived: 'true' }, 'archived'],
      ['archived null', { archived: null }, 'archived'],
      ['archived 1', { archived: 1 }, 'archived'],
      ['pinned "false"', { pinned: 'false' }, 'pinned'],
      ['pinned null', { pinned: null }, 'pinned'],
      ['pinned []', { pinned: [] }, 'pinned'],
      ['mutedUntil 1.5', { mutedUntil: 1.5 }, 'mutedUntil'],
      ['mutedUntil "5"', { mutedUntil: '5' }, 'mutedUntil'],
      ['mutedUntil null', { mutedUntil: null }, 'mutedUntil'],
      ['mutedUntil -2', { mutedUntil: -2 }, 'mutedUntil'],
      ['mutedUntil true', { mutedUntil: true }, 'mutedUntil'],
      ['mutedUntil beyond a safe integer', { mutedUntil: 2 ** 53 }, 'mutedUntil'],
      ['unmute "true"', { unmute: 'true' }, 'unmute'],
      ['unmute null', { unmute: null }, 'unmute'],
      ['an unknown field', { archived: true, name: 'x' }, 'name'],
      ['lastMessageAt', { lastMessageAt: 5 }, 'lastMessageAt'],
    ])('answers 422 naming the field for %s, and changes nothing', async (_name, body, field) => {
      const { sid } = await seeded();
      const path = `${base(sid)}/${directJid(1)}`;
      const before = (await get(path)).body;
      const res = await patch(path, body);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation_error');
      expect(Object.keys(res.body.error.details.fields)).toEqual([field]);
      expect((await get(path)).body).toEqual(before);
    });

    it.each([['[]'], ['[{"archived": true}]'], ['"archived"'], ['true'], ['null'], ['{"archived": tru'], ['{"archived": true,}']])(
      'answers 422 for the body %s, and changes nothing',
      async (body) => {
        const { sid } = await seeded();
        const path = `${base(sid)}/${directJid(1)}`;
        const before = (await get(path)).body;
        const res = await request(t.http).patch(path).set(...auth(key)).set('Content-Type', 'application/json').send(body);
        expect(res.status).toBe(422);
        expect(res.body.error.code).toBe('validation_error');
        expect((await get(path)).body).toEqual(before);
      },
    );

    it('mirrors the change to the provider, and answers even when the provider fails', async () => {
      const org = uniqueOrg();
      const k = await createKey(t, org);
      const sid = await createSession(t, k);
      await ingest(t, k, sid, [messageEvent(groupJid(1), 'g', 1)]);
      const apply = jest.spyOn(t.app.get(ExternalProvider), 'applyChatState').mockRejectedValue(new Error('not connected'));
      const res = await patch(`${base(sid)}/${encodeURIComponent(groupJid(1))}`, { pinned: true, unmute: true, mutedUntil: 5 }, k);
      expect(res.status).toBe(200);
      expect(res.body.pinned).toBe(true);
      expect(apply).toHaveBeenCalledWith({ id: sid, orgId: org }, groupJid(1), { pinned: true, mutedUntil: null });
      await patch(`${base(sid)}/${groupJid(1)}`, {}, k);
      expect(apply).toHaveBeenCalledTimes(1);
    });
  });

  describe('DELETE', () => {
    it('removes the chat and its messages from the stored copy only; new activity brings back only the new messages', async () => {
      const { sid } = await seeded();
      const jid = directJid(5);
      const res = await request(t.http).delete(`${base(sid)}/${jid}`).set(...auth(key));
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(res.headers['content-type']).toBeUndefined();
      expect((await get(`${base(sid)}/${jid}`)).body).toEqual(notFound('chat not found'));
      expect((await get(`${base(sid)}/${jid}/messages`)).body).toEqual(notFound('chat not found'));
      expect((await get(`${base(sid)}/${jid}/messages/f`)).body).toEqual(notFound('chat not found'));
      expect(ids(await get(base(sid)))).not.toContain(jid);
      expect((await request(t.http).delete(`${base(sid)}/${jid}`).set(...auth(key))).body).toEqual(notFound('chat not found'));

      await ingest(t, key, sid, [messageEvent(jid, 'new', 100)]);
      expect((await get(`${base(sid)}/${jid}`)).body).toEqual({
        id: jid, name: null, type: 'direct', archived: false, pinned: false, mutedUntil: null, unreadCount: 0, lastMessageAt: 100,
      });
      expect((await get(`${base(sid)}/${jid}/messages`)).body.data.map((m: { id: string }) => m.id)).toEqual(['new']);
      // Re-ingesting an old message brings back that one message only.
      await ingest(t, key, sid, [messageEvent(jid, 'f', 4000)]);
      expect((await get(`${base(sid)}/${jid}/messages`)).body.data.map((m: { id: string }) => m.id)).toEqual(['f', 'new']);
      expect((await get(`${base(sid)}/${jid}`)).body.lastMessageAt).toBe(4000);
    });

    it('leaves the other chats alone', async () => {
      const { sid, order } = await seeded();
      await request(t.http).delete(`${base(sid)}/${encodeURIComponent(groupJid(3))}`).set(...auth(key)).expect(204);
      expect(ids(await get(base(sid)))).toEqual(order.filter((id) => id !== groupJid(3)));
      expect((await get(`${base(sid)}/${directJid(1)}/messages`)).body.data).toHaveLength(1);
    });
  });

  it('requires send to change or delete a chat, and read to see one', async () => {
    const org = uniqueOrg();
    const all = await createKey(t, org);
    const sid = await createSession(t, all);
    await ingest(t, all, sid, [messageEvent(directJid(1), 'm', 1)]);
    const path = `${base(sid)}/${directJid(1)}`;
    const before = (await get(path, all)).body;
    const reader = await createKey(t, org, ['read']);
    const patched = await patch(path, { archived: true }, reader);
    expect(patched.status).toBe(403);
    expect(patched.body.error.code).toBe('forbidden');
    expect((await request(t.http).delete(path).set(...auth(reader))).status).toBe(403);
    expect((await get(path, all)).body).toEqual(before);
    const sender = await createKey(t, org, ['send']);
    expect((await get(path, sender)).status).toBe(403);
    expect((await get(base(sid), sender)).status).toBe(403);
    expect((await patch(path, { archived: true }, sender)).status).toBe(200);
    expect((await request(t.http).delete(path).set(...auth(sender))).status).toBe(204);
  });

  it('documents the chat routes', async () => {
    const doc = (await request(t.http).get('/docs-json')).body;
    const item = doc.paths['/api/v1/sessions/{sid}/chats/{cid}'];
    expect([item.get.operationId, item.patch.operationId, item.delete.operationId]).toEqual(['getChat', 'updateChat', 'deleteChat']);
    expect(doc.paths['/api/v1/sessions/{sid}/chats'].get.operationId).toBe('listChats');
    expect(item.patch.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/UpdateChatDto');
    expect(item.patch.description).toContain('Requires the `send` capability.');
    expect(Object.keys(item.patch.responses).sort()).toEqual(['200', '401', '403', '404', '413', '422', '429', '500', '503']);
    const cid = item.get.parameters.find((p: { name: string }) => p.name === 'cid');
    expect(JSON.stringify(cid)).toContain('120363025246125888@g.us');
  });
});
