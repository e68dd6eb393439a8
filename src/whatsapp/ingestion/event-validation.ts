import { ValidationError } from '../../common/errors/app-error';
import { MESSAGE_ID_PATTERN } from '../../messages/message-id';
import {
  GatewayEvent,
  GatewayMessage,
  MESSAGE_STATUSES,
  MESSAGE_TYPES,
  MessageUpsertEvent,
  SESSION_STATUSES,
  SessionStatus,
} from '../gateway-events';
import { isChatJid, isUserJid } from '../jid';

export const MAX_EVENTS_PER_BATCH = 1000;
const MAX_TEXT_LENGTH = 65_536;
const MAX_NAME_LENGTH = 256;
const PHONE_NUMBER = /^[0-9]{5,20}$/;
const MAX_UNREAD_COUNT = 2_147_483_647;
/** NUL cannot be stored in PostgreSQL text, and a lone surrogate is not Unicode. */
const UNSTORABLE_CHARS = /[\0\uD800-\uDFFF]/u;

/** REST clients may push the public events only; providers push all of them, with `raw`. */
export type EventOrigin = 'api' | 'provider';

/** A validated event, ready to apply; a message's provider original is serialized as `rawJson`. */
export type ValidEvent =
  | Exclude<GatewayEvent, MessageUpsertEvent>
  | { type: 'message.upsert'; message: GatewayMessage; rawJson: string | null };

const PUBLIC_TYPES = ['session.status', 'chat.upsert', 'message.upsert', 'message.status', 'chat.delete'] as const;
const PROVIDER_TYPES = [...PUBLIC_TYPES, 'message.edit', 'message.revoke'] as const;

type Check = (value: unknown) => string | undefined;
/** A field is checked by `check`, or is an object whose own fields are `nested`. */
interface Field {
  check?: Check;
  nested?: Shape;
  optional?: boolean;
}
type Shape = Record<string, Field>;
type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean');
const chatJid: Check = (v) =>
  isChatJid(v) ? undefined : 'must be a chat JID: <digits>@s.whatsapp.net, <digits>@g.us or <digits>@lid';
const messageId: Check = (v) =>
  typeof v === 'string' && MESSAGE_ID_PATTERN.test(v) ? undefined : 'must be 1 to 128 characters of A-Z a-z 0-9 . _ : @ -';
const epochMs: Check = (v) =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'must be a non-negative integer';
const oneOf =
  (allowed: readonly string[], nullable = false): Check =>
  (v) =>
    (nullable && v === null) || (typeof v === 'string' && allowed.includes(v))
      ? undefined
      : `must be one of ${allowed.join(', ')}${nullable ? ' or null' : ''}`;

/** Text from a provider is cleaned up (see `storableText`); text from a client must already be clean. */
function text(maxLength: number, minLength: number, origin: EventOrigin): Check {
  const rule = `must be null or a string of ${minLength} to ${maxLength} characters`;
  return (v) => {
    if (v === null) return undefined;
    if (typeof v !== 'string' || v.length < minLength || v.length > maxLength) return rule;
    if (origin === 'api' && UNSTORABLE_CHARS.test(v)) return 'must be valid Unicode without NUL characters';
    return undefined;
  };
}

function shapesFor(origin: EventOrigin): Record<(typeof PROVIDER_TYPES)[number], Shape> {
  const messageRef: Shape = { chatId: { check: chatJid }, messageId: { check: messageId } };
  return {
    'session.status': {
      status: { check: oneOf(SESSION_STATUSES) },
      phoneNumber: {
        optional: true,
        check: (v) => (v === null || (typeof v === 'string' && PHONE_NUMBER.test(v)) ? undefined : 'must be null or 5 to 20 digits'),
      },
    },
    'chat.upsert': {
      chat: {
        nested: {
          id: { check: chatJid },
          name: { optional: true, check: text(MAX_NAME_LENGTH, 1, origin) },
          archived: { optional: true, check: boolean },
          pinned: { optional: true, check: boolean },
          mutedUntil: {
            optional: true,
            check: (v) => (v === null || v === -1 || epochMs(v) === undefined ? undefined : 'must be null, -1 or a non-negative integer'),
          },
          unreadCount: {
            optional: true,
            check: (v) =>
              Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_UNREAD_COUNT
                ? undefined
                : `must be an integer from 0 to ${MAX_UNREAD_COUNT}`,
          },
        },
      },
    },
    'message.upsert': {
      message: {
        nested: {
          id: { check: messageId },
          chatId: { check: chatJid },
          fromMe: { check: boolean },
          senderId: {
            optional: true,
            check: (v) => (v === null || isUserJid(v) ? undefined : 'must be null or <digits>@s.whatsapp.net or <digits>@lid'),
          },
          timestamp: { check: epochMs },
          type: { check: oneOf(MESSAGE_TYPES) },
          text: { optional: true, check: text(MAX_TEXT_LENGTH, 0, origin) },
          status: { optional: true, check: oneOf(MESSAGE_STATUSES, true) },
        },
      },
      ...(origin === 'provider' ? { raw: { optional: true } } : {}),
    },
    'message.status': { ...messageRef, status: { check: oneOf(MESSAGE_STATUSES) } },
    'chat.delete': { chatId: { check: chatJid } },
    'message.edit': { ...messageRef, text: { check: text(MAX_TEXT_LENGTH, 0, origin) } },
    'message.revoke': messageRef,
  };
}

const SHAPES = { api: shapesFor('api'), provider: shapesFor('provider') };

function checkShape(value: Json, shape: Shape, prefix: string, problems: Record<string, string[]>): void {
  const add = (path: string, problem: string) => (problems[path] ??= []).push(problem);
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(shape, key)) add(`${prefix}${key}`, 'is not an accepted field');
  }
  for (const [key, field] of Object.entries(shape)) {
    if (!Object.hasOwn(value, key)) {
      if (!field.optional) add(`${prefix}${key}`, 'is required');
      continue;
    }
    const fieldValue = value[key];
    if (field.nested) {
      if (isObject(fieldValue)) checkShape(fieldValue, field.nested, `${prefix}${key}.`, problems);
      else add(`${prefix}${key}`, 'must be an object');
      continue;
    }
    const problem = field.check?.(fieldValue);
    if (problem) add(`${prefix}${key}`, problem);
  }
}

/** Text as PostgreSQL can store it: NUL removed, lone surrogates replaced. */
function storableText(value: string): string {
  return UNSTORABLE_CHARS.test(value) ? value.replace(/\0/g, '').replace(/[\uD800-\uDFFF]/gu, '\uFFFD') : value;
}

const storable = (value: string | null | undefined): string | null => (value == null ? null : storableText(value));

function serializeRaw(raw: unknown): string | null {
  if (raw === undefined || raw === null) return null;
  const json = JSON.stringify(raw, (_key, value: unknown) => (typeof value === 'string' ? storableText(value) : value));
  return json ?? null;
}

/** Builds the event from input that passed its shape, keeping only what the shape names. */
function toValidEvent(input: Json, rawJson: string | null): ValidEvent {
  switch (input.type) {
    case 'session.status': {
      const { status, phoneNumber } = input as Json & { status: SessionStatus; phoneNumber?: string | null };
      return phoneNumber === undefined ? { type: 'session.status', status } : { type: 'session.status', status, phoneNumber };
    }
    case 'chat.upsert': {
      const chat = input.chat as Json & { id: string; name?: string | null };
      const out: Extract<ValidEvent, { type: 'chat.upsert' }>['chat'] = { id: chat.id };
      if (chat.name !== undefined) out.name = storable(chat.name);
      for (const key of ['archived', 'pinned', 'mutedUntil', 'unreadCount'] as const) {
        if (chat[key] !== undefined) (out as Json)[key] = chat[key];
      }
      return { type: 'chat.upsert', chat: out };
    }
    case 'message.upsert': {
      const m = input.message as Json & GatewayMessage;
      return {
        type: 'message.upsert',
        message: {
          id: m.id,
          chatId: m.chatId,
          fromMe: m.fromMe,
          senderId: m.senderId ?? null,
          timestamp: m.timestamp,
          type: m.type,
          text: storable(m.text),
          status: m.status ?? null,
        },
        rawJson,
      };
    }
    case 'message.status': {
      const e = input as Json & Extract<GatewayEvent, { type: 'message.status' }>;
      return { type: 'message.status', chatId: e.chatId, messageId: e.messageId, status: e.status };
    }
    case 'chat.delete':
      return { type: 'chat.delete', chatId: input.chatId as string };
    case 'message.edit': {
      const e = input as Json & Extract<GatewayEvent, { type: 'message.edit' }>;
      return { type: 'message.edit', chatId: e.chatId, messageId: e.messageId, text: storable(e.text) };
    }
    default: {
      const e = input as Json & Extract<GatewayEvent, { type: 'message.revoke' }>;
      return { type: 'message.revoke', chatId: e.chatId, messageId: e.messageId };
    }
  }
}

function invalidEvent(index: number, fields: Record<string, string[]>): ValidationError {
  return new ValidationError(`event ${index} is invalid`, { index, fields });
}

/**
 * Validates every event before anything is written: the first invalid one fails the whole batch
 * with a 422 that names its index and fields.
 */
export function validateEvents(events: readonly unknown[], origin: EventOrigin): ValidEvent[] {
  const allowedTypes: readonly string[] = origin === 'api' ? PUBLIC_TYPES : PROVIDER_TYPES;
  const byType = SHAPES[origin];
  return events.map((event, index) => {
    if (!isObject(event)) throw invalidEvent(index, { event: ['must be an object'] });
    if (typeof event.type !== 'string' || !allowedTypes.includes(event.type)) {
      throw invalidEvent(index, { type: [`must be one of ${allowedTypes.join(', ')}`] });
    }
    // Without a prototype, so that a field named `constructor` or `__proto__` is reported like any other.
    const problems = Object.create(null) as Record<string, string[]>;
    checkShape(event, { type: {}, ...byType[event.type as keyof typeof byType] }, '', problems);
    if (Object.keys(problems).length > 0) throw invalidEvent(index, problems);
    let rawJson: string | null;
    try {
      rawJson = serializeRaw(event.raw);
    } catch {
      // JSON.stringify throws on a BigInt or a cycle.
      throw invalidEvent(index, { raw: ['must be JSON-serializable'] });
    }
    return toValidEvent(event, rawJson);
  });
}

/** The body of `POST /sessions/{sid}/events`: `{"events": [...]}` with 1 to 1000 public events. */
export function validateEventBatch(body: unknown): ValidEvent[] {
  if (!isObject(body)) {
    throw new ValidationError('request body must be a JSON object', { fields: { body: ['must be a JSON object'] } });
  }
  const unknownFields = Object.keys(body).filter((key) => key !== 'events');
  if (unknownFields.length > 0) {
    throw new ValidationError('request validation failed', {
      fields: Object.fromEntries(unknownFields.map((key) => [key, ['is not an accepted field']])),
    });
  }
  const { events } = body;
  if (!Array.isArray(events) || events.length < 1 || events.length > MAX_EVENTS_PER_BATCH) {
    throw ValidationError.field('events', `must be an array of 1 to ${MAX_EVENTS_PER_BATCH} events`);
  }
  return validateEvents(events, 'api');
}
