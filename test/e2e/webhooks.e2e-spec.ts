import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ulid } from 'ulid';
import { EventLogRepository, NewEvent } from '../../src/events/event-log.repository';
import { auth, createSession, directJid, ingest, messageEvent } from '../support/ingest';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { createKey, startTestApp, TestApp, testDatabaseUrl, uniqueOrg } from '../support/test-app';
import { until } from '../support/until';
import { WebhookReceiver } from '../support/webhook-receiver';

/** A fast schedule: the real one waits 5 s, 30 s, … */
const FAST = { backoffMs: [150, 300], jitter: 0, pollMs: 100, drainMs: 500 };
const METRICS_TOKEN = 'webhook-metrics';

describe('webhooks', () => {
  let db: TestDatabase;
  let t: TestApp;
  let dataSource: DataSource;
  let receiver: WebhookReceiver;
  let org: string;
  let key: string;

  beforeAll(async () => {
    // A database of its own: every app on a database delivers its webhooks, and the other test
    // files' apps (which refuse private receivers) must not take these deliveries, nor these apps theirs.
    db = await createTestDatabase('webhooks', testDatabaseUrl());
    t = await startTestApp({ DATABASE_URL: db.url, WEBHOOK_ALLOW_PRIVATE_URLS: 'true', METRICS_TOKEN }, [], undefined, { webhooks: FAST });
    dataSource = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });
  // A receiver per test, so that what one test left pending never reaches the next.
  beforeEach(async () => {
    org = uniqueOrg('hooks');
    key = await createKey(t, org);
    receiver = await new WebhookReceiver().start();
  });
  afterEach(() => receiver.stop());

  const api = () => request(t.http);
  const createWebhook = async (body: Record<string, unknown>, as = key) => {
    const res = await api().post('/api/v1/webhooks').set(...auth(as)).send({ url: receiver.url, events: ['*'], ...body });
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string } & Record<string, unknown>;
  };

  /** Records events in the organization's log as every write path does: in a transaction of its own. */
  async function record(orgId: string, events: NewEvent[], history = false): Promise<void> {
    await dataSource.transaction((m) => t.app.get(EventLogRepository).append(m.queryRunner!, orgId, events, history));
  }

  const chatEvent = (sessionId: string | null, n: number | string): NewEvent => ({
    type: 'chat.created',
    sessionId,
    data: { id: `62812000${n}@s.whatsapp.net`, name: `chat ${n}` },
  });

  const deliveries = async (webhookId: string, query = '') => {
    const res = await api().get(`/api/v1/webhooks/${webhookId}/deliveries${query}`).set(...auth(key));
    expect(res.status).toBe(200);
    return res.body as { data: Record<string, unknown>[]; nextCursor: string | null };
  };

  describe('the resource', () => {
    it('creates a webhook with a Standard Webhooks secret shown once, and reads, lists, changes and deletes it', async () => {
      const created = await createWebhook({ description: 'CRM sync', events: ['message.created', 'chat.updated'] });
      expect(created).toEqual({
        id: expect.stringMatching(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/),
        url: receiver.url,
        description: 'CRM sync',
        events: ['message.created', 'chat.updated'],
        sessionIds: [],
        includeHistory: false,
        enabled: true,
        disabledReason: null,
        createdAt: expect.any(Number),
        updatedAt: created.createdAt,
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      });
      expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(32);
      const { secret, ...view } = created;

      const got = await api().get(`/api/v1/webhooks/${created.id}`).set(...auth(key));
      expect(got.status).toBe(200);
      expect(got.body).toEqual(view);
      const listed = await api().get('/api/v1/webhooks').set(...auth(key));
      expect(listed.body).toEqual({ data: [view], nextCursor: null });
      for (const res of [got, listed]) expect(res.text).not.toContain(secret.slice(6));
      // Stored sealed, not in clear.
      const [row] = await dataSource.query('SELECT secret FROM webhooks WHERE id = $1', [created.id]);
      expect(row.secret).not.toContain(secret.slice(6));

      const unchanged = await api().patch(`/api/v1/webhooks/${created.id}`).set(...auth(key)).send({});
      expect(unchanged.body).toEqual(view);
      const patched = await api()
        .patch(`/api/v1/webhooks/${created.id}`)
        .set(...auth(key))
        .send({ description: null, events: ['*'], includeHistory: true, enabled: false });
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual({
        ...view,
        description: null,
        events: ['*'],
        includeHistory: true,
        enabled: false,
        disabledReason: 'disabled through the API',
        updatedAt: expect.any(Number),
      });
      expect(patched.body.updatedAt).toBeGreaterThanOrEqual(view.createdAt as number);
      const enabled = await api().patch(`/api/v1/webhooks/${created.id}`).set(...auth(key)).send({ enabled: true });
      expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null });

      expect((await api().delete(`/api/v1/webhooks/${created.id}`).set(...auth(key))).status).toBe(204);
      const gone = await api().get(`/api/v1/webhooks/${created.id}`).set(...auth(key));
      expect(gone.status).toBe(404);
      expect(gone.body).toEqual({ error: { code: 'not_found', message: 'webhook not found', details: {} } });
      expect((await api().delete(`/api/v1/webhooks/${created.id}`).set(...auth(key))).status).toBe(404);
    });

    it('refuses malformed bodies with 422, naming the field, and stores nothing', async () => {
      const otherOrg = uniqueOrg('hooks-other');
      const otherSession = await createSession(t, await createKey(t, otherOrg));
      const own = await createSession(t, key);
      const bad: [Record<string, unknown>, string][] = [
        [{ url: 'ftp://example.com/x' }, 'url'],
        [{ url: 'https://user:pass@example.com/x' }, 'url'],
        [{ url: `https://example.com/${'a'.repeat(2040)}` }, 'url'],
        [{ url: 'not a url' }, 'url'],
        [{ url: '/relative' }, 'url'],
        [{ url: 'https://exa\u0000mple.com' }, 'url'],
        [{ url: ' https://example.com' }, 'url'],
        [{ url: 42 }, 'url'],
        [{ events: [] }, 'events'],
        [{ events: ['message.created', 'message.created'] }, 'events'],
        [{ events: ['nope'] }, 'events'],
        [{ events: ['*', 'message.created'] }, 'events'],
        [{ events: 'message.created' }, 'events'],
        [{ events: ['webhook.test'] }, 'events'],
        [{ sessionIds: [otherSession] }, 'sessionIds'],
        [{ sessionIds: [ulid()] }, 'sessionIds'],
        [{ sessionIds: [own, own] }, 'sessionIds'],
        [{ sessionIds: ['not-a-session'] }, 'sessionIds'],
        [{ description: 'x\u0000y' }, 'description'],
        [{ description: '\ud800' }, 'description'],
        [{ description: 'x'.repeat(501) }, 'description'],
        [{ includeHistory: 'true' }, 'includeHistory'],
        [{ secret: 'whsec_mine' }, 'secret'],
      ];
      for (const [body, field] of bad) {
        const res = await api().post('/api/v1/webhooks').set(...auth(key)).send({ url: receiver.url, events: ['*'], ...body });
        expect([JSON.stringify(body).slice(0, 80), res.status, res.body.error?.code]).toEqual([
          JSON.stringify(body).slice(0, 80),
          422,
          'validation_error',
        ]);
        expect(Object.keys(res.body.error.details.fields)).toContain(field);
      }
      const missing = await api().post('/api/v1/webhooks').set(...auth(key)).send({ url: receiver.url });
      expect(missing.status).toBe(422);
      const [{ count }] = await dataSource.query('SELECT count(*)::int AS count FROM webhooks WHERE org_id = $1', [org]);
      expect(count).toBe(0);

      const hook = await createWebhook({ sessionIds: [own], description: '😀︎ '.repeat(100).slice(0, 300) });
      expect(hook.sessionIds).toEqual([own]);
      for (const body of [{ url: 'gopher://x' }, { enabled: null }, { sessionIds: [otherSession] }, { events: [] }, { id: ulid() }]) {
        const res = await api().patch(`/api/v1/webhooks/${hook.id}`).set(...auth(key)).send(body);
        expect([body, res.status]).toEqual([body, 422]);
      }
    });

    it('keeps at most 20 webhooks per organization: the 21st is a 409', async () => {
      const made = await Promise.all(Array.from({ length: 20 }, (_, i) => createWebhook({ description: `hook ${i}` })));
      expect(new Set(made.map((w) => w.id)).size).toBe(20);
      const res = await api().post('/api/v1/webhooks').set(...auth(key)).send({ url: receiver.url, events: ['*'] });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'conflict', details: { limit: 20 } });
      // Pages of the 20, newest first, none repeated.
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: request.Response = await api()
          .get('/api/v1/webhooks')
          .query({ limit: 7, ...(cursor ? { cursor } : {}) })
          .set(...auth(key));
        expect(page.status).toBe(200);
        ids.push(...page.body.data.map((w: { id: string }) => w.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
      const sorted = [...made].sort((a, b) => (b.createdAt as number) - (a.createdAt as number) || (b.id < a.id ? -1 : 1));
      expect(ids).toEqual(sorted.map((w) => w.id));
      expect((await api().get('/api/v1/webhooks').query({ cursor: 'bogus' }).set(...auth(key))).status).toBe(422);
    });

    it('answers another organization\'s webhook and delivery 404, as for ones that never existed', async () => {
      const hook = await createWebhook({});
      await record(org, [chatEvent(null, 1)]);
      const [delivery] = (await until(async () => ((await deliveries(hook.id)).data.length > 0 ? (await deliveries(hook.id)).data : undefined))) as {
        id: string;
      }[];
      const intruder = await createKey(t, uniqueOrg('intruder'));
      const paths: [string, string][] = [
        ['get', `/api/v1/webhooks/${hook.id}`],
        ['patch', `/api/v1/webhooks/${hook.id}`],
        ['delete', `/api/v1/webhooks/${hook.id}`],
        ['post', `/api/v1/webhooks/${hook.id}/rotate-secret`],
        ['post', `/api/v1/webhooks/${hook.id}/test`],
        ['get', `/api/v1/webhooks/${hook.id}/deliveries`],
        ['post', `/api/v1/webhooks/${hook.id}/deliveries/${delivery.id}/retry`],
      ];
      for (const [method, path] of paths) {
        const crossing = await (api() as unknown as Record<string, (p: string) => request.Test>)[method](path).set(...auth(intruder)).send({});
        const never = await (api() as unknown as Record<string, (p: string) => request.Test>)[method](path.replace(hook.id, ulid()))
          .set(...auth(intruder))
          .send({});
        expect([path, crossing.status, crossing.text]).toEqual([path, 404, never.text]);
        expect(crossing.body.error.message).toBe('webhook not found');
      }
      for (const id of ['nope', hook.id.toLowerCase(), `${hook.id}X`]) {
        expect((await api().get(`/api/v1/webhooks/${id}`).set(...auth(key))).body.error.message).toBe('webhook not found');
      }
      for (const did of ['dlv_0', 'dlv_x', '42', 'dlv_99999999999999999999', 'dlv_999999999999']) {
        const res = await api().post(`/api/v1/webhooks/${hook.id}/deliveries/${did}/retry`).set(...auth(key));
        expect([did, res.status, res.body.error.message]).toEqual([did, 404, 'delivery not found']);
      }
      const another = await createWebhook({});
      const res = await api().post(`/api/v1/webhooks/${another.id}/deliveries/${delivery.id}/retry`).set(...auth(key));
      expect(res.body.error.message).toBe('delivery not found');
      const [{ count }] = await dataSource.query('SELECT count(*)::int AS count FROM webhooks WHERE org_id = $1', [org]);
      expect(count).toBe(2);
    });
  });

  describe('delivery', () => {
    it('POSTs each event with the feed\'s exact bytes, signed so that standardwebhooks verifies it', async () => {
      const hook = await createWebhook({});
      await record(org, [chatEvent(null, 'sig'), { type: 'message.created', sessionId: null, data: { text: 'ünïcödé 😀 "quoted"' } }]);
      await receiver.waitFor(2);
      const stored = await dataSource.query('SELECT id, payload FROM events WHERE org_id = $1 ORDER BY xid, seq', [org]);
      expect(receiver.received.map((r) => r.body)).toEqual(stored.map((e: { payload: string }) => e.payload));
      const verifier = new Webhook(hook.secret);
      for (const [i, got] of receiver.received.entries()) {
        expect(got.headers).toMatchObject({
          'content-type': 'application/json',
          'user-agent': 'whatsapp-gateway/0.1.0',
          'webhook-id': stored[i].id,
          'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
          'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
        });
        expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
        expect(verifier.verify(got.body, got.signed)).toEqual(JSON.parse(stored[i].payload));
        // A tampered body or another secret does not verify.
        expect(() => verifier.verify(`${got.body.slice(0, -1)} }`, got.signed)).toThrow();
        expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(got.body, got.signed)).toThrow();
      }
      const log = await until(async () => {
        const page = await deliveries(hook.id);
        return page.data.every((d) => d.status === 'delivered') ? page : undefined;
      });
      expect(log.data).toEqual(
        [...stored].reverse().map((e: { id: string; payload: string }) => ({
          id: expect.stringMatching(/^dlv_\d+$/),
          eventId: e.id,
          eventType: JSON.parse(e.payload).type,
          status: 'delivered',
          attempts: 1,
          lastAttemptAt: expect.any(Number),
          nextAttemptAt: null,
          lastStatusCode: 204,
          lastError: null,
          deliveredAt: expect.any(Number),
        })),
      );
      const metrics = await api().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
      expect(metrics.text).toMatch(/gateway_webhook_deliveries_total\{outcome="delivered"\} [1-9]/);
      expect(metrics.text).toMatch(/gateway_event_delivery_seconds_count [1-9]/);
      expect(metrics.text).toMatch(/gateway_webhook_pending \d+/);
    });

    it('delivers a message pushed through POST /sessions/{sid}/events as the API serves it, and nothing for a replay', async () => {
      const sid = await createSession(t, key);
      const hook = await createWebhook({ events: ['chat.created', 'message.created'], sessionIds: [sid] });
      const chatId = directJid(7);
      const batch = [messageEvent(chatId, '3EB0WEBHOOK1', 1_732_400_000_000, { text: 'halo dari webhook' })];
      await ingest(t, key, sid, batch);
      await receiver.waitFor(2);
      const byType = Object.fromEntries(receiver.received.map((r) => [r.event.type, r]));
      const message = await api().get(`/api/v1/sessions/${sid}/chats/${chatId}/messages/3EB0WEBHOOK1`).set(...auth(key));
      const chat = await api().get(`/api/v1/sessions/${sid}/chats/${chatId}`).set(...auth(key));
      expect(new Webhook(hook.secret).verify(byType['message.created'].body, byType['message.created'].signed)).toEqual({
        id: expect.stringMatching(/^evt_/),
        type: 'message.created',
        createdAt: expect.any(Number),
        sessionId: sid,
        history: false,
        data: message.body,
      });
      expect(byType['chat.created'].event).toMatchObject({ sessionId: sid, data: chat.body });
      await ingest(t, key, sid, batch);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(receiver.received).toHaveLength(2);
    });

    it('signs with both secrets for a day after a rotation, and both verify', async () => {
      const hook = await createWebhook({});
      const rotated = await api().post(`/api/v1/webhooks/${hook.id}/rotate-secret`).set(...auth(key));
      expect(rotated.status).toBe(200);
      expect(rotated.body).toEqual({ secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) });
      expect(rotated.body.secret).not.toBe(hook.secret);
      await record(org, [chatEvent(null, 'rot')]);
      await receiver.waitFor(1);
      const [got] = receiver.received;
      const signatures = String(got.headers['webhook-signature']).split(' ');
      expect(signatures).toHaveLength(2);
      for (const secret of [rotated.body.secret, hook.secret]) {
        expect(new Webhook(secret).verify(got.body, got.signed)).toMatchObject({ type: 'chat.created' });
      }
      // Each signature on its own is the one of its secret (new first).
      for (const [i, secret] of [rotated.body.secret, hook.secret].entries()) {
        const alone = { ...got.signed, 'webhook-signature': signatures[i] };
        expect(() => new Webhook(secret).verify(got.body, alone)).not.toThrow();
      }
      // Once the day is over, only the new secret signs.
      await dataSource.query(`UPDATE webhooks SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`, [hook.id]);
      await record(org, [chatEvent(null, 'rot2')]);
      await receiver.waitFor(2);
      const later = receiver.received[1];
      expect(String(later.headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(() => new Webhook(rotated.body.secret).verify(later.body, later.signed)).not.toThrow();
      expect(() => new Webhook(hook.secret).verify(later.body, later.signed)).toThrow();
    });

    it('sends a signed webhook.test event on demand, records nothing, and reports the answer', async () => {
      const hook = await createWebhook({});
      const res = await api().post(`/api/v1/webhooks/${hook.id}/test`).set(...auth(key));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ statusCode: 204, durationMs: expect.any(Number), error: null });
      expect(receiver.received).toHaveLength(1);
      const event = new Webhook(hook.secret).verify(receiver.received[0].body, receiver.received[0].signed);
      expect(event).toEqual({
        id: expect.stringMatching(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/),
        type: 'webhook.test',
        createdAt: expect.any(Number),
        sessionId: null,
        history: false,
        data: { webhookId: hook.id },
      });
      expect(await dataSource.query('SELECT 1 FROM events WHERE org_id = $1', [org])).toEqual([]);
      expect((await deliveries(hook.id)).data).toEqual([]);

      receiver.answer = () => 503;
      const failing = await api().post(`/api/v1/webhooks/${hook.id}/test`).set(...auth(key));
      expect(failing.body).toEqual({ statusCode: 503, durationMs: expect.any(Number), error: 'receiver answered 503' });
      const sent = receiver.received.length;
      receiver.answer = () => ({ status: 307, headers: { location: `${receiver.url}/elsewhere` } });
      const redirect = await api().post(`/api/v1/webhooks/${hook.id}/test`).set(...auth(key));
      expect(redirect.body).toMatchObject({ statusCode: 307, error: 'receiver answered 307; redirects are not followed' });
      expect(receiver.received).toHaveLength(sent + 1);
      const closed = new WebhookReceiver();
      await closed.start();
      const closedUrl = closed.url;
      await closed.stop();
      await api().patch(`/api/v1/webhooks/${hook.id}`).set(...auth(key)).send({ url: closedUrl });
      const refused = await api().post(`/api/v1/webhooks/${hook.id}/test`).set(...auth(key));
      expect(refused.body).toEqual({ statusCode: null, durationMs: expect.any(Number), error: expect.stringContaining('ECONNREFUSED') });
    });

    it('delivers only what a webhook subscribed to: event types, sessions, history', async () => {
      const [s1, s2] = [await createSession(t, key, 'one'), await createSession(t, key, 'two')];
      const byType = await createWebhook({ events: ['message.created'] });
      const bySession = await createWebhook({ sessionIds: [s1] });
      const withHistory = await createWebhook({ includeHistory: true });
      const all = await createWebhook({});
      const disabled = await createWebhook({});
      await api().patch(`/api/v1/webhooks/${disabled.id}`).set(...auth(key)).send({ enabled: false });
      receiver.received.length = 0;
      await record(org, [
        chatEvent(s1, 'f1'),
        { type: 'message.created', sessionId: s2, data: { id: 'M1' } },
        chatEvent(s2, 'f2'),
      ]);
      await record(org, [{ type: 'message.created', sessionId: s1, data: { id: 'H1' } }], true);
      // Another organization's events reach none of them.
      await record(uniqueOrg('elsewhere'), [chatEvent(null, 'x')]);
      // byType 1, bySession 1, withHistory 4, all 3.
      await receiver.waitFor(9);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.received).toHaveLength(9);
      const seen = async (webhookId: string) =>
        (await deliveries(webhookId)).data.map((d) => d.eventType as string).reverse();
      expect(await seen(byType.id)).toEqual(['message.created']);
      expect(await seen(bySession.id)).toEqual(['chat.created']);
      expect(await seen(withHistory.id)).toEqual(['chat.created', 'message.created', 'chat.created', 'message.created']);
      expect(await seen(all.id)).toEqual(['chat.created', 'message.created', 'chat.created']);
      expect(await seen(disabled.id)).toEqual([]);
      const history = receiver.received.filter((r) => r.event.history);
      expect(history.map((r) => r.event.data)).toEqual([{ id: 'H1' }]);
    });
  });

  describe('failures', () => {
    it('retries with backoff until the receiver answers 2xx, and logs every attempt', async () => {
      const hook = await createWebhook({});
      receiver.answer = (_req, i) => (i < 2 ? 500 : 200);
      await record(org, [chatEvent(null, 'retry')]);
      const first = await until(async () => {
        const [d] = (await deliveries(hook.id)).data;
        return d?.attempts === 1 && d.status === 'pending' && d.lastStatusCode === 500 ? d : undefined;
      });
      expect(first).toMatchObject({ lastError: 'receiver answered 500', deliveredAt: null, nextAttemptAt: expect.any(Number) });
      await receiver.waitFor(3);
      const [done] = await until(async () => {
        const page = await deliveries(hook.id);
        return page.data[0]?.status === 'delivered' ? page.data : undefined;
      });
      expect(done).toMatchObject({ attempts: 3, lastStatusCode: 200, lastError: null });
      const gaps = receiver.received.slice(1).map((r, i) => r.at - receiver.received[i].at);
      // The schedule's pauses (150 ms, then 300 ms), not sooner.
      expect(gaps[0]).toBeGreaterThanOrEqual(140);
      expect(gaps[1]).toBeGreaterThanOrEqual(290);
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
      expect((await deliveries(hook.id, '?status=delivered')).data).toHaveLength(1);
      expect((await deliveries(hook.id, '?status=pending')).data).toHaveLength(0);
      expect((await api().get(`/api/v1/webhooks/${hook.id}/deliveries?status=lost`).set(...auth(key))).status).toBe(422);
    });

    it('pauses a webhook whose receiver fails: one round of attempts per pause, then the whole backlog at once', async () => {
      const hook = await createWebhook({});
      let failing = true;
      receiver.answer = () => (failing ? 503 : 200);
      await record(
        org,
        Array.from({ length: 60 }, (_, i) => chatEvent(null, `pause-${i}`)),
      );
      // Two pauses (150 ms, then 300 ms repeating) pass while the receiver keeps failing.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const attemptsWhileDown = receiver.received.length;
      // Without the pause every one of the 60 deliveries would have been attempted at least once
      // and most twice; with it, each round stops at the webhook's slots in flight.
      expect(attemptsWhileDown).toBeGreaterThan(0);
      expect(attemptsWhileDown).toBeLessThan(60);
      const [{ pausedUntil }] = await dataSource.query<{ pausedUntil: Date | null }[]>(
        'SELECT paused_until AS "pausedUntil" FROM webhooks WHERE org_id = $1 AND id = $2',
        [org, hook.id],
      );
      expect(pausedUntil).not.toBeNull();

      const recoveredAt = receiver.received.length;
      failing = false;
      await until(async () => ((await deliveries(hook.id, '?status=delivered&limit=100')).data.length === 60 ? true : undefined));
      const delivered = new Set(receiver.received.slice(recoveredAt).map((r) => r.signed['webhook-id']));
      expect(delivered.size).toBe(60);
      const [state] = await dataSource.query<{ paused_until: Date | null; failed_rounds: number; failing_since: Date | null }[]>(
        'SELECT paused_until, failed_rounds, failing_since FROM webhooks WHERE org_id = $1 AND id = $2',
        [org, hook.id],
      );
      expect(state).toEqual({ paused_until: null, failed_rounds: 0, failing_since: null });
    });

    it('marks a delivery failed after 24 h of failures, keeps it retryable by hand, and retries it now', async () => {
      const hook = await createWebhook({});
      receiver.answer = () => 500;
      await record(org, [chatEvent(null, 'old')]);
      await receiver.waitFor(1);
      // The delivery has been failing for a day.
      await dataSource.query(`UPDATE webhook_deliveries SET created_at = now() - interval '25 hours' WHERE webhook_id = $1`, [hook.id]);
      const [failed] = await until(async () => {
        const page = await deliveries(hook.id);
        return page.data[0]?.status === 'failed' ? page.data : undefined;
      });
      expect(failed).toMatchObject({ status: 'failed', nextAttemptAt: null, lastStatusCode: 500, lastError: 'receiver answered 500' });
      const attempts = receiver.received.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.received).toHaveLength(attempts);

      receiver.answer = () => 200;
      const retry = await api().post(`/api/v1/webhooks/${hook.id}/deliveries/${failed.id as string}/retry`).set(...auth(key));
      expect(retry.status).toBe(202);
      await receiver.waitFor(attempts + 1);
      const [delivered] = await until(async () => {
        const page = await deliveries(hook.id);
        return page.data[0]?.status === 'delivered' ? page.data : undefined;
      });
      expect(delivered).toMatchObject({ id: failed.id, attempts: (failed.attempts as number) + 1, lastStatusCode: 200 });
      const again = await api().post(`/api/v1/webhooks/${hook.id}/deliveries/${failed.id as string}/retry`).set(...auth(key));
      expect(again.status).toBe(409);
      expect(again.body.error.message).toBe('the delivery was delivered');
      const metrics = await api().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
      expect(metrics.text).toMatch(/gateway_webhook_deliveries_total\{outcome="failed"\} [1-9]/);
      expect(metrics.text).toMatch(/gateway_webhook_deliveries_total\{outcome="retry"\} [1-9]/);
    });

    it('disables a webhook at once when its receiver answers 410, and attempts nothing more until it is enabled', async () => {
      const hook = await createWebhook({});
      receiver.answer = () => 410;
      await record(org, [chatEvent(null, 'gone')]);
      const disabled = await until(async () => {
        const res = await api().get(`/api/v1/webhooks/${hook.id}`).set(...auth(key));
        return res.body.enabled === false ? res.body : undefined;
      });
      expect(disabled).toMatchObject({ enabled: false, disabledReason: 'the receiver answered 410 Gone' });
      expect((await deliveries(hook.id)).data).toEqual([expect.objectContaining({ status: 'failed', lastStatusCode: 410, attempts: 1 })]);
      await record(org, [chatEvent(null, 'after')]);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(receiver.received).toHaveLength(1);
      const [failed] = (await deliveries(hook.id)).data;
      const refused = await api().post(`/api/v1/webhooks/${hook.id}/deliveries/${failed.id as string}/retry`).set(...auth(key));
      expect(refused.status).toBe(409);

      receiver.answer = () => 204;
      await api().patch(`/api/v1/webhooks/${hook.id}`).set(...auth(key)).send({ enabled: true });
      expect((await api().post(`/api/v1/webhooks/${hook.id}/deliveries/${failed.id as string}/retry`).set(...auth(key))).status).toBe(202);
      await receiver.waitFor(2);
      await record(org, [chatEvent(null, 'back')]);
      await receiver.waitFor(3);
      expect(receiver.received.map((r) => (r.event.data as { name: string }).name)).toEqual(['chat gone', 'chat gone', 'chat back']);
    });

    it('disables a webhook whose every attempt failed for 24 h, and keeps its pending deliveries for when it is enabled', async () => {
      const hook = await createWebhook({});
      receiver.answer = () => 500;
      await record(org, [chatEvent(null, 'a')]);
      const since = await until(async () => {
        const [row] = await dataSource.query('SELECT failing_since FROM webhooks WHERE id = $1', [hook.id]);
        return row.failing_since ?? undefined;
      });
      expect(since).toBeInstanceOf(Date);
      await dataSource.query(`UPDATE webhooks SET failing_since = now() - interval '24 hours 1 minute' WHERE id = $1`, [hook.id]);
      const disabled = await until(async () => {
        const res = await api().get(`/api/v1/webhooks/${hook.id}`).set(...auth(key));
        return res.body.enabled === false ? res.body : undefined;
      });
      expect(disabled.disabledReason).toBe('every delivery attempt failed for 24 hours');
      const [pending] = (await deliveries(hook.id)).data;
      expect(pending.status).toBe('pending');
      const attempts = receiver.received.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.received).toHaveLength(attempts);

      receiver.answer = () => 200;
      await api().patch(`/api/v1/webhooks/${hook.id}`).set(...auth(key)).send({ enabled: true });
      await until(async () => ((await deliveries(hook.id)).data[0].status === 'delivered' ? true : undefined));
      const [{ failing_since: cleared }] = await dataSource.query('SELECT failing_since FROM webhooks WHERE id = $1', [hook.id]);
      expect(cleared).toBeNull();
    });

    it('drops a deleted webhook\'s pending deliveries', async () => {
      const hook = await createWebhook({});
      receiver.answer = () => 500;
      await record(org, [chatEvent(null, 'del')]);
      await receiver.waitFor(1);
      expect((await api().delete(`/api/v1/webhooks/${hook.id}`).set(...auth(key))).status).toBe(204);
      expect(await dataSource.query('SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1', [hook.id])).toEqual([]);
      const attempts = receiver.received.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.received).toHaveLength(attempts);
    });

    it('deletes a webhook while an attempt of it is being recorded, without a deadlock', async () => {
      const hook = await createWebhook({});
      receiver.answer = () => 500;
      await record(org, [chatEvent(null, 'lock')]);
      await receiver.waitFor(1);
      // Holds the locks as recording an attempt takes them: the delivery first, then the webhook.
      const recorder = dataSource.createQueryRunner();
      await recorder.connect();
      try {
        await recorder.startTransaction();
        await recorder.query('UPDATE webhook_deliveries SET last_error = last_error WHERE org_id = $1 AND webhook_id = $2', [org, hook.id]);
        const deleting = api().delete(`/api/v1/webhooks/${hook.id}`).set(...auth(key)).then((res) => res.status);
        await until(async () => {
          const waiting = await dataSource.query(
            `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM webhook%'`,
          );
          return waiting.length > 0 ? true : undefined;
        });
        await recorder.query('UPDATE webhooks SET failed_rounds = failed_rounds WHERE org_id = $1 AND id = $2', [org, hook.id]);
        await recorder.commitTransaction();
        expect(await deleting).toBe(204);
      } finally {
        if (recorder.isTransactionActive) await recorder.rollbackTransaction();
        await recorder.release();
      }
      expect(await dataSource.query('SELECT 1 FROM webhooks WHERE id = $1', [hook.id])).toEqual([]);
      expect(await dataSource.query('SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1', [hook.id])).toEqual([]);
    });
  });

  it('pages a webhook\'s deliveries newest first, none skipped or repeated', async () => {
    const hook = await createWebhook({});
    // Just below a power of ten, so that the page crosses a change in the number of digits.
    await dataSource.query(
      `SELECT setval(pg_get_serial_sequence('webhook_deliveries', 'seq'), (10 ^ ceil(log(last_value + 10)))::bigint - 3)
         FROM webhook_deliveries_seq_seq`,
    );
    await record(org, Array.from({ length: 7 }, (_, i) => chatEvent(null, `p${i}`)));
    await receiver.waitFor(7);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await deliveries(hook.id, `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      ids.push(...page.data.map((d) => d.eventId as string));
      cursor = page.nextCursor;
    } while (cursor);
    const events = await dataSource.query('SELECT id FROM events WHERE org_id = $1 ORDER BY xid DESC, seq DESC', [org]);
    expect(ids).toEqual(events.map((e: { id: string }) => e.id));
  });
});
