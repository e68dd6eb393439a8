import { Controller, Get, Global, Module } from '@nestjs/common';
import request from 'supertest';
import { RequireCapability } from '../../src/auth/access.decorators';
import { Caller } from '../../src/auth/caller.decorator';
import { JWKS_FETCH_TIMEOUT_MS } from '../../src/auth/jwt/jwt.strategy';
import { JwksServer, newSigningKey } from '../support/jwks-server';
import { startTestApp, TestApp } from '../support/test-app';

@Controller('test-only')
class WhoAmIController {
  @Get('whoami')
  @RequireCapability('read')
  whoami(@Caller() caller: Caller): Caller {
    return caller;
  }
}

@Module({ controllers: [WhoAmIController] })
class WhoAmIModule {}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

function expectUnauthorized(res: request.Response): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
  expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String), details: {} } });
}

function expectUnavailable(res: request.Response): void {
  expect(res.status).toBe(503);
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(res.body).toEqual({ error: { code: 'unavailable', message: 'identity provider unavailable', details: {} } });
}

describe('auth: login JWTs against a JWKS', () => {
  const idp = new JwksServer();
  let t: TestApp;
  const whoami = (token: string) => request(t.http).get('/test-only/whoami').set(bearer(token));

  beforeAll(async () => {
    await idp.start();
    t = await startTestApp(idp.env(), [WhoAmIModule]);
  });
  afterAll(async () => {
    await t.close();
    await idp.stop();
  });

  it('accepts a valid RS256 token and reads org, subject and role from it', async () => {
    const res = await whoami(idp.token({ org_id: 'acme', sub: 'alice', role: 'owner' }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ kind: 'user', orgId: 'acme', subject: 'alice', capabilities: ['read', 'send', 'manage', 'ingest'] });
  });

  it('accepts a valid ES256 token', async () => {
    const res = await whoami(idp.token({ org_id: 'acme', sub: 'bob', role: 'viewer' }, idp.ec));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ kind: 'user', orgId: 'acme', subject: 'bob', capabilities: ['read'] });
  });

  it('maps each role of the contract to its capabilities', async () => {
    const expected: Record<string, string[]> = {
      owner: ['read', 'send', 'manage', 'ingest'],
      admin: ['read', 'send', 'manage', 'ingest'],
      member: ['read', 'send'],
      viewer: ['read'],
    };
    for (const [role, capabilities] of Object.entries(expected)) {
      const res = await whoami(idp.token({ role }));
      expect(res.body.capabilities).toEqual(capabilities);
    }
  });

  it('answers 403 (not 401) to a valid token whose role is unknown or missing', async () => {
    for (const role of ['superuser', 'OWNER', '', undefined, ['owner'], 7]) {
      const res = await whoami(idp.token({ role }));
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
  });

  it('gives a member no manage capability: 403 on the API-key routes', async () => {
    const res = await request(t.http).get('/api/v1/api-keys').set(bearer(idp.token({ role: 'member' })));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });

  it('refuses a token signed by a key the JWKS does not have', async () => {
    expectUnauthorized(await whoami(idp.token({}, newSigningKey('RS256', 'not-published'))));
  });

  it('refuses a forged signature that names a published kid', async () => {
    expectUnauthorized(await whoami(idp.forgedWithKid(idp.rsa.kid)));
    // The ES key's kid with an RS256 signature by another key: wrong key type and wrong signature.
    expectUnauthorized(await whoami(idp.forgedWithKid(idp.ec.kid)));
  });

  it('refuses an expired token, but tolerates 30 s of clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectUnauthorized(await whoami(idp.token({ exp: now - 60 })));
    expect((await whoami(idp.token({ exp: now - 10 }))).status).toBe(200);
    expectUnauthorized(await whoami(idp.token({ nbf: now + 120 })));
  });

  it('refuses a wrong issuer or audience', async () => {
    expectUnauthorized(await whoami(idp.token({ iss: 'https://evil.example' })));
    expectUnauthorized(await whoami(idp.token({ iss: undefined })));
    expectUnauthorized(await whoami(idp.token({ aud: 'another-service' })));
    expectUnauthorized(await whoami(idp.token({ aud: undefined })));
    expect((await whoami(idp.token({ aud: ['another-service', 'whatsapp-gateway'] }))).status).toBe(200);
  });

  it('refuses a token without exp', async () => {
    expectUnauthorized(await whoami(idp.token({ exp: undefined })));
  });

  it('refuses a token without a non-empty organization claim', async () => {
    for (const org of [undefined, '', 42, ['acme'], 'x'.repeat(129)]) {
      expectUnauthorized(await whoami(idp.token({ org_id: org })));
    }
  });

  it('refuses alg none and HS256 keyed with the public key, without asking the JWKS', async () => {
    const hits = idp.hits;
    const unsigned = JwksServer.raw({ alg: 'none', typ: 'JWT', kid: 'fresh-kid-1' }, JwksServer.claims(), () => '');
    expectUnauthorized(await whoami(unsigned));
    expectUnauthorized(await whoami(idp.hs256WithPublicKey()));
    const hsUnknownKid = JwksServer.raw({ alg: 'HS256', kid: 'fresh-kid-2' }, JwksServer.claims(), () => 'c2ln');
    expectUnauthorized(await whoami(hsUnknownKid));
    expect(idp.hits).toBe(hits);
  });

  it('refuses garbage and API-key-looking tokens without asking the JWKS', async () => {
    const hits = idp.hits;
    for (const token of ['garbage', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.e30.', 'wgw_not-a-key', `wgw_${'A'.repeat(38)}`]) {
      expectUnauthorized(await whoami(token));
    }
    expect(idp.hits).toBe(hits);
  });

  it('fetches the JWKS for an unknown kid only when the token is for us and unexpired', async () => {
    const stranger = newSigningKey('RS256');
    const hits = idp.hits;
    expectUnauthorized(await whoami(idp.token({ iss: 'https://evil.example' }, stranger)));
    expectUnauthorized(await whoami(idp.token({ aud: 'another-service' }, stranger)));
    expectUnauthorized(await whoami(idp.token({ exp: Math.floor(Date.now() / 1000) - 3600 }, stranger)));
    expect(idp.hits).toBe(hits);
    expectUnauthorized(await whoami(idp.token({}, stranger)));
    expect(idp.hits).toBe(hits + 1);
  });

  it('refuses a missing or malformed Authorization header', async () => {
    expectUnauthorized(await request(t.http).get('/test-only/whoami'));
    const token = idp.token();
    for (const header of [token, `Basic ${token}`, `Bearer`, `Bearer ${token} extra`]) {
      expectUnauthorized(await request(t.http).get('/test-only/whoami').set('Authorization', header));
    }
  });
});

describe('auth: custom claim names', () => {
  const idp = new JwksServer();
  let t: TestApp;

  beforeAll(async () => {
    await idp.start();
    t = await startTestApp(idp.env({ AUTH_JWT_ORG_CLAIM: 'https://gw.example/org', AUTH_JWT_ROLE_CLAIM: 'gw_role' }), [WhoAmIModule]);
  });
  afterAll(async () => {
    await t.close();
    await idp.stop();
  });

  it('reads the organization and role from the configured claims', async () => {
    const token = idp.token({ org_id: undefined, role: undefined, 'https://gw.example/org': 'globex', gw_role: 'member' });
    const res = await request(t.http).get('/test-only/whoami').set(bearer(token));
    expect(res.body).toEqual({ kind: 'user', orgId: 'globex', subject: 'user-1', capabilities: ['read', 'send'] });
    expectUnauthorized(await request(t.http).get('/test-only/whoami').set(bearer(idp.token())));
  });
});

describe('auth: a flood of tokens with made-up kids', () => {
  const idp = new JwksServer();
  let t: TestApp;

  beforeAll(async () => {
    await idp.start();
    t = await startTestApp(idp.env(), [WhoAmIModule]);
  });
  afterAll(async () => {
    await t.close();
    await idp.stop();
  });

  it('fetches the JWKS a bounded number of times, and keeps serving known keys', async () => {
    expect((await request(t.http).get('/test-only/whoami').set(bearer(idp.token()))).status).toBe(200);
    const flood = Array.from({ length: 200 }, () => idp.token({}, newSigningKey('ES256')));
    for (let i = 0; i < flood.length; i += 20) {
      const answers = await Promise.all(
        flood.slice(i, i + 20).map((token) => request(t.http).get('/test-only/whoami').set(bearer(token))),
      );
      for (const res of answers) expectUnauthorized(res);
    }
    // jwks-rsa allows 10 fetches a minute; the first token above used one of them.
    expect(idp.hits).toBeGreaterThan(1);
    expect(idp.hits).toBeLessThanOrEqual(10);
    expect((await request(t.http).get('/test-only/whoami').set(bearer(idp.token()))).status).toBe(200);
  });
});

/** The JWKS fetch gives up after 300 ms instead of 3 s (the built gateway's 3 s: jwks-outage.faults-spec). */
@Global()
@Module({ providers: [{ provide: JWKS_FETCH_TIMEOUT_MS, useValue: 300 }], exports: [JWKS_FETCH_TIMEOUT_MS] })
class ShortJwksTimeoutModule {}

describe('auth: the identity provider fails', () => {
  const idp = new JwksServer();
  let t: TestApp;
  const whoami = (token: string) => request(t.http).get('/test-only/whoami').set(bearer(token));

  beforeAll(async () => {
    await idp.start();
    t = await startTestApp(idp.env(), [WhoAmIModule, ShortJwksTimeoutModule]);
    // The RSA key is now known; the EC key has never been fetched.
    expect((await whoami(idp.token())).status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    await idp.stop();
  });
  afterEach(async () => {
    idp.mode = 'ok';
    await idp.stop();
    await idp.start();
  });

  it('answers 503 while the JWKS answers 500, and keeps accepting tokens of cached keys', async () => {
    idp.mode = 'error';
    expectUnavailable(await whoami(idp.token({}, idp.ec)));
    expect((await whoami(idp.token())).status).toBe(200);
  });

  it('answers 503 when the JWKS endpoint is down, and recovers when it is back', async () => {
    await idp.stop();
    expectUnavailable(await whoami(idp.token({}, idp.ec)));
    expect((await whoami(idp.token())).status).toBe(200);
    // A bad signature is still the caller's fault, even while the IdP is down.
    expectUnauthorized(await whoami(idp.forgedWithKid(idp.rsa.kid)));
    await idp.start();
    expect((await whoami(idp.token({}, idp.ec))).status).toBe(200);
  });

  it('answers 503 once the fetch timeout has passed when the JWKS endpoint hangs', async () => {
    idp.mode = 'hang';
    const started = Date.now();
    expectUnavailable(await whoami(idp.token({}, newSigningKey('RS256', 'rotated-in'))));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000);
  });
});

describe('auth: JWT login off (AUTH_JWKS_URL unset)', () => {
  const idp = new JwksServer();
  let t: TestApp;

  beforeAll(async () => {
    await idp.start();
    t = await startTestApp({}, [WhoAmIModule]);
  });
  afterAll(async () => {
    await t.close();
    await idp.stop();
  });

  it('refuses every JWT with 401', async () => {
    expectUnauthorized(await request(t.http).get('/test-only/whoami').set(bearer(idp.token())));
    expect(idp.hits).toBe(0);
  });
});
