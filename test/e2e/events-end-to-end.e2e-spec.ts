import request from 'supertest';
import { DataSource } from 'typeorm';
import { listen, SseClient } from '../support/event-stream';
import { auth, chatEvent, createSession, directJid, ingest, messageEvent } from '../support/ingest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

interface FeedEvent {
  id: string;
  type: string;
  sessionId: string | null;
  history: boolean;
  data: Record<string, unknown>;
}

/**
 * Changes made through the API (sessions, ingestion, PATCH, delete) read back from the feed and
 * the stream: one event per change, carrying the resource as its GET serves it.
 */
describe('events of changes made through the API', () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: 'scrape-secret' });
    base = await listen(t);
  });
  afterAll(() => t.close());

  /** Follows the feed from `after` until `count` more events came (long-polling); returns them and the cursor. */
  async function follow(key: string, after: string, count: number): Promise<{ events: FeedEvent[]; texts: string[]; cursor: string }> {
    const events: FeedEvent[] = [];
    let cursor = after;
    const deadline = Date.now() + 20_000;
    while (events.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${events.length} of ${count} events came: ${JSON.stringify(events.map((e) => e.type))}`);
      const res = await request(t.http).get('/api/v1/events').query({ after: cursor, wait: 2 }).set(...auth(key));
      expect(res.status).toBe(200);
      events.push(...(res.body.data as FeedEvent[]));
      cursor = res.body.nextCursor as string;
    }
    return { events, texts: events.map((e) => JSON.stringify(e)), cursor };
  }

  const get = (key: string, path: string) => request(t.http).get(path).set(...auth(key));

  it('records each change once, as GET serves the resource, on the feed and the stream alike', async () => {
    const org = uniqueOrg('events-e2e');
    const key = await createKey(t, org);
    const start = (await get(key, '/api/v1/events')).body.nextCursor as string;
    const stream = await SseClient.open(base, '/api/v1/events/stream', { authorization: `Bearer ${key}` });
    try {
      const sid = await createSession(t, key, 'events number');
      const jid = directJid(4242);
      const batch = [chatEvent(jid, { name: 'Ana', unreadCount: 1 }), messageEvent(jid, 'E2EM1', 1_732_400_000_000), messageEvent(jid, 'E2EM2', 1_732_400_000_001)];
      await ingest(t, key, sid, batch);

      const first = await follow(key, start, 4);
      expect(first.events.map((e) => e.type)).toEqual(['session.created', 'chat.created', 'message.created', 'message.created']);
      expect(first.events.every((e) => e.sessionId === sid && e.history === false)).toBe(true);
      const [session, chat, m1, m2] = first.events;
      expect(session.data).toEqual((await get(key, `/api/v1/sessions/${sid}`)).body);
      expect(chat.data).toEqual((await get(key, `/api/v1/sessions/${sid}/chats/${jid}`)).body);
      expect(m1.data).toEqual((await get(key, `/api/v1/sessions/${sid}/chats/${jid}/messages/E2EM1`)).body);
      expect(m2.data).toEqual((await get(key, `/api/v1/sessions/${sid}/chats/${jid}/messages/E2EM2`)).body);

      // The stream carries the same events, byte for byte as stored.
      const streamed = await stream.nextEvents(4, 10_000);
      expect(streamed.map((e) => e.event)).toEqual(first.events.map((e) => e.type));
      expect(streamed.map((e) => JSON.parse(e.data) as FeedEvent)).toEqual(first.events);
      const stored = await t.app.get(DataSource).query<{ payload: string }[]>(
        'SELECT payload FROM events WHERE org_id = $1 ORDER BY xid, seq',
        [org],
      );
      expect(streamed.map((e) => e.data)).toEqual(stored.map((r) => r.payload));

      // A replayed batch changes nothing, and records nothing.
      await ingest(t, key, sid, batch);
      const patched = await request(t.http).patch(`/api/v1/sessions/${sid}/chats/${jid}`).send({ archived: true }).set(...auth(key));
      expect(patched.status).toBe(200);
      const second = await follow(key, first.cursor, 1);
      expect(second.events.map((e) => e.type)).toEqual(['chat.updated']);
      expect(second.events[0].data).toEqual(patched.body);

      // A history batch is marked, and a local delete is recorded with the chat's id.
      const historyBatch = await request(t.http)
        .post(`/api/v1/sessions/${sid}/events`)
        .send({ events: [messageEvent(jid, 'E2EOLD', 1_600_000_000_000)], history: true })
        .set(...auth(key));
      expect(historyBatch.status).toBe(200);
      expect((await request(t.http).delete(`/api/v1/sessions/${sid}/chats/${jid}`).set(...auth(key))).status).toBe(204);
      const third = await follow(key, second.cursor, 2);
      expect(third.events.map((e) => [e.type, e.history])).toEqual([
        ['message.created', true],
        ['chat.deleted', false],
      ]);
      expect(third.events[1].data).toEqual({ id: jid });

      await stream.nextEvents(7, 10_000);
      expect(stream.events.map((e) => e.event)).toEqual([...first.events, ...second.events, ...third.events].map((e) => e.type));
    } finally {
      stream.close();
    }
  });

  it('gives a feed reader and a stream every message pushed concurrently into several sessions, exactly once', async () => {
    const org = uniqueOrg('events-e2e-many');
    const key = await createKey(t, org);
    const start = (await get(key, '/api/v1/events')).body.nextCursor as string;
    const stream = await SseClient.open(base, '/api/v1/events/stream?types=message.created', { authorization: `Bearer ${key}` });
    try {
      const sessions = await Promise.all([1, 2, 3, 4].map((n) => createSession(t, key, `number ${n}`)));
      const pushed: string[] = [];
      await Promise.all(
        sessions.map(async (sid, s) => {
          for (let b = 0; b < 15; b++) {
            const ids = Array.from({ length: 4 }, (_, i) => `S${s}B${b}M${i}`);
            pushed.push(...ids);
            await ingest(t, key, sid, ids.map((id, i) => messageEvent(directJid(s * 10 + (i % 2)), id, 1_732_400_000_000 + b * 10 + i)));
          }
        }),
      );
      const fed = await follow(key, start, 4 + 8 + pushed.length);
      const created = fed.events.filter((e) => e.type === 'message.created').map((e) => e.data.id as string);
      expect(created.sort()).toEqual([...pushed].sort());
      await stream.nextEvents(pushed.length, 15_000);
      expect(stream.events.map((e) => (JSON.parse(e.data) as FeedEvent).data.id as string).sort()).toEqual([...pushed].sort());
    } finally {
      stream.close();
    }
  });

  it('counts the events it records by type in gateway_events_total', async () => {
    const key = await createKey(t, uniqueOrg('events-metrics'));
    const count = async (type: string): Promise<number> => {
      const text = (await request(t.http).get('/metrics').set('Authorization', 'Bearer scrape-secret')).text;
      const line = text.split('\n').find((l) => l.startsWith(`gateway_events_total{type="${type}"}`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const before = { session: await count('session.created'), message: await count('message.created') };
    const sid = await createSession(t, key);
    await ingest(t, key, sid, [messageEvent(directJid(7), 'METRIC1', 1_732_400_000_000), messageEvent(directJid(7), 'METRIC2', 1_732_400_000_001)]);
    expect((await count('session.created')) - before.session).toBe(1);
    expect((await count('message.created')) - before.message).toBe(2);
  });
});
