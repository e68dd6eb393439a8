import { UnavailableError } from '../../common/errors/app-error';
import { storedTextProblem } from '../../common/validation/stored-text';
import { GROUP_ROLES, GroupParticipant, GroupRole } from '../../domain/gateway-events';
import { isChatJid, isUserJid } from '../../domain/jid';
import { NumberLookup, PARTICIPANT_DONE, ParticipantAction, ParticipantOutcome, ParticipantResult, ProviderGroup } from '../whatsapp-provider';

/**
 * The connector's answers to the request/answer actions of API.md §10 (lookup, groups, picture),
 * checked before the gateway serves or stores them: whatever does not fit is a 503, never a 500
 * and never a stored value the API could not have accepted itself.
 */

type Json = Record<string, unknown>;

/** The longest subject and description stored (the columns' bounds, in code points). */
const MAX_SUBJECT = 256;
const MAX_DESCRIPTION = 8192;
const MAX_PARTICIPANTS = 5000;
const MAX_URL = 4096;

export class MalformedAnswerError extends UnavailableError {
  constructor(problem: string) {
    super(`the connector gave a malformed answer: ${problem}`);
  }
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function object(value: unknown, what: string): Json {
  if (!isObject(value)) throw new MalformedAnswerError(`${what} is not an object`);
  return value;
}

function list(value: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(value) || value.length > max) throw new MalformedAnswerError(`${what} is not a list of at most ${max} items`);
  return value;
}

function nullableText(value: unknown, what: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (storedTextProblem(value, { min: 0, max }) !== null) throw new MalformedAnswerError(`${what} is not text of at most ${max} characters`);
  return value as string;
}

function bool(value: unknown, what: string, fallback?: boolean): boolean {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') throw new MalformedAnswerError(`${what} is not a boolean`);
  return value;
}

function digits(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^[0-9]{1,20}$/.test(value)) throw new MalformedAnswerError(`${what} is not a phone number`);
  return value;
}

/** One entry per asked number, each exactly once; returned in the order asked. */
function perNumber<T>(data: unknown, phoneNumbers: readonly string[], parse: (entry: Json, phoneNumber: string) => T): T[] {
  const byNumber = new Map<string, T>();
  for (const [i, raw] of list(data, 'data', phoneNumbers.length).entries()) {
    const entry = object(raw, `data[${i}]`);
    const phoneNumber = digits(entry.phoneNumber, `data[${i}].phoneNumber`);
    if (!phoneNumbers.includes(phoneNumber) || byNumber.has(phoneNumber)) {
      throw new MalformedAnswerError(`data[${i}].phoneNumber ${phoneNumber} was not asked, or is answered twice`);
    }
    byNumber.set(phoneNumber, parse(entry, phoneNumber));
  }
  return phoneNumbers.map((phoneNumber) => {
    const parsed = byNumber.get(phoneNumber);
    if (parsed === undefined) throw new MalformedAnswerError(`${phoneNumber} is not answered`);
    return parsed;
  });
}

/** `{"data": [{"phoneNumber", "exists", "jid"}]}`: `jid` a person's JID when `exists`, else null. */
export function lookupAnswer(body: unknown, phoneNumbers: readonly string[]): NumberLookup[] {
  return perNumber(object(body, 'the answer').data, phoneNumbers, (entry, phoneNumber) => {
    const exists = bool(entry.exists, `${phoneNumber}.exists`);
    const jid = entry.jid ?? null;
    if (exists ? !isUserJid(jid) : jid !== null) throw new MalformedAnswerError(`${phoneNumber}.jid does not fit exists: ${exists}`);
    return { phoneNumber, exists, jid: jid as string | null };
  });
}

/** `{"url": "https://…" | null}`. */
export function pictureAnswer(body: unknown): string | null {
  const url = object(body, 'the answer').url;
  if (url === null || url === undefined) return null;
  if (typeof url !== 'string' || url.length > MAX_URL || !/^https?:\/\/[^\s]+$/.test(url)) throw new MalformedAnswerError('url is not an http(s) URL');
  return url;
}

/** `{"url": "https://chat.whatsapp.com/<code>"}`. */
export function inviteLinkAnswer(body: unknown): string {
  const url = object(body, 'the answer').url;
  if (typeof url !== 'string' || !/^https:\/\/chat\.whatsapp\.com\/[A-Za-z0-9_-]{1,64}$/.test(url)) {
    throw new MalformedAnswerError('url is not a WhatsApp invite link');
  }
  return url;
}

function participant(raw: unknown, i: number): GroupParticipant {
  const entry = object(raw, `participants[${i}]`);
  if (!isUserJid(entry.id)) throw new MalformedAnswerError(`participants[${i}].id is not a person's JID`);
  const phoneNumber = entry.phoneNumber === null || entry.phoneNumber === undefined ? null : digits(entry.phoneNumber, `participants[${i}].phoneNumber`);
  const role = entry.role ?? 'member';
  if (!GROUP_ROLES.includes(role as GroupRole)) throw new MalformedAnswerError(`participants[${i}].role is not one of ${GROUP_ROLES.join(', ')}`);
  return { id: entry.id, phoneNumber, role: role as GroupRole };
}

/** A group as §10 shows it; `id` must be `expectedId` when the action named one. */
export function groupAnswer(body: unknown, expectedId?: string): ProviderGroup {
  const group = object(body, 'the answer');
  if (!isChatJid(group.id) || !group.id.endsWith('@g.us') || (expectedId !== undefined && group.id !== expectedId)) {
    throw new MalformedAnswerError('id is not the group JID');
  }
  const ownerId = group.ownerId ?? null;
  if (ownerId !== null && !isUserJid(ownerId)) throw new MalformedAnswerError("ownerId is not a person's JID");
  const createdAt = group.createdAt ?? null;
  if (createdAt !== null && !(Number.isSafeInteger(createdAt) && (createdAt as number) >= 0)) throw new MalformedAnswerError('createdAt is not epoch ms');
  return {
    id: group.id,
    subject: nullableText(group.subject, 'subject', MAX_SUBJECT),
    description: nullableText(group.description, 'description', MAX_DESCRIPTION),
    ownerId: ownerId,
    createdAt: createdAt as number | null,
    announce: bool(group.announce, 'announce', false),
    restrict: bool(group.restrict, 'restrict', false),
    participants: list(group.participants, 'participants', MAX_PARTICIPANTS).map(participant),
  };
}

/** `{"data": [{"phoneNumber", "result", "reason"}]}`, with the results `action` can have. */
export function participantsAnswer(body: unknown, action: ParticipantAction, phoneNumbers: readonly string[]): ParticipantResult[] {
  const allowed: ParticipantOutcome[] = action === 'add' ? ['added', 'invited', 'failed'] : [PARTICIPANT_DONE[action], 'failed'];
  return perNumber(object(body, 'the answer').data, phoneNumbers, (entry, phoneNumber) => {
    if (!allowed.includes(entry.result as ParticipantOutcome)) throw new MalformedAnswerError(`${phoneNumber}.result is not one of ${allowed.join(', ')}`);
    return { phoneNumber, result: entry.result as ParticipantOutcome, reason: nullableText(entry.reason, `${phoneNumber}.reason`, 1024) };
  });
}
