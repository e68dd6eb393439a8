import type { BinaryNode } from 'baileys';
import request from 'supertest';
import { closeError, fakeGroup } from '../fixtures/baileys/fake-socket';
import { BaileysGateway, OWN_NUMBER, startBaileysGateway } from '../support/baileys-gateway';
import { ConnectorServer } from '../support/connector-server';
import { auth, createSession, ingest } from '../support/ingest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

const GROUP = '120363025246125486@g.us';
const BUDI = '6281234567890';
const SARI = '6285711223344';
const OWN_JID = `${OWN_NUMBER}@s.whatsapp.net`;

/** A group as §10 shows it, as a connector answers it. */
function groupJson(id = GROUP, subject = 'Keluarga') {
  return {
    id,
    subject,
    description: 'Grup keluarga',
    ownerId: OWN_JID,
    createdAt: 1_732_300_000_000,
    participants: [
      { id: OWN_JID, phoneNumber: OWN_NUMBER, role: 'superadmin' },
      { id: '215492034568291@lid', phoneNumber: null, role: 'admin' },
      { id: `${BUDI}@s.whatsapp.net`, phoneNumber: BUDI, role: 'member' },
    ],
    announce: false,
    restrict: true,
  };
}

describe('groups through a connector (external provider)', () => {
  const connector = new ConnectorServer();
  let t: TestApp;
  let key: string;
  let sid: string;

  beforeAll(async () => {
    t = await startTestApp({ WA_EXTERNAL_SEND_URL: await connector.start() });
    key = await createKey(t, uniqueOrg('groups'));
    sid = await createSession(t, key);
  });
  afterAll(async () => {
    await t.close();
    await connector.stop();
  });
  beforeEach(() => {
    connector.requests.length = 0;
    connector.respond = 200;
    connector.answer = (body) => {
      const action = body.action as { type: string; subject?: string };
      if (action.type === 'group.get') return groupJson(body.chatId as string);
      if (action.type === 'group.create') return groupJson('120363000000000777@g.us', action.subject);
      if (action.type === 'group.invite-link') return { url: 'https://chat.whatsapp.com/AbCdEfGhIjK1234567890' };
      const [verb, numbers] = Object.entries(action).find(([k]) => k !== 'type') as unknown as [string, string[]];
      return { data: numbers.map((phoneNumber, i) => ({ phoneNumber, result: i === 0 ? (verb === 'add' ? 'added' : `${verb}d`) : 'failed', reason: i === 0 ? null : 'already a participant' })) };
    };
  });

  const get = (path: string, withKey = key) => request(t.http).get(`/api/v1/sessions/${sid}${path}`).set(...auth(withKey));
  const post = (path: string, body: unknown, withKey = key) => request(t.http).post(`/api/v1/sessions/${sid}${path}`).set(...auth(withKey)).send(body as object);

  it('asks the connector for a group it has not cached, caches it, and serves the cache after that', async () => {
    const jid = '120363025246125001@g.us';
    const first = await get(`/groups/${encodeURIComponent(jid)}`);
    expect(first.status).toBe(200);
    expect(first.body).toEqual(groupJson(jid));
    expect(connector.requests.map((r) => r.body)).toEqual([{ sessionId: sid, chatId: jid, action: { type: 'group.get' } }]);

    const second = await get(`/groups/${jid}`);
    expect(second.body).toEqual(first.body);
    expect(connector.requests).toHaveLength(1);

    // `refresh=true` asks again and caches the new answer.
    connector.answer = () => ({ ...groupJson(jid), subject: 'Keluarga Besar' });
    expect((await get(`/groups/${jid}?refresh=true`)).body.subject).toBe('Keluarga Besar');
    expect(connector.requests).toHaveLength(2);
    expect((await get(`/groups/${jid}`)).body.subject).toBe('Keluarga Besar');
    expect(connector.requests).toHaveLength(2);
    expect((await get(`/groups/${jid}?refresh=yes`)).status).toBe(422);
  });

  it("fills a LID participant's number from what the session knows of that LID", async () => {
    const jid = '120363025246125004@g.us';
    // A session of its own: the mapping stays out of the other tests' groups.
    const own = await createSession(t, key);
    const read = () => request(t.http).get(`/api/v1/sessions/${own}/groups/${jid}`).set(...auth(key));
    expect((await read()).body.participants[1]).toEqual({ id: '215492034568291@lid', phoneNumber: null, role: 'admin' });
    await ingest(t, key, own, [{ type: 'contact.upsert', contact: { id: `${SARI}@s.whatsapp.net`, lid: '215492034568291@lid' } }]);
    expect((await read()).body.participants[1]).toEqual({ id: '215492034568291@lid', phoneNumber: SARI, role: 'admin' });
    expect(connector.requests).toHaveLength(1);
  });

  it('creates a group (201, cached) with the connector', async () => {
    const res = await post('/groups', { subject: 'Pelanggan 🛒', participants: [BUDI, SARI] });
    expect(res.status).toBe(201);
    expect(res.body).toEqual(groupJson('120363000000000777@g.us', 'Pelanggan 🛒'));
    expect(connector.requests.map((r) => r.body)).toEqual([
      { sessionId: sid, action: { type: 'group.create', subject: 'Pelanggan 🛒', participants: [BUDI, SARI] } },
    ]);
    expect((await get('/groups/120363000000000777@g.us')).body.subject).toBe('Pelanggan 🛒');
    expect(connector.requests).toHaveLength(1);
  });

  it('changes participants with the connector, one action per request, and asks for the group again afterwards', async () => {
    await get(`/groups/${GROUP}`);
    const res = await post(`/groups/${GROUP}/participants`, { add: [BUDI, SARI] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [{ phoneNumber: BUDI, result: 'added', reason: null }, { phoneNumber: SARI, result: 'failed', reason: 'already a participant' }] });
    expect(connector.requests[1].body).toEqual({ sessionId: sid, chatId: GROUP, action: { type: 'group.participants', add: [BUDI, SARI] } });
    // The cached member list no longer holds: the next read asks.
    await get(`/groups/${GROUP}`);
    expect(connector.requests.map((r) => (r.body as { action: { type: string } }).action.type)).toEqual(['group.get', 'group.participants', 'group.get']);

    connector.answer = () => ({ data: [{ phoneNumber: BUDI, result: 'removed', reason: null }] });
    expect((await post(`/groups/${GROUP}/participants`, { remove: [BUDI] })).body).toEqual({ data: [{ phoneNumber: BUDI, result: 'removed', reason: null }] });
    // A result the action cannot have is a malformed answer.
    connector.answer = () => ({ data: [{ phoneNumber: BUDI, result: 'added', reason: null }] });
    expect((await post(`/groups/${GROUP}/participants`, { demote: [BUDI] })).status).toBe(503);
  });

  it('gives the invite link from the connector', async () => {
    const res = await get(`/groups/${GROUP}/invite-link`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ url: 'https://chat.whatsapp.com/AbCdEfGhIjK1234567890' });
    expect(connector.requests.map((r) => r.body)).toEqual([{ sessionId: sid, chatId: GROUP, action: { type: 'group.invite-link' } }]);
  });

  it('answers 503 for a malformed or failed answer, 404 when the connector does not know the group, and caches nothing', async () => {
    const jid = '120363025246125002@g.us';
    connector.answer = () => groupJson('120363025246125003@g.us');
    const wrongGroup = await get(`/groups/${jid}`);
    expect(wrongGroup.status).toBe(503);
    expect(wrongGroup.body.error.message).toMatch(/^the connector gave a malformed answer/);
    expect(wrongGroup.headers['retry-after']).toBeDefined();
    connector.answer = () => 'not json';
    expect((await get(`/groups/${jid}`)).status).toBe(503);
    connector.answer = null;
    connector.respond = 500;
    expect((await get(`/groups/${jid}`)).status).toBe(503);
    connector.respond = 404;
    expect((await get(`/groups/${jid}`)).body).toEqual({ error: { code: 'not_found', message: 'group not found', details: {} } });
    connector.respond = 409;
    expect((await get(`/groups/${jid}/invite-link`)).status).toBe(409);
    expect(connector.requests).toHaveLength(5);
  });

  it('answers 404 for a JID that is not a group, after checking the session, and for another organization', async () => {
    for (const jid of [`${BUDI}@s.whatsapp.net`, 'not-a-jid', '215492034568291@lid']) {
      expect((await get(`/groups/${encodeURIComponent(jid)}`)).body.error).toEqual({ code: 'not_found', message: 'group not found', details: {} });
      expect((await get(`/groups/${encodeURIComponent(jid)}/invite-link`)).status).toBe(404);
      expect((await post(`/groups/${encodeURIComponent(jid)}/participants`, { add: [BUDI] })).status).toBe(404);
    }
    const other = await createKey(t, uniqueOrg('groups-other'));
    for (const res of [
      await get(`/groups/${GROUP}`, other),
      await get(`/groups/${GROUP}/invite-link`, other),
      await post('/groups', { subject: 'x', participants: [BUDI] }, other),
      await post(`/groups/${GROUP}/participants`, { add: [BUDI] }, other),
    ]) {
      expect(res.body).toEqual({ error: { code: 'not_found', message: 'session not found', details: {} } });
    }
    expect(connector.requests).toHaveLength(0);
  });

  it.each([
    ['no action', {}],
    ['two actions', { add: [BUDI], remove: [SARI] }],
    ['an empty list', { add: [] }],
    ['51 numbers', { add: Array.from({ length: 51 }, (_, i) => `62812000${String(i).padStart(5, '0')}`) }],
    ['a duplicate', { add: [BUDI, BUDI] }],
    ['a + number', { add: [`+${BUDI}`] }],
    ['a number as an integer', { add: [6281234567890] }],
    ['a number too short', { promote: ['1234'] }],
    ['an unknown action', { kick: [BUDI] }],
    ['null', { add: null }],
  ])('answers 422 for participants with %s, asking nothing', async (_, body) => {
    const res = await post(`/groups/${GROUP}/participants`, body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_error');
    expect(connector.requests).toHaveLength(0);
  });

  it.each([
    ['no subject', { participants: [BUDI] }],
    ['an empty subject', { subject: '', participants: [BUDI] }],
    ['a subject of 101 characters', { subject: 'x'.repeat(101), participants: [BUDI] }],
    ['a NUL in the subject', { subject: 'a\u0000b', participants: [BUDI] }],
    ['a lone surrogate', { subject: 'a\ud800', participants: [BUDI] }],
    ['no participants', { subject: 'x', participants: [] }],
    ['257 participants', { subject: 'x', participants: Array.from({ length: 257 }, (_, i) => `62812000${String(i).padStart(5, '0')}`) }],
    ['an unknown field', { subject: 'x', participants: [BUDI], description: 'y' }],
  ])('answers 422 for a group with %s, asking nothing', async (_, body) => {
    const res = await post('/groups', body);
    expect(res.status).toBe(422);
    expect(connector.requests).toHaveLength(0);
  });
});

describe('groups with WA_PROVIDER=baileys (stand-in sockets)', () => {
  let g: BaileysGateway;

  beforeAll(async () => {
    g = await startBaileysGateway();
  });
  afterAll(() => g.close());

  it('asks the socket for group metadata and serves it as §10 shows it', async () => {
    const { id, socket } = await g.connectedSession();
    socket.groupMetadataBehaviour = (jid) =>
      Promise.resolve({
        ...fakeGroup(jid, 'Keluarga', []),
        owner: '215492034568291@lid',
        ownerPn: `${BUDI}@s.whatsapp.net`,
        desc: 'Grup keluarga',
        announce: true,
        participants: [
          { id: '215492034568291@lid', phoneNumber: `${BUDI}@s.whatsapp.net`, admin: 'superadmin' },
          { id: `${SARI}@s.whatsapp.net`, admin: 'admin' },
          { id: '102938475610293@lid', admin: null },
        ],
      });
    const res = await g.call('get', `/api/v1/sessions/${id}/groups/${GROUP}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: GROUP,
      subject: 'Keluarga',
      description: 'Grup keluarga',
      ownerId: `${BUDI}@s.whatsapp.net`,
      createdAt: 1_732_400_000_000,
      participants: [
        { id: '215492034568291@lid', phoneNumber: BUDI, role: 'superadmin' },
        { id: `${SARI}@s.whatsapp.net`, phoneNumber: SARI, role: 'admin' },
        { id: '102938475610293@lid', phoneNumber: null, role: 'member' },
      ],
      announce: true,
      restrict: false,
    });
    expect(socket.directoryCalls).toEqual([['groupMetadata', GROUP]]);
    await g.call('get', `/api/v1/sessions/${id}/groups/${GROUP}`);
    expect(socket.directoryCalls).toHaveLength(1);
  });

  it('creates a group through the socket', async () => {
    const { id, socket } = await g.connectedSession();
    const res = await g.call('post', `/api/v1/sessions/${id}/groups`).send({ subject: 'Pelanggan', participants: [BUDI, SARI] });
    expect(res.status).toBe(201);
    expect(socket.directoryCalls).toEqual([['groupCreate', 'Pelanggan', [`${BUDI}@s.whatsapp.net`, `${SARI}@s.whatsapp.net`]]]);
    expect(res.body).toMatchObject({ id: '120363000000000001@g.us', subject: 'Pelanggan', ownerId: OWN_JID });
    expect(res.body.participants).toEqual([
      { id: OWN_JID, phoneNumber: OWN_NUMBER, role: 'superadmin' },
      { id: `${BUDI}@s.whatsapp.net`, phoneNumber: BUDI, role: 'member' },
      { id: `${SARI}@s.whatsapp.net`, phoneNumber: SARI, role: 'member' },
    ]);
  });

  it("maps WhatsApp's per-number codes: added, invited (an invitation is sent), failed with a reason", async () => {
    const { id, socket } = await g.connectedSession();
    const refused = '6287700000000';
    const node = (jid: string, error?: string, content?: BinaryNode[]): BinaryNode => ({ tag: 'participant', attrs: { jid, ...(error ? { error } : {}) }, content });
    socket.participantsBehaviour = (_jid, participants) =>
      Promise.resolve([
        { status: '200', jid: participants[0], content: node(participants[0]) },
        { status: '403', jid: participants[1], content: node(participants[1], '403', [{ tag: 'add_request', attrs: { code: 'InV1te', expiration: '1733000000' } }]) },
        { status: '409', jid: participants[2], content: node(participants[2], '409') },
      ]);
    const res = await g.call('post', `/api/v1/sessions/${id}/groups/${GROUP}/participants`).send({ add: [BUDI, SARI, refused] });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      { phoneNumber: BUDI, result: 'added', reason: null },
      { phoneNumber: SARI, result: 'invited', reason: expect.stringContaining('invitation') },
      { phoneNumber: refused, result: 'failed', reason: 'already a participant' },
    ]);
    expect(socket.directoryCalls[0]).toEqual(['groupParticipantsUpdate', GROUP, [BUDI, SARI, refused].map((n) => `${n}@s.whatsapp.net`), 'add']);
    // The invitation went to the refused number as a message, as WhatsApp does it.
    expect(socket.sent).toHaveLength(1);
    expect(socket.sent[0]).toMatchObject({
      jid: `${SARI}@s.whatsapp.net`,
      content: { groupInvite: { inviteCode: 'InV1te', inviteExpiration: 1_733_000_000, jid: GROUP, subject: 'Group' } },
    });

    socket.participantsBehaviour = (_jid, participants) =>
      Promise.resolve(participants.map((p) => ({ status: '200', jid: p, content: { tag: 'participant', attrs: { jid: p } } })));
    const promote = await g.call('post', `/api/v1/sessions/${id}/groups/${GROUP}/participants`).send({ promote: [BUDI] });
    expect(promote.body.data).toEqual([{ phoneNumber: BUDI, result: 'promoted', reason: null }]);
    expect(socket.directoryCalls.at(-1)).toEqual(['groupParticipantsUpdate', GROUP, [`${BUDI}@s.whatsapp.net`], 'promote']);
  });

  it('gives the invite link, and maps refusals: not an admin 409, unknown group 404, no answer 503', async () => {
    const { id, socket } = await g.connectedSession();
    const link = await g.call('get', `/api/v1/sessions/${id}/groups/${GROUP}/invite-link`);
    expect(link.body).toEqual({ url: 'https://chat.whatsapp.com/AbCdEfGhIjK1234567890' });
    expect(socket.directoryCalls).toEqual([['groupInviteCode', GROUP]]);

    const boom = (code: number, text: string) => Object.assign(new Error(text), { isBoom: true, data: code, output: { statusCode: 500 } });
    socket.inviteCodeBehaviour = () => Promise.reject(boom(401, 'not-authorized'));
    const notAdmin = await g.call('get', `/api/v1/sessions/${id}/groups/${GROUP}/invite-link`);
    expect(notAdmin.status).toBe(409);
    expect(notAdmin.body.error.message).toMatch(/not an admin/);
    socket.groupMetadataBehaviour = () => Promise.reject(boom(404, 'item-not-found'));
    expect((await g.call('get', `/api/v1/sessions/${id}/groups/120363000000000404@g.us`)).body.error).toEqual({
      code: 'not_found',
      message: 'group not found',
      details: {},
    });
    socket.groupMetadataBehaviour = () => Promise.reject(new Error('Connection Closed'));
    const down = await g.call('get', `/api/v1/sessions/${id}/groups/120363000000000405@g.us`);
    expect(down.status).toBe(503);
    expect(down.body.error.message).toBe('WhatsApp did not answer the group request');
  });

  it('answers 409 while the session is not connected, asking nothing', async () => {
    const id = await g.createSession();
    const socket = await g.sockets.waitForSocket(id, 1);
    const res = await g.call('get', `/api/v1/sessions/${id}/groups/${GROUP}`);
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({ code: 'conflict', message: 'session is not connected', details: { status: 'connecting' } });
    socket.close(closeError(401, 'logged out'));
    await g.expectStatus(id, 'logged_out');
    expect((await g.call('post', `/api/v1/sessions/${id}/groups`).send({ subject: 'x', participants: [BUDI] })).status).toBe(409);
    expect(socket.directoryCalls).toEqual([]);
  });
});
