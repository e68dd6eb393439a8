import type { BaileysEventMap, Chat, ChatUpdate, ConnectionState, WAMessageUpdate } from 'baileys';
import { GatewayEvent } from '../../src/domain/gateway-events';
import {
  MappingContext,
  mapChatsDelete,
  mapChatsUpdate,
  mapChatsUpsert,
  mapConnectionUpdate,
  mapGroupsUpdate,
  mapHistorySet,
  mapMessagesUpdate,
  mapMessagesUpsert,
  toRawJson,
} from '../../src/whatsapp/baileys/baileys-event-mapper';
import { loadFixture } from '../fixtures/baileys/load-fixture';

const OWN_JID = '6281200000000:12@s.whatsapp.net';
const NOW = Date.parse('2024-11-24T00:00:00Z');
const ctx: MappingContext = { ownJid: OWN_JID, now: NOW };

const BUDI = '6281234567890@s.whatsapp.net';
const FAMILY = '120363025246125486@g.us';
const SARI = '215492034568291@lid';
const ALUMNI = '6281234567890-1609459200@g.us';

function upserts(events: GatewayEvent[]) {
  return events.flatMap((e) => (e.type === 'message.upsert' ? [e.message] : []));
}

function byId<T extends { id: string }>(items: T[], id: string): T {
  const found = items.find((item) => item.id === id);
  if (!found) throw new Error(`no ${id} in ${items.map((i) => i.id).join(', ')}`);
  return found;
}

describe('Baileys event mapping: history sync', () => {
  const payload = loadFixture<BaileysEventMap['messaging-history.set']>('history-sync.json');
  const events = mapHistorySet(payload, ctx);

  it('maps every person and group chat, and leaves out status and newsletters', () => {
    const chats = events.flatMap((e) => (e.type === 'chat.upsert' ? [e.chat] : []));
    expect(chats).toEqual([
      // Pinned is a pin time in WhatsApp; the name comes from the contacts of the same sync.
      { id: BUDI, name: 'Budi Santoso', archived: false, pinned: true, mutedUntil: null, unreadCount: 2 },
      // The mute end of a history conversation is in seconds (a Long).
      { id: FAMILY, name: 'Keluarga Besar', archived: true, pinned: false, mutedUntil: 1767225600000, unreadCount: 0 },
      // An @lid chat keeps its JID; a negative mute end is "always".
      { id: SARI, name: 'Sari', archived: false, pinned: false, mutedUntil: -1, unreadCount: 1 },
      // -1 unread is "marked unread", not a count.
      { id: ALUMNI, name: 'Alumni 2010', archived: false, pinned: false, mutedUntil: null, unreadCount: 0 },
    ]);
  });

  it('puts chats before messages and message upserts before the revokes that act on them', () => {
    const order = events.map((e) => e.type);
    const lastChat = order.lastIndexOf('chat.upsert');
    const firstMessage = order.indexOf('message.upsert');
    expect(lastChat).toBeLessThan(firstMessage);
    expect(order.indexOf('message.revoke')).toBeGreaterThan(order.lastIndexOf('message.upsert'));
  });

  it('maps each message kind to its type and text, with Long timestamps in epoch ms', () => {
    const messages = upserts(events);
    const expectations: [string, string, string | null][] = [
      ['3EB0A1B2C3D4E5F60718', 'text', 'Halo, apa kabar?'],
      ['3EB0C0FFEE0000000002', 'text', 'Baik, cek https://example.com'],
      ['3EB0IMAGE00000000003', 'image', 'Foto liburan'],
      ['3EB0EPHEMERAL0000004', 'text', 'Pesan sementara'],
      ['3EB0VIEWONCE00000005', 'image', null],
      ['A1B2C3D4E5F6A7B8C9D0', 'text', 'Selamat pagi semua'],
      ['A1B2C3D4E5F6A7B8C9D1', 'video', 'Video acara kemarin'],
      ['A1B2C3D4E5F6A7B8C9D2', 'audio', null],
      ['3AF1D0C0000000000008', 'document', 'Laporan Q3'],
      ['3AF1D0C0000000000009', 'sticker', null],
      ['3AF1D0C0000000000010', 'location', null],
      ['3AF1D0C0000000000011', 'contact', 'Andi'],
      ['3EB0POLL000000000012', 'unknown', null],
      ['B0C1D2E3F4A5B6C7D8E9', 'contact', '2 kontak'],
    ];
    for (const [id, type, text] of expectations) {
      expect({ id, type: byId(messages, id).type, text: byId(messages, id).text }).toEqual({ id, type, text });
    }
    expect(messages).toHaveLength(expectations.length);
    expect(byId(messages, '3EB0A1B2C3D4E5F60718').timestamp).toBe(1732400100000);
    expect(byId(messages, '3EB0C0FFEE0000000002').timestamp).toBe(1732400050000);
  });

  it('leaves out key distribution, undecryptable stubs and status broadcasts', () => {
    const ids = upserts(events).map((m) => m.id);
    expect(ids).not.toContain('A1B2C3D4E5F6A7B8C9D3');
    expect(ids).not.toContain('3EB0STATUS0000000013');
    expect(events.filter((e) => JSON.stringify(e).includes('status@broadcast'))).toEqual([]);
  });

  it('names senders: participants in groups (by phone number when known), the chat in direct chats, self for own', () => {
    const messages = upserts(events);
    expect(byId(messages, '3EB0A1B2C3D4E5F60718')).toMatchObject({ fromMe: false, senderId: BUDI, chatId: BUDI, status: null });
    expect(byId(messages, 'A1B2C3D4E5F6A7B8C9D0')).toMatchObject({ senderId: '6285611112222@s.whatsapp.net', chatId: FAMILY });
    // participant is @lid, participantAlt the phone number: the number wins.
    expect(byId(messages, 'A1B2C3D4E5F6A7B8C9D1').senderId).toBe('6285733334444@s.whatsapp.net');
    // Only an @lid is known: it is kept.
    expect(byId(messages, 'A1B2C3D4E5F6A7B8C9D2').senderId).toBe('11223344556677@lid');
    expect(byId(messages, '3AF1D0C0000000000008')).toMatchObject({ chatId: SARI, senderId: SARI });
    // Own messages: the own JID without its device, and the WhatsApp status.
    expect(byId(messages, '3EB0C0FFEE0000000002')).toMatchObject({ fromMe: true, senderId: '6281200000000@s.whatsapp.net', status: 'read' });
    expect(byId(messages, '3EB0POLL000000000012')).toMatchObject({ fromMe: true, status: 'sent' });
  });

  it('lands a reaction on the message it reacts to, not as a message of its own', () => {
    expect(events).toContainEqual({
      type: 'message.react',
      chatId: FAMILY,
      messageId: 'A1B2C3D4E5F6A7B8C9D0',
      senderId: '6281200000000@s.whatsapp.net',
      emoji: '👍',
      timestamp: 1732398975000,
    });
  });

  it('maps locations, contact cards (number from the vCard) and the LID mapping of a sender', () => {
    const messages = upserts(events);
    expect(byId(messages, '3AF1D0C0000000000010').location).toEqual({ latitude: -6.2, longitude: 106.816666, name: 'Monas', address: null });
    expect(byId(messages, '3AF1D0C0000000000011').contacts).toEqual([{ name: 'Andi', phoneNumber: '6281311112222' }]);
    expect(byId(messages, 'B0C1D2E3F4A5B6C7D8E9').contacts).toEqual([
      { name: 'Andi', phoneNumber: null },
      { name: 'Rina', phoneNumber: null },
    ]);
    // participant @lid with participantAlt: the number is the sender's, and the mapping is told first.
    expect(byId(messages, 'A1B2C3D4E5F6A7B8C9D1').senderPhoneNumber).toBe('6285733334444');
    expect(byId(messages, 'A1B2C3D4E5F6A7B8C9D2').senderPhoneNumber).toBeNull();
    const mapping = events.findIndex((e) => e.type === 'contact.upsert' && e.contact.id === '6285733334444@s.whatsapp.net');
    expect(mapping).toBeGreaterThanOrEqual(0);
    expect(mapping).toBeLessThan(events.findIndex((e) => e.type === 'message.upsert'));
  });

  it('maps a message deleted for everyone to a revoke', () => {
    expect(events).toContainEqual({ type: 'message.revoke', chatId: BUDI, messageId: '3EB0REVOKED000000006' });
  });

  it('announces the file of a media message, pending, from what WhatsApp says of it', () => {
    const event = events.find((e) => e.type === 'message.upsert' && e.message.id === '3EB0IMAGE00000000003');
    expect((event as { message: { media: unknown } }).message.media).toEqual({
      mimetype: 'image/jpeg',
      size: 204800,
      fileName: null,
      sha256: 'abcdef123456789abcdef123456789abcdef123456789abcdef123456789abcd',
      width: 960,
      height: 1280,
      durationMs: null,
      voiceNote: false,
      status: 'pending',
    });
  });

  it('keeps the original message as plain JSON: bytes as base64, Longs as numbers', () => {
    const event = events.find((e) => e.type === 'message.upsert' && e.message.id === '3EB0IMAGE00000000003');
    const raw = (event as { raw: { message: { imageMessage: Record<string, unknown> }; messageTimestamp: unknown } }).raw;
    expect(raw.messageTimestamp).toBe(1732400000);
    expect(raw.message.imageMessage.mediaKey).toEqual({ type: 'Buffer', data: 'ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8=' });
    expect(raw.message.imageMessage.fileLength).toBe(204800);
    expect(JSON.parse(JSON.stringify(raw))).toEqual(raw);
  });

  it('uses the mapping time for a message without a timestamp', () => {
    const [event] = mapMessagesUpsert(
      { type: 'notify', messages: [{ key: { remoteJid: BUDI, id: 'NOTIME1', fromMe: false }, message: { conversation: 'x' } }] },
      ctx,
    );
    expect(event).toMatchObject({ type: 'message.upsert', message: { timestamp: NOW } });
  });
});

describe('Baileys event mapping: live messages', () => {
  const notify = mapMessagesUpsert(loadFixture<BaileysEventMap['messages.upsert']>('messages-upsert-notify.json'), ctx);

  it('maps a group message from an @lid participant and an ephemeral image; a reaction acts on its message', () => {
    expect(upserts(notify)).toEqual([
      {
        id: '3A5C7E9F1B3D5F7A9C1E',
        chatId: FAMILY,
        fromMe: false,
        senderId: '6285733334444@s.whatsapp.net',
        timestamp: 1732401000000,
        type: 'text',
        text: 'Nanti malam kumpul jam 7 ya',
        status: null,
        media: null,
        replyTo: null,
        location: null,
        contacts: null,
        senderPhoneNumber: '6285733334444',
      },
      {
        id: '3EB0LIVEIMAGE0000001',
        chatId: BUDI,
        fromMe: false,
        senderId: BUDI,
        timestamp: 1732401010000,
        type: 'image',
        text: 'Ini tempatnya',
        status: null,
        media: null,
        replyTo: null,
        location: null,
        contacts: null,
        senderPhoneNumber: '6281234567890',
      },
    ]);
  });

  it('turns protocol messages into the revoke or edit of their target, in the carrier chat', () => {
    const actions = notify.filter((e) => e.type !== 'message.upsert');
    expect(actions).toEqual([
      { type: 'contact.upsert', contact: { id: '6285733334444@s.whatsapp.net', lid: '99887766554433@lid' } },
      { type: 'contact.upsert', contact: { id: BUDI, lid: '215400000000001@lid' } },
      { type: 'message.react', chatId: BUDI, messageId: '3EB0C0FFEE0000000002', senderId: BUDI, emoji: '❤️', timestamp: 1732399021000 },
      { type: 'message.revoke', chatId: BUDI, messageId: '3EB0A1B2C3D4E5F60718' },
      { type: 'message.edit', chatId: BUDI, messageId: '3EB0C0FFEE0000000002', text: 'Baik, sudah dicek' },
    ]);
  });

  it('maps appended own messages with their WhatsApp status', () => {
    const append = mapMessagesUpsert(loadFixture<BaileysEventMap['messages.upsert']>('messages-upsert-append.json'), ctx);
    expect(upserts(append)).toEqual([
      {
        id: '3EB0FROMPHONE0000001',
        chatId: SARI,
        fromMe: true,
        senderId: '6281200000000@s.whatsapp.net',
        timestamp: 1732401100000,
        type: 'text',
        text: 'Terkirim dari HP',
        status: 'sent',
        media: null,
        replyTo: null,
        location: null,
        contacts: null,
        senderPhoneNumber: '6281200000000',
      },
    ]);
  });

  it('gives own messages no sender when the own JID is not known yet', () => {
    const append = mapMessagesUpsert(loadFixture<BaileysEventMap['messages.upsert']>('messages-upsert-append.json'), {
      ownJid: null,
      now: NOW,
    });
    expect(upserts(append)[0].senderId).toBeNull();
  });
});

describe('Baileys event mapping: message updates', () => {
  const events = mapMessagesUpdate(loadFixture<WAMessageUpdate[]>('messages-update.json'));

  it('maps receipts, edits and revokes; skips pending receipts, other chats and other updates', () => {
    expect(events).toEqual([
      { type: 'message.status', chatId: SARI, messageId: '3EB0FROMPHONE0000001', status: 'delivered' },
      { type: 'message.status', chatId: SARI, messageId: '3EB0FROMPHONE0000001', status: 'read' },
      { type: 'message.status', chatId: FAMILY, messageId: '3EB0REACTION00000007', status: 'played' },
      { type: 'message.status', chatId: ALUMNI, messageId: '3EB0ERRORED000000001', status: 'failed' },
      { type: 'message.edit', chatId: SARI, messageId: '3EB0FROMPHONE0000001', text: 'Terkirim dari HP (diedit)' },
      { type: 'message.revoke', chatId: FAMILY, messageId: 'A1B2C3D4E5F6A7B8C9D0' },
    ]);
  });
});

describe('Baileys event mapping: chats', () => {
  it('maps archive, pin (a time) and mute (ms, null, -1) updates, and only absolute unread counts', () => {
    expect(mapChatsUpdate(loadFixture<ChatUpdate[]>('chats-update.json'))).toEqual([
      { type: 'chat.upsert', chat: { id: BUDI, archived: true } },
      { type: 'chat.upsert', chat: { id: FAMILY, archived: false } },
      { type: 'chat.upsert', chat: { id: SARI, pinned: true } },
      { type: 'chat.upsert', chat: { id: BUDI, pinned: false } },
      { type: 'chat.upsert', chat: { id: ALUMNI, mutedUntil: 1764000000000 } },
      { type: 'chat.upsert', chat: { id: FAMILY, mutedUntil: null } },
      { type: 'chat.upsert', chat: { id: SARI, mutedUntil: -1 } },
      { type: 'chat.upsert', chat: { id: BUDI, unreadCount: 0 } },
    ]);
  });

  it('maps new chats whole and deletes of person and group chats', () => {
    expect(mapChatsUpsert(loadFixture<Chat[]>('chats-upsert.json'))).toEqual([
      {
        type: 'chat.upsert',
        chat: { id: '6281377778888@s.whatsapp.net', archived: false, pinned: false, mutedUntil: null, unreadCount: 1 },
      },
      {
        type: 'chat.upsert',
        chat: { id: '120363055555555555@g.us', name: 'Panitia 17an', archived: false, pinned: false, mutedUntil: null, unreadCount: 0 },
      },
    ]);
    expect(mapChatsDelete(loadFixture<string[]>('chats-delete.json'))).toEqual([
      { type: 'chat.delete', chatId: '6281377778888@s.whatsapp.net' },
    ]);
  });

  it('renames a group chat when its subject changes', () => {
    expect(mapGroupsUpdate(loadFixture<BaileysEventMap['groups.update']>('groups-update.json'))).toEqual([
      { type: 'chat.upsert', chat: { id: FAMILY, name: 'Keluarga Besar 2025' } },
    ]);
  });
});

describe('Baileys event mapping: connection', () => {
  const updates = loadFixture<Record<string, Partial<ConnectionState>>>('connection-updates.json');

  it('maps connecting, QR and open (with the number) to statuses; closes are decided elsewhere', () => {
    expect(mapConnectionUpdate(updates.connecting, null)).toEqual({ type: 'session.status', status: 'connecting' });
    expect(mapConnectionUpdate(updates.firstQr, null)).toEqual({ type: 'session.status', status: 'pairing' });
    expect(mapConnectionUpdate(updates.open, OWN_JID)).toEqual({
      type: 'session.status',
      status: 'connected',
      phoneNumber: '6281200000000',
    });
    expect(mapConnectionUpdate(updates.closeNetwork, OWN_JID)).toBeNull();
    expect(mapConnectionUpdate(updates.pairSuccess, null)).toBeNull();
    expect(mapConnectionUpdate(updates.receivedPending, OWN_JID)).toBeNull();
  });
});

describe('toRawJson', () => {
  it('turns Uint8Arrays and Long objects with methods into JSON values', () => {
    const long = { low: 5, high: 1, unsigned: true, toNumber: () => 4294967301 };
    expect(toRawJson({ a: new Uint8Array([1, 2, 3]), b: long, c: Buffer.from('hi') })).toEqual({
      a: { type: 'Buffer', data: 'AQID' },
      b: 4294967301,
      c: { type: 'Buffer', data: 'aGk=' },
    });
  });
});
