/**
 * The per-request cost of each way through the global guard, measured with autocannon against
 * the real app (in this process; the load generator runs in a worker thread):
 *
 *   npm run bench:auth -- [--seconds N] [--connections N]
 *
 * Every measured route is a trivial handler, so the differences between the rows are the cost
 * of authentication itself: a public route (no guard work), an API key (cached after its first
 * use), login JWTs (RS256 and ES256, verified on every request against a cached JWKS key), and a
 * refused request (401). Rate limiting is on, with limits too high to be reached, so its own
 * cost is part of every protected row. A real list route (one database query) is shown for scale.
 * Then, without HTTP, the CPU time of `AuthenticationService.authenticate()` alone per token kind
 * (the median of several rounds, so that other load on the machine disturbs it less).
 * Uses a fresh database on the local PostgreSQL (or an embedded one), dropped afterwards.
 */
import { Controller, Get, Module } from '@nestjs/common';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Request } from 'express';
import { Public, RequireCapability } from '../src/auth/access.decorators';
import { AuthenticationService } from '../src/auth/authentication.service';
import { JwksServer } from '../test/support/jwks-server';
import { createTestDatabase } from '../test/support/test-database';
import { createKey, startTestApp } from '../test/support/test-app';

@Controller('bench')
class BenchController {
  @Public()
  @Get('public')
  open(): { ok: true } {
    return { ok: true };
  }

  @RequireCapability('read')
  @Get('read')
  read(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [BenchController] })
class BenchModule {}

interface Scenario {
  name: string;
  path: string;
  token?: string;
  expectStatus: number;
}

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

async function run(baseUrl: string, scenario: Scenario, seconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${baseUrl}${scenario.path}`,
    headers: scenario.token ? { authorization: `Bearer ${scenario.token}` } : {},
    connections,
    duration: seconds,
    workers: 1,
  });
}

/** Microseconds per `authenticate(token)` call: the median of `rounds` rounds of `calls` calls. */
async function authenticateMicros(auth: AuthenticationService, token: string, rounds = 7, calls = 3000): Promise<number> {
  // What the guard hands over: the request the token came with (passport decorates it).
  const request = { headers: { authorization: `Bearer ${token}` } } as Request;
  const perRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) {
      if (!(await auth.authenticate(request, token))) throw new Error('token refused');
    }
    perRound.push(((performance.now() - started) * 1000) / calls);
  }
  return perRound.sort((a, b) => a - b)[Math.floor(rounds / 2)];
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const row of rows) {
    process.stdout.write(`${row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')}\n`);
  }
}

async function main(): Promise<void> {
  const seconds = option('seconds', 8);
  const connections = option('connections', 10);
  const database = await createTestDatabase('bench');
  const idp = new JwksServer();
  await idp.start();
  process.env.WGW_TEST_DATABASE_URL = database.url;
  const app = await startTestApp(
    idp.env({ RATE_LIMIT_PER_MINUTE: '10000000', AUTH_FAILURE_LIMIT_PER_MINUTE: '10000000', LOG_LEVEL: 'silent' }),
    [BenchModule],
  );
  try {
    await new Promise<void>((resolve) => app.http.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(app.http.address() as AddressInfo).port}`;
    const apiKey = await createKey(app, 'bench-org');
    const scenarios: Scenario[] = [
      { name: 'public route (no auth)', path: '/bench/public', expectStatus: 200 },
      { name: 'API key (cached)', path: '/bench/read', token: apiKey, expectStatus: 200 },
      { name: 'login JWT RS256', path: '/bench/read', token: idp.token({ exp: Math.floor(Date.now() / 1000) + 3600 }), expectStatus: 200 },
      { name: 'login JWT ES256', path: '/bench/read', token: idp.token({ exp: Math.floor(Date.now() / 1000) + 3600 }, idp.ec), expectStatus: 200 },
      { name: 'no credential (401)', path: '/bench/read', expectStatus: 401 },
      { name: 'GET /api/v1/api-keys, API key', path: '/api/v1/api-keys?limit=1', token: apiKey, expectStatus: 200 },
    ];
    // One request each first: the key cache and the JWKS keys are warm before measuring.
    for (const scenario of scenarios) {
      const res = await fetch(`${baseUrl}${scenario.path}`, {
        headers: scenario.token ? { authorization: `Bearer ${scenario.token}` } : {},
      });
      if (res.status !== scenario.expectStatus) throw new Error(`${scenario.name}: ${res.status}, expected ${scenario.expectStatus}`);
    }
    await run(baseUrl, scenarios[0], 2, connections);

    process.stdout.write(`${seconds} s per row, ${connections} connections, Node ${process.version}\n\n`);
    const rows: string[][] = [['path', 'req/s', 'p50 ms', 'p99 ms', 'µs/req', 'auth µs/req', 'unexpected']];
    let publicMicros = 0;
    for (const scenario of scenarios) {
      const result = await run(baseUrl, scenario, seconds, connections);
      const micros = 1e6 / result.requests.average;
      if (scenario === scenarios[0]) publicMicros = micros;
      const unexpected = scenario.expectStatus === 200 ? result.non2xx + result.errors : result['2xx'] + result.errors;
      rows.push([
        scenario.name,
        result.requests.average.toFixed(0),
        result.latency.p50.toFixed(2),
        result.latency.p99.toFixed(2),
        micros.toFixed(0),
        scenario === scenarios[0] ? '-' : (micros - publicMicros).toFixed(0),
        String(unexpected),
      ]);
    }
    printTable(rows);
    process.stdout.write('\nµs/req is the server time per request at saturation (1 / req/s); auth µs/req is that minus the public row.\n\n');

    const auth = app.app.get(AuthenticationService);
    printTable([
      ['authenticate() alone', 'µs/call'],
      ['API key (cached)', (await authenticateMicros(auth, scenarios[1].token!)).toFixed(1)],
      ['login JWT RS256', (await authenticateMicros(auth, scenarios[2].token!)).toFixed(1)],
      ['login JWT ES256', (await authenticateMicros(auth, scenarios[3].token!)).toFixed(1)],
    ]);
  } finally {
    await app.close();
    await idp.stop();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
