import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { EventLogRepository, NewEvent } from '../../src/events/event-log.repository';
import { WebhookMetrics } from '../../src/webhooks/webhook-metrics';
import { WebhookTuning } from '../../src/webhooks/webhook-tuning';
import { auth } from '../support/ingest';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { createKey, startTestApp, TestApp, testDatabaseUrl, uniqueOrg } from '../support/test-app';
import { until } from '../support/until';
import { WebhookReceiver } from '../support/webhook-receiver';

const FAST = { backoffMs: [100], jitter: 0, pollMs: 100, drainMs: 300 };

const chatEvent = (n: number | string): NewEvent => ({
  type: 'chat.created',
  sessionId: null,
  data: { id: `62813000${n}@s.whatsapp.net`, name: `chat ${n}` },
});

/** Records events in the organization's log in one transaction, as every write path does. */
async function record(t: TestApp, orgId: string, events: NewEvent[]): Promise<void> {
  await t.app.get(DataSource).transaction((m) => t.app.get(EventLogRepository).append(m.queryRunner!, orgId, events));
}

/**
 * A database for this file's apps alone: every app on a database delivers its webhooks, and the
 * other test files' apps must not take these deliveries, nor these apps theirs.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('webhook_dispatch', testDatabaseUrl());
});
afterAll(() => db?.drop());

/** The app on this file's database. */
const startApp = (env: Record<string, string>, webhooks: Partial<WebhookTuning> = FAST): Promise<TestApp> =>
  startTestApp({ DATABASE_URL: db.url, ...env }, [], undefined, { webhooks });

async function delivered(t: TestApp): Promise<number> {
  const { values } = await t.app.get(WebhookMetrics).deliveries.get();
  return values.find((v) => v.labels.outcome === 'delivered')?.value ?? 0;
}

describe('webhook URLs that point inside the network (WEBHOOK_ALLOW_PRIVATE_URLS unset)', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let key: string;
  let org: string;

  beforeAll(async () => {
    t = await startApp({});
    receiver = await new WebhookReceiver().start();
    org = uniqueOrg('ssrf');
    key = await createKey(t, org);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  const port = () => new URL(receiver.url).port;

  it('refuses, at creation and on change, a host that is or resolves to a non-public address', async () => {
    const refused = [
      `http://127.0.0.1:${port()}/hook`,
      'http://10.0.0.1/hook',
      'https://172.16.0.5/hook',
      'http://192.168.1.1/',
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${port()}/hook`,
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      'http://0.0.0.0/',
      'http://100.64.0.1/',
      'http://224.0.0.1/',
      'http://2130706433/',
      'http://0x7f.1/',
      `http://localhost:${port()}/hook`,
      'http://no-such-host.invalid/hook',
    ];
    for (const url of refused) {
      const res = await request(t.http).post('/api/v1/webhooks').set(...auth(key)).send({ url, events: ['*'] });
      expect([url, res.status, Object.keys(res.body.error?.details?.fields ?? {})]).toEqual([url, 422, ['url']]);
    }
    // A public address is accepted (and never called here: nothing is recorded for this organization).
    const created = await request(t.http).post('/api/v1/webhooks').set(...auth(key)).send({ url: 'https://93.184.215.14/hook', events: ['*'] });
    expect(created.status).toBe(201);
    for (const url of refused.slice(0, 4)) {
      const res = await request(t.http).patch(`/api/v1/webhooks/${created.body.id}`).set(...auth(key)).send({ url });
      expect([url, res.status]).toEqual([url, 422]);
    }
    const [{ count }] = await t.app.get(DataSource).query('SELECT count(*)::int AS count FROM webhooks WHERE org_id = $1', [org]);
    expect(count).toBe(1);
    await request(t.http).delete(`/api/v1/webhooks/${created.body.id}`).set(...auth(key));
  });

  it('checks again at every delivery the address it connects to: a name or address that turned private is never called', async () => {
    const ownOrg = uniqueOrg('ssrf-dns');
    const ownKey = await createKey(t, ownOrg);
    const created = await request(t.http).post('/api/v1/webhooks').set(...auth(ownKey)).send({ url: 'https://93.184.215.14/hook', events: ['*'] });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // What the URL points to changed after creation (DNS, or a record edited by hand).
    for (const url of [`http://127.0.0.1:${port()}/hook`, `http://localhost:${port()}/hook`, `http://[::ffff:127.0.0.1]:${port()}/hook`]) {
      await t.app.get(DataSource).query('UPDATE webhooks SET url = $2 WHERE id = $1', [id, url]);
      await record(t, ownOrg, [chatEvent(url.length)]);
      const attempt = await until(async () => {
        const res = await request(t.http).get(`/api/v1/webhooks/${id}/deliveries?limit=1`).set(...auth(ownKey));
        const [latest] = res.body.data;
        return latest?.attempts >= 1 && latest.lastError ? latest : undefined;
      });
      expect([url, attempt.status, attempt.lastStatusCode, attempt.lastError]).toEqual([url, 'pending', null, expect.stringContaining('is not public')]);
      const test = await request(t.http).post(`/api/v1/webhooks/${id}/test`).set(...auth(ownKey));
      expect([url, test.body.statusCode, test.body.error]).toEqual([url, null, expect.stringContaining('is not public')]);
    }
    expect(receiver.received).toEqual([]);
  });
});

describe('one receiver\'s slowness', () => {
  let slow: WebhookReceiver;
  let fast: WebhookReceiver;

  beforeAll(async () => {
    slow = await new WebhookReceiver().start();
    fast = await new WebhookReceiver().start();
    slow.answer = () => 'hang';
  });
  afterAll(async () => {
    await slow.stop();
    await fast.stop();
  });

  it('holds only its own webhook\'s slots, never another\'s deliveries; shutdown leaves its attempts due again', async () => {
    const t = await startApp({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_CONCURRENCY: '4', WEBHOOK_TIMEOUT_MS: '60000' });
    const dataSource = t.app.get(DataSource);
    const org = uniqueOrg('isolation');
    const key = await createKey(t, org);
    const create = async (url: string) =>
      (await request(t.http).post('/api/v1/webhooks').set(...auth(key)).send({ url, events: ['*'] })).body.id as string;
    const slowHook = await create(slow.url);
    const fastHook = await create(fast.url);

    await record(t, org, Array.from({ length: 30 }, (_, i) => chatEvent(i)));
    await fast.waitFor(30);
    // The slow receiver holds its webhook's 4 slots (WEBHOOK_CONCURRENCY) and no more.
    await slow.waitFor(4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slow.received).toHaveLength(4);
    const [{ n: fastDelivered }] = await dataSource.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'delivered'`,
      [fastHook],
    );
    expect(fastDelivered).toBe(30);
    // The API answers meanwhile.
    expect((await request(t.http).get(`/api/v1/webhooks/${fastHook}`).set(...auth(key))).status).toBe(200);

    const closing = Date.now();
    await t.close();
    // Shutdown waited for the hanging attempts only as long as its drain, not their 60 s timeout.
    expect(Date.now() - closing).toBeLessThan(10_000);
    // The app's pool is closed with it: read with a connection of our own.
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client
      .query(`SELECT status, attempts, claimed_until, next_attempt_at <= now() AS due FROM webhook_deliveries WHERE webhook_id = $1`, [slowHook])
      .finally(() => client.end());
    expect(rows).toHaveLength(30);
    const attempted = rows.filter((r: { attempts: number }) => r.attempts === 1);
    expect(attempted).toHaveLength(4);
    for (const row of rows) expect(row).toMatchObject({ status: 'pending', claimed_until: null, due: true });
  });
});

describe('order', () => {
  it('attempts one webhook\'s deliveries in event order', async () => {
    const receiver = await new WebhookReceiver().start();
    // One in flight at a time, so that the order of attempts is the order of arrival.
    const t = await startApp({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_CONCURRENCY: '1' });
    try {
      const org = uniqueOrg('order');
      const key = await createKey(t, org);
      expect((await request(t.http).post('/api/v1/webhooks').set(...auth(key)).send({ url: receiver.url, events: ['*'] })).status).toBe(201);
      for (let batch = 0; batch < 4; batch++) await record(t, org, Array.from({ length: 10 }, (_, i) => chatEvent(`o${batch}-${i}`)));
      await receiver.waitFor(40);
      const logged = await t.app.get(DataSource).query('SELECT id FROM events WHERE org_id = $1 ORDER BY xid, seq', [org]);
      expect(receiver.received.map((r) => r.event.id)).toEqual(logged.map((e: { id: string }) => e.id));
    } finally {
      await t.close();
      await receiver.stop();
    }
  });
});

describe('two replicas on one database', () => {
  let a: TestApp;
  let b: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    const env = { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' };
    a = await startApp(env);
    b = await startApp(env);
    receiver = await new WebhookReceiver().start();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await receiver?.stop();
  });

  it('deliver a backlog together, each event once', async () => {
    // A receiver that takes a moment, so that both replicas have attempts in flight at once.
    receiver.answer = () => new Promise((resolve) => setTimeout(() => resolve(204), 5));
    const org = uniqueOrg('replicas');
    const key = await createKey(a, org);
    const hook = await request(a.http).post('/api/v1/webhooks').set(...auth(key)).send({ url: receiver.url, events: ['*'] });
    expect(hook.status).toBe(201);
    const before = [await delivered(a), await delivered(b)];
    for (let batch = 0; batch < 3; batch++) {
      await record(batch === 1 ? b : a, org, Array.from({ length: 100 }, (_, i) => chatEvent(`${batch}-${i}`)));
    }
    await receiver.waitFor(300, 30_000);
    await until(async () => {
      const [{ n }] = await a.app.get(DataSource).query(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'delivered'`,
        [hook.body.id],
      );
      return n === 300 ? true : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ids = receiver.received.map((r) => r.event.id);
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
    const byReplica = [(await delivered(a)) - before[0], (await delivered(b)) - before[1]];
    expect(byReplica[0] + byReplica[1]).toBe(300);
    expect(byReplica[0]).toBeGreaterThan(0);
    expect(byReplica[1]).toBeGreaterThan(0);
  });
});

describe('signing secrets at rest', () => {
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
  });
  afterAll(() => receiver.stop());

  it('are sealed with SESSION_ENCRYPTION_KEY: under another key deliveries fail until the secret is rotated', async () => {
    const env = (key: number) => ({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', SESSION_ENCRYPTION_KEY: Buffer.alloc(32, key).toString('base64') });
    const org = uniqueOrg('sealed');
    const first = await startApp(env(1));
    const apiKey = await createKey(first, org);
    const created = await request(first.http).post('/api/v1/webhooks').set(...auth(apiKey)).send({ url: receiver.url, events: ['*'] });
    const [{ secret: sealed }] = await first.app.get(DataSource).query('SELECT secret FROM webhooks WHERE id = $1', [created.body.id]);
    expect(sealed).not.toContain(created.body.secret.slice(6));
    await first.close();

    const second = await startApp(env(2));
    try {
      await record(second, org, [chatEvent('sealed-1')]);
      const failed = await until(async () => {
        const res = await request(second.http).get(`/api/v1/webhooks/${created.body.id}/deliveries`).set(...auth(apiKey));
        return res.body.data[0]?.lastError ? res.body.data[0] : undefined;
      });
      expect(failed).toMatchObject({ status: 'pending', lastError: 'the signing secret cannot be read', lastStatusCode: null });
      expect(receiver.received).toEqual([]);

      const rotated = await request(second.http).post(`/api/v1/webhooks/${created.body.id}/rotate-secret`).set(...auth(apiKey));
      await receiver.waitFor(1, 15_000);
      const [got] = receiver.received;
      expect(got.signed['webhook-signature'].split(' ')).toHaveLength(1);
      expect(new Webhook(rotated.body.secret).verify(got.body, got.signed)).toMatchObject({ type: 'chat.created' });
    } finally {
      await second.close();
    }
  });
});
