import type { BaileysEventMap, Chat, ChatUpdate, ConnectionState, WAMessageUpdate } from 'baileys';
import pino from 'pino';
import { Writable } from 'node:stream';
import { ConflictError } from '../../src/common/errors/app-error';
import { BaileysHarness, eventually, startBaileysHarness } from '../fixtures/baileys/baileys-harness';
import { closeError } from '../fixtures/baileys/fake-socket';
import { loadFixture } from '../fixtures/baileys/load-fixture';

const BUDI = '6281234567890@s.whatsapp.net';
const FAMILY = '120363025246125486@g.us';
const SARI = '215492034568291@lid';
const ALUMNI = '6281234567890-1609459200@g.us';
const OWN = '6281200000000@s.whatsapp.net';

const updates = loadFixture<Record<string, Partial<ConnectionState>>>('connection-updates.json');
const network = () => closeError(408, 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)');

describe('Baileys provider (stand-in sockets, real ingestion and PostgreSQL)', () => {
  let h: BaileysHarness;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
          done();
        },
      }),
    );
    h = await startBaileysHarness({}, { reconnect: { baseMs: 1000, maxMs: 8000 } }, logger);
  });
  afterAll(() => h.close());

  const session = (id: string) => h.get(`/api/v1/sessions/${id}`);
  const chats = (id: string) => h.chats(id);
  const messages = (id: string, chatId: string) => h.messages(id, chatId);
  const authRows = async (id: string) =>
    (await h.dataSource.query<{ key: string }[]>('SELECT key FROM session_auth WHERE session_id = $1', [id])).map((r) => r.key);
  const expectStatus = (id: string, status: string, extra: Record<string, unknown> = {}) =>
    eventually(async () => expect(await session(id)).toMatchObject({ status, ...extra }));

  const connectedSession = async () => {
    const connected = await h.connectedSession();
    await expectStatus(connected.id, 'connected', { phoneNumber: '6281200000000' });
    return connected;
  };

  it('connects at once, shows the QR while pairing, pairs, restarts and reads as connected with the number', async () => {
    const id = await h.createSession();
    await h.provider.connect({ id, orgId: h.orgId });
    // `connect` returns once `connecting` is stored.
    expect(await session(id)).toMatchObject({ status: 'connecting', phoneNumber: null });
    await h.provider.connect({ id, orgId: h.orgId });
    const socket = await h.sockets.waitForSocket(id, 1);
    expect(h.sockets.count(id)).toBe(1);

    socket.emit('connection.update', updates.connecting);
    expect(h.provider.currentQr(id)).toBeNull();
    socket.emit('connection.update', updates.firstQr);
    await expectStatus(id, 'pairing');
    // The first QR of a socket lives 60 s, each later one 20 s.
    expect(h.provider.currentQr(id)).toEqual({ qr: updates.firstQr.qr, expiresAt: h.clock.now() + 60_000 });
    h.clock.advance(60_001);
    expect(h.provider.currentQr(id)).toBeNull();
    socket.emit('connection.update', updates.nextQr);
    expect(h.provider.currentQr(id)).toEqual({ qr: updates.nextQr.qr, expiresAt: h.clock.now() + 20_000 });
    expect(await h.provider.requestPairingCode(id, '6281200000000')).toBe('ABCD2EFG');
    expect(h.provider.canSend(id)).toBe(false);

    socket.paired();
    socket.close(closeError(515, 'Stream Errored (restart required)'));
    const second = await h.sockets.waitForSocket(id, 2);
    // Restart required: a new socket at once, with the same (now paired) credentials.
    expect(h.clock.pendingDelays()).toEqual([]);
    expect(second.options.auth.creds.me?.id).toBe('6281200000000:12@s.whatsapp.net');
    second.open();
    await expectStatus(id, 'connected', { phoneNumber: '6281200000000' });
    expect(h.provider.canSend(id)).toBe(true);
    expect(h.provider.currentQr(id)).toBeNull();
    await expect(h.provider.requestPairingCode(id, '6281200000000')).rejects.toThrow(ConflictError);
    await h.provider.disconnect(id);
  });

  it('reconnects after transient closes with capped exponential backoff; WhatsApp answering resets it', async () => {
    const id = await h.createSession();
    await h.provider.connect({ id, orgId: h.orgId });
    // base 1 s, cap 8 s, jitter fixed at the middle: 0.75, 1.5, 3, 6, 6 s.
    const expected = [750, 1500, 3000, 6000, 6000];
    for (const [attempt, delay] of expected.entries()) {
      const socket = await h.sockets.waitForSocket(id, attempt + 1);
      socket.emit('connection.update', updates.connecting);
      socket.close(network());
      expect(h.clock.pendingDelays()).toEqual([delay]);
      h.clock.advance(delay);
    }
    await expectStatus(id, 'connecting');
    // A QR means WhatsApp answered: the next close starts from the base again.
    const socket = await h.sockets.waitForSocket(id, expected.length + 1);
    socket.emit('connection.update', updates.firstQr);
    socket.close(closeError(408, 'QR refs attempts ended'));
    expect(h.clock.pendingDelays()).toEqual([750]);
    expect(logLines.filter((l) => l.sessionId === id && l.msg === 'WhatsApp connection closed; reconnecting')).toHaveLength(6);
    await h.provider.disconnect(id);
    expect(h.clock.pendingDelays()).toEqual([]);
  });

  it('restarts at once when WhatsApp asks, but backs off when it keeps asking without ever opening', async () => {
    const id = await h.createSession();
    await h.provider.connect({ id, orgId: h.orgId });
    const first = await h.sockets.waitForSocket(id, 1);
    first.close(closeError(515, 'Stream Errored (restart required)'));
    const second = await h.sockets.waitForSocket(id, 2);
    expect(h.clock.pendingDelays()).toEqual([]);
    second.close(closeError(515, 'Stream Errored (restart required)'));
    expect(h.clock.pendingDelays()).toEqual([1500]);
    await h.provider.disconnect(id);
  });

  it('retries when the socket cannot even be made, and keeps other sessions apart from a failing one', async () => {
    const failing = await h.createSession();
    h.sockets.failures.set(failing, 2);
    await h.provider.connect({ id: failing, orgId: h.orgId });
    await eventually(() => expect(h.clock.pendingDelays()).toEqual([750]));
    const healthy = await connectedSession();

    h.clock.advance(750);
    await eventually(() => expect(h.clock.pendingDelays()).toEqual([1500]));
    h.clock.advance(1500);
    const socket = await h.sockets.waitForSocket(failing, 1);
    expect(await session(failing)).toMatchObject({ status: 'connecting' });

    // A handler that throws (a payload it cannot read) is logged; the session goes on.
    socket.emit('chats.update', {} as unknown as ChatUpdate[]);
    await eventually(() =>
      expect(logLines.find((l) => l.sessionId === failing && l.msg === 'failed to handle a WhatsApp event')).toMatchObject({
        event: 'chats.update',
      }),
    );
    socket.emit('chats.upsert', [{ id: BUDI, name: 'Budi', unreadCount: 0 }]);
    await eventually(async () => expect((await chats(failing)).map((c) => c.id)).toEqual([BUDI]));

    expect(await session(healthy.id)).toMatchObject({ status: 'connected' });
    expect(h.provider.canSend(healthy.id)).toBe(true);
    await h.provider.disconnect(failing);
    await h.provider.disconnect(healthy.id);
  });

  it('stores what a history sync and the live events after it describe', async () => {
    const { id, socket } = await connectedSession();
    socket.emit('messaging-history.set', loadFixture<BaileysEventMap['messaging-history.set']>('history-sync.json'));

    await eventually(async () =>
      expect(await chats(id)).toEqual([
        { id: BUDI, name: 'Budi Santoso', type: 'direct', archived: false, pinned: true, mutedUntil: null, unreadCount: 2, lastMessageAt: 1732400100000 },
        { id: FAMILY, name: 'Keluarga Besar', type: 'group', archived: true, pinned: false, mutedUntil: 1767225600000, unreadCount: 0, lastMessageAt: 1732399000000 },
        { id: SARI, name: 'Sari', type: 'direct', archived: false, pinned: false, mutedUntil: -1, unreadCount: 1, lastMessageAt: 1732398000000 },
        { id: ALUMNI, name: 'Alumni 2010', type: 'group', archived: false, pinned: false, mutedUntil: null, unreadCount: 0, lastMessageAt: 1732390000000 },
      ]),
    );
    const plain = { replyTo: null, reactions: [], edited: false, revoked: false, location: null, contacts: null, senderPhoneNumber: '6281234567890' };
    expect(await messages(id, BUDI)).toEqual([
      { id: '3EB0A1B2C3D4E5F60718', chatId: BUDI, fromMe: false, senderId: BUDI, timestamp: 1732400100000, type: 'text', text: 'Halo, apa kabar?', status: null, media: null, ...plain },
      { id: '3EB0C0FFEE0000000002', chatId: BUDI, fromMe: true, senderId: OWN, timestamp: 1732400050000, type: 'text', text: 'Baik, cek https://example.com', status: 'read', media: null, ...plain, senderPhoneNumber: '6281200000000' },
      { id: '3EB0IMAGE00000000003', chatId: BUDI, fromMe: false, senderId: BUDI, timestamp: 1732400000000, type: 'image', text: 'Foto liburan', status: null, media: {
        mimetype: 'image/jpeg', size: 204800, fileName: null, sha256: 'abcdef123456789abcdef123456789abcdef123456789abcdef123456789abcd',
        width: 960, height: 1280, durationMs: null, voiceNote: false, status: 'pending',
      }, ...plain },
      { id: '3EB0EPHEMERAL0000004', chatId: BUDI, fromMe: false, senderId: BUDI, timestamp: 1732399950000, type: 'text', text: 'Pesan sementara', status: null, media: null, ...plain },
      { id: '3EB0VIEWONCE00000005', chatId: BUDI, fromMe: false, senderId: BUDI, timestamp: 1732399900000, type: 'image', text: null, status: null, media: null, ...plain },
    ]);
    expect((await messages(id, FAMILY)).map((m) => [m.id, m.type, m.senderId, m.text])).toEqual([
      ['A1B2C3D4E5F6A7B8C9D0', 'text', '6285611112222@s.whatsapp.net', 'Selamat pagi semua'],
      ['A1B2C3D4E5F6A7B8C9D1', 'video', '6285733334444@s.whatsapp.net', 'Video acara kemarin'],
      ['A1B2C3D4E5F6A7B8C9D2', 'audio', '11223344556677@lid', null],
    ]);
    // The history's reaction is on the message it reacts to.
    expect((await messages(id, FAMILY)).find((m) => m.id === 'A1B2C3D4E5F6A7B8C9D0')).toMatchObject({
      reactions: [{ senderId: OWN, emoji: '👍', timestamp: 1732398975000 }],
    });
    expect((await messages(id, SARI)).map((m) => [m.id, m.type, m.text, m.status])).toEqual([
      ['3AF1D0C0000000000008', 'document', 'Laporan Q3', null],
      ['3AF1D0C0000000000009', 'sticker', null, null],
      ['3AF1D0C0000000000010', 'location', null, null],
      ['3AF1D0C0000000000011', 'contact', 'Andi', null],
      ['3EB0POLL000000000012', 'unknown', null, 'sent'],
    ]);
    const raw = await h.dataSource.query<{ raw: { message: { imageMessage: { mediaKey: unknown } } } }[]>(
      'SELECT raw FROM messages WHERE session_id = $1 AND id = $2',
      [id, '3EB0IMAGE00000000003'],
    );
    expect(raw[0].raw.message.imageMessage.mediaKey).toEqual({ type: 'Buffer', data: 'ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8=' });

    // Live: a group message, an image, a reaction, then a revoke and an edit of history messages.
    socket.emit('messages.upsert', loadFixture<BaileysEventMap['messages.upsert']>('messages-upsert-notify.json'));
    socket.emit('messages.upsert', loadFixture<BaileysEventMap['messages.upsert']>('messages-upsert-append.json'));
    socket.emit('messages.update', loadFixture<WAMessageUpdate[]>('messages-update.json'));
    socket.emit('chats.update', loadFixture<ChatUpdate[]>('chats-update.json'));
    socket.emit('groups.update', loadFixture<BaileysEventMap['groups.update']>('groups-update.json'));
    socket.emit('chats.upsert', loadFixture<Chat[]>('chats-upsert.json'));
    socket.emit('chats.delete', loadFixture<string[]>('chats-delete.json'));

    await eventually(async () =>
      expect(
        (await chats(id)).map((c) => [c.id, c.name, c.archived, c.pinned, c.mutedUntil, c.unreadCount]),
      ).toEqual([
        [SARI, 'Sari', false, true, -1, 1],
        [BUDI, 'Budi Santoso', true, false, null, 0],
        [FAMILY, 'Keluarga Besar 2025', false, false, null, 0],
        [ALUMNI, 'Alumni 2010', false, false, 1764000000000, 0],
        ['120363055555555555@g.us', 'Panitia 17an', false, false, null, 0],
      ]),
    );
    const budi = await messages(id, BUDI);
    expect(budi[0]).toMatchObject({ id: '3EB0LIVEIMAGE0000001', type: 'image', text: 'Ini tempatnya' });
    expect(budi.find((m) => m.id === '3EB0C0FFEE0000000002')).toMatchObject({
      reactions: [{ senderId: BUDI, emoji: '❤️', timestamp: 1732399021000 }],
    });
    expect(budi.find((m) => m.id === '3EB0A1B2C3D4E5F60718')).toMatchObject({ text: null });
    expect(budi.find((m) => m.id === '3EB0C0FFEE0000000002')).toMatchObject({ text: 'Baik, sudah dicek', status: 'read' });
    expect((await messages(id, SARI))[0]).toMatchObject({
      id: '3EB0FROMPHONE0000001',
      fromMe: true,
      text: 'Terkirim dari HP (diedit)',
      status: 'read',
    });
    const family = await messages(id, FAMILY);
    expect(family[0]).toMatchObject({ id: '3A5C7E9F1B3D5F7A9C1E', senderId: '6285733334444@s.whatsapp.net', text: 'Nanti malam kumpul jam 7 ya' });
    expect(family.find((m) => m.id === 'A1B2C3D4E5F6A7B8C9D0')).toMatchObject({ text: null, revoked: true });
    // The sender of the @lid-addressed live message has its number, which the key revealed.
    expect(family[0]).toMatchObject({ senderPhoneNumber: '6285733334444' });
    await h.provider.disconnect(id);
  });

  it('sends through the socket with the stored id, and does not store its echo over the stored message', async () => {
    const { id, socket } = await connectedSession();
    const target = { id, orgId: h.orgId };
    await h.provider.send(target, BUDI, { id: '3EB0GATEWAY000000001', type: 'text', text: 'Halo dari gateway' });
    expect(socket.sent).toEqual([
      { jid: BUDI, content: { text: 'Halo dari gateway' }, options: { messageId: '3EB0GATEWAY000000001' } },
    ]);
    // WhatsApp asking to resend gets the content back.
    expect(await socket.options.getMessage({ remoteJid: BUDI, id: '3EB0GATEWAY000000001', fromMe: true })).toEqual({
      conversation: 'Halo dari gateway',
    });
    socket.emit('messages.upsert', {
      type: 'append',
      messages: [
        { key: { remoteJid: BUDI, fromMe: true, id: '3EB0GATEWAY000000001' }, message: { extendedTextMessage: { text: 'Halo dari gateway' } }, messageTimestamp: 1732402000, status: 1 },
        { key: { remoteJid: BUDI, fromMe: true, id: '3EB0FROMPHONE0000009' }, message: { conversation: 'dari HP' }, messageTimestamp: 1732402001, status: 2 },
      ],
    });
    await eventually(async () => expect((await messages(id, BUDI)).map((m) => m.id)).toEqual(['3EB0FROMPHONE0000009']));

    socket.sendBehaviour = () => Promise.reject(new Error('not-acceptable'));
    await expect(h.provider.send(target, BUDI, { id: '3EB0GATEWAY000000002', type: 'text', text: 'x' })).rejects.toThrow('not-acceptable');
    socket.sendBehaviour = () => new Promise(() => undefined);
    const hanging = h.provider.send(target, BUDI, { id: '3EB0GATEWAY000000003', type: 'text', text: 'y' });
    h.clock.advance(8000);
    await expect(hanging).rejects.toThrow(/did not accept the message within 8000 ms/);

    await h.provider.disconnect(id);
    expect(h.provider.canSend(id)).toBe(false);
    await expect(h.provider.send(target, BUDI, { id: '3EB0GATEWAY000000004', type: 'text', text: 'z' })).rejects.toThrow(ConflictError);
  });

  it('applies archive (naming the last message), pin and mute to WhatsApp when connected, best effort', async () => {
    const { id, socket } = await connectedSession();
    const target = { id, orgId: h.orgId };
    socket.emit('messaging-history.set', loadFixture<BaileysEventMap['messaging-history.set']>('history-sync.json'));
    await h.provider.applyChatState(target, BUDI, { archived: true, pinned: true, mutedUntil: -1 });
    await h.provider.applyChatState(target, FAMILY, { mutedUntil: null, archived: false });
    expect(socket.modifications).toEqual([
      {
        jid: BUDI,
        modification: {
          archive: true,
          lastMessages: [{ key: { remoteJid: BUDI, fromMe: false, id: '3EB0A1B2C3D4E5F60718' }, messageTimestamp: 1732400100 }],
        },
      },
      { jid: BUDI, modification: { pin: true } },
      { jid: BUDI, modification: { mute: -1 } },
      {
        jid: FAMILY,
        modification: {
          archive: false,
          lastMessages: [
            { key: { remoteJid: FAMILY, fromMe: false, id: 'A1B2C3D4E5F6A7B8C9D0', participant: '6285611112222@s.whatsapp.net' }, messageTimestamp: 1732399000 },
          ],
        },
      },
      { jid: FAMILY, modification: { mute: null } },
    ]);

    socket.modifyBehaviour = () => Promise.reject(new Error('app state sync failed'));
    await expect(h.provider.applyChatState(target, SARI, { pinned: false })).resolves.toBeUndefined();
    expect(logLines.find((l) => l.sessionId === id && l.msg === 'could not apply a chat change to WhatsApp')).toMatchObject({
      chatJid: SARI,
      modification: 'pin',
    });

    await h.provider.disconnect(id);
    const before = socket.modifications.length;
    await h.provider.applyChatState(target, BUDI, { pinned: false });
    expect(socket.modifications).toHaveLength(before);
  });

  it('on "logged out" stops, forgets the credentials and keeps the stored copy', async () => {
    const { id, socket } = await connectedSession();
    socket.emit('chats.upsert', [{ id: BUDI, name: 'Budi', unreadCount: 0 }]);
    await eventually(async () => expect(await chats(id)).toHaveLength(1));
    expect(await authRows(id)).toEqual(['creds']);

    socket.close(closeError(401, 'Connection Failure'));
    await expectStatus(id, 'logged_out', { phoneNumber: '6281200000000' });
    await eventually(async () => expect(await authRows(id)).toEqual([]));
    expect(await chats(id)).toHaveLength(1);
    expect(h.clock.pendingDelays()).toEqual([]);
    expect(h.provider.canSend(id)).toBe(false);

    // Connecting again starts a fresh pairing.
    await h.provider.connect({ id, orgId: h.orgId });
    const fresh = await h.sockets.waitForSocket(id, 2);
    expect(fresh.options.auth.creds.me).toBeUndefined();
    await h.provider.disconnect(id);
  });

  it.each([
    ['forbidden (403)', 'failed', closeError(403)],
    ['multidevice mismatch (411)', 'failed', closeError(411, 'Multi-device beta not joined')],
    ['a stream error (500)', 'failed', closeError(500, 'Stream Errored (unknown)')],
    ['another client took over (440)', 'disconnected', closeError(440, 'Stream Errored (conflict)')],
  ])('does not reconnect after %s: status %s, credentials kept', async (_name, status, error) => {
    const { id, socket } = await connectedSession();
    socket.close(error);
    await expectStatus(id, status);
    expect(h.clock.pendingDelays()).toEqual([]);
    expect(h.sockets.count(id)).toBe(1);
    expect(await authRows(id)).toEqual(['creds']);
  });

  it('marks a session whose stored credentials cannot be read as failed, without touching them', async () => {
    const id = await h.createSession();
    await h.dataSource.query("INSERT INTO session_auth (session_id, key, value) VALUES ($1, 'creds', '\\x01deadbeef'::bytea)", [id]);
    await h.provider.connect({ id, orgId: h.orgId });
    await expectStatus(id, 'failed');
    expect(h.sockets.count(id)).toBe(0);
    expect(h.clock.pendingDelays()).toEqual([]);
    expect(await authRows(id)).toEqual(['creds']);
  });

  it('forgets an unfinished pairing-code request when the socket goes away', async () => {
    const id = await h.createSession();
    await h.provider.connect({ id, orgId: h.orgId });
    const socket = await h.sockets.waitForSocket(id, 1);
    socket.emit('connection.update', updates.firstQr);
    await h.provider.requestPairingCode(id, '6281299999999');
    expect(socket.options.auth.creds.me?.id).toBe('6281299999999@s.whatsapp.net');
    socket.close(network());
    h.clock.advance(750);
    const next = await h.sockets.waitForSocket(id, 2);
    expect(next.options.auth.creds.me).toBeUndefined();
    await h.provider.disconnect(id);
  });

  it('disconnect closes the socket and keeps the credentials; events of that socket are ignored afterwards', async () => {
    const { id, socket } = await connectedSession();
    await h.provider.disconnect(id);
    expect(socket.ended).toBe(true);
    await expectStatus(id, 'disconnected');
    expect(await authRows(id)).toEqual(['creds']);
    socket.emit('chats.upsert', [{ id: BUDI, name: 'late', unreadCount: 0 }]);
    await h.provider.disconnect(id);
    expect(await chats(id)).toEqual([]);
  });

  it('logout tells WhatsApp (at most logoutTimeoutMs) and deletes the credentials', async () => {
    const first = await connectedSession();
    await h.provider.logout(first.id);
    expect(first.socket.loggedOut).toBe(true);
    expect(await authRows(first.id)).toEqual([]);
    expect(h.provider.canSend(first.id)).toBe(false);

    const second = await connectedSession();
    second.socket.logoutBehaviour = () => new Promise(() => undefined);
    const loggingOut = h.provider.logout(second.id);
    h.clock.advance(5000);
    await loggingOut;
    expect(second.socket.ended).toBe(true);
    expect(await authRows(second.id)).toEqual([]);
    expect(logLines.find((l) => l.sessionId === second.id && l.msg === 'WhatsApp logout did not complete')).toBeDefined();
  });
});
