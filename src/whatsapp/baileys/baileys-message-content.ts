import type { proto } from 'baileys';
import { MessageContactCard, MessageLocation, MessageType } from '../../domain/gateway-events';

type Content = proto.IMessage;

/** Envelopes around the real content: disappearing, view-once, captioned document, edit, etc. */
const WRAPPERS = [
  'ephemeralMessage',
  'viewOnceMessage',
  'viewOnceMessageV2',
  'viewOnceMessageV2Extension',
  'documentWithCaptionMessage',
  'editedMessage',
  'associatedChildMessage',
  'groupStatusMessage',
  'groupStatusMessageV2',
  'groupMentionedMessage',
  'botInvokeMessage',
  'lottieStickerMessage',
  'deviceSentMessage',
] as const satisfies readonly (keyof Content)[];

/** WhatsApp nests wrappers at most a few deep; the bound keeps a hostile payload from looping. */
const MAX_UNWRAP_DEPTH = 5;

/** The innermost content of a message, with every wrapper removed. */
export function unwrapContent(content: Content | null | undefined): Content | null {
  let current = content ?? null;
  for (let depth = 0; current && depth < MAX_UNWRAP_DEPTH; depth += 1) {
    const wrapper = WRAPPERS.find((name) => current?.[name]);
    if (!wrapper) break;
    current = current[wrapper]?.message ?? null;
  }
  return current;
}

export interface ContentSummary {
  type: MessageType;
  text: string | null;
}

function text(value: string | null | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * What a person sees of a message: its contract type and text (the text itself, a caption, a
 * contact's name, a reaction's emoji). Null when the content is signalling that no one sees
 * (protocol messages, key distribution, poll votes, keep-in-chat marks): those are not messages
 * of the stored copy.
 */
export function summarizeContent(content: Content | null | undefined): ContentSummary | null {
  const c = unwrapContent(content);
  if (!c) return null;
  if (c.conversation !== undefined && c.conversation !== null) return { type: 'text', text: text(c.conversation) };
  if (c.extendedTextMessage) return { type: 'text', text: text(c.extendedTextMessage.text) };
  if (c.imageMessage) return { type: 'image', text: text(c.imageMessage.caption) };
  if (c.videoMessage) return { type: 'video', text: text(c.videoMessage.caption) };
  if (c.ptvMessage) return { type: 'video', text: text(c.ptvMessage.caption) };
  if (c.audioMessage) return { type: 'audio', text: null };
  if (c.documentMessage) return { type: 'document', text: text(c.documentMessage.caption) };
  if (c.stickerMessage) return { type: 'sticker', text: null };
  if (c.locationMessage || c.liveLocationMessage) return { type: 'location', text: null };
  if (c.contactMessage) return { type: 'contact', text: text(c.contactMessage.displayName) };
  if (c.contactsArrayMessage) return { type: 'contact', text: text(c.contactsArrayMessage.displayName) };
  if (c.reactionMessage) return { type: 'reaction', text: text(c.reactionMessage.text) };
  if (isSignalling(c)) return null;
  return { type: 'unknown', text: null };
}

/** Content keys that carry no message a person sees. */
const SIGNALLING = new Set([
  'protocolMessage',
  'senderKeyDistributionMessage',
  'fastRatchetKeySenderKeyDistributionMessage',
  'messageContextInfo',
  'pollUpdateMessage',
  'keepInChatMessage',
  'encReactionMessage',
  'encEventResponseMessage',
  'pinInChatMessage',
]);

/** True when no key of the content is one a person would see. */
function isSignalling(c: Content): boolean {
  return Object.entries(c).every(([key, value]) => value === null || value === undefined || SIGNALLING.has(key));
}

/** The text of an edited message's new content (text, or a media caption). */
export function editedText(content: Content | null | undefined): string | null {
  return summarizeContent(content)?.text ?? null;
}

/** The id of the message a content quotes (`contextInfo.stanzaId` of whichever part carries it). */
export function quotedMessageId(content: Content | null | undefined): string | null {
  const c = unwrapContent(content);
  if (!c) return null;
  for (const part of Object.values(c) as unknown[]) {
    const stanzaId = (part as { contextInfo?: { stanzaId?: unknown } } | null)?.contextInfo?.stanzaId;
    if (typeof stanzaId === 'string' && stanzaId !== '') return stanzaId;
  }
  return null;
}

/** Text cut to `max` code points (the stored copy's bound for the field). */
function bounded(value: string | null | undefined, max: number): string | null {
  const t = text(value);
  return t === null ? null : Array.from(t).slice(0, max).join('');
}

/** The place of a location message; null when its coordinates are missing or out of range. */
export function locationOf(content: Content | null | undefined): MessageLocation | null {
  const c = unwrapContent(content);
  const place = c?.locationMessage ?? c?.liveLocationMessage;
  if (!place) return null;
  const { degreesLatitude: latitude, degreesLongitude: longitude } = place;
  if (typeof latitude !== 'number' || typeof longitude !== 'number' || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return null;
  const name = 'name' in place ? bounded(place.name, 256) : null;
  const address = 'address' in place ? bounded(place.address, 1024) : null;
  return { latitude, longitude, name, address };
}

/** The WhatsApp number of a vCard: its `waid`, else the digits of its first phone number. */
function vcardNumber(vcard: string | null | undefined): string | null {
  if (!vcard) return null;
  const waid = /waid=(\d{5,20})/i.exec(vcard);
  if (waid) return waid[1];
  const tel = /^TEL[^:]*:([+\d\s().-]+)$/im.exec(vcard);
  const digits = tel ? tel[1].replace(/\D/g, '') : '';
  return digits.length >= 5 && digits.length <= 20 ? digits : null;
}

/** The cards of a contact message, at most 100. */
export function contactCardsOf(content: Content | null | undefined): MessageContactCard[] | null {
  const c = unwrapContent(content);
  const cards = c?.contactMessage ? [c.contactMessage] : (c?.contactsArrayMessage?.contacts ?? null);
  if (!cards) return null;
  return cards.slice(0, 100).map((card) => ({ name: bounded(card.displayName, 256) ?? bounded(vcardName(card.vcard), 256) ?? '?', phoneNumber: vcardNumber(card.vcard) }));
}

function vcardName(vcard: string | null | undefined): string | null {
  const match = vcard ? /^FN[^:]*:(.+)$/im.exec(vcard) : null;
  return match ? text(match[1].trim()) : null;
}
