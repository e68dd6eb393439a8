import type {
  AnyMessageContent,
  AuthenticationCreds,
  AuthenticationState,
  BaileysEventMap,
  BinaryNode,
  ChatModification,
  GroupMetadata,
  ParticipantAction,
  proto,
  WAMessage,
  WAMessageKey,
  WAPresence,
} from 'baileys';
import { Logger } from 'pino';

/** The part of Baileys' `MiscMessageGenerationOptions` the provider sets. */
export interface BaileysSendOptions {
  /** The id to send the message under. */
  messageId: string;
  /** The message a reply quotes. */
  quoted?: WAMessage;
}

/** The part of Baileys' event emitter the provider listens on. */
export interface BaileysSocketEvents {
  on<E extends keyof BaileysEventMap>(event: E, listener: (payload: BaileysEventMap[E]) => void): void;
}

/**
 * The part of a Baileys socket (`WASocket`) the provider uses. The real socket satisfies it, and
 * tests drive the provider with a stand-in that emits the same events.
 */
export interface BaileysSocket {
  readonly ev: BaileysSocketEvents;
  /** The account (`creds.me`) once known: its `id` is the own JID. */
  readonly user?: { id: string } | undefined;
  sendMessage(jid: string, content: AnyMessageContent, options: BaileysSendOptions): Promise<unknown>;
  chatModify(modification: ChatModification, jid: string): Promise<unknown>;
  /** Sends read receipts for received messages. */
  readMessages(keys: WAMessageKey[]): Promise<void>;
  /** Shows (or stops showing) a typing indicator in the chat `jid`. */
  sendPresenceUpdate(state: WAPresence, jid?: string): Promise<void>;
  requestPairingCode(phoneNumber: string): Promise<string>;
  /** Asks the phone to upload a message's file again; resolves with the message pointing at the new copy. */
  updateMediaMessage(message: WAMessage): Promise<WAMessage>;
  logout(message?: string): Promise<unknown>;
  end(error: Error | undefined): unknown;

  // Contacts, numbers and groups (API.md §10).
  /** Only the numbers that have an account are answered, with the JID WhatsApp knows them by. */
  onWhatsApp(...phoneNumbers: string[]): Promise<{ jid: string; exists: boolean }[] | undefined>;
  profilePictureUrl(jid: string, type?: 'preview' | 'image', timeoutMs?: number): Promise<string | undefined>;
  groupMetadata(jid: string): Promise<GroupMetadata>;
  groupCreate(subject: string, participants: string[]): Promise<GroupMetadata>;
  /** `status` is WhatsApp's code per participant ('200' when done); `content` its node (an `add_request` child for a 403 that can be invited). */
  groupParticipantsUpdate(jid: string, participants: string[], action: ParticipantAction): Promise<{ status: string; jid: string | undefined; content: BinaryNode }[]>;
  groupInviteCode(jid: string): Promise<string | undefined>;
}

export interface BaileysSocketOptions {
  sessionId: string;
  auth: AuthenticationState;
  logger: Logger;
  /** The content of a message this session sent, for WhatsApp's resend requests. */
  getMessage(key: WAMessageKey): Promise<proto.IMessage | undefined>;
}

/**
 * Makes sockets. The default one loads the ESM-only `baileys` package lazily, so that nothing
 * else in the gateway (and no test) imports it; tests bind a stand-in.
 */
export abstract class BaileysSocketFactory {
  /** Fresh credentials for a number that has never been paired (Baileys' `initAuthCreds`). */
  abstract initialCreds(): Promise<AuthenticationCreds>;

  abstract create(options: BaileysSocketOptions): Promise<BaileysSocket>;
}
