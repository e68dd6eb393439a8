import fc from 'fast-check';
import { ValidationError } from '../../src/common/errors/app-error';
import { validateEventBatch, validateEvents } from '../../src/ingestion/event-validation';

const DIRECT = '6281234567890@s.whatsapp.net';
const GROUP = '120363025246125888@g.us';

const message = (extra: Record<string, unknown> = {}) => ({
  type: 'message.upsert',
  message: {
    id: '3EB0C1A2B3C4D5E6',
    chatId: DIRECT,
    fromMe: false,
    senderId: DIRECT,
    timestamp: 1732400000000,
    type: 'text',
    text: 'halo',
    status: null,
    ...extra,
  },
});

/** The 422 a call throws, as `{index, fields}`. */
function rejection(call: () => unknown): Record<string, unknown> {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('validation_error');
    return (error as ValidationError).details;
  }
  throw new Error('expected a validation error');
}

describe('event batch validation', () => {
  it('accepts one event of each public type and normalizes them', () => {
    const { events } = validateEventBatch({
      events: [
        { type: 'session.status', status: 'connected', phoneNumber: '6281234567890' },
        { type: 'chat.upsert', chat: { id: GROUP, name: 'Tim', archived: false, pinned: true, mutedUntil: -1, unreadCount: 2 } },
        message(),
        { type: 'message.status', chatId: DIRECT, messageId: '3EB0C1A2B3C4D5E6', status: 'read' },
        { type: 'chat.delete', chatId: DIRECT },
      ],
    });
    expect(events).toEqual([
      { type: 'session.status', status: 'connected', phoneNumber: '6281234567890' },
      { type: 'chat.upsert', chat: { id: GROUP, name: 'Tim', archived: false, pinned: true, mutedUntil: -1, unreadCount: 2 } },
      { type: 'message.upsert', message: { ...message().message, media: null }, rawJson: null },
      { type: 'message.status', chatId: DIRECT, messageId: '3EB0C1A2B3C4D5E6', status: 'read' },
      { type: 'chat.delete', chatId: DIRECT },
    ]);
  });

  it('keeps only the chat fields that were sent, and defaults absent message fields to null', () => {
    const [chat, msg] = validateEvents(
      [
        { type: 'chat.upsert', chat: { id: DIRECT, pinned: false } },
        { type: 'message.upsert', message: { id: 'A', chatId: GROUP, fromMe: true, timestamp: 0, type: 'image' } },
      ],
      'api',
    );
    expect(chat).toEqual({ type: 'chat.upsert', chat: { id: DIRECT, pinned: false } });
    expect(msg).toEqual({
      type: 'message.upsert',
      message: { id: 'A', chatId: GROUP, fromMe: true, senderId: null, timestamp: 0, type: 'image', text: null, status: null, media: null },
      rawJson: null,
    });
  });

  it('rejects a body that is not {"events": [1..1000 events]}', () => {
    for (const body of [null, [], 'x', 42]) {
      expect(rejection(() => validateEventBatch(body))).toEqual({ fields: { body: ['must be a JSON object'] } });
    }
    expect(rejection(() => validateEventBatch({}))).toEqual({ fields: { events: ['is required'] } });
    for (const body of [{ events: [] }, { events: {} }, { events: 'x' }, { events: Array(1001).fill(message()) }]) {
      expect(rejection(() => validateEventBatch(body))).toEqual({ fields: { events: ['must be an array of 1 to 1000 events'] } });
    }
    expect(rejection(() => validateEventBatch({ events: [message()], extra: 1 }))).toEqual({
      fields: { extra: ['is not an accepted field'] },
    });
    expect(validateEventBatch({ events: Array(1000).fill(message()) }).events).toHaveLength(1000);
  });

  it('names the index and the fields of the first invalid event', () => {
    const details = rejection(() =>
      validateEventBatch({ events: [message(), message(), message(), message({ timestamp: -1, fromMe: 'no' }), message({ timestamp: 1.5 })] }),
    );
    expect(details).toEqual({
      index: 3,
      fields: { 'message.fromMe': ['must be a boolean'], 'message.timestamp': ['must be a non-negative integer'] },
    });
  });

  it.each([
    ['a non-object event', 'x', { event: ['must be an object'] }],
    ['an unknown type', { type: 'chat.archive' }, { type: [expect.stringContaining('must be one of session.status')] }],
    ['a provider-only type', { type: 'group.upsert', group: { id: '1203@g.us' } }, { type: [expect.any(String)] }],
    ['a reaction without sender', { type: 'message.react', chatId: DIRECT, messageId: 'A', emoji: '👍', timestamp: 1 }, { senderId: ['is required'] }],
    ['a latitude of 91', message({ type: 'location', location: { latitude: 91, longitude: 0 } }), { 'message.location.latitude': [expect.any(String)] }],
    ['a contact card without name', message({ type: 'contact', contacts: [{ phoneNumber: '6281234567' }] }), { 'message.contacts.0.name': ['is required'] }],
    ['a LID contact mapped to another LID', { type: 'contact.upsert', contact: { id: '1@lid', lid: '2@lid' } }, { 'contact.lid': [expect.any(String)] }],
    ['a contact id that is a group', { type: 'contact.upsert', contact: { id: GROUP } }, { 'contact.id': [expect.any(String)] }],
    ['`raw` over the API', { ...message(), raw: {} }, { raw: ['is not an accepted field'] }],
    ['an unknown message field', message({ caption: 'x' }), { 'message.caption': ['is not an accepted field'] }],
    ['a missing message', { type: 'message.upsert' }, { message: ['is required'] }],
    ['a message that is not an object', { type: 'message.upsert', message: [] }, { message: ['must be an object'] }],
    ['a string timestamp', message({ timestamp: '1732400000000' }), { 'message.timestamp': [expect.any(String)] }],
    ['a too-large timestamp', message({ timestamp: 2 ** 53 }), { 'message.timestamp': [expect.any(String)] }],
    ['an unknown message type', message({ type: 'poll' }), { 'message.type': [expect.stringContaining('must be one of text')] }],
    ['an unknown status', message({ status: 'seen' }), { 'message.status': [expect.any(String)] }],
    ['a message id with a slash', message({ id: 'a/b' }), { 'message.id': [expect.any(String)] }],
    ['an empty message id', message({ id: '' }), { 'message.id': [expect.any(String)] }],
    ['a message id over 128 characters', message({ id: 'A'.repeat(129) }), { 'message.id': [expect.any(String)] }],
    ['text over 65536 characters', message({ text: 'x'.repeat(65537) }), { 'message.text': [expect.any(String)] }],
    ['text with NUL', message({ text: 'a\u0000b' }), { 'message.text': ['must be valid Unicode text without NUL'] }],
    ['text with a lone surrogate', message({ text: 'a\uD800b' }), { 'message.text': ['must be valid Unicode text without NUL'] }],
    ['a group as sender', message({ senderId: GROUP }), { 'message.senderId': [expect.any(String)] }],
    ['a status broadcast chat', message({ chatId: 'status@broadcast' }), { 'message.chatId': [expect.any(String)] }],
    ['a newsletter chat', { type: 'chat.delete', chatId: '120363025246125888@newsletter' }, { chatId: [expect.any(String)] }],
    ['an upper-case JID', { type: 'chat.delete', chatId: '6281234567890@S.WHATSAPP.NET' }, { chatId: [expect.any(String)] }],
    ['a JID with a device', { type: 'chat.delete', chatId: '6281234567890:12@s.whatsapp.net' }, { chatId: [expect.any(String)] }],
    ['a chat without id', { type: 'chat.upsert', chat: { name: 'x' } }, { 'chat.id': ['is required'] }],
    ['an empty chat name', { type: 'chat.upsert', chat: { id: DIRECT, name: '' } }, { 'chat.name': [expect.any(String)] }],
    ['a chat name over 256', { type: 'chat.upsert', chat: { id: DIRECT, name: 'n'.repeat(257) } }, { 'chat.name': [expect.any(String)] }],
    ['a string archived', { type: 'chat.upsert', chat: { id: DIRECT, archived: 'true' } }, { 'chat.archived': ['must be a boolean'] }],
    ['a null pinned', { type: 'chat.upsert', chat: { id: DIRECT, pinned: null } }, { 'chat.pinned': ['must be a boolean'] }],
    ['mutedUntil -2', { type: 'chat.upsert', chat: { id: DIRECT, mutedUntil: -2 } }, { 'chat.mutedUntil': [expect.any(String)] }],
    ['a float mutedUntil', { type: 'chat.upsert', chat: { id: DIRECT, mutedUntil: 1.5 } }, { 'chat.mutedUntil': [expect.any(String)] }],
    ['a negative unreadCount', { type: 'chat.upsert', chat: { id: DIRECT, unreadCount: -1 } }, { 'chat.unreadCount': [expect.any(String)] }],
    ['an unreadCount over int4', { type: 'chat.upsert', chat: { id: DIRECT, unreadCount: 2 ** 31 } }, { 'chat.unreadCount': [expect.any(String)] }],
    ['an unknown session status', { type: 'session.status', status: 'online' }, { status: [expect.any(String)] }],
    ['a phone number with a plus', { type: 'session.status', status: 'connected', phoneNumber: '+62812' }, { phoneNumber: [expect.any(String)] }],
    ['a null receipt status', { type: 'message.status', chatId: DIRECT, messageId: 'A', status: null }, { status: [expect.any(String)] }],
    ['a receipt without message id', { type: 'message.status', chatId: DIRECT, status: 'read' }, { messageId: ['is required'] }],
  ])('rejects %s', (_name, event, fields) => {
    expect(rejection(() => validateEventBatch({ events: [message(), event] }))).toEqual({ index: 1, fields });
  });

  it('accepts every chat JID shape', () => {
    for (const chatId of [DIRECT, GROUP, '6281234567890-1600000000@g.us', '123456789012345@lid']) {
      expect(() => validateEventBatch({ events: [{ type: 'chat.delete', chatId }] })).not.toThrow();
    }
  });

  it('lets providers send edits, revokes and `raw`, and cleans their text instead of refusing it', () => {
    const events = validateEvents(
      [
        { ...message({ text: 'a\u0000b\uD800' }), raw: { key: { id: 'x\u0000' }, n: 1 } },
        { type: 'message.edit', chatId: DIRECT, messageId: 'A', text: 'new' },
        { type: 'message.revoke', chatId: DIRECT, messageId: 'A' },
      ],
      'provider',
    );
    expect(events[0]).toMatchObject({ message: { text: 'ab\uFFFD' }, rawJson: '{"key":{"id":"x"},"n":1}' });
    expect(events[1]).toEqual({ type: 'message.edit', chatId: DIRECT, messageId: 'A', text: 'new' });
    expect(events[2]).toEqual({ type: 'message.revoke', chatId: DIRECT, messageId: 'A' });
  });

  it('refuses a provider `raw` that is not JSON', () => {
    expect(rejection(() => validateEvents([message(), { ...message(), raw: { n: 1n } }], 'provider'))).toEqual({
      index: 1,
      fields: { raw: ['must be JSON-serializable'] },
    });
  });

  it.each(['constructor', '__proto__', 'toString'])('names an unknown field called %s like any other', (field) => {
    const event = JSON.parse(`{"type": "chat.delete", "chatId": "${DIRECT}", "${field}": []}`) as unknown;
    expect(rejection(() => validateEventBatch({ events: [event] }))).toEqual({ index: 0, fields: { [field]: ['is not an accepted field'] } });
  });

  it('answers any input with events or a validation error, never another exception', () => {
    const event = fc.oneof(
      fc.anything(),
      fc.record({ type: fc.constantFrom('session.status', 'chat.upsert', 'message.upsert', 'message.status', 'chat.delete') }, { requiredKeys: [] }),
      fc.record({ type: fc.constant('message.upsert'), message: fc.dictionary(fc.constantFrom('id', 'chatId', 'timestamp', 'type', 'text'), fc.anything()) }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ events: fc.array(event, { maxLength: 5 }) })), (body) => {
        try {
          validateEventBatch(body);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
        }
      }),
    );
  });
});
