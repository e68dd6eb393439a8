import request from 'supertest';
import { DataSource } from 'typeorm';
import { ulid } from 'ulid';
import { createApp } from '../../src/app.factory';
import { AppModule } from '../../src/app.module';
import { ApiKeysService } from '../../src/auth/api-keys/api-keys.service';
import { createLogger } from '../../src/common/logging/logger';
import { drainForShutdown } from '../../src/shutdown';
import { EventStreamOptions, EventStreamService } from '../../src/events/event-stream.service';
import { encodeEventCursor } from '../../src/events/event-position';
import { EventWriter, messageCreated, record, storedPayloads, untilVisible } from '../support/event-log';
import { listen, SseClient } from '../support/event-stream';
import { auth } from '../support/ingest';
import { JwksServer } from '../support/jwks-server';
import { createKey, TestApp, testConfig, uniqueOrg } from '../support/test-app';

/** The real gateway with the stream's timings shortened, so that keep-alives and polls happen within a test. */
async function startStreamApp(events: Partial<EventStreamOptions>, env: Record<string, string> = {}): Promise<TestApp> {
  const config = testConfig(env);
  const logger = createLogger(config.logLevel);
  const app = await createApp(config, logger, AppModule.forRoot(config, logger, { events }));
  await app.init();
  return { app, http: app.getHttpServer(), close: () => app.close() };
}

const dataId = (event: { data: string }): string => (JSON.parse(event.data) as { data: { id: string } }).data.id;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('event stream', () => {
  let t: TestApp;
  let base: string;
  const open: SseClient[] = [];

  beforeAll(async () => {
    t = await startStreamApp({ keepAliveMs: 300, pollMs: 500 });
    base = await listen(t);
  });
  afterEach(() => {
    for (const client of open.splice(0)) client.close();
  });
  afterAll(() => t.close());

  async function stream(key: string, query = '', headers: Record<string, string> = {}): Promise<SseClient> {
    const client = await SseClient.open(base, `/api/v1/events/stream${query}`, { ...headers, authorization: `Bearer ${key}` });
    open.push(client);
    return client;
  }

  async function orgWithKey(label: string): Promise<{ org: string; key: string }> {
    const org = uniqueOrg(label);
    return { org, key: await createKey(t, org, ['read']) };
  }

  it('answers 200 text/event-stream at once and sends the events committed from then on, as the feed serves them', async () => {
    const { org, key } = await orgWithKey('sse-now');
    await record(t, org, [messageCreated('before')]);
    await untilVisible(t, key, 1);
    const client = await stream(key);
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toBe('no-cache, no-transform');
    await record(t, org, [messageCreated('after-1'), messageCreated('after-2', null, 'chat.updated')]);
    const events = await client.nextEvents(2);
    expect(events.map(dataId)).toEqual(['after-1', 'after-2']);
    expect(events.map((e) => e.event)).toEqual(['message.created', 'chat.updated']);
    const payloads = await storedPayloads(t, org);
    expect(events.map((e) => e.data)).toEqual(payloads.slice(1));
    // Each id is the feed cursor after that event.
    const feed = await request(t.http).get('/api/v1/events').query({ after: events[0].id! }).set(...auth(key));
    expect(feed.body.data.map((e: { data: { id: string } }) => e.data.id)).toEqual(['after-2']);
    expect(feed.body.nextCursor).toBe(events[1].id);
  });

  it('resumes after the Last-Event-ID header or the after query, the header winning', async () => {
    const { org, key } = await orgWithKey('sse-resume');
    await record(t, org, [messageCreated('e1'), messageCreated('e2'), messageCreated('e3')]);
    await untilVisible(t, key, 3);
    const afterE1 = (await request(t.http).get('/api/v1/events?limit=1').set(...auth(key))).body.nextCursor as string;

    const byQuery = await stream(key, `?after=${encodeURIComponent(afterE1)}`);
    const [, e3] = await byQuery.nextEvents(2);
    expect(byQuery.events.map(dataId)).toEqual(['e2', 'e3']);

    const byHeader = await stream(key, '', { 'last-event-id': byQuery.events[0].id! });
    expect((await byHeader.nextEvents(1)).map(dataId)).toEqual(['e3']);

    const both = await stream(key, `?after=${encodeURIComponent(afterE1)}`, { 'last-event-id': byQuery.events[0].id! });
    expect((await both.nextEvents(1)).map(dataId)).toEqual(['e3']);
    // Resumed from its last event, a stream has nothing more to send until something new comes.
    const caughtUp = await stream(key, '', { 'last-event-id': e3.id! });
    await record(t, org, [messageCreated('e4')]);
    expect((await caughtUp.nextEvents(1)).map(dataId)).toEqual(['e4']);
  });

  it('applies the types and sessionId filters', async () => {
    const { org, key } = await orgWithKey('sse-filter');
    const [s1, s2] = [ulid(), ulid()];
    const typed = await stream(key, '?types=chat.updated,message.updated');
    const bySession = await stream(key, `?sessionId=${s2}`);
    await record(t, org, [
      messageCreated('m1', s1),
      messageCreated('u1', s2, 'message.updated'),
      messageCreated('c1', s1, 'chat.updated'),
      messageCreated('m2', s2),
    ]);
    expect((await typed.nextEvents(2)).map(dataId)).toEqual(['u1', 'c1']);
    expect((await bySession.nextEvents(2)).map(dataId)).toEqual(['u1', 'm2']);
  });

  it('sends a keep-alive comment on schedule', async () => {
    const { key } = await orgWithKey('sse-keepalive');
    const client = await stream(key);
    await client.until(() => client.comments.includes('keep-alive'), 3000, 'a keep-alive comment');
    expect(client.events).toEqual([]);
  });

  it('answers errors in the envelope before any stream starts: 422 for bad input, 410 for a pruned position', async () => {
    const { org, key } = await orgWithKey('sse-errors');
    for (const [query, headers, field] of [
      ['?after=garbage', {}, 'after'],
      ['', { 'last-event-id': 'garbage' }, 'Last-Event-ID'],
      ['?types=message.exploded', {}, 'types'],
      ['?sessionId=nope', {}, 'sessionId'],
      ['?limit=5', {}, 'limit'],
    ] as [string, Record<string, string>, string][]) {
      const client = await stream(key, query, headers);
      await client.whenEnded();
      expect([query, client.status, client.headers['content-type']]).toEqual([query, 422, 'application/json; charset=utf-8']);
      expect(client.json()).toMatchObject({ error: { code: 'validation_error', details: { fields: { [field]: expect.any(Array) } } } });
    }
    await t.app.get(DataSource).query(`INSERT INTO event_log_horizon (org_id, xid, seq) VALUES ($1, '5', 1)`, [org]);
    const gone = await stream(key, `?after=${encodeURIComponent(encodeEventCursor({ xid: 4, seq: 9 }))}`);
    await gone.whenEnded();
    expect(gone.status).toBe(410);
    expect(gone.json()).toMatchObject({ error: { code: 'gone', details: {} } });
    expect((await stream(key, `?after=${encodeURIComponent(encodeEventCursor({ xid: 5, seq: 1 }))}`)).status).toBe(200);
  });

  it('lets a credential open 10 streams; the 11th answers 429 until one closes', async () => {
    const { key } = await orgWithKey('sse-limit');
    const streams = await Promise.all(Array.from({ length: 10 }, () => stream(key)));
    expect(streams.map((s) => s.status)).toEqual(Array(10).fill(200));
    const eleventh = await stream(key);
    await eleventh.whenEnded();
    expect(eleventh.status).toBe(429);
    expect(eleventh.headers['retry-after']).toBe('5');
    expect(eleventh.json()).toEqual({
      error: { code: 'rate_limited', message: 'at most 10 event streams may be open per credential', details: { limit: 10 } },
    });
    // Another credential of the same organization is counted on its own.
    expect((await stream((await orgWithKey('sse-limit-other')).key)).status).toBe(200);
    streams[0].close();
    const service = t.app.get(EventStreamService);
    const before = service.openStreams;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (service.openStreams < before) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    expect((await stream(key)).status).toBe(200);
  });

  it('still delivers an event whose notification was lost, by its periodic read', async () => {
    const { org, key } = await orgWithKey('sse-lost');
    const client = await stream(key);
    // Written without the writer, so no notification is sent.
    await t.app.get(DataSource).query(
      `INSERT INTO events (org_id, id, type, session_id, created_at, payload) VALUES ($1, $2, 'chat.created', NULL, 0, $3)`,
      [org, `evt_${ulid()}`, JSON.stringify({ data: { id: 'silent' } })],
    );
    expect((await client.nextEvents(1)).map(dataId)).toEqual(['silent']);
  });

  it('holds back an event while an older transaction runs, then sends both in their order', async () => {
    const { org, key } = await orgWithKey('sse-held');
    const client = await stream(key);
    const older = await EventWriter.begin(t);
    await older.append(org, [messageCreated('older')]);
    await record(t, org, [messageCreated('younger')]);
    await sleep(700);
    expect(client.events).toEqual([]);
    await older.commit();
    expect((await client.nextEvents(2)).map(dataId)).toEqual(['older', 'younger']);
  });

  it('closes a stream when its API key is revoked, within 5 s also when another replica revokes it', async () => {
    const org = uniqueOrg('sse-revoke');
    const keys = t.app.get(ApiKeysService);
    const local = await keys.create(org, { name: 'local', capabilities: ['read', 'manage'] });
    const remote = await keys.create(org, { name: 'remote', capabilities: ['read'] });
    const localStream = await stream(local.key);
    const remoteStream = await stream(remote.key);
    const replica = await startStreamApp({});
    try {
      // The remote key is revoked through the other replica: this one only learns it from the database.
      const revokedAt = Date.now();
      expect((await request(replica.http).delete(`/api/v1/api-keys/${remote.id}`).set(...auth(local.key))).status).toBe(204);
      await remoteStream.whenEnded(8000);
      const remoteMs = remoteStream.endedAt! - revokedAt;
      expect(remoteMs).toBeLessThan(5000);
      expect(remoteStream.comments).toContain('closed: credential revoked');
      expect(localStream.ended).toBe(false);

      const localRevokedAt = Date.now();
      expect((await request(t.http).delete(`/api/v1/api-keys/${local.id}`).set(...auth(local.key))).status).toBe(204);
      await localStream.whenEnded(8000);
      expect(localStream.endedAt! - localRevokedAt).toBeLessThan(5000);
      process.stdout.write(`stream closed ${remoteMs} ms after a revocation on another replica, ${localStream.endedAt! - localRevokedAt} ms after one on its own\n`);
    } finally {
      await replica.close();
    }
  });
});

describe('event stream with login tokens', () => {
  const idp = new JwksServer();
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    await idp.start();
    t = await startStreamApp({}, idp.env());
    base = await listen(t);
  });
  afterAll(async () => {
    await t?.close();
    await idp.stop();
  });

  it('closes the stream when the token expires', async () => {
    const org = uniqueOrg('sse-jwt');
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = idp.token({ org_id: org, role: 'viewer', sub: 'viewer-1', exp });
    const client = await SseClient.open(base, '/api/v1/events/stream', { authorization: `Bearer ${token}` });
    expect(client.status).toBe(200);
    await record(t, org, [messageCreated('while-valid')]);
    expect((await client.nextEvents(1)).map(dataId)).toEqual(['while-valid']);
    await client.whenEnded(10_000);
    expect(client.endedAt!).toBeGreaterThanOrEqual(exp * 1000);
    expect(client.endedAt! - exp * 1000).toBeLessThan(2000);
    expect(client.comments).toContain('closed: credential expired');
  });
});

describe('event stream across replicas', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    // No periodic reads within the test: only the commit notification can deliver the event.
    a = await startStreamApp({ pollMs: 60_000 });
    b = await startStreamApp({ pollMs: 60_000 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('delivers an event to the open streams of every replica, woken by the commit notification', async () => {
    const org = uniqueOrg('sse-replicas');
    const keyA = await createKey(a, org, ['read']);
    const keyB = await createKey(b, org, ['read']);
    const [baseA, baseB] = [await listen(a), await listen(b)];
    const onA = await SseClient.open(baseA, '/api/v1/events/stream', { authorization: `Bearer ${keyA}` });
    const onB = await SseClient.open(baseB, '/api/v1/events/stream', { authorization: `Bearer ${keyB}` });
    try {
      const committed = Date.now();
      await record(a, org, [messageCreated('everywhere')]);
      const [[fromA], [fromB]] = await Promise.all([onA.nextEvents(1, 5000), onB.nextEvents(1, 5000)]);
      expect([dataId(fromA), dataId(fromB)]).toEqual(['everywhere', 'everywhere']);
      expect(fromA.data).toBe(fromB.data);
      process.stdout.write(`stream latency after commit: ${fromA.at - committed} ms on the writing replica, ${fromB.at - committed} ms on the other\n`);
    } finally {
      onA.close();
      onB.close();
    }
  });
});

describe('event stream capacity', () => {
  let t: TestApp;
  let closed = false;

  beforeAll(async () => {
    t = await startStreamApp({}, { DATABASE_POOL_SIZE: '3' });
  });
  afterAll(async () => {
    if (!closed) await t?.close();
  });

  it('serves 100 open streams from a pool of 3 connections, and ends them all when the app stops', async () => {
    const org = uniqueOrg('sse-many');
    const base = await listen(t);
    const keys = await Promise.all(Array.from({ length: 10 }, () => createKey(t, org, ['read'])));
    const clients = await Promise.all(
      keys.flatMap((key) => Array.from({ length: 10 }, () => SseClient.open(base, '/api/v1/events/stream', { authorization: `Bearer ${key}` }))),
    );
    expect(clients.every((c) => c.status === 200)).toBe(true);
    expect(t.app.get(EventStreamService).openStreams).toBe(100);
    await record(t, org, [messageCreated('to-all')]);
    await Promise.all(clients.map((c) => c.nextEvents(1, 10_000)));
    expect(new Set(clients.map((c) => dataId(c.events[0])))).toEqual(new Set(['to-all']));
    // Closing the app ends every stream rather than waiting for them.
    closed = true;
    await t.close();
    await Promise.all(clients.map((c) => c.whenEnded(5000)));
    expect(clients.every((c) => c.comments.includes('closed: server shutting down'))).toBe(true);
  });
});

describe('event stream at shutdown', () => {
  it('ends open streams and answers long-polls as soon as the graceful shutdown begins', async () => {
    const t = await startStreamApp({});
    try {
      const base = await listen(t);
      const key = await createKey(t, uniqueOrg('sse-shutdown'), ['read']);
      const stream = await SseClient.open(base, '/api/v1/events/stream', { authorization: `Bearer ${key}` });
      const start = (await request(base).get('/api/v1/events').set(...auth(key))).body.nextCursor as string;
      const poll = request(base).get('/api/v1/events').query({ after: start, wait: 30 }).set(...auth(key)).then((r) => r);
      await sleep(200);
      const began = Date.now();
      await drainForShutdown(t.app);
      const drainMs = Date.now() - began;
      await stream.whenEnded(1000);
      expect(stream.comments).toContain('closed: server shutting down');
      expect((await poll).body).toEqual({ data: [], nextCursor: start });
      // Nothing was left for the drain to wait for (it would wait up to 7.5 s).
      expect(drainMs).toBeLessThan(3000);
    } finally {
      await t.close();
    }
  });
});
