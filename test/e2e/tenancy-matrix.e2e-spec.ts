import request from 'supertest';
import { DataSource } from 'typeorm';
import { ulid } from 'ulid';
import { encodeEventCursor, LOG_START } from '../../src/events/event-position';
import { messageCreated, record } from '../support/event-log';
import { listen, SseClient } from '../support/event-stream';
import { JwksServer } from '../support/jwks-server';
import { fetchOpenApi, fillPath, Operation, operationsOf } from '../support/openapi-operations';
import { seedOrg, SeededOrg } from '../support/org-fixture';
import { snapshotOrg } from '../support/org-snapshot';
import { startTestApp, TestApp, uniqueOrg } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * Organization B's credentials aimed at organization A, on every operation of the OpenAPI
 * document: a route that names a resource answers 404 (the same bytes as for a resource that
 * never existed) and changes nothing; a collection route never shows A's items.
 */

/** Where both organizations' webhooks point. */
const receiver = new WebhookReceiver();

/** How an operation is exercised across organizations. */
type Exercise =
  /**
   * Names a resource: B aiming at A's gets 404 and changes nothing of A's. `resources` are the path
   * parameters that name one (default: all); the others are values that B may use in its own
   * session (the chat a message is sent to), so they are only crossed together with A's session.
   */
  | { kind: 'resource'; body?: (a: SeededOrg) => unknown; resources?: string[] }
  /**
   * Lists or creates in the caller's own organization: B sees nothing of A and changes nothing of
   * A's. `cursorParam` names the query parameter that continues the list (default `cursor`).
   */
  | { kind: 'collection'; body?: () => unknown; cursorParam?: string }
  /** An event stream of the caller's own organization: B receives none of A's events. */
  | { kind: 'stream' }
  /** Needs no credential and serves no organization's data. */
  | { kind: 'public' };

/**
 * Every operation of the document, and how it is crossed. A new route fails the suite until it
 * is added here.
 */
const MATRIX: Record<string, Exercise> = {
  'GET /health/live': { kind: 'public' },
  'GET /health/ready': { kind: 'public' },
  'POST /api/v1/api-keys': { kind: 'collection', body: () => ({ name: 'b key', capabilities: ['read'] }) },
  'GET /api/v1/api-keys': { kind: 'collection' },
  'DELETE /api/v1/api-keys/{id}': { kind: 'resource' },
  'POST /api/v1/sessions': { kind: 'collection', body: () => ({ name: 'b number' }) },
  'GET /api/v1/sessions': { kind: 'collection' },
  'GET /api/v1/sessions/{sid}': { kind: 'resource' },
  'DELETE /api/v1/sessions/{sid}': { kind: 'resource' },
  'GET /api/v1/sessions/{sid}/qr': { kind: 'resource' },
  'POST /api/v1/sessions/{sid}/pairing-code': { kind: 'resource', body: () => ({ phoneNumber: '6281234567890' }) },
  'GET /api/v1/sessions/{sid}/chats': { kind: 'resource' },
  'GET /api/v1/sessions/{sid}/chats/{cid}': { kind: 'resource' },
  'PATCH /api/v1/sessions/{sid}/chats/{cid}': { kind: 'resource', body: () => ({ archived: true, pinned: true, mutedUntil: -1 }) },
  'DELETE /api/v1/sessions/{sid}/chats/{cid}': { kind: 'resource' },
  'GET /api/v1/sessions/{sid}/chats/{cid}/messages': { kind: 'resource' },
  'GET /api/v1/sessions/{sid}/chats/{cid}/messages/{mid}': { kind: 'resource' },
  'GET /api/v1/sessions/{sid}/chats/{cid}/messages/{mid}/media': { kind: 'resource' },
  'PUT /api/v1/sessions/{sid}/chats/{cid}/messages/{mid}/media': { kind: 'resource' },
  'POST /api/v1/sessions/{sid}/chats/{cid}/messages': {
    kind: 'resource',
    body: () => ({ type: 'text', text: 'taken over' }),
    resources: ['sid'],
  },
  'PUT /api/v1/sessions/{sid}/chats/{cid}/messages/{mid}/reaction': { kind: 'resource', body: () => ({ emoji: '👍' }) },
  'PATCH /api/v1/sessions/{sid}/chats/{cid}/messages/{mid}': { kind: 'resource', body: () => ({ text: 'taken over' }) },
  'DELETE /api/v1/sessions/{sid}/chats/{cid}/messages/{mid}': { kind: 'resource' },
  'POST /api/v1/sessions/{sid}/chats/{cid}/messages/{mid}/revoke': { kind: 'resource' },
  'POST /api/v1/sessions/{sid}/chats/{cid}/read': { kind: 'resource' },
  'POST /api/v1/sessions/{sid}/chats/{cid}/presence': { kind: 'resource', body: () => ({ state: 'composing' }) },
  'GET /api/v1/sessions/{sid}/contacts': { kind: 'resource' },
  'GET /api/v1/sessions/{sid}/contacts/{jid}': { kind: 'resource' },
  // The JID of a person or group is a value B may ask about in its own session (WhatsApp answers it).
  'GET /api/v1/sessions/{sid}/contacts/{jid}/picture': { kind: 'resource', resources: ['sid'] },
  'POST /api/v1/sessions/{sid}/numbers/lookup': { kind: 'resource', body: () => ({ phoneNumbers: ['6281234567890'] }) },
  'GET /api/v1/sessions/{sid}/groups/{jid}': { kind: 'resource', resources: ['sid'] },
  'POST /api/v1/sessions/{sid}/groups': { kind: 'resource', body: () => ({ subject: 'taken over', participants: ['6281234567890'] }) },
  'POST /api/v1/sessions/{sid}/groups/{jid}/participants': { kind: 'resource', body: () => ({ remove: ['6281234567890'] }), resources: ['sid'] },
  'GET /api/v1/sessions/{sid}/groups/{jid}/invite-link': { kind: 'resource', resources: ['sid'] },
  'GET /api/v1/events': { kind: 'collection', cursorParam: 'after' },
  'GET /api/v1/events/stream': { kind: 'stream' },
  'POST /api/v1/webhooks': { kind: 'collection', body: () => ({ url: receiver.url, description: 'b hook', events: ['*'] }) },
  'GET /api/v1/webhooks': { kind: 'collection' },
  'GET /api/v1/webhooks/{id}': { kind: 'resource' },
  'PATCH /api/v1/webhooks/{id}': {
    kind: 'resource',
    body: () => ({ url: receiver.url, description: 'taken over', events: ['chat.deleted'], enabled: false }),
  },
  'DELETE /api/v1/webhooks/{id}': { kind: 'resource' },
  'POST /api/v1/webhooks/{id}/rotate-secret': { kind: 'resource' },
  'POST /api/v1/webhooks/{id}/test': { kind: 'resource' },
  'GET /api/v1/webhooks/{id}/deliveries': { kind: 'resource' },
  'POST /api/v1/webhooks/{id}/deliveries/{did}/retry': { kind: 'resource' },
  'POST /api/v1/sessions/{sid}/events': {
    kind: 'resource',
    body: (a) => ({
      events: [
        { type: 'chat.upsert', chat: { id: a.jids[0], name: 'taken over', archived: true } },
        { type: 'chat.delete', chatId: a.jids[1] },
        { type: 'session.status', status: 'logged_out', phoneNumber: null },
      ],
    }),
  },
};

/** An organization's ids for each path parameter name of an operation (`id` is a key's or a webhook's). */
function idsOf(o: SeededOrg, path: string): Record<string, string> {
  const id = path.startsWith('/api/v1/webhooks/') ? o.webhookId : o.spareKeyId;
  // `jid`: a person of the contact routes, a group of the group routes.
  const jid = path.includes('/groups/') ? o.jids[1] : o.jids[0];
  return { sid: o.sid, cid: o.jids[0], mid: o.messageIds[o.jids[0]][0], id, did: o.deliveryId, jid };
}

/** Well-formed ids that no organization has. */
const NEVER_EXISTED = {
  sid: ulid(),
  cid: '629999999999@s.whatsapp.net',
  mid: 'NEVER0EXISTED',
  id: ulid(),
  did: 'dlv_999999999999999',
  jid: '629999999999@s.whatsapp.net',
};

/** What of A must never appear in an answer to B. */
function secretsOf(a: SeededOrg): string[] {
  return [
    a.orgId,
    a.sid,
    a.spareKeyId,
    a.webhookId,
    `"${a.deliveryId}"`,
    ...a.jids,
    ...Object.values(a.messageIds).flat(),
    'a secret',
    'a chat',
    'a hook',
  ];
}

describe('tenancy matrix: every operation, org B against org A', () => {
  const idp = new JwksServer();
  let t: TestApp;
  let dataSource: DataSource;
  let operations: Operation[];
  let a: SeededOrg;
  let b: SeededOrg;
  let credentials: { kind: string; token: () => string }[];

  beforeAll(async () => {
    await idp.start();
    await receiver.start();
    t = await startTestApp({ ...idp.env(), WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
    dataSource = t.app.get(DataSource);
    operations = operationsOf(await fetchOpenApi(t.http));
    a = await seedOrg(t, uniqueOrg('tenant-a'), 'a', receiver.url);
    b = await seedOrg(t, uniqueOrg('tenant-b'), 'b', receiver.url);
    // B as a script with an API key, and as a person logged in as its owner.
    credentials = [
      { kind: 'api key', token: () => b.key },
      { kind: 'login JWT', token: () => idp.token({ org_id: b.orgId, role: 'owner', sub: 'b-owner' }) },
    ];
  });
  afterAll(async () => {
    await t?.close();
    await idp.stop();
    await receiver.stop();
  });

  function call(op: Operation, path: string, token: string | null, body?: unknown): request.Test {
    const agent = request(t.http) as unknown as Record<string, (url: string) => request.Test>;
    let req = agent[op.method](path);
    if (token) req = req.set('Authorization', `Bearer ${token}`);
    return body === undefined ? req : req.send(body as object);
  }

  function exposed(res: request.Response): string[] {
    return secretsOf(a).filter((secret) => res.text.includes(secret));
  }

  it('has an entry for every operation of the document, and none for an operation that is gone', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(operations.map((op) => op.key).sort());
  });

  it('answers B 404 on every route that names one of A\'s resources, byte for byte as for one that never existed, and changes nothing of A\'s', async () => {
    const problems: string[] = [];
    let tried = 0;
    for (const op of operations) {
      const exercise = MATRIX[op.key];
      if (exercise?.kind !== 'resource') continue;
      const params = op.path.match(/\{([^}]+)\}/g)!.map((p) => p.slice(1, -1));
      // A's ids for every parameter, then B's own for the leading ones and A's for the rest.
      for (let own = 0; own < params.length; own++) {
        if (exercise.resources && !params.slice(own).some((p) => exercise.resources!.includes(p))) continue;
        const mix = (other: Record<string, string>) =>
          Object.fromEntries(params.map((p, i) => [p, i < own ? idsOf(b, op.path)[p] : other[p]]));
        for (const credential of credentials) {
          const before = await snapshotOrg(dataSource, a.orgId);
          const crossing = await call(op, fillPath(op.path, mix(idsOf(a, op.path))), credential.token(), exercise.body?.(a));
          const missing = await call(op, fillPath(op.path, mix(NEVER_EXISTED)), credential.token(), exercise.body?.(a));
          const after = await snapshotOrg(dataSource, a.orgId);
          tried += 1;
          const label = `${op.key} as B (${credential.kind}) with ${JSON.stringify(mix(idsOf(a, op.path)))}`;
          if (crossing.status !== 404 || crossing.body?.error?.code !== 'not_found') {
            problems.push(`${label}: ${crossing.status} ${crossing.text.slice(0, 200)}`);
          } else if (crossing.text !== missing.text || missing.status !== 404) {
            problems.push(`${label}: answers ${crossing.text}, but for an id that never existed ${missing.status} ${missing.text}`);
          }
          if (JSON.stringify(after) !== JSON.stringify(before)) problems.push(`${label}: changed A's stored data`);
          const leaks = exposed(crossing);
          if (leaks.length > 0) problems.push(`${label}: shows ${leaks.join(', ')}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(tried).toBeGreaterThan(20);
  });

  it('never shows B any of A\'s items on a collection route, on any page, whatever the cursor', async () => {
    const problems: string[] = [];
    // A's own cursors, handed to B: a position, never a way into A's list.
    const aCursors: string[] = [];
    for (const op of operations.filter((o) => MATRIX[o.key]?.kind === 'collection' && o.method === 'get')) {
      const page = await call(op, `${op.path}?limit=1`, a.key);
      expect(page.status).toBe(200);
      if (page.body.nextCursor) aCursors.push(page.body.nextCursor as string);
    }
    for (const op of operations) {
      const exercise = MATRIX[op.key];
      if (exercise?.kind !== 'collection') continue;
      for (const credential of credentials) {
        const label = `${op.key} as B (${credential.kind})`;
        const before = await snapshotOrg(dataSource, a.orgId);
        if (op.method === 'get') {
          const starts = [undefined, ...aCursors];
          for (const start of starts) {
            let cursor = start;
            for (let pages = 0; pages < 50; pages++) {
              const query = cursor ? `&${exercise.cursorParam ?? 'cursor'}=${encodeURIComponent(cursor)}` : '';
              const res = await call(op, `${op.path}?limit=1${query}`, credential.token());
              if (res.status !== 200 && !(start && res.status === 422)) problems.push(`${label}: ${res.status} ${res.text.slice(0, 200)}`);
              const leaks = exposed(res);
              if (leaks.length > 0) problems.push(`${label}${start ? ' from A\'s cursor' : ''}: shows ${leaks.join(', ')}`);
              cursor = res.body?.nextCursor as string | undefined;
              // The event feed's cursor is never null: it ends with an empty page.
              if (!cursor || res.body?.data?.length === 0) break;
            }
          }
        } else {
          const res = await call(op, op.path, credential.token(), (exercise as { body?: () => unknown }).body?.());
          if (res.status >= 300) problems.push(`${label}: ${res.status} ${res.text.slice(0, 200)}`);
          const leaks = exposed(res);
          if (leaks.length > 0) problems.push(`${label}: shows ${leaks.join(', ')}`);
        }
        const after = await snapshotOrg(dataSource, a.orgId);
        if (JSON.stringify(after) !== JSON.stringify(before)) problems.push(`${label}: changed A's stored data`);
      }
    }
    // And what B made is B's: A's lists do not show it.
    const aSessions = await request(t.http).get('/api/v1/sessions?limit=100').set('Authorization', `Bearer ${a.key}`);
    expect(aSessions.body.data.map((s: { id: string }) => s.id)).toEqual([a.sid]);
    const aKeys = await request(t.http).get('/api/v1/api-keys?limit=100').set('Authorization', `Bearer ${a.key}`);
    expect(aKeys.body.data.map((k: { name: string }) => k.name).sort()).toEqual(['a main', 'a spare']);
    expect(problems).toEqual([]);
  });

  it('streams B none of A\'s events, from any position, while A\'s own stream gets them', async () => {
    const streams = operations.filter((o) => MATRIX[o.key]?.kind === 'stream');
    expect(streams.length).toBeGreaterThan(0);
    const base = await listen(t);
    const problems: string[] = [];
    for (const op of streams) {
      for (const credential of credentials) {
        const label = `${op.key} as B (${credential.kind})`;
        // From the very start of the log (everything retained), and from now on.
        const fromStart = await SseClient.open(base, `${op.path}?after=${encodeURIComponent(encodeEventCursor(LOG_START))}`, {
          authorization: `Bearer ${credential.token()}`,
        });
        const fromNow = await SseClient.open(base, op.path, { authorization: `Bearer ${credential.token()}` });
        const aOwn = await SseClient.open(base, op.path, { authorization: `Bearer ${a.key}` });
        try {
          for (const client of [fromStart, fromNow, aOwn]) if (client.status !== 200) problems.push(`${label}: ${client.status} ${client.body}`);
          const marker = `a secret event ${credential.kind}`;
          await record(t, a.orgId, [messageCreated(marker, a.sid)]);
          await aOwn.until(() => aOwn.events.some((e) => e.data.includes(marker)), 10_000, 'A\'s event on A\'s stream');
          // B's streams have had as long as A's, and more: whatever they were sent by now is all they get.
          await new Promise((resolve) => setTimeout(resolve, 300));
          for (const client of [fromStart, fromNow]) {
            const text = client.events.map((e) => e.data).join('\n');
            const leaks = [...secretsOf(a), marker].filter((secret) => text.includes(secret));
            if (leaks.length > 0) problems.push(`${label}: streams ${leaks.join(', ')}`);
          }
        } finally {
          for (const client of [fromStart, fromNow, aOwn]) client.close();
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('serves public routes without a credential and without any organization\'s data', async () => {
    for (const op of operations.filter((o) => MATRIX[o.key]?.kind === 'public')) {
      expect(op.public).toBe(true);
      const res = await call(op, op.path, null);
      expect(res.status).toBe(200);
      expect(exposed(res)).toEqual([]);
    }
  });

  it('leaves A\'s data exactly as seeded after all of B\'s attempts', async () => {
    const chats = await request(t.http).get(`/api/v1/sessions/${a.sid}/chats`).set('Authorization', `Bearer ${a.key}`);
    expect(chats.status).toBe(200);
    expect(chats.body.data.map((c: { id: string; archived: boolean; name: string }) => [c.id, c.archived, c.name]).sort()).toEqual(
      [
        [a.jids[0], false, 'a chat 0'],
        [a.jids[1], false, 'a chat 1'],
      ].sort(),
    );
    const session = await request(t.http).get(`/api/v1/sessions/${a.sid}`).set('Authorization', `Bearer ${a.key}`);
    expect(session.body.status).toBe('disconnected');
    const spare = await dataSource.query<{ revoked_at: Date | null }[]>('SELECT revoked_at FROM api_keys WHERE id = $1', [a.spareKeyId]);
    expect(spare).toEqual([{ revoked_at: null }]);
  });
});
