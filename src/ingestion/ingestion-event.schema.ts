import { CHAT_JID_PATTERN, GROUP_JID_PATTERN, LID_PATTERN, USER_JID_PATTERN } from '../domain/jid';
import { GROUP_ROLES, MESSAGE_STATUSES, MESSAGE_TYPES, SESSION_STATUSES } from '../domain/gateway-events';
import { MESSAGE_ID_PATTERN } from '../domain/message-id';
import { ANNOUNCED_MEDIA_STATUSES, MIMETYPE_PATTERN, SHA256_HEX_PATTERN } from '../domain/media';

/**
 * The one schema of ingestion events: compiled by ajv for validation and shown as is in the
 * OpenAPI document (so it keeps to the OpenAPI 3.0 dialect: `nullable`, one-value `enum`s).
 * `x-rule` is the message a client reads when a field breaks the rule; `x-stored-text` runs the
 * stored-text rule of API.md §1 (valid Unicode, no NUL, lengths in code points).
 */

/** Where events come from: REST clients push the public types; providers all of them, with `raw`. */
export type EventOrigin = 'api' | 'provider';

export const MAX_EVENTS_PER_BATCH = 1000;
export const PUBLIC_EVENT_TYPES = [
  'session.status',
  'chat.upsert',
  'message.upsert',
  'message.status',
  'chat.delete',
  'message.react',
  'message.edit',
  'message.revoke',
  'contact.upsert',
] as const;
export const PROVIDER_EVENT_TYPES = [...PUBLIC_EVENT_TYPES, 'group.upsert', 'group.participants'] as const;
const MAX_TEXT_LENGTH = 65_536;
const MAX_NAME_LENGTH = 256;
const MAX_UNREAD_COUNT = 2_147_483_647;
const MAX_FILE_NAME_LENGTH = 255;
const MAX_DIMENSION = 100_000;
const MAX_ADDRESS_LENGTH = 1024;
const MAX_CONTACT_CARDS = 100;
const MAX_EMOJI_LENGTH = 32;
const MAX_GROUP_PARTICIPANTS = 5000;

type Schema = Record<string, unknown>;

const boolean: Schema = { type: 'boolean', 'x-rule': 'must be a boolean' };
const chatJid: Schema = {
  type: 'string',
  pattern: CHAT_JID_PATTERN.source,
  'x-rule': 'must be a chat JID: <digits>@s.whatsapp.net, <digits>@g.us or <digits>@lid',
  example: '6281234567890@s.whatsapp.net',
};
const messageId: Schema = {
  type: 'string',
  pattern: MESSAGE_ID_PATTERN.source,
  'x-rule': 'must be 1 to 128 characters of A-Z a-z 0-9 . _ : @ -',
  example: '3EB0C1A2B3C4D5E6',
};
const epochMs: Schema = {
  type: 'integer',
  format: 'int64',
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  'x-rule': 'must be a non-negative integer',
};
const userJid: Schema = {
  type: 'string',
  pattern: USER_JID_PATTERN.source,
  'x-rule': 'must be <digits>@s.whatsapp.net or <digits>@lid',
  example: '6281234567890@s.whatsapp.net',
};
const nullableUserJid: Schema = { ...userJid, nullable: true, 'x-rule': 'must be null or <digits>@s.whatsapp.net or <digits>@lid' };
const phoneDigits: Schema = {
  type: 'string',
  nullable: true,
  pattern: '^[0-9]{5,20}$',
  'x-rule': 'must be null or 5 to 20 digits',
  example: '6281234567890',
};
const coordinate = (limit: number): Schema => ({
  type: 'number',
  minimum: -limit,
  maximum: limit,
  'x-rule': `must be a number from -${limit} to ${limit}`,
});
const oneOf = (values: readonly string[], nullable = false): Schema => ({
  type: 'string',
  enum: nullable ? [...values, null] : [...values],
  ...(nullable ? { nullable: true } : {}),
  'x-rule': `must be one of ${values.join(', ')}${nullable ? ' or null' : ''}`,
});
function text(origin: EventOrigin, minLength: number, maxLength: number, description: string): Schema {
  return {
    type: 'string',
    nullable: true,
    minLength,
    maxLength,
    ...(origin === 'api' ? { 'x-stored-text': true } : {}),
    'x-rule': `must be null or a string of ${minLength} to ${maxLength} characters`,
    description,
  };
}
function object(properties: Record<string, Schema>, required: string[], description?: string): Schema {
  return { type: 'object', properties, required, additionalProperties: false, ...(description ? { description } : {}) };
}
function nullableCount(maximum: number, description: string): Schema {
  return {
    type: 'integer',
    nullable: true,
    minimum: 0,
    maximum,
    'x-rule': `must be null or an integer from 0 to ${maximum}`,
    description,
  };
}

/** The file a media message carries, as a connector or provider announces it (API.md §8). */
function mediaSchema(origin: EventOrigin): Schema {
  return {
    ...object(
      {
        mimetype: {
          type: 'string',
          maxLength: 255,
          pattern: MIMETYPE_PATTERN.source,
          'x-rule': 'must be a MIME type such as image/jpeg',
          example: 'image/jpeg',
        },
        size: { ...epochMs, 'x-rule': 'must be a non-negative integer', description: 'Bytes.', example: 48213 },
        sha256: {
          type: 'string',
          pattern: SHA256_HEX_PATTERN.source,
          'x-rule': 'must be 64 lower-case hex digits',
          description: "The SHA-256 of the file's bytes; the PUT of the bytes must match it.",
          example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
        },
        fileName: text(origin, 1, MAX_FILE_NAME_LENGTH, 'The file name (documents); absent is null.'),
        width: nullableCount(MAX_DIMENSION, 'Pixels; absent is null.'),
        height: nullableCount(MAX_DIMENSION, 'Pixels; absent is null.'),
        durationMs: nullableCount(Number.MAX_SAFE_INTEGER, 'Audio and video length; absent is null.'),
        voiceNote: { ...boolean, description: 'A voice note (push-to-talk audio); absent is false.' },
        status: {
          ...oneOf(ANNOUNCED_MEDIA_STATUSES),
          description:
            'Absent is `pending`: the bytes follow with `PUT …/messages/{mid}/media`. `ready` is set by the gateway once it holds them.',
        },
      },
      ['mimetype', 'size', 'sha256'],
      'The file of an image, video, audio, document or sticker message; null or absent for other types.',
    ),
    nullable: true,
  };
}

function locationSchema(origin: EventOrigin): Schema {
  return {
    ...object(
      {
        latitude: coordinate(90),
        longitude: coordinate(180),
        name: text(origin, 1, MAX_NAME_LENGTH, 'The place name; absent is null.'),
        address: text(origin, 1, MAX_ADDRESS_LENGTH, 'The address; absent is null.'),
      },
      ['latitude', 'longitude'],
      'The shared place of a `location` message; absent keeps the stored one.',
    ),
    nullable: true,
  };
}

function contactCardsSchema(origin: EventOrigin): Schema {
  return {
    type: 'array',
    nullable: true,
    minItems: 1,
    maxItems: MAX_CONTACT_CARDS,
    items: object(
      { name: { ...text(origin, 1, MAX_NAME_LENGTH, 'The name on the card.'), nullable: false }, phoneNumber: phoneDigits },
      ['name'],
    ),
    'x-rule': `must be null or an array of 1 to ${MAX_CONTACT_CARDS} contact cards`,
    description: 'The contact cards of a `contact` message; absent keeps the stored ones.',
  };
}

const eventOf = (type: string, properties: Record<string, Schema>, required: string[], description: string): Schema =>
  object({ type: { type: 'string', enum: [type] }, ...properties }, ['type', ...required], description);

function eventSchemas(origin: EventOrigin): Schema[] {
  const messageRef = { chatId: chatJid, messageId };
  const schemas = [
    eventOf(
      'session.status',
      {
        status: oneOf(SESSION_STATUSES),
        phoneNumber: {
          type: 'string',
          nullable: true,
          pattern: '^[0-9]{5,20}$',
          'x-rule': 'must be null or 5 to 20 digits',
          description: 'Digits of the attached number; absent leaves it unchanged, null clears it.',
        },
      },
      ['status'],
      'The connection status of the session.',
    ),
    eventOf(
      'chat.upsert',
      {
        chat: object(
          {
            id: chatJid,
            name: text(origin, 1, MAX_NAME_LENGTH, 'The chat name; null clears it.'),
            archived: boolean,
            pinned: boolean,
            mutedUntil: {
              type: 'integer',
              format: 'int64',
              nullable: true,
              minimum: -1,
              maximum: Number.MAX_SAFE_INTEGER,
              'x-rule': 'must be null, -1 or a non-negative integer',
              description: 'Epoch ms; -1 is muted with no end, null not muted.',
            },
            unreadCount: {
              type: 'integer',
              minimum: 0,
              maximum: MAX_UNREAD_COUNT,
              'x-rule': `must be an integer from 0 to ${MAX_UNREAD_COUNT}`,
            },
          },
          ['id'],
          'Creates the chat, or changes only the fields present.',
        ),
      },
      ['chat'],
      'A chat and the fields of it that changed.',
    ),
    eventOf(
      'message.upsert',
      {
        message: object(
          {
            id: messageId,
            chatId: chatJid,
            fromMe: boolean,
            senderId: {
              type: 'string',
              nullable: true,
              pattern: USER_JID_PATTERN.source,
              'x-rule': 'must be null or <digits>@s.whatsapp.net or <digits>@lid',
              description: 'Absent is null.',
            },
            timestamp: { ...epochMs, description: 'Epoch ms.' },
            type: oneOf(MESSAGE_TYPES),
            text: text(origin, 0, MAX_TEXT_LENGTH, 'Absent is null.'),
            status: { ...oneOf(MESSAGE_STATUSES, true), description: 'Absent is null.' },
            media: mediaSchema(origin),
            replyTo: { ...messageId, nullable: true, 'x-rule': 'must be null or a message id', description: 'The id of the message of the same chat it quotes.' },
            location: locationSchema(origin),
            contacts: contactCardsSchema(origin),
            senderPhoneNumber: { ...phoneDigits, description: "Digits of the sender's number when known (a `@lid` sender hides it)." },
          },
          ['id', 'chatId', 'fromMe', 'timestamp', 'type'],
          'Stores the message, or updates the stored one with the same chat and id.',
        ),
        ...(origin === 'provider' ? { raw: {} } : {}),
      },
      ['message'],
      'A message, stored once per (session, chat, id).',
    ),
    eventOf(
      'message.status',
      { ...messageRef, status: oneOf(MESSAGE_STATUSES) },
      ['chatId', 'messageId', 'status'],
      'A receipt: applied only if further along than the stored status; unknown messages are skipped.',
    ),
    eventOf('chat.delete', { chatId: chatJid }, ['chatId'], 'The chat left WhatsApp: it and its messages leave the stored copy.'),
    eventOf(
      'message.react',
      {
        ...messageRef,
        senderId: userJid,
        emoji: { ...text(origin, 0, MAX_EMOJI_LENGTH, 'The emoji; `""` removes the sender\'s reaction.'), nullable: false, 'x-rule': `must be a string of 0 to ${MAX_EMOJI_LENGTH} characters` },
        timestamp: { ...epochMs, description: 'Epoch ms; the latest reaction of each sender wins.' },
      },
      ['chatId', 'messageId', 'senderId', 'emoji', 'timestamp'],
      'A reaction set or removed; one per sender is kept, the latest wins. Unknown messages are skipped.',
    ),
    eventOf(
      'message.edit',
      { ...messageRef, text: text(origin, 0, MAX_TEXT_LENGTH, 'The new text.'), timestamp: { ...epochMs, description: 'Epoch ms of the edit.' } },
      ['chatId', 'messageId', 'text'],
      'An edit: the text is replaced and the message marked `edited`. Unknown messages are skipped.',
    ),
    eventOf('message.revoke', messageRef, ['chatId', 'messageId'], 'Deleted for everyone: the message stays, `revoked`, with its text cleared.'),
    eventOf(
      'contact.upsert',
      {
        contact: object(
          {
            id: { ...userJid, description: "The person's phone-number JID, or their `@lid` while the number is hidden." },
            lid: {
              type: 'string',
              nullable: true,
              pattern: LID_PATTERN.source,
              'x-rule': 'must be null or <digits>@lid',
              description: 'Beside a phone-number `id`: the LID ↔ number mapping.',
            },
            name: text(origin, 1, MAX_NAME_LENGTH, 'As saved in the address book.'),
            pushName: text(origin, 1, MAX_NAME_LENGTH, 'As the person set it.'),
            isBusiness: boolean,
          },
          ['id'],
          'Creates the contact, or changes only the fields present.',
        ),
      },
      ['contact'],
      'A person as WhatsApp reveals them, with the LID ↔ number mapping when known.',
    ),
  ];
  if (origin === 'provider') schemas.push(...groupEventSchemas(origin));
  return schemas;
}

const groupJid: Schema = { type: 'string', pattern: GROUP_JID_PATTERN.source, 'x-rule': 'must be a group JID' };

function groupEventSchemas(origin: EventOrigin): Schema[] {
  const person = (properties: Record<string, Schema>, required: string[]): Schema => ({
    type: 'array',
    maxItems: MAX_GROUP_PARTICIPANTS,
    items: object({ id: userJid, phoneNumber: phoneDigits, ...properties }, ['id', ...required]),
    'x-rule': `must be an array of at most ${MAX_GROUP_PARTICIPANTS} participants`,
  });
  return [
    eventOf(
      'group.upsert',
      {
        group: object(
          {
            id: groupJid,
            subject: text(origin, 0, MAX_NAME_LENGTH, 'The subject.'),
            description: text(origin, 0, MAX_TEXT_LENGTH, 'The description.'),
            ownerId: nullableUserJid,
            createdAt: { ...epochMs, nullable: true },
            announce: boolean,
            restrict: boolean,
            participants: person({ role: oneOf(GROUP_ROLES) }, ['role']),
          },
          ['id'],
        ),
      },
      ['group'],
      "A group's metadata: the fields present replace the cached ones; `participants` is the whole list.",
    ),
    eventOf(
      'group.participants',
      { groupId: groupJid, action: oneOf(['add', 'remove', 'promote', 'demote']), participants: person({}, []) },
      ['groupId', 'action', 'participants'],
      'People added to, removed from, promoted or demoted in a group.',
    ),
  ];
}

/** One event, as `origin` may send it. */
export function ingestionEventSchema(origin: EventOrigin): Schema {
  return { type: 'object', discriminator: { propertyName: 'type' }, oneOf: eventSchemas(origin) };
}

/** The body of `POST /sessions/{sid}/events`. */
export function ingestionBatchSchema(): Schema {
  return object(
    {
      events: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_EVENTS_PER_BATCH,
        items: ingestionEventSchema('api'),
        'x-rule': `must be an array of 1 to ${MAX_EVENTS_PER_BATCH} events`,
      },
      history: {
        type: 'boolean',
        'x-rule': 'must be a boolean',
        description: 'Marks a history backfill: its events carry `history: true` and webhooks skip them unless subscribed.',
      },
    },
    ['events'],
  );
}
