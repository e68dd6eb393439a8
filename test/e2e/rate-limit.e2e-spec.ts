import { Controller, Get, Module } from '@nestjs/common';
import request from 'supertest';
import { RequireCapability } from '../../src/auth/access.decorators';
import { JwksServer, newSigningKey } from '../support/jwks-server';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

@Controller('test-only')
class ProbeController {
  @Get('read')
  @RequireCapability('read')
  read(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

/** The windows are whole clock minutes: start a scenario with enough of one left. */
async function awaitRoomInWindow(neededMs = 15_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < neededMs) await new Promise((r) => setTimeout(r, left + 50));
}

function expectRateLimited(res: request.Response, limit: number): void {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({ error: { code: 'rate_limited', message: 'rate limit exceeded', details: {} } });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers['ratelimit-limit']).toBe(String(limit));
  expect(res.headers['ratelimit-remaining']).toBe('0');
  expect(res.headers['ratelimit-reset']).toBe(String(retryAfter));
}

describe('rate limit per credential', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_PER_MINUTE: '5', AUTH_FAILURE_LIMIT_PER_MINUTE: '0' }, [ProbeModule]);
  });
  afterAll(() => t.close());

  it('counts down in RateLimit-* headers, then answers 429 with Retry-After', async () => {
    await awaitRoomInWindow();
    const org = uniqueOrg('rl');
    const key = await createKey(t, org);
    for (let i = 1; i <= 5; i++) {
      const res = await request(t.http).get('/test-only/read').set(bearer(key));
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('5');
      expect(res.headers['ratelimit-remaining']).toBe(String(5 - i));
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(1);
    }
    expectRateLimited(await request(t.http).get('/test-only/read').set(bearer(key)), 5);
    expectRateLimited(await request(t.http).get('/api/v1/api-keys').set(bearer(key)), 5);
    // Another credential of the same organization has its own budget.
    expect((await request(t.http).get('/test-only/read').set(bearer(await createKey(t, org)))).status).toBe(200);
  });

  it('checks the budget before the capability: a forbidden request counts, and 429 comes first', async () => {
    await awaitRoomInWindow();
    const key = await createKey(t, uniqueOrg('rl'), ['read']);
    for (let i = 0; i < 5; i++) {
      expect((await request(t.http).get('/api/v1/api-keys').set(bearer(key))).status).toBe(403);
    }
    expectRateLimited(await request(t.http).get('/api/v1/api-keys').set(bearer(key)), 5);
  });

  it('never turns a missing or invalid credential into 429 when the failure limit is off', async () => {
    for (let i = 0; i < 12; i++) {
      const res = await request(t.http).get('/test-only/read').set(bearer(`wgw_bad${i}`));
      expect(res.status).toBe(401);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });

  it('never limits public routes', async () => {
    for (let i = 0; i < 12; i++) {
      const res = await request(t.http).get('/health/live');
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});

describe('rate limit on failed authentications per client IP', () => {
  const idp = new JwksServer();
  let t: TestApp;

  beforeAll(async () => {
    await idp.start();
    t = await startTestApp(idp.env({ RATE_LIMIT_PER_MINUTE: '0', AUTH_FAILURE_LIMIT_PER_MINUTE: '3' }), [ProbeModule]);
  });
  afterAll(async () => {
    await t.close();
    await idp.stop();
  });

  it('answers 401 up to the limit, then 429; credentials already in memory still pass', async () => {
    await awaitRoomInWindow();
    const org = uniqueOrg('ipfail');
    const known = await createKey(t, org);
    const fresh = await createKey(t, org);
    expect((await request(t.http).get('/test-only/read').set(bearer(known))).status).toBe(200);
    expect((await request(t.http).get('/test-only/read').set(bearer(idp.token()))).status).toBe(200);

    const failures = [
      request(t.http).get('/test-only/read'),
      request(t.http).get('/test-only/read').set(bearer('not-a-token')),
      request(t.http).get('/test-only/read').set(bearer(`${known.slice(0, -1)}x`)),
    ];
    for (const attempt of failures) expect((await attempt).status).toBe(401);
    expectRateLimited(await request(t.http).get('/test-only/read'), 3);
    expectRateLimited(await request(t.http).get('/api/v1/api-keys').set(bearer('wgw_guess')), 3);

    // Blocked: only what can be checked in memory gets through; nothing reaches the DB or the IdP.
    expect((await request(t.http).get('/test-only/read').set(bearer(known))).status).toBe(200);
    expect((await request(t.http).get('/test-only/read').set(bearer(idp.token()))).status).toBe(200);
    const hits = idp.hits;
    expectRateLimited(await request(t.http).get('/test-only/read').set(bearer(fresh)), 3);
    expectRateLimited(await request(t.http).get('/test-only/read').set(bearer(idp.token({}, newSigningKey('ES256')))), 3);
    expect(idp.hits).toBe(hits);
    // Public routes stay open to the blocked IP.
    expect((await request(t.http).get('/health/live')).status).toBe(200);
  });
});

describe('rate limits off (0)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_PER_MINUTE: '0', AUTH_FAILURE_LIMIT_PER_MINUTE: '0' }, [ProbeModule]);
  });
  afterAll(() => t.close());

  it('neither limits nor sends RateLimit headers', async () => {
    const key = await createKey(t, uniqueOrg('off'));
    for (let i = 0; i < 30; i++) {
      const res = await request(t.http).get('/test-only/read').set(bearer(key));
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
    for (let i = 0; i < 30; i++) expect((await request(t.http).get('/test-only/read')).status).toBe(401);
  });
});
