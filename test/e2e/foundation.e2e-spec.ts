import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { IsBoolean, IsInt, IsOptional, IsString, MaxLength } from 'class-validator';
import pino from 'pino';
import { Writable } from 'node:stream';
import request from 'supertest';
import { Public, RequireCapability } from '../../src/auth/access.decorators';
import { createKey, startTestApp, testDatabaseUrl, TestApp, uniqueOrg } from '../support/test-app';
import { TcpProxy } from '../support/tcp-proxy';

class EchoDto {
  @IsString()
  @MaxLength(10)
  name!: string;

  @IsOptional()
  @IsBoolean()
  flag?: boolean;

  @IsOptional()
  @IsInt()
  count?: number;
}

/** Columns of each kind PostgreSQL refuses values for, with the SQLSTATE each refusal has. */
const PROBE_TABLE = 'CREATE TEMP TABLE probe (short varchar(3), body text, doc jsonb, n integer CHECK (n >= 0)) ON COMMIT DROP';
const PROBE_COLUMNS = ['short', 'body', 'doc', 'n'];

// Routes that exist only in this test: one that validates a body, one with a bug, and one that
// stores a value without validating it (a gap in validation, as the database sees it).
@Controller('test-only')
class ProbeController {
  constructor(private readonly dataSource: DataSource) {}

  @Public()
  @Post('store')
  async store(@Body() body: { column: string; value: unknown }): Promise<{ stored: true }> {
    if (!PROBE_COLUMNS.includes(body.column)) throw new Error('no such probe column');
    await this.dataSource.transaction(async (manager) => {
      await manager.query(PROBE_TABLE);
      await manager.query(`INSERT INTO probe (${body.column}) VALUES ($1)`, [body.value]);
    });
    return { stored: true };
  }

  @Get('guarded')
  @RequireCapability('read')
  guarded(): { ok: true } {
    return { ok: true };
  }

  @Public()
  @Post('echo')
  echo(@Body() body: EchoDto): EchoDto {
    return body;
  }

  @Public()
  @Get('boom')
  boom(): never {
    throw new Error('secret internal detail: password=hunter2');
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

function expectEnvelope(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.details).toEqual(expect.any(Object));
}

describe('foundation: envelope, health, docs', () => {
  let t: TestApp;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    t = await startTestApp({}, [ProbeModule], pino({ level: 'warn' }, sink));
  });
  afterAll(() => t.close());

  it('answers an unknown route with 404 not_found, with or without a credential', async () => {
    const key = await createKey(t, uniqueOrg());
    for (const req of [request(t.http).get('/nope'), request(t.http).get('/api/v1/nope').set('Authorization', `Bearer ${key}`)]) {
      const res = await req;
      expectEnvelope(res, 404, 'not_found');
      expect(res.body.error).toEqual({ code: 'not_found', message: 'route not found', details: {} });
    }
  });

  it('answers malformed JSON with 422 validation_error', async () => {
    const res = await request(t.http).post('/test-only/echo').set('Content-Type', 'application/json').send('{"name": ');
    expectEnvelope(res, 422, 'validation_error');
  });

  it('answers a body that is not a JSON object with 422', async () => {
    for (const body of ['[]', '"text"', '42', 'null']) {
      const res = await request(t.http).post('/test-only/echo').set('Content-Type', 'application/json').send(body);
      expectEnvelope(res, 422, 'validation_error');
    }
  });

  it('answers a body over 1 MiB with 413 payload_too_large', async () => {
    const res = await request(t.http)
      .post('/test-only/echo')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }));
    expectEnvelope(res, 413, 'payload_too_large');
  });

  it('names the offending fields of a validation failure', async () => {
    const res = await request(t.http).post('/test-only/echo').send({ name: 'much too long a name', count: 1.5 });
    expectEnvelope(res, 422, 'validation_error');
    expect(Object.keys(res.body.error.details.fields).sort()).toEqual(['count', 'name']);
  });

  it('rejects unknown properties and converts no types implicitly', async () => {
    const unknown = await request(t.http).post('/test-only/echo').send({ name: 'a', extra: 1 });
    expectEnvelope(unknown, 422, 'validation_error');
    expect(unknown.body.error.details.fields).toHaveProperty('extra');
    const stringly = await request(t.http).post('/test-only/echo').send({ name: 'a', flag: 'true', count: '3' });
    expectEnvelope(stringly, 422, 'validation_error');
    expect(Object.keys(stringly.body.error.details.fields).sort()).toEqual(['count', 'flag']);
    const ok = await request(t.http).post('/test-only/echo').send({ name: 'a', flag: true, count: 3 });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ name: 'a', flag: true, count: 3 });
  });

  it('rejects reserved keys and absurd nesting with 422 instead of tripping the validator', async () => {
    const deep = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;
    for (const body of ['{"name":"a","constructor":{"prototype":1}}', '{"name":"a","__proto__":{"flag":true}}', `{"name":${deep}}`]) {
      const res = await request(t.http).post('/test-only/echo').set('Content-Type', 'application/json').send(body);
      expectEnvelope(res, 422, 'validation_error');
    }
  });

  it('answers oversized request headers with 413 in the envelope', async () => {
    const res = await request(t.http).get('/health/live').set('X-Padding', 'x'.repeat(64 * 1024));
    expectEnvelope(res, 413, 'payload_too_large');
  });

  it('answers a bug with 500 internal_error carrying only an errorId that is in the log', async () => {
    const res = await request(t.http).get('/test-only/boom').set('X-Request-Id', 'req-boom-1');
    expectEnvelope(res, 500, 'internal_error');
    expect(res.body.error.details).toEqual({ errorId: 'req-boom-1' });
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
    const logged = logLines.find((l) => l.errorId === 'req-boom-1');
    expect(logged).toBeDefined();
    expect(JSON.stringify(logged)).toContain('hunter2');
  });

  it.each([
    ['a NUL in text (22021)', 'body', 'a\u0000b'],
    ['text longer than its column (22001)', 'short', 'abcd'],
    ['a \\u0000 escape in jsonb (22P05)', 'doc', '"\\u0000"'],
    ['a CHECK constraint violation (23514)', 'n', -1],
  ])('answers 422 validation_error, not 500, when the database refuses %s, and logs it', async (name, column, value) => {
    const fine = { short: 'abc', body: 'a\u00a0b', doc: '"abc"', n: 1 }[column];
    expect((await request(t.http).post('/test-only/store').send({ column, value: fine })).status).toBe(201);
    const refusals = () => logLines.filter((l) => l.msg === 'database refused a value').length;
    const before = refusals();
    const res = await request(t.http).post('/test-only/store').send({ column, value });
    expectEnvelope(res, 422, 'validation_error');
    expect(res.body.error.details).toEqual({});
    expect(res.body.error.message).not.toMatch(/probe|insert|varchar|constraint|utf8|0x00/i);
    expect([name, refusals()]).toEqual([name, before + 1]);
  });

  it('sends no X-Powered-By and echoes or makes a request id', async () => {
    const mine = await request(t.http).get('/health/live').set('X-Request-Id', 'abc-123');
    expect(mine.headers['x-powered-by']).toBeUndefined();
    expect(mine.headers['x-request-id']).toBe('abc-123');
    const made = await request(t.http).get('/nope');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await request(t.http).get('/health/live').set('X-Request-Id', 'bad id\twith spaces');
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves liveness and readiness', async () => {
    expect((await request(t.http).get('/health/live')).body).toEqual({ status: 'ok' });
    expect((await request(t.http).get('/health/ready')).body).toEqual({ status: 'ok' });
  });

  it('serves the Swagger UI and the OpenAPI document with the bearer scheme and the envelope', async () => {
    const ui = await request(t.http).get('/docs/');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger-ui');
    const doc = await request(t.http).get('/docs-json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.body.components.schemas.ErrorEnvelopeDto.properties.error).toBeDefined();
    expect(doc.body.components.schemas.ErrorBodyDto.required).toEqual(expect.arrayContaining(['code', 'message', 'details']));
  });
});

describe('foundation: the database goes away and comes back', () => {
  let t: TestApp;
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = TcpProxy.forUrl(testDatabaseUrl());
    const port = await proxy.start();
    t = await startTestApp({ DATABASE_URL: proxy.urlFor(testDatabaseUrl(), port) }, [ProbeModule]);
  });
  afterAll(async () => {
    await t.close();
    await proxy.stop();
  });

  it('answers 503 unavailable with Retry-After while the database is down, and recovers', async () => {
    const key = await createKey(t, uniqueOrg());
    proxy.cut();
    const started = Date.now();
    const ready = await request(t.http).get('/health/ready');
    expectEnvelope(ready, 503, 'unavailable');
    expect(ready.headers['retry-after']).toBeDefined();
    // A route whose guard must ask the database about the key.
    const api = await request(t.http).get('/test-only/guarded').set('Authorization', `Bearer ${key}`);
    expectEnvelope(api, 503, 'unavailable');
    expect(api.headers['retry-after']).toBeDefined();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await request(t.http).get('/health/live')).status).toBe(200);

    proxy.restore();
    expect((await request(t.http).get('/health/ready')).status).toBe(200);
    expect((await request(t.http).get('/test-only/guarded').set('Authorization', `Bearer ${key}`)).status).toBe(200);
  });
});
