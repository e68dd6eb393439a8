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

/** The events the `external` provider accepts on `POST /sessions/{sid}/events` (API.md §4). */
export type PublicGatewayEvent =
  | SessionStatusEvent
  | ChatUpsertEvent
  | MessageUpsertEvent
  | MessageStatusEvent
  | ChatDeleteEvent;

/** An edited message: its text changes, nothing else. Only providers produce it. */
export interface MessageEditEvent {
  type: 'message.edit';
  chatId: string;
  messageId: string;
  text: string | null;
}

/** A message deleted for everyone on WhatsApp: kept, with its text cleared. Only providers produce it. */
export interface MessageRevokeEvent {
  type: 'message.revoke';
  chatId: string;
  messageId: string;
}

export type GatewayEvent = PublicGatewayEvent | MessageEditEvent | MessageRevokeEvent;
