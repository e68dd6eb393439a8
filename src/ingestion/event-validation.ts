import Ajv, { AnySchemaObject, ErrorObject, SchemaValidateFunction, ValidateFunction } from 'ajv';
import { ValidationError } from '../common/errors/app-error';
import { storedTextProblem } from '../common/validation/stored-text';
import {
  ContactUpsertEvent,
  GatewayEvent,
  GatewayMessage,
  GroupParticipantsEvent,
  GroupUpsertEvent,
  MessageContactCard,
  MessageLocation,
  MessageUpsertEvent,
  SessionStatus,
} from '../domain/gateway-events';
import { isMediaType, MessageMedia } from '../domain/media';
import { EventOrigin, ingestionBatchSchema, ingestionEventSchema, PROVIDER_EVENT_TYPES, PUBLIC_EVENT_TYPES } from './ingestion-event.schema';

export type { EventOrigin } from './ingestion-event.schema';

/** A validated event, ready to apply; a message's provider original is serialized as `rawJson`. */
export type ValidEvent =
  | Exclude<GatewayEvent, MessageUpsertEvent>
  | { type: 'message.upsert'; message: GatewayMessage & { media: MessageMedia | null }; rawJson: string | null };

/** A validated batch of `POST /sessions/{sid}/events`. */
export interface ValidBatch {
  events: ValidEvent[];
  history: boolean;
}

type Json = Record<string, unknown>;
type Problems = Record<string, string[]>;

// `verbose` gives each error its schema node, whose `x-rule` is the message a client reads.
const ajv = new Ajv({ allErrors: true, discriminator: true, strictTypes: false, verbose: true });
// OpenAPI annotations: `int64` is documentation here (the bounds are in `minimum`/`maximum`).
ajv.addFormat('int64', { type: 'number', validate: () => true });
ajv.addKeyword({ keyword: 'x-rule', schemaType: 'string' });
ajv.addKeyword({ keyword: 'example' });
// The stored-text rule of API.md §1, with its own message (a NUL is not a length problem).
const storedText: SchemaValidateFunction = (_enabled: boolean, value: string, parent?: AnySchemaObject) => {
  const problem = storedTextProblem(value, {
    min: typeof parent?.minLength === 'number' ? parent.minLength : 0,
    max: typeof parent?.maxLength === 'number' ? parent.maxLength : Number.MAX_SAFE_INTEGER,
  });
  storedText.errors = problem ? [{ keyword: 'x-stored-text', message: problem, params: {} }] : [];
  return problem === null;
};
ajv.addKeyword({ keyword: 'x-stored-text', type: 'string', schemaType: 'boolean', errors: true, validate: storedText });

const validators: Record<EventOrigin, ValidateFunction> = {
  api: ajv.compile(ingestionEventSchema('api')),
  provider: ajv.compile(ingestionEventSchema('provider')),
};
const validateBatchShape = ajv.compile(ingestionBatchSchema());

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The schema node an error is about: its `x-rule` is the message to show. */
function ruleOf(error: ErrorObject): string | undefined {
  return (error.parentSchema as { 'x-rule'?: string } | undefined)?.['x-rule'];
}

/**
 * Turns ajv's errors (paths inside one event, or inside the batch body) into `fields`: dotted
 * paths with one plain message each.
 */
function problemsOf(errors: readonly ErrorObject[], allowedTypes: readonly string[]): Problems {
  const problems = Object.create(null) as Problems;
  // The first broken rule of a field is its message (a long name breaks `maxLength` and the stored-text rule).
  const add = (path: string, problem: string) => {
    problems[path || 'event'] ??= [problem];
  };
  for (const error of errors) {
    const path = error.instancePath.split('/').slice(1).join('.');
    const at = (name: string) => (path ? `${path}.${name}` : name);
    switch (error.keyword) {
      case 'additionalProperties':
        add(at((error.params as { additionalProperty: string }).additionalProperty), 'is not an accepted field');
        break;
      case 'required':
        add(at((error.params as { missingProperty: string }).missingProperty), 'is required');
        break;
      case 'x-stored-text':
        add(path, error.message ?? 'must be valid Unicode text');
        break;
      case 'discriminator':
        add(at('type'), `must be one of ${allowedTypes.join(', ')}`);
        break;
      case 'type':
        if (error.params && (error.params as { type: string }).type === 'object') add(path, 'must be an object');
        else add(path, ruleOf(error) ?? `must be ${String((error.params as { type: string }).type)}`);
        break;
      default:
        add(path, ruleOf(error) ?? error.message ?? 'is invalid');
    }
  }
  return problems;
}

function invalidEvent(index: number, fields: Problems): ValidationError {
  return new ValidationError(`event ${index} is invalid`, { index, fields });
}

/** Text as PostgreSQL can store it: NUL removed, lone surrogates replaced (provider text only). */
function storableText(value: string): string {
  return /[\0\uD800-\uDFFF]/u.test(value) ? value.replace(/\0/g, '').replace(/[\uD800-\uDFFF]/gu, '\uFFFD') : value;
}

const storable = (value: string | null | undefined): string | null => (value == null ? null : storableText(value));

function serializeRaw(raw: unknown): string | null {
  if (raw === undefined || raw === null) return null;
  const json = JSON.stringify(raw, (_key, value: unknown) => (typeof value === 'string' ? storableText(value) : value));
  return json ?? null;
}

/** An announced file with its absent fields filled in; its status defaults to `pending`. */
function mediaOf(media: Partial<MessageMedia>): MessageMedia {
  return {
    mimetype: media.mimetype!,
    size: media.size!,
    fileName: storable(media.fileName),
    sha256: media.sha256!,
    width: media.width ?? null,
    height: media.height ?? null,
    durationMs: media.durationMs ?? null,
    voiceNote: media.voiceNote ?? false,
    status: media.status ?? 'pending',
  };
}

/** What the schema cannot say: only media types carry a file; a contact known by its LID maps to no other LID. */
function crossFieldProblems(event: Json): Problems | null {
  const message = event.type === 'message.upsert' ? (event.message as Json & GatewayMessage) : null;
  if (message?.media && !isMediaType(message.type)) {
    return { 'message.media': ['must be null or absent unless type is image, video, audio, document or sticker'] };
  }
  const contact = event.type === 'contact.upsert' ? (event.contact as ContactUpsertEvent['contact']) : null;
  if (contact?.id.endsWith('@lid') && contact.lid != null && contact.lid !== contact.id) {
    return { 'contact.lid': ['must be null, absent or the id itself when the id is a LID'] };
  }
  return null;
}

function locationOf(location: MessageLocation): MessageLocation {
  return { latitude: location.latitude, longitude: location.longitude, name: storable(location.name), address: storable(location.address) };
}

function cardsOf(cards: MessageContactCard[]): MessageContactCard[] {
  return cards.map((card) => ({ name: storableText(card.name), phoneNumber: card.phoneNumber ?? null }));
}

/** The optional fields of a message: absent stays absent (the stored value is kept). */
function messageExtras(m: GatewayMessage): Partial<GatewayMessage> {
  const extras: Partial<GatewayMessage> = {};
  if (m.replyTo !== undefined) extras.replyTo = m.replyTo;
  if (m.location !== undefined) extras.location = m.location && locationOf(m.location);
  if (m.contacts !== undefined) extras.contacts = m.contacts && cardsOf(m.contacts);
  if (m.senderPhoneNumber !== undefined) extras.senderPhoneNumber = m.senderPhoneNumber;
  return extras;
}

function contactOf(contact: ContactUpsertEvent['contact']): ContactUpsertEvent['contact'] {
  const out: ContactUpsertEvent['contact'] = { id: contact.id };
  if (contact.lid !== undefined) out.lid = contact.lid;
  if (contact.name !== undefined) out.name = storable(contact.name);
  if (contact.pushName !== undefined) out.pushName = storable(contact.pushName);
  if (contact.isBusiness !== undefined) out.isBusiness = contact.isBusiness;
  return out;
}

function groupOf(group: GroupUpsertEvent['group']): GroupUpsertEvent['group'] {
  const out: GroupUpsertEvent['group'] = { id: group.id };
  if (group.subject !== undefined) out.subject = storable(group.subject);
  if (group.description !== undefined) out.description = storable(group.description);
  if (group.ownerId !== undefined) out.ownerId = group.ownerId;
  if (group.createdAt !== undefined) out.createdAt = group.createdAt;
  if (group.announce !== undefined) out.announce = group.announce;
  if (group.restrict !== undefined) out.restrict = group.restrict;
  if (group.participants !== undefined) {
    out.participants = group.participants.map((p) => ({ id: p.id, phoneNumber: p.phoneNumber ?? null, role: p.role }));
  }
  return out;
}

/** Builds the event from input that passed the schema, keeping only what the schema names. */
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
          media: m.media ? mediaOf(m.media) : null,
          ...messageExtras(m),
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
      const edit = { type: 'message.edit' as const, chatId: e.chatId, messageId: e.messageId, text: storable(e.text) };
      return e.timestamp === undefined ? edit : { ...edit, timestamp: e.timestamp };
    }
    case 'message.revoke': {
      const e = input as Json & Extract<GatewayEvent, { type: 'message.revoke' }>;
      return { type: 'message.revoke', chatId: e.chatId, messageId: e.messageId };
    }
    case 'message.react': {
      const e = input as Json & Extract<GatewayEvent, { type: 'message.react' }>;
      return { type: 'message.react', chatId: e.chatId, messageId: e.messageId, senderId: e.senderId, emoji: storableText(e.emoji), timestamp: e.timestamp };
    }
    case 'contact.upsert':
      return { type: 'contact.upsert', contact: contactOf(input.contact as ContactUpsertEvent['contact']) };
    case 'group.upsert':
      return { type: 'group.upsert', group: groupOf(input.group as GroupUpsertEvent['group']) };
    default: {
      const e = input as Json & GroupParticipantsEvent;
      return {
        type: 'group.participants',
        groupId: e.groupId,
        action: e.action,
        participants: e.participants.map((p) => ({ id: p.id, phoneNumber: p.phoneNumber ?? null })),
      };
    }
  }
}

/**
 * Validates every event before anything is written: the first invalid one fails the whole batch
 * with a 422 that names its index and fields.
 */
export function validateEvents(events: readonly unknown[], origin: EventOrigin): ValidEvent[] {
  const validate = validators[origin];
  const allowedTypes = origin === 'api' ? PUBLIC_EVENT_TYPES : PROVIDER_EVENT_TYPES;
  return events.map((event, index) => {
    if (!validate(event)) throw invalidEvent(index, problemsOf(validate.errors ?? [], allowedTypes));
    const problems = crossFieldProblems(event as Json);
    if (problems) throw invalidEvent(index, problems);
    let rawJson: string | null;
    try {
      rawJson = serializeRaw((event as Json).raw);
    } catch {
      // JSON.stringify throws on a BigInt or a cycle.
      throw invalidEvent(index, { raw: ['must be JSON-serializable'] });
    }
    return toValidEvent(event as Json, rawJson);
  });
}

/** The body of `POST /sessions/{sid}/events`: `{"events": [1..1000 public events], "history"?: boolean}`. */
export function validateEventBatch(body: unknown): ValidBatch {
  if (!isObject(body)) {
    throw new ValidationError('request body must be a JSON object', { fields: { body: ['must be a JSON object'] } });
  }
  if (!validateBatchShape(body)) {
    const errors = validateBatchShape.errors ?? [];
    // Errors inside one event are reported for the first such event, with its index.
    const inEvents = errors.filter((e) => /^\/events\/\d+/.test(e.instancePath));
    const outside = errors.filter((e) => !inEvents.includes(e));
    if (outside.length > 0) throw new ValidationError('request validation failed', { fields: problemsOf(outside, PUBLIC_EVENT_TYPES) });
    const index = Math.min(...inEvents.map((e) => Number(e.instancePath.split('/')[2])));
    const prefix = `/events/${index}`;
    const own = inEvents
      .filter((e) => e.instancePath === prefix || e.instancePath.startsWith(`${prefix}/`))
      .map((e) => ({ ...e, instancePath: e.instancePath.slice(prefix.length) }));
    throw invalidEvent(index, problemsOf(own, PUBLIC_EVENT_TYPES));
  }
  const { events, history } = body as { events: Json[]; history?: boolean };
  events.forEach((event, index) => {
    const problems = crossFieldProblems(event);
    if (problems) throw invalidEvent(index, problems);
  });
  return { events: events.map((event) => toValidEvent(event, null)), history: history ?? false };
}
