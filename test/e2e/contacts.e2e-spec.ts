import request from 'supertest';
import { DataSource } from 'typeorm';
import type { WAMessage } from 'baileys';
import { BaileysGateway, startBaileysGateway } from '../support/baileys-gateway';
import { eventually } from '../fixtures/baileys/baileys-harness';
import { ConnectorServer } from '../support/connector-server';
import { auth, createSession, ingest, pageAll } from '../support/ingest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

const BUDI = '6281234567890';
const SARI = '6285711223344';
const NOBODY = '6289999999999';

/** What a connector answers for a lookup: numbers ending in 9 have no account. */
function lookupAnswer(body: Record<string, unknown>) {
  const numbers = (body.action as { phoneNumbers: string[] }).phoneNumbers;
  return {
    data: [...numbers].reverse().map((phoneNumber) =>
      phoneNumber.endsWith('9') ? { phoneNumber, exists: false, jid: null } : { phoneNumber, exists: true, jid: `${phoneNumber}@s.whatsapp.net` },
    ),
  };
}

const found = (phoneNumber: string) => ({ phoneNumber, exists: true, jid: `${phoneNumber}@s.whatsapp.net` });
const missing = (phoneNumber: string) => ({ phoneNumber, exists: false, jid: null });

/** Waits, if needed, so that the next few seconds stay within one clock minute (the lookup budget's window). */
async function awayFromMinuteEnd(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 10_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

describe('number lookups and profile pictures through a connector (external provider)', () => {
  const connector = new ConnectorServer();
  let connectorUrl: string;
  let t: TestApp;
  let key: string;
  let sid: string;

  beforeAll(async () => {
    connectorUrl = await connector.start();
    t = await startTestApp({ WA_EXTERNAL_SEND_URL: connectorUrl, LOOKUP_RATE_PER_MINUTE: '3' });
    key = await createKey(t, uniqueOrg('lookups'));
  });
  afterAll(async () => {
    await t.close();
    await connector.stop();
  });
  beforeEach(async () => {
    // A fresh session per test: its own cache and its own lookup budget.
    sid = await createSession(t, key);
    connector.requests.length = 0;
    connector.respond = 200;
    connector.answer = (body) => {
      const action = body.action as { type: string };
      return action.type === 'lookup' ? lookupAnswer(body) : { url: `https://pps.whatsapp.net/v/${String(body.chatId)}.jpg` };
    };
  });

  const lookup = (phoneNumbers: unknown, withKey = key, session = sid) =>
    request(t.http).post(`/api/v1/sessions/${session}/numbers/lookup`).set(...auth(withKey)).send({ phoneNumbers });

  it('asks the connector, answers in the order asked, and serves a repeat from the cache', async () => {
    await awayFromMinuteEnd();
    const res = await lookup([BUDI, NOBODY]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [found(BUDI), missing(NOBODY)] });
    expect(connector.requests.map((r) => r.body)).toEqual([{ sessionId: sid, action: { type: 'lookup', phoneNumbers: [BUDI, NOBODY] } }]);

    expect((await lookup([NOBODY, BUDI])).body).toEqual({ data: [missing(NOBODY), found(BUDI)] });
    expect(connector.requests).toHaveLength(1);
    // Only what is not cached is asked.
    expect((await lookup([SARI, BUDI])).body).toEqual({ data: [found(SARI), found(BUDI)] });
    expect(connector.requests[1].body).toEqual({ sessionId: sid, action: { type: 'lookup', phoneNumbers: [SARI] } });
  });

  it('forgets answers after 24 hours', async () => {
    await awayFromMinuteEnd();
    await lookup([BUDI]);
    await t.app.get(DataSource).query(`UPDATE number_lookups SET checked_at = now() - interval '25 hours' WHERE session_id = $1`, [sid]);
    await lookup([BUDI]);
    expect(connector.requests).toHaveLength(2);
  });

  it('asks at most LOOKUP_RATE_PER_MINUTE numbers a minute per session: past it the whole request is 429, cached answers are still served', async () => {
    await awayFromMinuteEnd();
    expect((await lookup([BUDI, SARI])).status).toBe(200);
    const over = await lookup(['6281100000001', '6281100000002']);
    expect(over.status).toBe(429);
    expect(over.body.error).toEqual({ code: 'rate_limited', message: expect.any(String), details: { limitPerMinute: 3 } });
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Nothing was asked for the refused request: the budget still has one number.
    expect(connector.requests).toHaveLength(1);
    expect((await lookup(['6281100000001', BUDI])).body).toEqual({ data: [found('6281100000001'), found(BUDI)] });
    expect((await lookup(['6281100000002'])).status).toBe(429);
    expect((await lookup([SARI, BUDI, '6281100000001'])).status).toBe(200);
    expect(connector.requests.map((r) => (r.body as { action: { phoneNumbers: string[] } }).action.phoneNumbers)).toEqual([[BUDI, SARI], ['6281100000001']]);
    // Another session has its own budget.
    const other = await createSession(t, key);
    expect((await lookup(['6281100000002'], key, other)).status).toBe(200);
  });

  it('counts one budget per session for every replica, kept in the database, renewed each clock minute', async () => {
    const replica = await startTestApp({ WA_EXTERNAL_SEND_URL: connectorUrl, LOOKUP_RATE_PER_MINUTE: '3' });
    try {
      await awayFromMinuteEnd();
      expect((await lookup([BUDI, SARI])).status).toBe(200);
      // The other replica asks for the same session: the two numbers are already counted.
      const elsewhere = (phoneNumbers: string[]) =>
        request(replica.http).post(`/api/v1/sessions/${sid}/numbers/lookup`).set(...auth(key)).send({ phoneNumbers });
      expect((await elsewhere(['6281100000003', '6281100000004'])).status).toBe(429);
      expect((await elsewhere(['6281100000003'])).status).toBe(200);
      expect((await lookup(['6281100000004'])).status).toBe(429);
      // The count is of the current minute: one stored for an earlier minute starts again from nothing.
      await t.app.get(DataSource).query('UPDATE number_lookup_budgets SET minute = minute - 1 WHERE session_id = $1', [sid]);
      expect((await elsewhere(['6281100000004', '6281100000005', '6281100000006'])).status).toBe(200);
      expect(connector.requests).toHaveLength(3);
    } finally {
      await replica.close();
    }
  });

  it('answers 503 for a malformed or failed connector answer and caches nothing', async () => {
    await awayFromMinuteEnd();
    connector.answer = () => ({ data: [{ phoneNumber: BUDI, exists: true, jid: `${BUDI}@s.whatsapp.net` }] });
    const partial = await lookup([BUDI, SARI]);
    expect(partial.status).toBe(503);
    expect(partial.body.error.message).toMatch(/^the connector gave a malformed answer/);
    connector.answer = null;
    connector.respond = 500;
    expect((await lookup([BUDI])).status).toBe(503);
    expect(connector.requests).toHaveLength(2);
    expect(await t.app.get(DataSource).query('SELECT 1 FROM number_lookups WHERE session_id = $1', [sid])).toEqual([]);
  });

  it('gives the profile picture URL from the connector, null included, without storing it', async () => {
    const jid = `${BUDI}@s.whatsapp.net`;
    const res = await request(t.http).get(`/api/v1/sessions/${sid}/contacts/${encodeURIComponent(jid)}/picture`).set(...auth(key));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ url: `https://pps.whatsapp.net/v/${jid}.jpg` });
    expect(connector.requests.map((r) => r.body)).toEqual([{ sessionId: sid, chatId: jid, action: { type: 'picture' } }]);
    connector.answer = () => ({ url: null });
    expect((await request(t.http).get(`/api/v1/sessions/${sid}/contacts/120363025246125486@g.us/picture`).set(...auth(key))).body).toEqual({ url: null });
    connector.answer = () => ({ url: 42 });
    expect((await request(t.http).get(`/api/v1/sessions/${sid}/contacts/${jid}/picture`).set(...auth(key))).status).toBe(503);
    expect((await request(t.http).get(`/api/v1/sessions/${sid}/contacts/not-a-jid/picture`).set(...auth(key))).body.error.message).toBe('contact not found');
  });

  it("answers 404 for another organization's session, asking nothing", async () => {
    const other = await createKey(t, uniqueOrg('lookups-other'));
    for (const res of [
      await lookup([BUDI], other),
      await request(t.http).get(`/api/v1/sessions/${sid}/contacts/${BUDI}@s.whatsapp.net/picture`).set(...auth(other)),
      await request(t.http).get(`/api/v1/sessions/${sid}/contacts`).set(...auth(other)),
      await request(t.http).get(`/api/v1/sessions/${sid}/contacts/${BUDI}@s.whatsapp.net`).set(...auth(other)),
    ]) {
      expect(res.body).toEqual({ error: { code: 'not_found', message: 'session not found', details: {} } });
    }
    expect(connector.requests).toHaveLength(0);
  });

  it.each([
    ['no numbers', []],
    ['51 numbers', Array.from({ length: 51 }, (_, i) => `62812000${String(i).padStart(5, '0')}`)],
    ['a duplicate', [BUDI, BUDI]],
    ['a + number', [`+${BUDI}`]],
    ['spaces', ['62 812 3456 7890']],
    ['4 digits', ['1234']],
    ['21 digits', ['1'.repeat(21)]],
    ['an integer', [6281234567890]],
    ['null', null],
    ['a string', BUDI],
  ])('answers 422 for a lookup of %s, asking nothing', async (_, phoneNumbers) => {
    const res = await lookup(phoneNumbers);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_error');
    expect(connector.requests).toHaveLength(0);
  });

  it('answers 422 for an unknown field or a body that is not an object', async () => {
    expect((await request(t.http).post(`/api/v1/sessions/${sid}/numbers/lookup`).set(...auth(key)).send({ phoneNumbers: [BUDI], cache: false })).status).toBe(422);
    expect((await request(t.http).post(`/api/v1/sessions/${sid}/numbers/lookup`).set(...auth(key)).send([BUDI])).status).toBe(422);
  });
});

describe('number lookups without a connector', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers 409 for an external session when no connector is configured', async () => {
    const key = await createKey(t, uniqueOrg('no-connector'));
    const sid = await createSession(t, key);
    const res = await request(t.http).post(`/api/v1/sessions/${sid}/numbers/lookup`).set(...auth(key)).send({ phoneNumbers: [BUDI] });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe('no connector is configured for external sessions');
    expect((await request(t.http).get(`/api/v1/sessions/${sid}/contacts/${BUDI}@s.whatsapp.net/picture`).set(...auth(key))).status).toBe(409);
  });
});

describe('number lookups and profile pictures with WA_PROVIDER=baileys (stand-in sockets)', () => {
  let g: BaileysGateway;

  beforeAll(async () => {
    g = await startBaileysGateway({ LOOKUP_RATE_PER_MINUTE: '3' });
  });
  afterAll(() => g.close());

  it('asks the socket with JIDs; a number it does not answer has no account; a repeat is served from the cache', async () => {
    await awayFromMinuteEnd();
    const { id, socket } = await g.connectedSession();
    // WhatsApp answers only for the numbers that have an account.
    socket.onWhatsAppBehaviour = (jids) => Promise.resolve(jids.filter((jid) => !jid.startsWith(NOBODY)).map((jid) => ({ jid, exists: true })));
    const res = await g.call('post', `/api/v1/sessions/${id}/numbers/lookup`).send({ phoneNumbers: [NOBODY, BUDI] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [missing(NOBODY), found(BUDI)] });
    expect(socket.directoryCalls).toEqual([['onWhatsApp', `${NOBODY}@s.whatsapp.net`, `${BUDI}@s.whatsapp.net`]]);
    expect((await g.call('post', `/api/v1/sessions/${id}/numbers/lookup`).send({ phoneNumbers: [BUDI] })).body).toEqual({ data: [found(BUDI)] });
    expect(socket.directoryCalls).toHaveLength(1);
    // The budget (3) has one number left: two are refused, nothing asked.
    const over = await g.call('post', `/api/v1/sessions/${id}/numbers/lookup`).send({ phoneNumbers: [SARI, '6281100000009'] });
    expect(over.status).toBe(429);
    expect(socket.directoryCalls).toEqual([['onWhatsApp', `${NOBODY}@s.whatsapp.net`, `${BUDI}@s.whatsapp.net`]]);
  });

  it('asks a number WhatsApp rewrote on its own, to tell the answers apart', async () => {
    const { id, socket } = await g.connectedSession();
    // WhatsApp knows these two by their numbers without the extra 9.
    const known = (jid: string) => jid.replace(/^55119/, '5511');
    socket.onWhatsAppBehaviour = (jids) => Promise.resolve(jids.map((jid) => ({ jid: known(jid), exists: true })));
    const res = await g.call('post', `/api/v1/sessions/${id}/numbers/lookup`).send({ phoneNumbers: ['5511987654321', '5511912345678'] });
    expect(res.body).toEqual({
      data: [
        { phoneNumber: '5511987654321', exists: true, jid: '551187654321@s.whatsapp.net' },
        { phoneNumber: '5511912345678', exists: true, jid: '551112345678@s.whatsapp.net' },
      ],
    });
    expect(socket.directoryCalls).toEqual([
      ['onWhatsApp', '5511987654321@s.whatsapp.net', '5511912345678@s.whatsapp.net'],
      ['onWhatsApp', '5511987654321@s.whatsapp.net'],
      ['onWhatsApp', '5511912345678@s.whatsapp.net'],
    ]);
  });

  it('gives the full-size picture URL, and null when there is none or it is hidden', async () => {
    const { id, socket } = await g.connectedSession();
    const jid = `${BUDI}@s.whatsapp.net`;
    expect((await g.call('get', `/api/v1/sessions/${id}/contacts/${jid}/picture`)).body).toEqual({ url: `https://pps.whatsapp.net/v/t61/${BUDI}.jpg` });
    expect(socket.directoryCalls).toEqual([['profilePictureUrl', jid, 'image']]);
    for (const [code, text] of [[404, 'item-not-found'], [401, 'not-authorized']] as const) {
      socket.profilePictureBehaviour = () => Promise.reject(Object.assign(new Error(text), { isBoom: true, data: code, output: { statusCode: 500 } }));
      expect((await g.call('get', `/api/v1/sessions/${id}/contacts/${jid}/picture`)).body).toEqual({ url: null });
    }
    socket.profilePictureBehaviour = () => Promise.reject(new Error('Connection Closed'));
    expect((await g.call('get', `/api/v1/sessions/${id}/contacts/${jid}/picture`)).status).toBe(503);
  });

  it('answers 409 while the session is not connected', async () => {
    const id = await g.createSession();
    const socket = await g.sockets.waitForSocket(id, 1);
    const res = await g.call('post', `/api/v1/sessions/${id}/numbers/lookup`).send({ phoneNumbers: [BUDI] });
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({ code: 'conflict', message: 'session is not connected', details: { status: 'connecting' } });
    expect(socket.directoryCalls).toEqual([]);
  });
});

describe('stored contacts (pushed by a connector as contact.upsert)', () => {
  let t: TestApp;
  let key: string;
  let sid: string;
  const HIDDEN = '998877665544332@lid';

  beforeAll(async () => {
    t = await startTestApp();
    key = await createKey(t, uniqueOrg('contacts'));
    sid = await createSession(t, key);
    await ingest(t, key, sid, [
      { type: 'contact.upsert', contact: { id: `${BUDI}@s.whatsapp.net`, lid: '215492034568291@lid', name: 'Budi Santoso', pushName: 'Budi' } },
      { type: 'contact.upsert', contact: { id: `${SARI}@s.whatsapp.net`, name: 'sari 100%', isBusiness: true } },
      { type: 'contact.upsert', contact: { id: '6281200000001@s.whatsapp.net', name: 'Andi' } },
      { type: 'contact.upsert', contact: { id: '6281200000002@s.whatsapp.net', pushName: 'Dewi' } },
      // The number is hidden: known by the LID only; its digits happen to start like a number.
      { type: 'contact.upsert', contact: { id: HIDDEN, pushName: 'Anon' } },
      { type: 'contact.upsert', contact: { id: '62812777@lid', name: 'Budiman' } },
    ]);
  });
  afterAll(() => t.close());

  const get = (path: string, withKey = key) => request(t.http).get(`/api/v1/sessions/${sid}${path}`).set(...auth(withKey));

  it('lists every contact once, in id order, over pages', async () => {
    const { items, pages } = await pageAll(t, key, `/api/v1/sessions/${sid}/contacts`, 2);
    expect(pages).toBe(3);
    // Byte order of the JIDs.
    expect(items.map((c) => c.id)).toEqual([
      '6281200000001@s.whatsapp.net',
      '6281200000002@s.whatsapp.net',
      `${BUDI}@s.whatsapp.net`,
      '62812777@lid',
      `${SARI}@s.whatsapp.net`,
      HIDDEN,
    ]);
    expect(items[2]).toEqual({ id: `${BUDI}@s.whatsapp.net`, phoneNumber: BUDI, lid: '215492034568291@lid', name: 'Budi Santoso', pushName: 'Budi', isBusiness: false });
    expect(items[5]).toEqual({ id: HIDDEN, phoneNumber: null, lid: HIDDEN, name: null, pushName: 'Anon', isBusiness: false });
  });

  it('filters by a name prefix (case-insensitively; the saved name, else the one the person set) or a number prefix, over pages too', async () => {
    const ids = async (q: string, limit = 50) => (await pageAll(t, key, `/api/v1/sessions/${sid}/contacts?q=${encodeURIComponent(q)}`, limit)).items.map((c) => c.id);
    expect(await ids('BUD')).toEqual([`${BUDI}@s.whatsapp.net`, '62812777@lid']);
    expect(await ids('bud', 1)).toEqual([`${BUDI}@s.whatsapp.net`, '62812777@lid']);
    // Without a saved name, the name the person set counts.
    expect(await ids('ano')).toEqual([HIDDEN]);
    // A number prefix finds numbers, not LIDs whose digits start the same.
    expect(await ids('62812')).toEqual(['6281200000001@s.whatsapp.net', '6281200000002@s.whatsapp.net', `${BUDI}@s.whatsapp.net`]);
    expect(await ids('62812', 2)).toEqual(['6281200000001@s.whatsapp.net', '6281200000002@s.whatsapp.net', `${BUDI}@s.whatsapp.net`]);
    // `%` and `_` are text, not patterns.
    expect(await ids('sari 100%')).toEqual([`${SARI}@s.whatsapp.net`]);
    expect(await ids('%')).toEqual([]);
    expect(await ids('_')).toEqual([]);
    expect(await ids('Dewi')).toEqual(['6281200000002@s.whatsapp.net']);
  });

  it.each([
    ['an empty q', '?q='],
    ['a q of 101 characters', `?q=${'x'.repeat(101)}`],
    ['a NUL in q', '?q=a%00b'],
    ['a limit of 0', '?limit=0'],
    ['a tampered cursor', '?cursor=abc.def'],
  ])('answers 422 for %s', async (_, query) => {
    const res = await get(`/contacts${query}`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_error');
  });

  it('gets a contact by its JID, or by the LID it is known to have', async () => {
    const budi = (await get(`/contacts/${BUDI}@s.whatsapp.net`)).body;
    expect(budi).toMatchObject({ id: `${BUDI}@s.whatsapp.net`, name: 'Budi Santoso' });
    expect((await get('/contacts/215492034568291%40lid')).body).toEqual(budi);
    expect((await get(`/contacts/${HIDDEN}`)).body).toMatchObject({ id: HIDDEN, pushName: 'Anon' });
    for (const jid of ['6289999999999@s.whatsapp.net', '111@lid', 'not-a-jid', '120363025246125486@g.us']) {
      const res = await get(`/contacts/${encodeURIComponent(jid)}`);
      expect(res.body).toEqual({ error: { code: 'not_found', message: 'contact not found', details: {} } });
    }
  });

  it('merges a LID-only contact into its number once the mapping is revealed', async () => {
    await ingest(t, key, sid, [{ type: 'contact.upsert', contact: { id: '6289900112233@s.whatsapp.net', lid: HIDDEN } }]);
    const merged = (await get(`/contacts/${HIDDEN}`)).body;
    expect(merged).toEqual({ id: '6289900112233@s.whatsapp.net', phoneNumber: '6289900112233', lid: HIDDEN, name: null, pushName: 'Anon', isBusiness: false });
  });

  it("answers 404 for another organization's session and shows it none of these contacts", async () => {
    const other = await createKey(t, uniqueOrg('contacts-other'));
    expect((await get('/contacts', other)).body.error.message).toBe('session not found');
    expect((await get(`/contacts/${BUDI}@s.whatsapp.net`, other)).body.error.message).toBe('session not found');
    const own = await createSession(t, other);
    expect((await request(t.http).get(`/api/v1/sessions/${own}/contacts`).set(...auth(other))).body).toEqual({ data: [], nextCursor: null });
  });
});

describe('contacts, LID mappings and groups from the Baileys socket', () => {
  let g: BaileysGateway;

  beforeAll(async () => {
    g = await startBaileysGateway();
  });
  afterAll(() => g.close());

  it("stores WhatsApp's contacts and LID mappings, and gives a group message from a LID its sender's number once revealed", async () => {
    const { id, socket } = await g.connectedSession();
    const group = '120363025246125486@g.us';
    const lid = '998877665544332@lid';
    socket.emit('contacts.upsert', [
      { id: `${BUDI}@s.whatsapp.net`, lid: '215492034568291@lid', name: 'Budi Santoso', notify: 'Budi' },
      { id: lid, notify: 'Anon' },
    ]);
    const message = {
      key: { remoteJid: group, fromMe: false, id: '3EB0LIDSENDER01', participant: lid },
      messageTimestamp: 1_732_400_000,
      message: { conversation: 'halo semua' },
    } as unknown as WAMessage;
    socket.emit('messages.upsert', { messages: [message], type: 'notify' });
    const path = `/api/v1/sessions/${id}/chats/${group}/messages/3EB0LIDSENDER01`;
    await eventually(async () => expect((await g.call('get', path)).body).toMatchObject({ senderId: lid, senderPhoneNumber: null }));
    expect((await g.call('get', `/api/v1/sessions/${id}/contacts/${lid}`)).body).toMatchObject({ id: lid, phoneNumber: null, pushName: 'Anon' });

    socket.emit('lid-mapping.update', { lid, pn: '6289900112233@s.whatsapp.net' });
    await eventually(async () => expect((await g.call('get', path)).body).toMatchObject({ senderId: lid, senderPhoneNumber: '6289900112233' }));
    expect((await g.call('get', `/api/v1/sessions/${id}/contacts/${lid}`)).body).toEqual({
      id: '6289900112233@s.whatsapp.net',
      phoneNumber: '6289900112233',
      lid,
      name: null,
      pushName: 'Anon',
      isBusiness: false,
    });
    expect((await g.call('get', `/api/v1/sessions/${id}/contacts/215492034568291@lid`)).body).toMatchObject({ id: `${BUDI}@s.whatsapp.net`, name: 'Budi Santoso' });
  });

  it("caches WhatsApp's group events and serves the group without asking, LID participants with their numbers", async () => {
    const { id, socket } = await g.connectedSession();
    const group = '120363025246125487@g.us';
    socket.emit('groups.upsert', [
      {
        id: group,
        subject: 'Keluarga',
        owner: `${BUDI}@s.whatsapp.net`,
        creation: 1_732_300_000,
        participants: [
          { id: `${BUDI}@s.whatsapp.net`, admin: 'superadmin' },
          { id: '443322110099887@lid', admin: null },
        ],
      },
    ]);
    const path = `/api/v1/sessions/${id}/groups/${group}`;
    // Stored by ingestion (a read before that would ask WhatsApp instead).
    await eventually(async () => expect(await g.dataSource.query('SELECT 1 FROM groups WHERE session_id = $1 AND jid = $2', [id, group])).toHaveLength(1));
    expect((await g.call('get', path)).status).toBe(200);
    expect(socket.directoryCalls).toEqual([]);
    expect((await g.call('get', path)).body.participants).toEqual([
      { id: `${BUDI}@s.whatsapp.net`, phoneNumber: BUDI, role: 'superadmin' },
      { id: '443322110099887@lid', phoneNumber: null, role: 'member' },
    ]);
    // Later WhatsApp reveals the LID's number, and someone joins.
    socket.emit('lid-mapping.update', { lid: '443322110099887@lid', pn: '6287712345678@s.whatsapp.net' });
    socket.emit('group-participants.update', { id: group, author: `${BUDI}@s.whatsapp.net`, participants: [{ id: `${SARI}@s.whatsapp.net` }], action: 'add' });
    await eventually(async () =>
      expect((await g.call('get', path)).body.participants).toEqual([
        { id: `${BUDI}@s.whatsapp.net`, phoneNumber: BUDI, role: 'superadmin' },
        { id: '443322110099887@lid', phoneNumber: '6287712345678', role: 'member' },
        { id: `${SARI}@s.whatsapp.net`, phoneNumber: SARI, role: 'member' },
      ]),
    );
    socket.emit('groups.update', [{ id: group, subject: 'Keluarga Besar', announce: true }]);
    await eventually(async () => expect((await g.call('get', path)).body).toMatchObject({ subject: 'Keluarga Besar', announce: true }));
    expect(socket.directoryCalls).toEqual([]);
  });
});
