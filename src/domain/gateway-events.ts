import type { MessageMedia } from './media';

/**
 * The events that change a session's stored copy. Providers translate what WhatsApp does into
 * these; the `external` provider receives the public ones over REST, the `baileys` provider
 * produces them from its socket. All of them go through the one ingestion service.
 */

export const SESSION_STATUSES = ['disconnected', 'connecting', 'pairing', 'connected', 'logged_out', 'failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const MESSAGE_TYPES = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contact',
  'reaction',
  'unknown',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const MESSAGE_STATUSES = ['pending', 'sent', 'delivered', 'read', 'played', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface SessionStatusEvent {
  type: 'session.status';
  status: SessionStatus;
  /** Digits of the attached number; absent leaves it unchanged, null clears it. */
  phoneNumber?: string | null;
}

export interface ChatUpsertEvent {
  type: 'chat.upsert';
  /** Only the fields present are applied. `mutedUntil` is epoch ms, -1 for "always", null unmuted. */
  chat: {
    id: string;
    name?: string | null;
    archived?: boolean;
    pinned?: boolean;
    mutedUntil?: number | null;
    unreadCount?: number;
  };
}

/** A shared place (API.md §9); latitude -90..90, longitude -180..180. */
export interface MessageLocation {
  latitude: number;
  longitude: number;
  name: string | null;
  address: string | null;
}

/** A shared contact card (sent and received as a vCard). */
export interface MessageContactCard {
  name: string;
  /** Digits; null when the card carries no WhatsApp number. */
  phoneNumber: string | null;
}

/** One person's reaction to a message: the latest one per sender is kept. */
export interface MessageReaction {
  senderId: string;
  emoji: string;
  /** Epoch ms. */
  timestamp: number;
}

export interface GatewayMessage {
  id: string;
  chatId: string;
  fromMe: boolean;
  senderId: string | null;
  /** Epoch ms. */
  timestamp: number;
  type: MessageType;
  text: string | null;
  status: MessageStatus | null;
  /** The file of a media message; absent keeps what is stored. */
  media?: MessageMedia | null;
  /** The id of the message of the same chat it quotes. */
  replyTo?: string | null;
  /** For `location` messages. */
  location?: MessageLocation | null;
  /** For `contact` messages. */
  contacts?: MessageContactCard[] | null;
  /** Digits of the sender's number when WhatsApp revealed it (a `@lid` sender hides it). */
  senderPhoneNumber?: string | null;
}

export interface MessageUpsertEvent {
  type: 'message.upsert';
  message: GatewayMessage;
  /** The provider's original object, kept in `messages.raw` (never served). Not accepted over REST. */
  raw?: unknown;
}

export interface MessageStatusEvent {
  type: 'message.status';
  chatId: string;
  messageId: string;
  status: MessageStatus;
}

export interface ChatDeleteEvent {
  type: 'chat.delete';
  chatId: string;
}

/** A reaction set (`emoji`) or removed (`""`) by `senderId`; an older one than the stored one of that sender changes nothing. */
export interface MessageReactEvent {
  type: 'message.react';
  chatId: string;
  messageId: string;
  senderId: string;
  emoji: string;
  /** Epoch ms. */
  timestamp: number;
}

/** An edited message: its text changes and it is marked `edited`. */
export interface MessageEditEvent {
  type: 'message.edit';
  chatId: string;
  messageId: string;
  text: string | null;
  /** Epoch ms of the edit, when known. */
  timestamp?: number;
}

/** A message deleted for everyone on WhatsApp: kept, marked `revoked`, with its text cleared. */
export interface MessageRevokeEvent {
  type: 'message.revoke';
  chatId: string;
  messageId: string;
}

/**
 * A person as WhatsApp reveals them (API.md §10). `id` is their phone-number JID, or their LID
 * while the number is hidden; `lid` beside a phone-number `id` is the LID ↔ number mapping. Only
 * the fields present are applied.
 */
export interface ContactUpsertEvent {
  type: 'contact.upsert';
  contact: {
    id: string;
    lid?: string | null;
    name?: string | null;
    pushName?: string | null;
    isBusiness?: boolean;
  };
}

/** The events the `external` provider accepts on `POST /sessions/{sid}/events` (API.md §4, §9, §10). */
export type PublicGatewayEvent =
  | SessionStatusEvent
  | ChatUpsertEvent
  | MessageUpsertEvent
  | MessageStatusEvent
  | ChatDeleteEvent
  | MessageReactEvent
  | MessageEditEvent
  | MessageRevokeEvent
  | ContactUpsertEvent;

export const GROUP_ROLES = ['member', 'admin', 'superadmin'] as const;
export type GroupRole = (typeof GROUP_ROLES)[number];

export interface GroupParticipant {
  /** Their JID as the group lists it (a phone-number JID or a LID). */
  id: string;
  /** Digits, when known. */
  phoneNumber: string | null;
  role: GroupRole;
}

/**
 * A group's metadata from WhatsApp (providers only). `participants` present is the whole list;
 * the other fields present replace the cached ones.
 */
export interface GroupUpsertEvent {
  type: 'group.upsert';
  group: {
    id: string;
    subject?: string | null;
    description?: string | null;
    ownerId?: string | null;
    /** Epoch ms. */
    createdAt?: number | null;
    announce?: boolean;
    restrict?: boolean;
    participants?: GroupParticipant[];
  };
}

/** People added to, removed from, promoted or demoted in a group (providers only). */
export interface GroupParticipantsEvent {
  type: 'group.participants';
  groupId: string;
  action: 'add' | 'remove' | 'promote' | 'demote';
  participants: { id: string; phoneNumber: string | null }[];
}

export type GatewayEvent = PublicGatewayEvent | GroupUpsertEvent | GroupParticipantsEvent;
