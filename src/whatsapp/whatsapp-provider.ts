import { ProviderName } from '../config/app-config';

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

export interface OutgoingText {
  /** The gateway's id of the stored `pending` message; also the send's idempotency key. */
  id: string;
  type: 'text';
  text: string;
}

export interface ChatStateChange {
  archived?: boolean;
  pinned?: boolean;
  /** Epoch ms, -1 for "always", null to unmute. */
  mutedUntil?: number | null;
}

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
  abstract send(session: ProviderSession, chatJid: string, message: OutgoingText): Promise<void>;

  /** Applies archive/pin/mute to the WhatsApp account when connected; a no-op otherwise. */
  abstract applyChatState(session: ProviderSession, chatJid: string, change: ChatStateChange): Promise<void>;
}
