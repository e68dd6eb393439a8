import type { BaileysEventMap, Chat, ChatUpdate, ConnectionState, Contact, proto, WAMessage, WAMessageKey, WAMessageUpdate } from 'baileys';
import {
  ChatUpsertEvent,
  GatewayEvent,
  GatewayMessage,
  MessageStatus,
  SessionStatusEvent,
} from '../../domain/gateway-events';
import { isChatJid, isUserJid } from '../../domain/jid';
import { normalizeJid, phoneNumberOf } from './baileys-jid';
import { contactCardsOf, editedText, locationOf, quotedMessageId, summarizeContent, unwrapContent } from './baileys-message-content';
import { announcedMedia } from './baileys-media';
import { LongLike, muteEndToMutedUntil, secondsToEpochMs, toNumber } from './baileys-values';
import { bufferJsonReplacer } from './buffer-json';

/**
 * Pure translation of Baileys' socket events into the gateway's events. Nothing here does I/O;
 * the provider feeds the results to the ingestion service in order.
 *
 * Left out on purpose: chats that are not a person or a group (`status@broadcast`, broadcast
 * lists, newsletters), since they are not chats of this API; signalling messages (protocol,
 * key distribution, poll votes); per-participant group receipts (`message-receipt.update`),
 * because a group message's tick needs every participant and the count is not known here.
 */

export interface MappingContext {
  /** The session's own JID (`creds.me.id`): the sender of its own messages. */
  ownJid: string | null;
  /** Epoch ms used for a message that carries no timestamp. */
  now: number;
}

/** `proto.WebMessageInfo.Status` → the contract's status. PENDING stays pending. */
const STATUS_BY_CODE: Record<number, MessageStatus> = {
  0: 'failed',
  1: 'pending',
  2: 'sent',
  3: 'delivered',
  4: 'read',
  5: 'played',
};
/** `proto.WebMessageInfo.StubType.REVOKE`: what is left of a message deleted for everyone. */
const STUB_REVOKE = 1;
/** `proto.Message.ProtocolMessage.Type` values that act on another message. */
const PROTOCOL_REVOKE = 0;
const PROTOCOL_MESSAGE_EDIT = 14;

/** A protobuf enum field as its number (they are plain numbers at runtime), null when absent. */
function enumCode(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

/** A JID as a chat id of the stored copy, or null when it is not a chat of this API. */
function chatIdOf(jid: string | null | undefined): string | null {
  const normalized = normalizeJid(jid);
  return isChatJid(normalized) ? normalized : null;
}

function userIdOf(jid: string | null | undefined): string | null {
  const normalized = normalizeJid(jid);
  return isUserJid(normalized) ? normalized : null;
}

export function statusOf(code: number | null | undefined): MessageStatus | null {
  return typeof code === 'number' ? (STATUS_BY_CODE[code] ?? null) : null;
}

/**
 * The original message as plain JSON for `messages.raw`: bytes as base64 (BufferJSON style)
 * rather than arrays of numbers, 64-bit numbers as numbers rather than `{low, high}`.
 */
export function toRawJson(message: unknown): unknown {
  return JSON.parse(
    JSON.stringify(message, (key: string, value: unknown) => {
      if (value && typeof value === 'object' && 'low' in value && 'high' in value && 'unsigned' in value) {
        return toNumber(value as LongLike);
      }
      return bufferJsonReplacer(key, value);
    }),
  );
}

/**
 * Who sent a message: the session itself for its own messages; in a group the participant, by
 * phone number when WhatsApp gives one (the `@lid` form otherwise); in a direct chat the chat.
 */
function senderOf(message: WAMessage, chatId: string, ownJid: string | null): string | null {
  if (message.key.fromMe) return userIdOf(ownJid);
  if (!chatId.endsWith('@g.us')) return userIdOf(chatId);
  const candidates = [message.key.participant, message.key.participantAlt, message.participant]
    .map(userIdOf)
    .filter((jid): jid is string => jid !== null);
  return candidates.find((jid) => jid.endsWith('@s.whatsapp.net')) ?? candidates[0] ?? null;
}

/**
 * The LID ↔ phone number mapping a message key reveals: Baileys gives the other form of the
 * sender beside the one WhatsApp addressed (`participantAlt` in groups, `remoteJidAlt` in direct
 * chats).
 */
function revealedMapping(key: WAMessageKey): GatewayEvent | null {
  const pairs: [string | null | undefined, string | null | undefined][] = [
    [key.participant, key.participantAlt],
    [key.remoteJid, key.remoteJidAlt],
  ];
  for (const [a, b] of pairs) {
    const [x, y] = [userIdOf(a), userIdOf(b)];
    if (!x || !y) continue;
    const lid = [x, y].find((jid) => jid.endsWith('@lid'));
    const pn = [x, y].find((jid) => jid.endsWith('@s.whatsapp.net'));
    if (lid && pn) return { type: 'contact.upsert', contact: { id: pn, lid } };
  }
  return null;
}

/** The phone number of a message's sender, when WhatsApp gave it in any form. */
function senderNumberOf(message: WAMessage, senderId: string | null): string | null {
  if (message.key.fromMe || !senderId) return phoneNumberOf(senderId);
  const candidates = [senderId, message.key.participantAlt, message.key.remoteJidAlt];
  for (const jid of candidates) {
    const digits = phoneNumberOf(jid);
    if (digits) return digits;
  }
  return null;
}

/** Who reacted: the session itself, the participant in a group, the chat in a direct chat. */
function reactorOf(key: proto.IMessageKey | null | undefined, chatId: string, ownJid: string | null): string | null {
  if (key?.fromMe) return userIdOf(ownJid);
  if (!chatId.endsWith('@g.us')) return userIdOf(chatId);
  return userIdOf(key?.participant);
}

/** A reaction to a message of `chatId`; null when it names no message or no sender. */
function reactionEvent(
  chatId: string,
  reaction: proto.Message.IReactionMessage | proto.IReaction,
  senderId: string | null,
  fallbackMs: number,
): GatewayEvent | null {
  const messageId = reaction.key?.id;
  if (!messageId || !senderId) return null;
  const emoji = typeof reaction.text === 'string' ? Array.from(reaction.text).slice(0, 32).join('') : '';
  const timestamp = toNumber(reaction.senderTimestampMs) ?? fallbackMs;
  return { type: 'message.react', chatId, messageId, senderId, emoji, timestamp };
}

/** The edit or revoke a protocol message carries, aimed at a message of the same chat. */
function mapProtocolMessage(message: WAMessage, chatId: string): GatewayEvent[] {
  const protocol = unwrapContent(message.message)?.protocolMessage;
  const targetId = protocol?.key?.id;
  if (!protocol || !targetId) return [];
  if (enumCode(protocol.type) === PROTOCOL_REVOKE) return [{ type: 'message.revoke', chatId, messageId: targetId }];
  if (enumCode(protocol.type) === PROTOCOL_MESSAGE_EDIT) {
    return [{ type: 'message.edit', chatId, messageId: targetId, text: editedText(protocol.editedMessage) }];
  }
  return [];
}

/**
 * One message as events: its upsert; or, for what only acts on other messages, the edit or
 * revoke; or nothing (signalling, undecryptable placeholders, chats outside this API).
 */
export function mapMessage(message: WAMessage, ctx: MappingContext): GatewayEvent[] {
  const chatId = chatIdOf(message.key?.remoteJid);
  const id = message.key?.id;
  if (!chatId || !id) return [];
  if (enumCode(message.messageStubType) === STUB_REVOKE && !message.message) {
    return [{ type: 'message.revoke', chatId, messageId: id }];
  }
  const edits = mapProtocolMessage(message, chatId);
  if (edits.length > 0) return edits;
  const timestamp = secondsToEpochMs(message.messageTimestamp) ?? ctx.now;
  const senderId = senderOf(message, chatId, ctx.ownJid);
  const mapping = revealedMapping(message.key);
  const known = mapping ? [mapping] : [];
  // A reaction is not a message of its own: it lands on the message it reacts to.
  const reaction = unwrapContent(message.message)?.reactionMessage;
  if (reaction) {
    const event = reactionEvent(chatId, reaction, senderId, timestamp);
    return event ? [...known, event] : known;
  }
  const summary = summarizeContent(message.message);
  if (!summary) return known;
  const fromMe = message.key.fromMe === true;
  const gatewayMessage: GatewayMessage = {
    id,
    chatId,
    fromMe,
    senderId,
    timestamp,
    type: summary.type,
    text: summary.text,
    // Something of our own that WhatsApp knows of has at least been sent.
    status: fromMe ? (statusOf(enumCode(message.status)) ?? 'sent') : null,
    media: announcedMedia(message.message),
    replyTo: quotedMessageId(message.message),
    location: summary.type === 'location' ? locationOf(message.message) : null,
    contacts: summary.type === 'contact' ? contactCardsOf(message.message) : null,
    senderPhoneNumber: senderNumberOf(message, senderId),
  };
  // Reactions a history sync carries with the message.
  const reactions = (message.reactions ?? [])
    .map((r) => reactionEvent(chatId, { ...r, key: { ...r.key, id } }, reactorOf(r.key, chatId, ctx.ownJid), timestamp))
    .filter((e): e is GatewayEvent => e !== null);
  return [...known, { type: 'message.upsert', message: gatewayMessage, raw: toRawJson(message) }, ...reactions];
}

/** Mappings first, then messages, then what acts on them, so an edit never lands before its message. */
function mapMessages(messages: readonly WAMessage[], ctx: MappingContext): GatewayEvent[] {
  const mappings: GatewayEvent[] = [];
  const upserts: GatewayEvent[] = [];
  const actions: GatewayEvent[] = [];
  for (const message of messages) {
    for (const event of mapMessage(message, ctx)) {
      (event.type === 'message.upsert' ? upserts : event.type === 'contact.upsert' ? mappings : actions).push(event);
    }
  }
  return [...mappings, ...upserts, ...actions];
}

function contactName(contact: Contact | undefined): string | null {
  return contact?.name || contact?.notify || contact?.verifiedName || null;
}

/** Contacts by every JID they are known under, to name direct chats. */
function contactsByJid(contacts: readonly Contact[]): Map<string, Contact> {
  const byJid = new Map<string, Contact>();
  for (const contact of contacts) {
    for (const jid of [contact.id, contact.lid, contact.phoneNumber]) {
      const normalized = normalizeJid(jid);
      if (normalized && !byJid.has(normalized)) byJid.set(normalized, contact);
    }
  }
  return byJid;
}

/**
 * A whole chat (history sync, `chats.upsert`): every field is WhatsApp's current value, so absent
 * ones are their defaults. The name is only sent when known, to keep one set by another source.
 */
export function mapChat(chat: Chat, contacts: Map<string, Contact> = new Map()): ChatUpsertEvent | null {
  const id = chatIdOf(chat.id);
  if (!id) return null;
  const name = chat.name || chat.displayName || contactName(contacts.get(id)) || null;
  const unread = toNumber(chat.unreadCount);
  return {
    type: 'chat.upsert',
    chat: {
      id,
      ...(name ? { name } : {}),
      archived: chat.archived === true,
      pinned: (toNumber(chat.pinned) ?? 0) > 0,
      mutedUntil: muteEndToMutedUntil(chat.muteEndTime),
      // -1 is "marked as unread" without a count: not a number of messages.
      unreadCount: unread !== null && unread > 0 ? unread : 0,
    },
  };
}

/**
 * A partial chat change (`chats.update`): only what the update carries. `pinned` is the pin time
 * (null when unpinned), `muteEndTime` the mute end (null when unmuted). `unreadCount` is only an
 * absolute value when it is 0 (read); a positive one is an increment for newly received messages
 * and -1 marks the chat unread, neither of which the event's absolute count can express.
 */
export function mapChatUpdate(update: ChatUpdate): ChatUpsertEvent | null {
  const id = chatIdOf(update.id);
  if (!id) return null;
  const chat: ChatUpsertEvent['chat'] = { id };
  if (update.name) chat.name = update.name;
  if (update.archived !== undefined && update.archived !== null) chat.archived = update.archived;
  if (update.pinned !== undefined) chat.pinned = (toNumber(update.pinned) ?? 0) > 0;
  if (update.muteEndTime !== undefined) chat.mutedUntil = muteEndToMutedUntil(update.muteEndTime);
  if (update.unreadCount === 0) chat.unreadCount = 0;
  return Object.keys(chat).length > 1 ? { type: 'chat.upsert', chat } : null;
}

export function mapHistorySet(payload: BaileysEventMap['messaging-history.set'], ctx: MappingContext): GatewayEvent[] {
  const contacts = contactsByJid(payload.contacts ?? []);
  const chats = (payload.chats ?? []).map((chat) => mapChat(chat, contacts)).filter((e) => e !== null);
  return [...chats, ...mapMessages(payload.messages ?? [], ctx)];
}

export function mapMessagesUpsert(payload: BaileysEventMap['messages.upsert'], ctx: MappingContext): GatewayEvent[] {
  return mapMessages(payload.messages ?? [], ctx);
}

/** Receipts (status), edits and revokes of stored messages. */
export function mapMessagesUpdate(updates: readonly WAMessageUpdate[]): GatewayEvent[] {
  const events: GatewayEvent[] = [];
  for (const { key, update } of updates) {
    const chatId = chatIdOf(key?.remoteJid);
    const messageId = key?.id;
    if (!chatId || !messageId || !update) continue;
    if (enumCode(update.messageStubType) === STUB_REVOKE) {
      events.push({ type: 'message.revoke', chatId, messageId });
      continue;
    }
    const edited = update.message?.editedMessage;
    if (edited) {
      events.push({ type: 'message.edit', chatId, messageId, text: editedText(edited.message) });
    }
    const status = statusOf(enumCode(update.status));
    // A pending receipt says nothing new: the message was stored as pending when it was sent.
    if (status && status !== 'pending') events.push({ type: 'message.status', chatId, messageId, status });
  }
  return events;
}

export function mapChatsUpsert(chats: readonly Chat[]): GatewayEvent[] {
  return chats.map((chat) => mapChat(chat)).filter((e) => e !== null);
}

export function mapChatsUpdate(updates: readonly ChatUpdate[]): GatewayEvent[] {
  return updates.map(mapChatUpdate).filter((e) => e !== null);
}

export function mapChatsDelete(ids: readonly string[]): GatewayEvent[] {
  return ids.map(chatIdOf).filter((id) => id !== null).map((chatId) => ({ type: 'chat.delete', chatId }));
}

/** A group's new subject is its chat's name. */
export function mapGroupsUpdate(updates: BaileysEventMap['groups.update']): GatewayEvent[] {
  const events: GatewayEvent[] = [];
  for (const group of updates) {
    const id = chatIdOf(group.id);
    if (id && group.subject) events.push({ type: 'chat.upsert', chat: { id, name: group.subject } });
  }
  return events;
}

/**
 * The status a `connection.update` announces: `pairing` while a QR is shown, `connecting`,
 * `connected` (with the number's digits). A close is not mapped here: what it means depends on
 * its reason, which the provider decides (`classifyClose`).
 */
export function mapConnectionUpdate(update: Partial<ConnectionState>, ownJid: string | null): SessionStatusEvent | null {
  if (update.qr) return { type: 'session.status', status: 'pairing' };
  if (update.connection === 'open') {
    const phoneNumber = phoneNumberOf(ownJid);
    return { type: 'session.status', status: 'connected', ...(phoneNumber ? { phoneNumber } : {}) };
  }
  if (update.connection === 'connecting') return { type: 'session.status', status: 'connecting' };
  return null;
}
