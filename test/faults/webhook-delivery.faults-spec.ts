import { Webhook } from 'standardwebhooks';
import { createSession, GatewayFixture, messageBatch, startGatewayFixture } from '../support/gateway-fixture';
import { WebhookReceiver } from '../support/webhook-receiver';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const METRICS_TOKEN = 'faults-metrics';

/**
 * Webhook delivery against the built gateway on its own PostgreSQL (API.md §7, "What must never
 * happen"): crashes, a database outage and misbehaving receivers lose no event, and mark nothing
 * delivered that a receiver did not acknowledge.
 */
describe('webhook delivery under faults', () => {
  let f: GatewayFixture;
  let sid: string;

  beforeAll(async () => {
    f = await startGatewayFixture({ env: { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', METRICS_TOKEN, LOG_LEVEL: 'warn' } });
    sid = await createSession(f);
  });
  afterAll(() => f?.close());

  async function createWebhook(url: string, events: string[] = ['message.created']): Promise<{ id: string; secret: string }> {
    const res = await f.api('POST', '/api/v1/webhooks', { url, events });
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string };
  }

  async function ingest(prefix: string, batches: number, size: number): Promise<void> {
    for (let i = 0; i < batches; i++) {
      const res = await f.api('POST', `/api/v1/sessions/${sid}/events`, messageBatch(`${prefix}${i}`, size, 3, Date.now()));
      expect(res.status).toBe(200);
    }
  }

  /** The ids of the organization's `message.created` events whose message id starts with `prefix`. */
  async function createdEventIds(prefix: string): Promise<string[]> {
    const rows = await f.sql<{ id: string }>(
      `SELECT id FROM events WHERE org_id = $1 AND type = 'message.created' AND payload::jsonb #>> '{data,id}' LIKE $2`,
      [f.orgId, `${prefix}%`],
    );
    return rows.map((r) => r.id.trim());
  }

  async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await sleep(100);
    }
  }

  const verifiedIds = (receiver: WebhookReceiver, secret: string) => {
    const verifier = new Webhook(secret);
    return new Set(receiver.received.map((r) => (verifier.verify(r.body, r.signed) as { id: string }).id));
  };

  it('delivers every event recorded while the receiver was down, after a SIGKILL of the gateway', async () => {
    const receiver = await new WebhookReceiver().start();
    const port = receiver.port;
    const hook = await createWebhook(receiver.url);
    await receiver.stop();

    await ingest('K', 4, 250);
    const ids = await createdEventIds('K');
    expect(ids).toHaveLength(1000);
    // Attempts fail against the closed port; then the process dies with all of them pending.
    await sleep(1000);
    f.gateway.signal('SIGKILL');
    await f.gateway.waitForExit(10_000);
    await f.restartGateway();
    await receiver.start(port);

    await until(() => ids.every((id) => verifiedIds(receiver, hook.secret).has(id)), 90_000, 'every event delivered after the restart').catch(
      async (error: Error) => {
        const state = await f.sql('SELECT status, count(*)::int AS n, min(next_attempt_at) AS next FROM webhook_deliveries WHERE webhook_id = $1 GROUP BY 1', [hook.id]);
        const webhook = await f.sql('SELECT enabled, paused_until, failed_rounds, now() FROM webhooks WHERE id = $1', [hook.id]);
        throw new Error(`${error.message}; received ${receiver.received.length}; deliveries ${JSON.stringify(state)}; webhook ${JSON.stringify(webhook)}`);
      },
    );
    const [{ pending }] = await f.sql<{ pending: number }>(
      `SELECT count(*)::int AS pending FROM webhook_deliveries WHERE webhook_id = $1 AND status <> 'delivered'`,
      [hook.id],
    );
    expect(pending).toBe(0);
    await receiver.stop();
  });

  it('marks delivered only what the receiver acknowledged, through a database outage, and delivers the rest after it', async () => {
    const acknowledged = new Set<string>();
    const receiver = await new WebhookReceiver().start();
    // A slow receiver, so that the outage falls while deliveries are in flight.
    receiver.answer = async (request) => {
      await sleep(20);
      acknowledged.add(request.signed['webhook-id']);
      return 204;
    };
    const hook = await createWebhook(receiver.url);
    await ingest('D', 4, 250);
    const ids = await createdEventIds('D');
    await until(() => receiver.received.length > 50, 30_000, 'deliveries under way');

    await f.pg.stop();
    await sleep(3000);
    await f.pg.start();

    await until(() => ids.every((id) => acknowledged.has(id)), 90_000, 'every event acknowledged after the outage');
    await until(
      async () => {
        const [{ n }] = await f.sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'delivered'`,
          [hook.id],
        );
        return n === ids.length;
      },
      30_000,
      'every delivery recorded as delivered',
    );
    const delivered = await f.sql<{ event_id: string }>(
      `SELECT event_id FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'delivered'`,
      [hook.id],
    );
    expect(delivered.filter((d) => !acknowledged.has(d.event_id.trim()))).toEqual([]);
    await receiver.stop();
  });

  it('keeps a healthy receiver served while others hang, answer 500 or answer 410, and tells each in the log and metrics', async () => {
    const healthy = await new WebhookReceiver().start();
    const hanging = await new WebhookReceiver().start();
    hanging.answer = () => 'hang';
    const failing = await new WebhookReceiver().start();
    failing.answer = () => 500;
    const gone = await new WebhookReceiver().start();
    gone.answer = () => 410;
    const hooks = {
      healthy: await createWebhook(healthy.url),
      hanging: await createWebhook(hanging.url),
      failing: await createWebhook(failing.url),
      gone: await createWebhook(gone.url),
    };

    const started = Date.now();
    await ingest('H', 2, 100);
    const ids = await createdEventIds('H');
    await until(() => ids.every((id) => verifiedIds(healthy, hooks.healthy.secret).has(id)), 20_000, 'the healthy receiver served');
    const healthyMs = Date.now() - started;
    expect(healthyMs).toBeLessThan(10_000);

    const webhook = async (id: string) => (await f.api('GET', `/api/v1/webhooks/${id}`)).body as Record<string, unknown>;
    await until(async () => (await webhook(hooks.gone.id)).enabled === false, 10_000, 'the 410 webhook disabled');
    expect(await webhook(hooks.gone.id)).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('410') });
    // Only the attempts already in flight when the first 410 came back: at most the webhook's slots.
    expect(gone.received.length).toBeGreaterThanOrEqual(1);
    expect(gone.received.length).toBeLessThanOrEqual(8);

    const log = async (id: string) => ((await f.api('GET', `/api/v1/webhooks/${id}/deliveries?limit=100`)).body as { data: Record<string, unknown>[] }).data;
    await until(async () => (await log(hooks.failing.id)).some((d) => d.lastStatusCode === 500), 10_000, 'a 500 in the delivery log');
    expect((await log(hooks.failing.id)).every((d) => d.status === 'pending')).toBe(true);
    // The failing receiver's webhook is paused: a round of attempts, not one per event.
    expect(failing.received.length).toBeLessThan(ids.length);
    expect(hanging.received.length).toBeGreaterThan(0);
    expect(hanging.received.length).toBeLessThanOrEqual(8);

    const metrics = await f.gateway.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.text).toMatch(/gateway_webhook_deliveries_total\{outcome="delivered"\} [1-9]/);
    expect(metrics.text).toMatch(/gateway_webhook_deliveries_total\{outcome="retry"\} [1-9]/);
    expect(metrics.text).toMatch(/gateway_webhook_deliveries_total\{outcome="failed"\} [1-9]/);
    expect(f.gateway.logs()).toContain('webhook disabled');

    for (const receiver of [healthy, hanging, failing, gone]) await receiver.stop();
  });
});
