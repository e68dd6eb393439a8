import { createHash } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ApiKeysService } from '../../src/auth/api-keys/api-keys.service';
import { generateApiKey } from '../../src/auth/api-keys/api-key-format';
import { createKey, startTestApp, testDatabaseUrl, TestApp, uniqueOrg } from '../support/test-app';
import { TcpProxy } from '../support/tcp-proxy';

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
const KEY_SHAPE = /^wgw_[A-Za-z0-9_-]{38}$/;

function expectError(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String), details: expect.any(Object) } });
}

describe('API keys', () => {
  let t: TestApp;
  let org: string;
  let admin: string;

  const create = (key: string, body: unknown) => request(t.http).post('/api/v1/api-keys').set(bearer(key)).send(body as object);
  const list = (key: string, query = '') => request(t.http).get(`/api/v1/api-keys${query}`).set(bearer(key));
  const listAll = async (key: string): Promise<Record<string, unknown>[]> => {
    const items: Record<string, unknown>[] = [];
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const res = await list(key, `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      items.push(...res.body.data);
      cursor = res.body.nextCursor;
    }
    return items;
  };

  beforeAll(async () => {
    t = await startTestApp();
    org = uniqueOrg('keys');
    admin = await createKey(t, org);
  });
  afterAll(() => t.close());

  it('creates a key, shows it once, and the key works', async () => {
    const res = await create(admin, { name: 'ops script', capabilities: ['read', 'manage'] });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['capabilities', 'createdAt', 'id', 'key', 'name', 'prefix']);
    expect(res.body).toMatchObject({ name: 'ops script', capabilities: ['read', 'manage'] });
    expect(res.body.id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(res.body.key).toMatch(KEY_SHAPE);
    expect(res.body.key.startsWith(res.body.prefix)).toBe(true);
    expect(res.body.prefix.length).toBeLessThan(16);
    expect(Math.abs(res.body.createdAt - Date.now())).toBeLessThan(60_000);
    expect((await list(res.body.key)).status).toBe(200);
  });

  it('stores only a SHA-256 hash of the key', async () => {
    const { body } = await create(admin, { name: 'hashed', capabilities: ['read'] });
    const rows = await t.app.get(DataSource).query('SELECT * FROM api_keys WHERE id = $1', [body.id]);
    expect(rows).toHaveLength(1);
    expect((rows[0].secret_hash as Buffer).equals(createHash('sha256').update(body.key).digest())).toBe(true);
    expect(JSON.stringify(rows[0])).not.toContain(body.key.slice(12));
  });

  it('never lists the key itself', async () => {
    const { body: created } = await create(admin, { name: 'secret-check', capabilities: ['read'] });
    const res = await list(admin);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'nextCursor']);
    const item = res.body.data.find((k: { id: string }) => k.id === created.id);
    expect(item).toEqual({
      id: created.id,
      name: 'secret-check',
      capabilities: ['read'],
      prefix: created.prefix,
      createdAt: created.createdAt,
      lastUsedAt: null,
    });
    expect(JSON.stringify(res.body)).not.toContain(created.key);
    expect(JSON.stringify(res.body)).not.toContain(created.key.slice(12));
  });

  it('pages newest first without repeats, and refuses a bad limit or cursor', async () => {
    const pageOrg = uniqueOrg('pages');
    const key = await createKey(t, pageOrg, ['manage']);
    for (let i = 0; i < 4; i++) expect((await create(key, { name: `k${i}`, capabilities: ['manage'] })).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await list(key, `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((k: { id: string }) => k.id));
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expect([...seen].sort().reverse()).toEqual(seen);
    for (const query of ['?limit=0', '?limit=101', '?limit=abc', '?limit=1.5', '?cursor=bogus', '?unknown=1']) {
      expectError(await list(key, query), 422, 'validation_error');
    }
    const first = await list(key, '?limit=2');
    const tampered = `${first.body.nextCursor.slice(0, -1)}${first.body.nextCursor.endsWith('A') ? 'B' : 'A'}`;
    expectError(await list(key, `?cursor=${encodeURIComponent(tampered)}`), 422, 'validation_error');
  });

  it('revokes a key: 204, then the key answers 401 from its next request', async () => {
    const { body: created } = await create(admin, { name: 'to revoke', capabilities: ['manage'] });
    expect((await list(created.key)).status).toBe(200);
    const res = await request(t.http).delete(`/api/v1/api-keys/${created.id}`).set(bearer(admin));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    const after = await list(created.key);
    expectError(after, 401, 'unauthorized');
    expect(after.headers['www-authenticate']).toBe('Bearer');
    expect((await listAll(admin)).map((k) => k.id)).not.toContain(created.id);
    const again = await request(t.http).delete(`/api/v1/api-keys/${created.id}`).set(bearer(admin));
    expect(again.status).toBe(404);
    expect(again.body.error).toEqual({ code: 'not_found', message: 'api key not found', details: {} });
  });

  it('answers 404 api key not found for an unknown or malformed id', async () => {
    for (const id of ['01HF7Z3K8Q2V5N9T4W6X0Y1B2C', 'not-a-ulid', '01hf7z3k8q2v5n9t4w6x0y1b2c', 'x'.repeat(300)]) {
      const res = await request(t.http).delete(`/api/v1/api-keys/${id}`).set(bearer(admin));
      expect(res.status).toBe(404);
      expect(res.body.error).toEqual({ code: 'not_found', message: 'api key not found', details: {} });
    }
  });

  it("keeps one organization's keys invisible and untouchable to another", async () => {
    const otherOrg = uniqueOrg('other');
    const other = await createKey(t, otherOrg);
    const { body: mine } = await create(admin, { name: 'mine', capabilities: ['read'] });
    const theirs = await listAll(other);
    expect(theirs.map((k) => k.id)).not.toContain(mine.id);
    expect(theirs.every((k) => k.name !== 'mine')).toBe(true);
    const steal = await request(t.http).delete(`/api/v1/api-keys/${mine.id}`).set(bearer(other));
    expect(steal.status).toBe(404);
    expect(steal.body.error.message).toBe('api key not found');
    expect((await listAll(admin)).map((k) => k.id)).toContain(mine.id);
    // A key created by the other organization belongs to it, whatever the body says.
    const smuggled = await create(other, { name: 'x', capabilities: ['read'], orgId: org });
    expectError(smuggled, 422, 'validation_error');
  });

  it('grants only capabilities the caller holds: 403 and nothing created otherwise', async () => {
    const subsetOrg = uniqueOrg('subset');
    const limited = await createKey(t, subsetOrg, ['manage', 'read']);
    const ok = await create(limited, { name: 'reader', capabilities: ['read'] });
    expect(ok.status).toBe(201);
    const before = (await listAll(limited)).length;
    for (const capabilities of [['send'], ['read', 'ingest'], ['read', 'send', 'manage', 'ingest']]) {
      const res = await create(limited, { name: 'too much', capabilities });
      expectError(res, 403, 'forbidden');
    }
    expect((await listAll(limited)).length).toBe(before);
  });

  it('requires the manage capability on every API-key route', async () => {
    const reader = await createKey(t, org, ['read', 'send', 'ingest']);
    expectError(await list(reader), 403, 'forbidden');
    expectError(await create(reader, { name: 'x', capabilities: ['read'] }), 403, 'forbidden');
    expectError(await request(t.http).delete('/api/v1/api-keys/01HF7Z3K8Q2V5N9T4W6X0Y1B2C').set(bearer(reader)), 403, 'forbidden');
    expectError(await request(t.http).get('/api/v1/api-keys'), 401, 'unauthorized');
  });

  it('validates the body: 422 naming the fields, and nothing created', async () => {
    const validOrg = uniqueOrg('valid');
    const key = await createKey(t, validOrg, ['manage', 'read']);
    const cases: [unknown, string[]][] = [
      [{}, ['capabilities', 'name']],
      [{ name: '', capabilities: ['read'] }, ['name']],
      [{ name: '   ', capabilities: ['read'] }, ['name']],
      [{ name: 'x'.repeat(101), capabilities: ['read'] }, ['name']],
      [{ name: '❤️'.repeat(100), capabilities: ['read'] }, ['name']],
      [{ name: '𝕏'.repeat(101), capabilities: ['read'] }, ['name']],
      [{ name: 'a\u0000b', capabilities: ['read'] }, ['name']],
      [{ name: 'x\ud800y', capabilities: ['read'] }, ['name']],
      [{ name: 42, capabilities: ['read'] }, ['name']],
      [{ name: 'x', capabilities: [] }, ['capabilities']],
      [{ name: 'x', capabilities: ['read', 'read'] }, ['capabilities']],
      [{ name: 'x', capabilities: ['admin'] }, ['capabilities']],
      [{ name: 'x', capabilities: 'read' }, ['capabilities']],
      [{ name: 'x', capabilities: [null] }, ['capabilities']],
      [{ name: 'x', capabilities: ['read'], extra: true }, ['extra']],
    ];
    for (const [body, fields] of cases) {
      const res = await create(key, body);
      expectError(res, 422, 'validation_error');
      expect(Object.keys(res.body.error.details.fields).sort()).toEqual(fields);
    }
    for (const raw of ['[]', '"x"', '{"name": "x", ']) {
      const res = await request(t.http).post('/api/v1/api-keys').set(bearer(key)).set('Content-Type', 'application/json').send(raw);
      expectError(res, 422, 'validation_error');
    }
    expect(await listAll(key)).toHaveLength(1);
    expect((await create(key, { name: 'x'.repeat(100), capabilities: ['read'] })).status).toBe(201);
    // 100 code points fit the column, however many UTF-16 units or graphemes they make.
    for (const name of ['𝕏'.repeat(100), '❤️'.repeat(50)]) {
      const created = await create(key, { name, capabilities: ['read'] });
      expect([name, created.status, created.body.name]).toEqual([name, 201, name]);
      expect((await listAll(key)).find((k) => k.id === created.body.id)?.name).toBe(name);
    }
  });

  it('refuses a tampered key', async () => {
    const { body } = await create(admin, { name: 'tamper', capabilities: ['read', 'manage'] });
    const key: string = body.key;
    const flipped = (i: number) => `${key.slice(0, i)}${key[i] === 'a' ? 'b' : 'a'}${key.slice(i + 1)}`;
    for (const tampered of [flipped(10), flipped(30), flipped(key.length - 1), key.slice(0, -1), `${key}x`, key.toUpperCase()]) {
      expectError(await list(tampered), 401, 'unauthorized');
    }
    expect((await list(key)).status).toBe(200);
  });

  it('records last use in batches, not with a write per request', async () => {
    const { body } = await create(admin, { name: 'usage', capabilities: ['manage'] });
    for (let i = 0; i < 10; i++) expect((await list(body.key)).status).toBe(200);
    const stored = async () =>
      (await t.app.get(DataSource).query('SELECT last_used_at FROM api_keys WHERE id = $1', [body.id]))[0].last_used_at;
    expect(await stored()).toBeNull();
    await t.app.get(ApiKeysService).flushLastUsed();
    const lastUsedAt = (await stored()) as Date;
    expect(lastUsedAt).toBeInstanceOf(Date);
    const listed = (await listAll(admin)).find((k) => k.id === body.id)!;
    expect(listed.lastUsedAt).toBe(lastUsedAt.getTime());
    expect(listed.lastUsedAt as number).toBeGreaterThanOrEqual(body.createdAt);
  });
});

describe('API keys across replicas', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp(), startTestApp()]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('a key revoked on one replica answers 401 on another within 5 s', async () => {
    const org = uniqueOrg('replicas');
    const admin = await createKey(a, org);
    const victim = (await request(a.http).post('/api/v1/api-keys').set(bearer(admin)).send({ name: 'v', capabilities: ['manage'] })).body;
    expect((await request(b.http).get('/api/v1/api-keys').set(bearer(victim.key))).status).toBe(200);
    expect((await request(a.http).delete(`/api/v1/api-keys/${victim.id}`).set(bearer(admin))).status).toBe(204);
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 6000) {
      status = (await request(b.http).get('/api/v1/api-keys').set(bearer(victim.key))).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(5000);
  });
});

describe('API keys while the database is down', () => {
  let t: TestApp;
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = TcpProxy.forUrl(testDatabaseUrl());
    const port = await proxy.start();
    t = await startTestApp({ DATABASE_URL: proxy.urlFor(testDatabaseUrl(), port) });
  });
  afterAll(async () => {
    await t.close();
    await proxy.stop();
  });

  it('refuses a malformed or tampered key without a database query (401, not 503)', async () => {
    const key = await createKey(t, uniqueOrg('down'));
    const tampered = `${key.slice(0, 20)}${key[20] === 'a' ? 'b' : 'a'}${key.slice(21)}`;
    proxy.cut();
    try {
      for (const bad of [tampered, 'wgw_short', `wgw_${'-'.repeat(38)}`]) {
        expectError(await request(t.http).get('/api/v1/api-keys').set(bearer(bad)), 401, 'unauthorized');
      }
      // A well-formed key has to be looked up: the outage shows.
      const unknown = generateApiKey().key;
      const res = await request(t.http).get('/api/v1/api-keys').set(bearer(unknown));
      expectError(res, 503, 'unavailable');
    } finally {
      proxy.restore();
    }
  });
});
