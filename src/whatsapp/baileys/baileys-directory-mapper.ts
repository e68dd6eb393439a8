import type { BaileysEventMap, BinaryNode, Contact, GroupMetadata, GroupParticipant as BaileysParticipant } from 'baileys';
import { ContactUpsertEvent, GatewayEvent, GroupParticipant, GroupParticipantsEvent, GroupRole, GroupUpsertEvent } from '../../domain/gateway-events';
import { isUserJid } from '../../domain/jid';
import { NumberLookup, PARTICIPANT_DONE, ParticipantAction, ParticipantResult, ProviderGroup } from '../whatsapp-provider';
import { normalizeJid, phoneNumberOf } from './baileys-jid';
import { secondsToEpochMs } from './baileys-values';

/**
 * Pure translation of what Baileys tells about people and groups (API.md §10): contact and LID
 * mapping events into `contact.upsert`, group metadata into `group.upsert`, membership changes
 * into `group.participants`, and the answers of the socket's directory calls into the provider's
 * results.
 */

const GROUP_JID = /^[0-9]{1,24}(?:-[0-9]{1,24})?@g\.us$/;

function userJid(jid: string | null | undefined): string | null {
  const normalized = normalizeJid(jid);
  return isUserJid(normalized) ? normalized : null;
}

function lidOf(jid: string | null | undefined): string | null {
  const normalized = userJid(jid);
  return normalized?.endsWith('@lid') ? normalized : null;
}

function pnJidOf(jid: string | null | undefined): string | null {
  const normalized = userJid(jid);
  return normalized?.endsWith('@s.whatsapp.net') ? normalized : null;
}

export function groupJidOf(jid: string | null | undefined): string | null {
  const normalized = normalizeJid(jid);
  return normalized && GROUP_JID.test(normalized) ? normalized : null;
}

/**
 * A contact as Baileys reports it (whole from `contacts.upsert`, partial from `contacts.update`):
 * keyed by the phone-number JID when known, with the LID beside it; only what the report carries.
 */
export function mapContact(contact: Partial<Contact>): ContactUpsertEvent | null {
  const pn = pnJidOf(contact.phoneNumber) ?? pnJidOf(contact.id);
  const lid = lidOf(contact.lid) ?? lidOf(contact.id);
  const id = pn ?? lid;
  if (!id) return null;
  const event: ContactUpsertEvent = { type: 'contact.upsert', contact: { id } };
  if (pn && lid) event.contact.lid = lid;
  if (typeof contact.name === 'string' && contact.name !== '') event.contact.name = contact.name;
  if (typeof contact.notify === 'string' && contact.notify !== '') event.contact.pushName = contact.notify;
  if (typeof contact.verifiedName === 'string' && contact.verifiedName !== '') event.contact.isBusiness = true;
  return event;
}

/** `contacts.upsert`: every contact is a person this number knows, even with nothing more than an id. */
export function mapContacts(contacts: readonly Partial<Contact>[]): GatewayEvent[] {
  return contacts.map(mapContact).filter((event) => event !== null);
}

/** `contacts.update`: only the changes the gateway keeps (a new picture alone is not one). */
export function mapContactUpdates(updates: readonly Partial<Contact>[]): GatewayEvent[] {
  return updates.map(mapContact).filter((event): event is ContactUpsertEvent => event !== null && Object.keys(event.contact).length > 1);
}

/** WhatsApp revealed which number is behind a LID (`lid-mapping.update`, a history sync's `lidPnMappings`). */
export function mapLidMapping(mapping: { lid?: string | null; pn?: string | null }): ContactUpsertEvent | null {
  const pn = pnJidOf(mapping.pn);
  const lid = lidOf(mapping.lid);
  return pn && lid ? { type: 'contact.upsert', contact: { id: pn, lid } } : null;
}

/** The people and LID mappings a history sync carries. */
export function mapHistoryDirectory(payload: BaileysEventMap['messaging-history.set']): GatewayEvent[] {
  const mappings = (payload.lidPnMappings ?? []).map(mapLidMapping).filter((event) => event !== null);
  return [...mapContacts(payload.contacts ?? []), ...mappings];
}

function roleOf(participant: Partial<BaileysParticipant>): GroupRole {
  if (participant.admin === 'superadmin' || participant.isSuperAdmin) return 'superadmin';
  if (participant.admin === 'admin' || participant.isAdmin) return 'admin';
  return 'member';
}

/** A participant as the group lists it, with the number when the group (or the LID's mapping) reveals it. */
function participantOf(participant: Partial<BaileysParticipant> | string): GroupParticipant | null {
  const entry = typeof participant === 'string' ? { id: participant } : participant;
  const id = userJid(entry.id);
  if (!id) return null;
  const phoneNumber = phoneNumberOf(id) ?? phoneNumberOf(pnJidOf(entry.phoneNumber));
  return { id, phoneNumber, role: roleOf(entry) };
}

/** The LID ↔ number mappings a participant list reveals. */
function participantMappings(participants: readonly (Partial<BaileysParticipant> | string)[]): ContactUpsertEvent[] {
  const events: ContactUpsertEvent[] = [];
  for (const participant of participants) {
    if (typeof participant === 'string') continue;
    const event = mapLidMapping({ lid: participant.lid ?? participant.id, pn: participant.phoneNumber ?? participant.id });
    if (event) events.push(event);
  }
  return events;
}

/** The owner as a phone-number JID when WhatsApp gives one beside a LID. */
function ownerOf(group: Partial<GroupMetadata>): string | null {
  return pnJidOf(group.ownerPn) ?? userJid(group.owner);
}

/** Whole group metadata (`groupMetadata`, `groupCreate`, `groups.upsert`) as the provider's group; null for a non-group id. */
export function toProviderGroup(group: GroupMetadata): ProviderGroup | null {
  const id = groupJidOf(group.id);
  if (!id) return null;
  return {
    id,
    subject: group.subject || null,
    description: group.desc || null,
    ownerId: ownerOf(group),
    createdAt: secondsToEpochMs(group.creation),
    announce: group.announce === true,
    restrict: group.restrict === true,
    participants: (group.participants ?? []).map(participantOf).filter((p) => p !== null),
  };
}

/** `groups.upsert`: groups this number joined or created, whole, and the LID mappings their participants reveal. */
export function mapGroupsUpsert(groups: readonly GroupMetadata[]): GatewayEvent[] {
  const events: GatewayEvent[] = [];
  for (const group of groups) {
    const mapped = toProviderGroup(group);
    if (!mapped) continue;
    events.push(...participantMappings(group.participants ?? []), { type: 'group.upsert', group: mapped });
  }
  return events;
}

/** `groups.update`: only the fields each update carries (a participant list present is the whole list). */
export function mapGroupUpdates(updates: readonly Partial<GroupMetadata>[]): GatewayEvent[] {
  const events: GatewayEvent[] = [];
  for (const update of updates) {
    const id = groupJidOf(update.id);
    if (!id) continue;
    const group: GroupUpsertEvent['group'] = { id };
    if (update.subject !== undefined) group.subject = update.subject || null;
    if (update.desc !== undefined) group.description = update.desc || null;
    if (update.owner !== undefined || update.ownerPn !== undefined) group.ownerId = ownerOf(update);
    const createdAt = secondsToEpochMs(update.creation);
    if (createdAt !== null) group.createdAt = createdAt;
    if (typeof update.announce === 'boolean') group.announce = update.announce;
    if (typeof update.restrict === 'boolean') group.restrict = update.restrict;
    if (Array.isArray(update.participants)) {
      events.push(...participantMappings(update.participants));
      group.participants = update.participants.map(participantOf).filter((p) => p !== null);
    }
    if (Object.keys(group).length > 1) events.push({ type: 'group.upsert', group });
  }
  return events;
}

/** `group-participants.update`: people added, removed, promoted or demoted (`modify`, a number change, is not a membership change). */
export function mapGroupParticipantsUpdate(update: BaileysEventMap['group-participants.update']): GatewayEvent[] {
  const groupId = groupJidOf(update.id);
  if (!groupId || update.action === 'modify') return [];
  const participants: GroupParticipantsEvent['participants'] = [];
  for (const participant of update.participants ?? []) {
    const mapped = participantOf(participant);
    if (mapped) participants.push({ id: mapped.id, phoneNumber: mapped.phoneNumber });
  }
  if (participants.length === 0) return [];
  return [
    ...participantMappings((update.participants ?? [])),
    { type: 'group.participants', groupId, action: update.action, participants },
  ];
}

/**
 * `onWhatsApp` answers only for the numbers that have an account, each with the JID WhatsApp knows
 * it by, in no promised order. Answers whose JID is the number itself are matched here; `leftOver`
 * are the numbers without such an answer while other answers remain unmatched (WhatsApp rewrote the
 * number, as for some countries' mobile prefixes): only asking those one at a time tells them apart.
 */
export function matchLookups(
  phoneNumbers: readonly string[],
  answers: readonly { jid: string; exists: boolean }[],
): { results: Map<string, NumberLookup>; leftOver: string[] } {
  const existing = answers.filter((answer) => answer.exists).map((answer) => pnJidOf(answer.jid)).filter((jid) => jid !== null);
  const results = new Map<string, NumberLookup>();
  const unmatched = new Set(existing);
  for (const phoneNumber of phoneNumbers) {
    const jid = `${phoneNumber}@s.whatsapp.net`;
    if (unmatched.delete(jid)) results.set(phoneNumber, { phoneNumber, exists: true, jid });
  }
  const missing = phoneNumbers.filter((phoneNumber) => !results.has(phoneNumber));
  if (unmatched.size === 0) {
    for (const phoneNumber of missing) results.set(phoneNumber, { phoneNumber, exists: false, jid: null });
    return { results, leftOver: [] };
  }
  if (missing.length === 1) {
    results.set(missing[0], { phoneNumber: missing[0], exists: true, jid: [...unmatched][0] });
    return { results, leftOver: [] };
  }
  return { results, leftOver: missing };
}

/** The invitation WhatsApp offers when a number's privacy settings refuse being added. */
export interface AddRequest {
  code: string;
  /** Epoch seconds. */
  expiration: number;
}

/** The `add_request` of a participant's answer node, when it has one. */
export function addRequestOf(node: BinaryNode | undefined): AddRequest | null {
  const children = Array.isArray(node?.content) ? node.content : [];
  const request = children.find((child) => child.tag === 'add_request');
  const code = request?.attrs.code;
  const expiration = Number(request?.attrs.expiration);
  return code && Number.isSafeInteger(expiration) ? { code, expiration } : null;
}

/** WhatsApp's per-participant codes, as a reason a client can read. */
const PARTICIPANT_REASONS: Record<string, string> = {
  '401': 'not allowed: this number is not an admin of the group',
  '403': "the person's privacy settings do not allow being added",
  '404': 'not a participant, or not on WhatsApp',
  '408': 'the person left the group recently and cannot be added again yet',
  '409': 'already a participant',
  '500': 'the group is full',
};

export function participantFailure(status: string): string {
  return PARTICIPANT_REASONS[status] ?? `WhatsApp refused it (code ${status})`;
}

/**
 * The answer for each asked number, in the order asked: matched by JID; answers for a JID that was
 * not asked (WhatsApp answered by LID) go, in their order, to the numbers left without one.
 */
export function alignAnswers<A extends { jid: string | undefined }>(phoneNumbers: readonly string[], answers: readonly A[]): (A | undefined)[] {
  const asked = new Set(phoneNumbers);
  const byNumber = new Map<string, A>();
  const foreign: A[] = [];
  for (const answer of answers) {
    const phoneNumber = phoneNumberOf(answer.jid);
    if (phoneNumber && asked.has(phoneNumber)) byNumber.set(phoneNumber, answer);
    else foreign.push(answer);
  }
  return phoneNumbers.map((phoneNumber) => byNumber.get(phoneNumber) ?? foreign.shift());
}

/** What became of one number: `invited` when an invitation was sent instead (a 403 with an `add_request`). */
export function participantResult(
  action: ParticipantAction,
  phoneNumber: string,
  answer: { status: string } | undefined,
  invited = false,
): ParticipantResult {
  if (!answer) return { phoneNumber, result: 'failed', reason: 'WhatsApp gave no answer for this number' };
  if (answer.status === '200') return { phoneNumber, result: PARTICIPANT_DONE[action], reason: null };
  if (invited) return { phoneNumber, result: 'invited', reason: `${participantFailure('403')}: an invitation to join was sent` };
  return { phoneNumber, result: 'failed', reason: participantFailure(answer.status) };
}

/** WhatsApp's code of a failed query (a Boom error: the error node's code in `data`, or the status). */
export function whatsappErrorCode(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const { data, output } = error as { data?: unknown; output?: { statusCode?: unknown } };
  if (typeof data === 'number' && Number.isInteger(data)) return data;
  return typeof output?.statusCode === 'number' ? output.statusCode : null;
}
