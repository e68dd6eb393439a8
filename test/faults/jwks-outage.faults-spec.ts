import { HttpResult } from '../support/gateway-process';
import { createSession, envelopeProblem, GatewayFixture, startGatewayFixture } from '../support/gateway-fixture';
import { JwksServer } from '../support/jwks-server';

/** The gateway gives up on the JWKS after 3 s; an answer must come well within this. */
const ANSWER_WITHIN_MS = 5000;

describe('identity provider outage', () => {
  let jwks: JwksServer;
  let f: GatewayFixture;
  let sid: string;

  beforeAll(async () => {
    jwks = new JwksServer();
    await jwks.start();
    f = await startGatewayFixture({ env: jwks.env() });
    sid = await createSession(f);
  });
  afterAll(async () => {
    await f?.close();
    await jwks?.stop();
  });

  it('keeps serving JWTs signed with cached keys and API keys, and answers 503 promptly for the rest', async () => {
    const pid = f.gateway.pid;
    const asJwt = (token: string) =>
      f.gateway.request('/api/v1/sessions', { headers: { authorization: `Bearer ${token}` }, timeoutMs: 15_000 });
    // A fresh token each time (new iat/exp), so nothing but the signing key can be cached.
    const cachedKeyToken = () => jwks.token({ org_id: f.orgId, role: 'viewer', jti: String(Math.random()) }, jwks.rsa);
    const unseenKeyToken = () => jwks.token({ org_id: f.orgId, role: 'viewer', jti: String(Math.random()) }, jwks.ec);
    const asKey = () => f.api('GET', `/api/v1/sessions/${sid}`, undefined, { timeoutMs: 15_000 });
    const problems: string[] = [];
    const served = (label: string, res: HttpResult) => {
      if (res.status !== 200) problems.push(`${label}: ${res.status} ${res.text.slice(0, 200)}`);
    };
    const unavailable = (label: string, res: HttpResult) => {
      const problem = envelopeProblem(res, 'unavailable');
      if (res.status !== 503 || problem) problems.push(`${label}: ${res.status} ${problem ?? ''}`);
      else if (!res.headers['retry-after']) problems.push(`${label}: 503 without Retry-After`);
      if (res.ms > ANSWER_WITHIN_MS) problems.push(`${label}: answered after ${res.ms} ms`);
    };
    let requests = 0;
    const count = <T>(p: Promise<T>) => {
      requests += 1;
      return p;
    };

    // While the identity provider is up, the RSA key is fetched once and then cached.
    const first = await count(asJwt(cachedKeyToken()));
    served('JWT before the outage', first);
    expect(first.body.data.map((s: { id: string }) => s.id)).toEqual([sid]);
    expect(jwks.hits).toBeGreaterThanOrEqual(1);

    const phases: { name: string; enter: () => Promise<void> }[] = [
      { name: 'down', enter: () => jwks.stop() },
      {
        name: 'hanging',
        enter: async () => {
          jwks.mode = 'hang';
          await jwks.start();
        },
      },
      {
        name: 'failing',
        enter: () => {
          jwks.mode = 'error';
          return Promise.resolve();
        },
      },
    ];
    const slowest: Record<string, number> = {};
    for (const phase of phases) {
      await phase.enter();
      const hitsBefore = jwks.hits;
      for (let i = 0; i < 3; i++) {
        served(`${phase.name}: JWT with a cached key`, await count(asJwt(cachedKeyToken())));
        served(`${phase.name}: API key`, await count(asKey()));
      }
      // API keys and cached keys never made the gateway ask the identity provider.
      if (jwks.hits !== hitsBefore) problems.push(`${phase.name}: ${jwks.hits - hitsBefore} JWKS requests for known credentials`);
      // A key it never saw cannot be fetched: 503 within the fetch timeout, twice in a row.
      for (let i = 0; i < 2; i++) {
        const res = await count(asJwt(unseenKeyToken()));
        unavailable(`${phase.name}: JWT with an unseen key`, res);
        slowest[phase.name] = Math.max(slowest[phase.name] ?? 0, res.ms);
      }
    }

    // The identity provider comes back: the new key is fetched and works.
    jwks.mode = 'ok';
    const recovered = await count(asJwt(unseenKeyToken()));
    served('JWT with the new key after recovery', recovered);
    if (f.gateway.pid !== pid || !f.gateway.alive()) problems.push('the gateway process did not stay up');

    process.stdout.write(
      `FAULTS jwks-outage ${JSON.stringify({ requests, outages: phases.map((p) => p.name), slowest503Ms: slowest, jwksHits: jwks.hits })}\n`,
    );
    expect(problems).toEqual([]);
  });
});
