import { Webhook } from 'standardwebhooks';
import { Replica, ReplicaCluster, sleep, until } from '../support/replica-cluster';
import { SseClient } from '../support/event-stream';
import { HttpResult } from '../support/gateway-process';
import { WebhookReceiver } from '../support/webhook-receiver';

/** The run's size by default; smaller through the environment for a quick run. */
const SESSIONS = Number(process.env.REPLICAS_EVENT_SESSIONS ?? '6');
const SENDS = Number(process.env.REPLICAS_EVENT_SENDS ?? '600');
/** How long a killed replica's claimed deliveries stay leased (WEBHOOK_TIMEOUT_MS + 5 s) and then some. */
const REDELIVERY_MS = 60_000;

const chat = (n: number) => `62813${String(n).padStart(7, '0')}@s.whatsapp.net`;

interface FeedEvent {
  id: string;
  type: string;
}

/**
 * What a client of the event feed, the live stream and webhooks sees of three replicas behind a
 * round robin, one of them SIGKILLed while messages are sent: the feed and the stream (resumed on
 * another replica with Last-Event-ID) give every event of the log once, and every event reaches
 * the webhook, signed so that the Standard Webhooks library verifies it, with the feed's bytes.
 */
describe('event delivery across replicas (3 built gateways on one PostgreSQL, one SIGKILLed mid-run)', () => {
  let c: ReplicaCluster;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    c = await ReplicaCluster.start(3, { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', FAKE_SEND_MS: '20' });
    c.holdPairing(false);
  }, 180_000);
  afterAll(async () => {
    await c?.close();
    await receiver?.stop();
  });

  /**
   * A request as a client behind a load balancer makes it: a connection the dead replica drops is
   * tried again on the next one (with the same Idempotency-Key, so a send is never made twice).
   */
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await c.api(method, path, body, c.next(), { headers });
        if (res.status < 500 || attempt === 5) return res;
      } catch (error) {
        if (attempt === 5) throw error;
      }
      await sleep(100);
    }
  }

  it(`gives a feed reader and a resumed live stream every event of ${SENDS} sends once, and a webhook every one signed, though a replica died`, async () => {
    const hook = await call('POST', '/api/v1/webhooks', { url: receiver.url, events: ['*'] });
    expect(hook.status).toBe(201);
    const verifier = new Webhook(hook.body.secret as string);

    const sessions: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const res = await call('POST', '/api/v1/sessions', { name: `events ${i}` });
      expect(res.status).toBe(201);
      sessions.push(res.body.id as string);
    }
    await until('every session to connect', 60_000, async () => {
      const [{ n }] = await c.sql<{ n: string }>(`SELECT count(*) AS n FROM sessions WHERE status = 'connected'`);
      return Number(n) === SESSIONS;
    });

    // A reader follows the feed through the round robin from before the first send to after the last.
    const feed = new Map<string, string>();
    const readTwice: string[] = [];
    let following = true;
    let pages = 0;
    const follower = (async () => {
      let cursor: string | null = null;
      for (;;) {
        const res = await call('GET', `/api/v1/events?limit=100&wait=1${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`);
        if (res.status !== 200) throw new Error(`the feed answered ${res.status}: ${res.text}`);
        const page = JSON.parse(res.text) as { data: FeedEvent[]; nextCursor: string };
        pages += 1;
        for (const event of page.data) {
          if (feed.has(event.id)) readTwice.push(event.id);
          feed.set(event.id, JSON.stringify(event));
        }
        cursor = page.nextCursor;
        if (!following && page.data.length === 0) return;
      }
    })();
    // Its failure is reported where it is awaited, below.
    follower.catch(() => undefined);

    // A live stream from here on, opened on the replica that will die; whenever its replica goes,
    // it is opened again on the next one with Last-Event-ID, as an EventSource does.
    const doomed = c.serving()[1];
    const before = await call('GET', '/api/v1/events?limit=1000');
    const streamedBefore = new Set((before.body.data as FeedEvent[]).map((e) => e.id));
    const streamed = new Map<string, number>();
    let streaming = true;
    let streamsOpened = 0;
    const streamer = (async () => {
      let lastId: string | undefined;
      let via = doomed;
      while (streaming) {
        const position: Record<string, string> = lastId ? { 'last-event-id': lastId } : {};
        const path = lastId ? '/api/v1/events/stream' : `/api/v1/events/stream?after=${encodeURIComponent(before.body.nextCursor as string)}`;
        const client = await SseClient.open(via.gateway.baseUrl, path, { authorization: c.authorization, ...position }).catch(() => null);
        via = c.next();
        if (!client) continue;
        if (client.status !== 200) throw new Error(`the stream answered ${client.status}: ${client.body}`);
        streamsOpened += 1;
        let seen = 0;
        while (streaming && !(client.ended && seen === client.events.length)) {
          await client.until(() => client.ended || client.events.length > seen, 500).catch(() => undefined);
          for (; seen < client.events.length; seen++) {
            const id = (JSON.parse(client.events[seen].data) as FeedEvent).id;
            streamed.set(id, (streamed.get(id) ?? 0) + 1);
            lastId = client.events[seen].id;
          }
        }
        client.close();
      }
    })();
    streamer.catch(() => undefined);
    await until('the stream to open', 10_000, () => Promise.resolve(streamsOpened > 0));

    // Sends through the round robin; a third of the way in, the replica the stream is on is SIGKILLed.
    let victim: Replica | undefined;
    let next = 0;
    const accepted: string[] = [];
    const problems: string[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < SENDS) {
          const i = next++;
          if (i === Math.floor(SENDS / 3)) {
            victim = doomed;
            c.kill(victim);
          }
          const sid = sessions[i % SESSIONS];
          const path = `/api/v1/sessions/${sid}/chats/${encodeURIComponent(chat(i % 40))}/messages`;
          const res = await call('POST', path, { type: 'text', text: `event ${i}` }, { 'idempotency-key': `events-${i}` });
          if (res.status === 202) accepted.push(res.body.id as string);
          else problems.push(`send ${i}: ${res.status} ${res.text}`);
        }
      }),
    );
    expect(problems).toEqual([]);
    expect(victim?.killedAt).toBeDefined();
    await until('every send to have its outcome', 90_000, async () => {
      const [{ n }] = await c.sql<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE id = ANY($1) AND status = 'pending'`, [accepted]);
      return Number(n) === 0;
    });

    // The reader got every event of the log, once.
    const logged = (await c.sql<{ id: string }>('SELECT id FROM events WHERE org_id = $1', [c.orgId])).map((row) => row.id);
    await until('the reader to reach the end of the log', 30_000, () => Promise.resolve(logged.every((id) => feed.has(id))));
    following = false;
    await follower;
    expect(readTwice).toEqual([]);
    expect([...feed.keys()].filter((id) => !logged.includes(id))).toEqual([]);
    // So did the stream, across its replica's death, from where it started.
    const expected = logged.filter((id) => !streamedBefore.has(id));
    await until('the stream to reach the end of the log', 30_000, () => Promise.resolve(expected.every((id) => streamed.has(id))));
    streaming = false;
    await streamer;
    expect([...streamed].filter(([, times]) => times > 1)).toEqual([]);
    expect([...streamed.keys()].filter((id) => !logged.includes(id) || streamedBefore.has(id))).toEqual([]);
    expect(streamsOpened).toBeGreaterThan(1);
    const types = new Set([...feed.values()].map((text) => (JSON.parse(text) as FeedEvent).type));
    expect([...types]).toEqual(expect.arrayContaining(['message.created', 'message.updated', 'session.created']));

    // Every event reaches the webhook: what the killed replica had in flight is tried again after its lease.
    const caughtUp = Date.now();
    await until('every event to reach the webhook', REDELIVERY_MS, () => {
      const got = new Set(receiver.received.map((r) => r.event.id));
      return Promise.resolve([...feed.keys()].every((id) => got.has(id)));
    });
    const unverified: string[] = [];
    const differing: string[] = [];
    const times = new Map<string, number>();
    for (const r of receiver.received) {
      try {
        verifier.verify(r.body, r.signed);
      } catch (error) {
        unverified.push(`${r.event.id}: ${String(error)}`);
      }
      if (r.signed['webhook-id'] !== r.event.id) unverified.push(`${r.event.id}: webhook-id ${r.signed['webhook-id']}`);
      if (r.body !== feed.get(r.event.id)) differing.push(r.event.id);
      times.set(r.event.id, (times.get(r.event.id) ?? 0) + 1);
    }
    const duplicates = [...times.values()].filter((n) => n > 1).length;
    process.stdout.write(
      `REPLICAS events ${JSON.stringify({
        sends: SENDS,
        events: feed.size,
        feedPages: pages,
        streamsOpened,
        received: receiver.received.length,
        duplicates,
        allDeliveredAfterReaderMs: Date.now() - caughtUp,
      })}\n`,
    );
    expect(unverified).toEqual([]);
    expect(differing).toEqual([]);
    expect([...times.keys()].filter((id) => !feed.has(id))).toEqual([]);
    // A delivery is repeated only when its replica died between the receiver's answer and recording it.
    expect(duplicates).toBeLessThanOrEqual(64);
  });
});
