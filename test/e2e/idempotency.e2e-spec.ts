import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { IdempotencyKeysPrunerService } from '../../src/messages/idempotency-keys-pruner.service';
import { MessageDto } from '../../src/messages/message.dto';
import { MessageSendService } from '../../src/messages/message-send.service';
import { eventually } from '../fixtures/baileys/baileys-harness';
import { ConnectorServer } from '../support/connector-server';
import { createKey, startTestApp, testDatabaseUrl, TestApp, uniqueOrg } from '../support/test-app';

const BUDI = '6281234567890@s.whatsapp.net';
const SARI = '6281298765432@s.whatsapp.net';

/**
 * `Idempotency-Key` on sends, through `external` sessions whose connector (a local HTTP server)
 * counts what it is asked to send.
 */
describe('Idempotency-Key on sends', () => {
  const connector = new ConnectorServer();
  let t: TestApp;
  let dataSource: DataSource;
  let orgId: string;
  let key: string;

  beforeAll(async () => {
    const url = await connector.start();
    t = await startTestApp({ WA_EXTERNAL_SEND_URL: url });
    dataSource = t.app.get(DataSource);
    orgId = uniqueOrg('idempotency');
    key = await createKey(t, orgId);
  });
  afterAll(async () => {
    await t.close();
    await connector.stop();
  });

  async function newSession(withKey = key): Promise<string> {
    const res = await request(t.http).post('/api/v1/sessions').set('Authorization', `Bearer ${withKey}`).send({ name: 'n' });
    return res.body.id as string;
  }

  function send(sid: string, jid: string, body: unknown, idempotencyKey?: string, withKey = key): request.Test {
    const req = request(t.http).post(`/api/v1/sessions/${sid}/chats/${jid}/messages`).set('Authorization', `Bearer ${withKey}`);
    return (idempotencyKey === undefined ? req : req.set('Idempotency-Key', idempotencyKey)).send(body as object);
  }

  /** What the connector was asked to send, by text. */
  const sendsOf = (text: string) => connector.requests.filter((r) => (r.body as { message: { text: string } }).message.text === text);
  const stored = (sid: string) => dataSource.query<{ id: string; text: string }[]>('SELECT id, text FROM messages WHERE session_id = $1', [sid]);
  const settled = () => t.app.get(MessageSendService).drain(15_000);

  it('answers the same key and body with the first response again and sends nothing more', async () => {
    const sid = await newSession();
    const first = await send(sid, BUDI, { type: 'text', text: 'sekali saja' }, 'order-1042');
    expect(first.status).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    await settled();

    // The same JSON with its fields in another order is the same request.
    const again = await send(sid, BUDI, { text: 'sekali saja', type: 'text' }, 'order-1042');
    expect(again.status).toBe(202);
    expect(again.text).toBe(first.text);
    expect(again.headers['idempotent-replayed']).toBe('true');
    // The first response, although the message has been sent since.
    expect((again.body as MessageDto).status).toBe('pending');
    const current = await request(t.http).get(`/api/v1/sessions/${sid}/chats/${BUDI}/messages/${first.body.id}`).set('Authorization', `Bearer ${key}`);
    expect(current.body.status).toBe('sent');

    await settled();
    expect(sendsOf('sekali saja')).toHaveLength(1);
    expect(await stored(sid)).toEqual([{ id: first.body.id, text: 'sekali saja' }]);
  });

  it('answers the first response even when that send failed, without trying again', async () => {
    const sid = await newSession();
    connector.respond = 500;
    try {
      const first = await send(sid, BUDI, { type: 'text', text: 'gagal sekali' }, 'retry-me');
      await settled();
      const again = await send(sid, BUDI, { type: 'text', text: 'gagal sekali' }, 'retry-me');
      expect(again.status).toBe(202);
      expect(again.text).toBe(first.text);
      await settled();
      expect(sendsOf('gagal sekali')).toHaveLength(1);
    } finally {
      connector.respond = 200;
    }
  });

  it('answers 422 for the same key with another body, and stores and sends nothing', async () => {
    const sid = await newSession();
    await send(sid, BUDI, { type: 'text', text: 'asli' }, 'k-1');
    const other = await send(sid, BUDI, { type: 'text', text: 'lain' }, 'k-1');
    expect(other.status).toBe(422);
    expect(other.body).toEqual({
      error: {
        code: 'validation_error',
        message: 'request validation failed',
        details: { fields: { 'Idempotency-Key': ['was already used with another request body'] } },
      },
    });
    await settled();
    expect(sendsOf('lain')).toEqual([]);
    expect((await stored(sid)).map((m) => m.text)).toEqual(['asli']);
  });

  it('scopes keys to the organization and the chat', async () => {
    const sid = await newSession();
    const otherOrgKey = await createKey(t, uniqueOrg('idempotency-b'));
    const otherSid = await newSession(otherOrgKey);
    const body = { type: 'text', text: 'kunci yang sama' };
    const answers = [
      await send(sid, BUDI, body, 'shared-key'),
      await send(sid, SARI, body, 'shared-key'),
      await send(otherSid, BUDI, body, 'shared-key', otherOrgKey),
    ];
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(3);
    // Another organization's key for the same chat of this session is still 404, never a replay.
    const foreign = await send(sid, BUDI, body, 'shared-key', otherOrgKey);
    expect(foreign.status).toBe(404);
    await settled();
    expect(sendsOf('kunci yang sama')).toHaveLength(3);
  });

  it('lets concurrent duplicates through once: each other one is the replay or 409, never a second send', async () => {
    const sid = await newSession();
    const body = { type: 'text', text: 'serentak' };
    const answers = await Promise.all(Array.from({ length: 8 }, () => send(sid, BUDI, body, 'burst')));
    const accepted = answers.filter((a) => a.status === 202);
    const conflicts = answers.filter((a) => a.status === 409);
    expect(accepted.length + conflicts.length).toBe(8);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(new Set(accepted.map((a) => a.text)).size).toBe(1);
    for (const conflict of conflicts) expect(conflict.body.error.message).toBe('a request with this Idempotency-Key is still being handled');
    await settled();
    expect(sendsOf('serentak')).toHaveLength(1);
    expect(await stored(sid)).toHaveLength(1);
  });

  it('answers 409 while the first request with the key is still being handled', async () => {
    const sid = await newSession();
    // Hold the session as an ingestion batch would, so that the first request waits inside its transaction.
    const blocker = new Client({ connectionString: testDatabaseUrl() });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM sessions WHERE id = $1 FOR NO KEY UPDATE', [sid]);
      const blockerPid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const first = send(sid, BUDI, { type: 'text', text: 'pertama' }, 'slow').then((res) => res);
      await eventually(async () => {
        const { rows } = await blocker.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [blockerPid]);
        expect(rows[0].n).toBe(1);
      });
      const second = await send(sid, BUDI, { type: 'text', text: 'pertama' }, 'slow');
      expect(second.status).toBe(409);
      expect(second.body).toEqual({
        error: { code: 'conflict', message: 'a request with this Idempotency-Key is still being handled', details: {} },
      });
      await blocker.query('COMMIT');
      expect((await first).status).toBe(202);
      const third = await send(sid, BUDI, { type: 'text', text: 'pertama' }, 'slow');
      expect(third.text).toBe((await first).text);
    } finally {
      await blocker.end();
    }
    await settled();
    expect(sendsOf('pertama')).toHaveLength(1);
  });

  it('does not use up a key on a request that failed: a 409 or 422 can be retried with it', async () => {
    const sid = await newSession();
    const invalid = await send(sid, BUDI, { type: 'text', text: '' }, 'after-errors');
    expect(invalid.status).toBe(422);
    const noConnector = await startTestApp();
    try {
      const refused = await request(noConnector.http)
        .post(`/api/v1/sessions/${sid}/chats/${BUDI}/messages`)
        .set('Authorization', `Bearer ${key}`)
        .set('Idempotency-Key', 'after-errors')
        .send({ type: 'text', text: 'akhirnya' });
      expect(refused.status).toBe(409);
    } finally {
      await noConnector.close();
    }
    const accepted = await send(sid, BUDI, { type: 'text', text: 'akhirnya' }, 'after-errors');
    expect(accepted.status).toBe(202);
    expect(accepted.headers['idempotent-replayed']).toBeUndefined();
  });

  it('forgets a key after 24 h: it sends again, and expired keys are pruned', async () => {
    const sid = await newSession();
    const first = await send(sid, BUDI, { type: 'text', text: 'kemarin' }, 'daily');
    const age = (interval: string) =>
      dataSource.query(`UPDATE idempotency_keys SET created_at = now() - $2::interval WHERE session_id = $1 AND key = 'daily'`, [sid, interval]);

    await age('23 hours 59 minutes');
    expect((await send(sid, BUDI, { type: 'text', text: 'hari ini' }, 'daily')).status).toBe(422);

    await age('24 hours 1 second');
    const next = await send(sid, BUDI, { type: 'text', text: 'hari ini' }, 'daily');
    expect(next.status).toBe(202);
    expect(next.body.id).not.toBe(first.body.id);
    expect((await send(sid, BUDI, { type: 'text', text: 'hari ini' }, 'daily')).text).toBe(next.text);

    await send(sid, SARI, { type: 'text', text: 'lama' }, 'old');
    await dataSource.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE session_id = $1 AND key = 'old'`, [sid]);
    expect(await t.app.get(IdempotencyKeysPrunerService).prune()).toBeGreaterThanOrEqual(1);
    const keys = await dataSource.query<{ key: string }[]>('SELECT key FROM idempotency_keys WHERE session_id = $1', [sid]);
    expect(keys).toEqual([{ key: 'daily' }]);
    await settled();
  });

  it.each([
    ['empty', ''],
    ['longer than 255 characters', 'k'.repeat(256)],
    ['not ASCII', 'kunci-é'],
  ])('answers 422 for a key that is %s, and stores nothing', async (_name, value) => {
    const sid = await newSession();
    const res = await send(sid, BUDI, { type: 'text', text: 'kunci aneh' }, value);
    expect(res.status).toBe(422);
    expect(res.body.error.details.fields).toEqual({ 'Idempotency-Key': ['must be 1 to 255 visible ASCII characters'] });
    expect(await stored(sid)).toEqual([]);
  });

  it('takes a key of 255 characters', async () => {
    const sid = await newSession();
    const longKey = `${'k'.repeat(254)}~`;
    const first = await send(sid, BUDI, { type: 'text', text: 'kunci panjang' }, longKey);
    expect(first.status).toBe(202);
    expect((await send(sid, BUDI, { type: 'text', text: 'kunci panjang' }, longKey)).text).toBe(first.text);
    await settled();
  });
});
