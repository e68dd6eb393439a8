import { Readable } from 'node:stream';
import { ProviderName } from '../config/app-config';
import { GroupParticipant, MessageContactCard, MessageLocation, MessageType } from '../domain/gateway-events';
import { MediaMessageType } from '../domain/media';

/** What a provider needs to know of a session. */
export interface ProviderSession {
  id: string;
  orgId: string;
}

export interface PairingQr {
  /** The QR payload string, as WhatsApp gives it. */
  qr: string;
  /** Epoch ms after which the QR is stale. */
  expiresAt: number;
}

/** A stored message an action names: what WhatsApp's key of it is made of. */
export interface MessageRef {
  id: string;
  fromMe: boolean;
  /** The sender's JID (in a group, the member who sent it); null when unknown. */
  senderId: string | null;
}

/** The stored message a reply quotes, with what WhatsApp shows of it in the quote. */
export interface QuotedMessage extends MessageRef {
  type: MessageType;
  text: string | null;
}

export interface OutgoingText {
  /** The gateway's id of the stored `pending` message; also the send's idempotency key. */
  id: string;
  type: 'text';
  text: string;
  /** The message this one replies to. */
  replyTo?: QuotedMessage | null;
}

/** The stored file of a media message to send. */
export interface OutgoingFile {
  mimetype: string;
  size: number;
  sha256: string;
  fileName: string | null;
  voiceNote: boolean;
  /** The gateway's own `GET …/messages/{mid}/media`, where a connector fetches the file with its key. */
  url: string;
  /** Streams the file from the blob store. */
  open(): Promise<Readable>;
}

export interface OutgoingMedia {
  id: string;
  type: MediaMessageType;
  /** The caption. */
  text: string | null;
  media: OutgoingFile;
  replyTo?: QuotedMessage | null;
}

/** A shared place. */
export interface OutgoingLocation {
  id: string;
  type: 'location';
  location: MessageLocation;
  replyTo?: QuotedMessage | null;
}

/** Contact cards, sent as vCards; each card has a number. */
export interface OutgoingContacts {
  id: string;
  type: 'contact';
  contacts: (MessageContactCard & { phoneNumber: string })[];
  replyTo?: QuotedMessage | null;
}

export type OutgoingMessage = OutgoingText | OutgoingMedia | OutgoingLocation | OutgoingContacts;

/** WhatsApp no longer has a received file (its CDN answered 404 or 410): the phone may upload it again. */
export class MediaGoneError extends Error {}

/** A received file that downloads but does not decrypt or check out: another try would give the same bytes. */
export class MediaIntegrityError extends Error {}

export interface ChatStateChange {
  archived?: boolean;
  pinned?: boolean;
  /** Epoch ms, -1 for "always", null to unmute. */
  mutedUntil?: number | null;
}

/** The typing indicator states a chat can be shown. */
export const PRESENCE_STATES = ['composing', 'recording', 'paused'] as const;
export type PresenceState = (typeof PRESENCE_STATES)[number];

/**
 * What a person does in a chat besides sending (API.md §9): react (`""` removes the reaction),
 * edit a text sent from this number, delete a message for everyone, mark received messages read,
 * show a typing indicator.
 */
export type ChatAction =
  | { type: 'reaction'; message: MessageRef; emoji: string }
  | { type: 'edit'; message: MessageRef; text: string }
  | { type: 'revoke'; message: MessageRef }
  | { type: 'read'; messages: MessageRef[] }
  | { type: 'presence'; state: PresenceState };

/**
 * An ingestion provider: how a session's WhatsApp activity reaches the stored copy, and how the
 * gateway acts on WhatsApp. The abstract class is the DI token; the implementations are `baileys`
 * (a WhatsApp Web socket held by this process) and `external` (a connector service that pushes
 * events over REST and takes sends over HTTP).
 */
export abstract class WhatsAppProvider {
  abstract readonly name: ProviderName;

  /**
   * Whether the connection lives in the gateway process, so that exactly one replica (the holder
   * of the session's lock) may run it, and actions on it must reach that replica.
   */
  abstract readonly holdsConnection: boolean;

  /** Starts (or resumes) the session's connection and returns at once; status arrives as events. */
  abstract connect(session: ProviderSession): Promise<void>;

  /** Closes the session's connection, keeping its credentials (process shutdown). */
  abstract disconnect(sessionId: string): Promise<void>;

  /**
   * Closes the session's connection and writes nothing more for it, not even a status: another
   * replica may hold the session by now (this one lost its lock, or gave the session away).
   */
  abstract release(sessionId: string): Promise<void>;

  /** Logs the number out and forgets its credentials (session delete). Best effort. */
  abstract logout(sessionId: string): Promise<void>;

  /** The current pairing QR, or null when the session is not pairing. */
  abstract currentQr(sessionId: string): PairingQr | null;

  /** Asks WhatsApp for an 8-character pairing code for `phoneNumber` (digits). */
  abstract requestPairingCode(sessionId: string, phoneNumber: string): Promise<string>;

  /** Whether `send` can work for this session in this process right now (connected here, or a connector configured). */
  abstract canSend(sessionId: string): boolean;

  /** Sends one message; resolves when WhatsApp (or the connector) accepted it, rejects otherwise. */
  abstract send(session: ProviderSession, chatJid: string, message: OutgoingMessage): Promise<void>;

  /** Applies archive/pin/mute to the WhatsApp account when connected; a no-op otherwise. */
  abstract applyChatState(session: ProviderSession, chatJid: string, change: ChatStateChange): Promise<void>;

  /** Carries out a conversation action in the chat; resolves when WhatsApp (or the connector) took it, rejects otherwise. */
  abstract act(session: ProviderSession, chatJid: string, action: ChatAction): Promise<void>;

  /** The sessions whose connection this process holds: the ones it downloads received files for. */
  heldSessions(): string[] {
    return [];
  }

  /**
   * Streams the file of a received message, from its provider original (`messages.raw`); rejects
   * with `MediaGoneError` when WhatsApp no longer has it. Providers whose connector uploads files
   * (`PUT …/media`) download nothing.
   */
  downloadMedia(_session: ProviderSession, _raw: unknown): Promise<Readable> {
    return Promise.reject(new Error(`the ${this.name} provider does not download files`));
  }

  /** Asks the phone to upload a file WhatsApp no longer has; resolves with the message's new original. */
  requestMediaReupload(_session: ProviderSession, _raw: unknown): Promise<unknown> {
    return Promise.reject(new Error(`the ${this.name} provider does not download files`));
  }

  // Contacts, numbers and groups (API.md §10). Each rejects with `ConflictError` when the session
  // cannot act now (not connected, no connector), `NotFoundError` for a group WhatsApp does not
  // know, and `UnavailableError` when WhatsApp (or the connector) does not answer properly.

  /** Which of `phoneNumbers` (digits) have an account, in their order. */
  abstract lookupNumbers(session: ProviderSession, phoneNumbers: string[]): Promise<NumberLookup[]>;

  /** The profile picture's current URL; null when there is none or it is hidden from this number. */
  abstract profilePictureUrl(session: ProviderSession, jid: string): Promise<string | null>;

  abstract groupMetadata(session: ProviderSession, jid: string): Promise<ProviderGroup>;

  /** Creates a group with `phoneNumbers` (digits) as its first participants. */
  abstract createGroup(session: ProviderSession, subject: string, phoneNumbers: string[]): Promise<ProviderGroup>;

  /** One result per number of `phoneNumbers`, in their order. */
  abstract updateGroupParticipants(
    session: ProviderSession,
    jid: string,
    action: ParticipantAction,
    phoneNumbers: string[],
  ): Promise<ParticipantResult[]>;

  /** The group's invite link, `https://chat.whatsapp.com/<code>`. */
  abstract groupInviteLink(session: ProviderSession, jid: string): Promise<string>;
}

// Contacts, numbers and groups (API.md §10): request/answer actions, carried out where the connection is.

/** Whether a number has a WhatsApp account, and its JID when it has. */
export interface NumberLookup {
  /** Digits, as asked. */
  phoneNumber: string;
  exists: boolean;
  jid: string | null;
}

/** A group's metadata as WhatsApp gives it. */
export interface ProviderGroup {
  id: string;
  subject: string | null;
  description: string | null;
  ownerId: string | null;
  /** Epoch ms. */
  createdAt: number | null;
  announce: boolean;
  restrict: boolean;
  participants: GroupParticipant[];
}

export const PARTICIPANT_ACTIONS = ['add', 'remove', 'promote', 'demote'] as const;
export type ParticipantAction = (typeof PARTICIPANT_ACTIONS)[number];

/** What each action does for a participant when WhatsApp accepts it. */
export const PARTICIPANT_DONE = { add: 'added', remove: 'removed', promote: 'promoted', demote: 'demoted' } as const;
export type ParticipantOutcome = (typeof PARTICIPANT_DONE)[ParticipantAction] | 'invited' | 'failed';

/** What became of one number of a participants change. */
export interface ParticipantResult {
  phoneNumber: string;
  result: ParticipantOutcome;
  /** Why it failed (or why an invitation was sent instead); null when done. */
  reason: string | null;
}

export const PARTICIPANT_OUTCOMES: readonly ParticipantOutcome[] = ['added', 'removed', 'promoted', 'demoted', 'invited', 'failed'];
