import { DataSource } from 'typeorm';
import request from 'supertest';
import { ExternalProvider } from '../../src/whatsapp/external/external.provider';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';
import { auth, chatEvent, createSession, directJid, ingest, messageEvent, pageAll } from '../support/ingest';

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const NOT_FOUND = JSON.stringify({ error: { code: 'not_found', message: 'session not found', details: {} } });

describe('sessions', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('creates a session of the caller\'s organization and asks the provider to connect it', async () => {
    const org = uniqueOrg();
    const key = await createKey(t, org);
    const connect = jest.spyOn(t.app.get(ExternalProvider), 'connect');
    const started = Date.now();
    const res = await request(t.http).post('/api/v1/sessions').set(...auth(key)).send({ name: 'Customer service' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(ULID),
      name: 'Customer service',
      status: 'disconnected',
      phoneNumber: null,
      provider: 'external',
      createdAt: expect.any(Number),
      updatedAt: res.body.createdAt,
    });
    expect(res.body.createdAt).toBeGreaterThanOrEqual(started - 1000);
    expect(connect).toHaveBeenCalledWith({ id: res.body.id, orgId: org });
    const got = await request(t.http).get(`/api/v1/sessions/${res.body.id}`).set(...auth(key));
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('still creates the session when the provider fails to connect', async () => {
    const key = await createKey(t, uniqueOrg());
    jest.spyOn(t.app.get(ExternalProvider), 'connect').mockRejectedValue(new Error('connector down'));
    const res = await request(t.http).post('/api/v1/sessions').set(...auth(key)).send({ name: 'n' });
    expect(res.status).toBe(201);
    expect((await request(t.http).get(`/api/v1/sessions/${res.body.id}`).set(...auth(key))).status).toBe(200);
  });

  it.each([
    ['no name', {}],
    ['an empty name', { name: '' }],
    ['a name over 100 characters', { name: 'n'.repeat(101) }],
    ['a name of 100 emoji with a variation selector (200 code points)', { name: '❤️'.repeat(100) }],
    ['a name of 101 astral characters', { name: '𝕏'.repeat(101) }],
    ['a name with a NUL', { name: 'a\u0000b' }],
    ['a name with a lone surrogate', { name: 'x\ud800y' }],
    ['a numeric name', { name: 42 }],
    ['a null name', { name: null }],
    ['an unknown field', { name: 'n', provider: 'baileys' }],
    ['an organization in the body', { name: 'n', orgId: 'other' }],
  ])('answers 422 for %s and creates nothing', async (_name, body) => {
    const key = await createKey(t, uniqueOrg());
    const res = await request(t.http).post('/api/v1/sessions').set(...auth(key)).send(body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_error');
    expect((await request(t.http).get('/api/v1/sessions').set(...auth(key))).body).toEqual({ data: [], nextCursor: null });
  });

  it('stores names of up to 100 code points exactly as sent', async () => {
    const key = await createKey(t, uniqueOrg());
    for (const name of ['❤️'.repeat(50), '𝕏'.repeat(100), '\u202Eabc', '👨‍👩‍👧‍👦', '   ']) {
      const res = await request(t.http).post('/api/v1/sessions').set(...auth(key)).send({ name });
      expect([name, res.status]).toEqual([name, 201]);
      const got = await request(t.http).get(`/api/v1/sessions/${res.body.id}`).set(...auth(key));
      expect([name, got.body.name]).toEqual([name, name]);
    }
  });

  it('answers 422 for a body that is not a JSON object, or malformed JSON', async () => {
    const key = await createKey(t, uniqueOrg());
    for (const body of ['[]', '"name"', '{"name": "x"']) {
      const res = await request(t.http).post('/api/v1/sessions').set(...auth(key)).set('Content-Type', 'application/json').send(body);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation_error');
    }
  });

  it('lists the organization\'s sessions newest first, in pages that see each exactly once', async () => {
    const key = await createKey(t, uniqueOrg());
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await createSession(t, key, `s${i}`));
    const one = await request(t.http).get('/api/v1/sessions').set(...auth(key));
    expect(one.body.nextCursor).toBeNull();
    expect(one.body.data.map((s: { id: string }) => s.id)).toEqual([...ids].reverse());
    const paged = await pageAll(t, key, '/api/v1/sessions', 3);
    expect(paged.pages).toBe(3);
    expect(paged.items).toEqual(one.body.data);
    const exact = await pageAll(t, key, '/api/v1/sessions', 7);
    expect(exact.pages).toBe(1);
  });

  it('answers 422 for a bad limit or cursor', async () => {
    const key = await createKey(t, uniqueOrg());
    await createSession(t, key);
    await createSession(t, key);
    const first = await request(t.http).get('/api/v1/sessions?limit=1').set(...auth(key));
    const cursor: string = first.body.nextCursor;
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'limit=1.5', 'limit=-1', 'limit=', 'cursor=garbage', `cursor=${cursor.slice(0, -2)}`, `cursor=${cursor.slice(3)}`, 'unknown=1']) {
      const res = await request(t.http).get(`/api/v1/sessions?${query}`).set(...auth(key));
      expect([query, res.status, res.body.error?.code]).toEqual([query, 422, 'validation_error']);
    }
  });

  it('answers the same 404 bytes for a malformed, unknown or foreign session id', async () => {
    const key = await createKey(t, uniqueOrg());
    const foreign = await createSession(t, await createKey(t, uniqueOrg()));
    for (const sid of [foreign, foreign.toLowerCase(), '01HF7Z3K8Q2V5N9T4W6X0Y1B2C', 'nope', '8ZZZZZZZZZZZZZZZZZZZZZZZZZ', `${foreign}X`]) {
      for (const req of [request(t.http).get(`/api/v1/sessions/${sid}`), request(t.http).delete(`/api/v1/sessions/${sid}`)]) {
        const res = await req.set(...auth(key));
        expect(res.status).toBe(404);
        expect(res.text).toBe(NOT_FOUND);
      }
    }
  });

  it('deletes a session with its whole stored copy; it is gone afterwards', async () => {
    const key = await createKey(t, uniqueOrg());
    const sid = await createSession(t, key);
    const other = await createSession(t, key);
    const logout = jest.spyOn(t.app.get(ExternalProvider), 'logout');
    const events = [chatEvent(directJid(1), { name: 'x' }), messageEvent(directJid(1), 'A', 1), messageEvent(directJid(2), 'B', 2)];
    await ingest(t, key, sid, events);
    await ingest(t, key, other, events);

    const res = await request(t.http).delete(`/api/v1/sessions/${sid}`).set(...auth(key));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(logout).toHaveBeenCalledWith(sid);
    expect((await request(t.http).get(`/api/v1/sessions/${sid}`).set(...auth(key))).text).toBe(NOT_FOUND);
    expect((await request(t.http).get(`/api/v1/sessions/${sid}/chats`).set(...auth(key))).text).toBe(NOT_FOUND);
    const left = async (id: string) =>
      (await db.query('SELECT (SELECT count(*) FROM chats WHERE session_id = $1)::int AS chats, (SELECT count(*) FROM messages WHERE session_id = $1)::int AS messages', [id]))[0];
    expect(await left(sid)).toEqual({ chats: 0, messages: 0 });
    expect(await left(other)).toEqual({ chats: 2, messages: 2 });
    expect((await request(t.http).delete(`/api/v1/sessions/${sid}`).set(...auth(key))).text).toBe(NOT_FOUND);
    expect((await request(t.http).get('/api/v1/sessions').set(...auth(key))).body.data.map((s: { id: string }) => s.id)).toEqual([other]);
  });

  it('deletes the session when logout fails or hangs, waiting at most 5 s', async () => {
    const key = await createKey(t, uniqueOrg());
    const provider = t.app.get(ExternalProvider);
    const failing = await createSession(t, key);
    jest.spyOn(provider, 'logout').mockRejectedValueOnce(new Error('no connection'));
    expect((await request(t.http).delete(`/api/v1/sessions/${failing}`).set(...auth(key))).status).toBe(204);

    const hanging = await createSession(t, key);
    jest.spyOn(provider, 'logout').mockReturnValueOnce(new Promise<void>(() => undefined));
    const started = Date.now();
    const res = await request(t.http).delete(`/api/v1/sessions/${hanging}`).set(...auth(key));
    const elapsed = Date.now() - started;
    expect(res.status).toBe(204);
    expect(elapsed).toBeGreaterThanOrEqual(4900);
    expect(elapsed).toBeLessThan(8000);
    expect((await request(t.http).get('/api/v1/sessions').set(...auth(key))).body.data).toEqual([]);
  }, 20_000);

  it('requires manage to create or delete and read to list or get', async () => {
    const org = uniqueOrg();
    const sid = await createSession(t, await createKey(t, org, ['manage']));
    const reader = await createKey(t, org, ['read']);
    const nonReader = await createKey(t, org, ['send', 'manage', 'ingest']);
    expect((await request(t.http).post('/api/v1/sessions').set(...auth(reader)).send({ name: 'n' })).status).toBe(403);
    expect((await request(t.http).delete(`/api/v1/sessions/${sid}`).set(...auth(reader))).status).toBe(403);
    expect((await request(t.http).get(`/api/v1/sessions/${sid}`).set(...auth(reader))).status).toBe(200);
    expect((await request(t.http).get('/api/v1/sessions').set(...auth(nonReader))).status).toBe(403);
    expect((await request(t.http).get(`/api/v1/sessions/${sid}`).set(...auth(nonReader))).status).toBe(403);
    expect((await request(t.http).get(`/api/v1/sessions/${sid}`)).status).toBe(401);
    expect((await request(t.http).get('/api/v1/sessions').set(...auth(reader))).body.data).toHaveLength(1);
  });

  it('documents every session route with its operation id', async () => {
    const doc = (await request(t.http).get('/docs-json')).body;
    expect(doc.paths['/api/v1/sessions'].post.operationId).toBe('createSession');
    expect(doc.paths['/api/v1/sessions'].get.operationId).toBe('listSessions');
    expect(doc.paths['/api/v1/sessions/{sid}'].get.operationId).toBe('getSession');
    expect(doc.paths['/api/v1/sessions/{sid}'].delete.operationId).toBe('deleteSession');
    expect(doc.paths['/api/v1/sessions/{sid}'].get.responses['404']).toBeDefined();
    expect(doc.components.schemas.SessionDto.required).toEqual(
      expect.arrayContaining(['id', 'name', 'status', 'phoneNumber', 'provider', 'createdAt', 'updatedAt']),
    );
  });
});
