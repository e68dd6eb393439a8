import type {
  AnyMessageContent,
  AuthenticationCreds,
  AuthenticationState,
  BaileysEventMap,
  ChatModification,
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
