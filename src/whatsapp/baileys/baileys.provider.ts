import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type { AnyMessageContent, BaileysEventMap, BinaryNode, ChatModification, ConnectionState, MinimalMessage, proto, WAMessage, WAMessageKey } from 'baileys';
import { Logger } from 'pino';
import { ConflictError, NotFoundError, UnavailableError } from '../../common/errors/app-error';
import { requestContext } from '../../common/logging/logger';
import { LOGGER } from '../../common/logging/logging.module';
import { timedOut, withTimeout } from '../../common/time';
import { GatewayEvent, SessionStatus } from '../../domain/gateway-events';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  ChatAction,
  ChatStateChange,
  MessageRef,
  NumberLookup,
  OutgoingContacts,
  OutgoingMedia,
  OutgoingMessage,
  PairingQr,
  ParticipantAction,
  ParticipantResult,
  ProviderGroup,
  ProviderSession,
  QuotedMessage,
  WhatsAppProvider,
} from '../whatsapp-provider';
import { downloadableMedia } from './baileys-media';
import { fromBufferJson } from './buffer-json';
import { WhatsAppMediaDownloader } from './whatsapp-media-downloader';
import { BaileysClock } from './baileys-clock';
import {
  toRawJson,
  MappingContext,
  mapChatsDelete,
  mapChatsUpdate,
  mapChatsUpsert,
  mapConnectionUpdate,
  mapGroupsUpdate,
  mapHistorySet,
  mapMessagesUpdate,
  mapMessagesUpsert,
} from './baileys-event-mapper';
import { IngestionSink } from '../ingestion-sink';
import { PairingQrRepository } from '../pairing-qr.repository';
import { normalizeJid } from './baileys-jid';
import { userJidOf } from '../../domain/jid';
import {
  addRequestOf,
  alignAnswers,
  mapContacts,
  mapContactUpdates,
  mapGroupParticipantsUpdate,
  mapGroupsUpsert,
  mapGroupUpdates,
  mapHistoryDirectory,
  mapLidMapping,
  matchLookups,
  participantResult,
  toProviderGroup,
  whatsappErrorCode,
} from './baileys-directory-mapper';
import { backoffDelay, classifyClose, closeCodeOf } from './baileys-reconnect-policy';
import { BaileysSendOptions, BaileysSocket, BaileysSocketFactory } from './baileys-socket';
import { BAILEYS_TUNING, BaileysTuning } from './baileys-tuning';
import { toNumber } from './baileys-values';
import { CredentialsUnreadableError } from './session-auth-cipher';
import { SessionAuth, SessionAuthService } from './session-auth.service';
import { EncryptionKeyUnavailableError } from './session-encryption-key.service';
import { EventOrigin, SessionWriteQueue, WriteQueueBudget } from './session-write-queue';

/** Sent texts kept per session for WhatsApp's resend requests and to recognise their echo. */
const MAX_SENT_REMEMBERED = 1_000;
/** Chats per session whose latest message is remembered, which archiving must name. */
const MAX_CHATS_REMEMBERED = 10_000;

/** One session's live connection. */
interface Connection {
  readonly session: ProviderSession;
  readonly logger: Logger;
  status: SessionStatus | null;
  phoneNumber: string | null;
  auth: SessionAuth | null;
  socket: BaileysSocket | null;
  /** Increments with each socket; events of an older socket are ignored. */
  generation: number;
  /** Consecutive reconnects without reaching WhatsApp. */
  attempt: number;
  retryTimer: unknown;
  qr: PairingQr | null;
  qrShown: number;
  stopped: boolean;
  /** The text of each sent message (null for a file, which is not sent again on request). */
  sent: Map<string, string | null>;
  lastMessages: Map<string, MinimalMessage>;
}

/** What Baileys sends for a file: it streams the stored file, encrypting and uploading it on the way. */
async function mediaContent({ type, text, media }: OutgoingMedia): Promise<AnyMessageContent> {
  const upload = { stream: await media.open() };
  const caption = text ?? undefined;
  switch (type) {
    case 'image':
      return { image: upload, caption, mimetype: media.mimetype };
    case 'video':
      return { video: upload, caption, mimetype: media.mimetype };
    case 'audio':
      return { audio: upload, mimetype: media.mimetype, ptt: media.voiceNote };
    case 'sticker':
      return { sticker: upload, mimetype: media.mimetype };
    case 'document':
      return { document: upload, mimetype: media.mimetype, fileName: media.fileName ?? 'file', caption };
  }
}

/** What Baileys sends for a message of the gateway that is not a file. */
function messageContent(message: Exclude<OutgoingMessage, OutgoingMedia>): AnyMessageContent {
  switch (message.type) {
    case 'text':
      return { text: message.text };
    case 'location': {
      const { latitude, longitude, name, address } = message.location;
      return { location: { degreesLatitude: latitude, degreesLongitude: longitude, name: name ?? undefined, address: address ?? undefined } };
    }
    case 'contact':
      return contactsContent(message);
  }
}

/** Contact cards as WhatsApp shares them: one vCard each, the number also as `waid` so that the card opens a chat. */
function contactsContent({ contacts }: OutgoingContacts): AnyMessageContent {
  const cards = contacts.map((card) => ({
    displayName: card.name,
    vcard: [
      'BEGIN:VCARD',
      'VERSION:3.0',
      `FN:${vcardText(card.name)}`,
      `TEL;type=CELL;type=VOICE;waid=${card.phoneNumber}:+${card.phoneNumber}`,
      'END:VCARD',
    ].join('\n'),
  }));
  return { contacts: { displayName: cards.length === 1 ? cards[0].displayName : `${cards.length} contacts`, contacts: cards } };
}

/** A vCard text value (RFC 6350 §3.4): backslash, comma and semicolon escaped, line breaks as `\n`. */
function vcardText(value: string): string {
  return value.replace(/[\\,;]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, '\\n');
}

/** WhatsApp's key of a stored message of `chatJid`: in a group, someone else's names its sender. */
function messageKey(chatJid: string, message: MessageRef): WAMessageKey {
  const participant = chatJid.endsWith('@g.us') && !message.fromMe && message.senderId ? message.senderId : undefined;
  return { remoteJid: chatJid, fromMe: message.fromMe, id: message.id, ...(participant ? { participant } : {}) };
}

/** The quoted message of a reply, as Baileys builds the quote from it: the key, and the text shown. */
function quotedMessage(chatJid: string, quoted: QuotedMessage): WAMessage {
  return { key: messageKey(chatJid, quoted), message: { conversation: quoted.text ?? '' } };
}

/** An id for a reaction, edit or revoke, in WhatsApp Web's format, so that its echo is recognised as this gateway's. */
function actionMessageId(): string {
  return `3EB0${randomBytes(18).toString('hex').toUpperCase()}`;
}

/** A stored provider original (bytes as base64 JSON) as the message Baileys handed over. */
function revive(raw: unknown): WAMessage | null {
  return raw && typeof raw === 'object' ? fromBufferJson<WAMessage>(JSON.stringify(raw)) : null;
}

/** Map insertion order is age: the oldest entry goes first once `max` is passed. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}

/**
 * The `baileys` provider: a WhatsApp Web socket per session held in this process. Status changes
 * and everything the socket reports are mapped to gateway events and written, in order, through
 * the session's write queue into the ingestion service. A transient close reconnects with capped
 * exponential backoff; see `baileys-reconnect-policy.ts` for what each close means. Nothing that
 * happens to one session (a throwing handler, a socket error, a database outage) reaches another
 * session or the process.
 */
@Injectable()
export class BaileysProvider extends WhatsAppProvider implements BeforeApplicationShutdown {
  readonly name = 'baileys' as const;
  readonly holdsConnection = true;
  private readonly connections = new Map<string, Connection>();
  /** Per session, and outliving a connection, so that events stay in order across reconnects. */
  private readonly queues = new Map<string, SessionWriteQueue>();
  /** Bounds what all sessions' queues hold together while the database is away. */
  private readonly budget: WriteQueueBudget;
  /** Per session, the last write of its shared QR: they land in the order the socket showed them. */
  private readonly qrWrites = new Map<string, Promise<void>>();

  constructor(
    private readonly sockets: BaileysSocketFactory,
    private readonly auth: SessionAuthService,
    private readonly sink: IngestionSink,
    private readonly clock: BaileysClock,
    private readonly downloader: WhatsAppMediaDownloader,
    private readonly qrs: PairingQrRepository,
    @Inject(BAILEYS_TUNING) private readonly tuning: BaileysTuning,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
    this.budget = new WriteQueueBudget(tuning.maxQueuedEvents);
  }

  /**
   * Starts connecting in the background. Waits (briefly) only for the `connecting` status to be
   * stored, so that the session a client has just created already reads as connecting.
   */
  async connect(session: ProviderSession): Promise<void> {
    const existing = this.connections.get(session.id);
    if (existing && !existing.stopped) return;
    const connection: Connection = {
      session,
      logger: this.logger.child({ component: 'baileys', sessionId: session.id }),
      status: null,
      phoneNumber: null,
      auth: null,
      socket: null,
      generation: 0,
      attempt: 0,
      retryTimer: null,
      qr: null,
      qrShown: 0,
      stopped: false,
      sent: new Map(),
      lastMessages: new Map(),
    };
    // The connection outlives the request that started it: its logs must not carry that request's id.
    requestContext.exit(() => {
      this.connections.set(session.id, connection);
      // A holder that died while pairing may have left its QR behind.
      this.shareQr(session.id, null);
      this.setStatus(connection, 'connecting');
      void this.open(connection);
    });
    await this.queueOf(session.id).drain(this.tuning.statusWriteWaitMs);
  }

  async disconnect(sessionId: string): Promise<void> {
    const connection = this.connections.get(sessionId);
    if (!connection) return;
    this.forgetQr(connection);
    this.stop(connection);
    this.setStatus(connection, 'disconnected');
    await connection.auth?.close();
    await this.queues.get(sessionId)?.drain(this.tuning.drainTimeoutMs);
  }

  release(sessionId: string): Promise<void> {
    const connection = this.connections.get(sessionId);
    if (connection) {
      this.stop(connection);
      // Credentials written now could overwrite what the next holder has saved since.
      connection.auth?.abandon();
    }
    // What the socket reported is still written (once the database answers); its statuses are not.
    this.queues.get(sessionId)?.dropStatuses();
    return Promise.resolve();
  }

  async logout(sessionId: string): Promise<void> {
    const connection = this.connections.get(sessionId);
    if (connection) {
      const socket = connection.socket;
      const wasConnected = connection.status === 'connected';
      this.forgetQr(connection);
      this.stop(connection, false);
      if (socket && wasConnected) {
        await withTimeout(socket.logout(), this.tuning.logoutTimeoutMs, timedOut('logout timed out'), this.clock).catch(
          (error: unknown) => connection.logger.warn({ err: error }, 'WhatsApp logout did not complete'),
        );
      }
      this.endSocket(connection, socket);
      await connection.auth?.close();
    }
    // The session is being deleted: what it still had to write has nowhere to go.
    this.queues.get(sessionId)?.close('session logged out', true);
    this.queues.delete(sessionId);
    await this.auth.clear(sessionId).catch((error: unknown) =>
      this.logger.error({ err: error, sessionId }, 'could not delete the credentials of a logged-out session'),
    );
  }

  currentQr(sessionId: string): PairingQr | null {
    const connection = this.connections.get(sessionId);
    const qr = connection?.status === 'pairing' ? connection.qr : null;
    return qr && qr.expiresAt > this.clock.now() ? qr : null;
  }

  async requestPairingCode(sessionId: string, phoneNumber: string): Promise<string> {
    const connection = this.connections.get(sessionId);
    const socket = connection?.status === 'pairing' ? connection.socket : null;
    if (!connection || !socket) throw new ConflictError('session is not waiting to be paired');
    try {
      return await socket.requestPairingCode(phoneNumber);
    } catch (error) {
      connection.logger.warn({ err: error }, 'pairing code request failed');
      throw new UnavailableError('WhatsApp did not answer the pairing code request');
    }
  }

  canSend(sessionId: string): boolean {
    const connection = this.connections.get(sessionId);
    return connection?.status === 'connected' && connection.socket !== null;
  }

  async send(session: ProviderSession, chatJid: string, message: OutgoingMessage): Promise<void> {
    const connection = this.connections.get(session.id);
    const socket = connection?.status === 'connected' ? connection.socket : null;
    if (!connection || !socket) throw new ConflictError('session is not connected');
    const content: AnyMessageContent =
      message.type === 'text' || message.type === 'location' || message.type === 'contact' ? messageContent(message) : await mediaContent(message);
    remember(connection.sent, message.id, message.type === 'text' ? message.text : null, MAX_SENT_REMEMBERED);
    const options: BaileysSendOptions = { messageId: message.id };
    if (message.replyTo) options.quoted = quotedMessage(chatJid, message.replyTo);
    await withTimeout(
      socket.sendMessage(chatJid, content, options),
      this.tuning.sendTimeoutMs,
      timedOut(`WhatsApp did not accept the message within ${this.tuning.sendTimeoutMs} ms`),
      this.clock,
    );
  }

  async applyChatState(session: ProviderSession, chatJid: string, change: ChatStateChange): Promise<void> {
    const connection = this.connections.get(session.id);
    const socket = connection?.status === 'connected' ? connection.socket : null;
    if (!connection || !socket) return;
    const modifications: ChatModification[] = [];
    if (change.archived !== undefined) {
      const last = connection.lastMessages.get(chatJid);
      modifications.push({ archive: change.archived, lastMessages: last ? [last] : [] });
    }
    if (change.pinned !== undefined) modifications.push({ pin: change.pinned });
    // WhatsApp's mute end is epoch ms, -1 for always; null unmutes.
    if (change.mutedUntil !== undefined) modifications.push({ mute: change.mutedUntil });
    for (const modification of modifications) {
      try {
        await withTimeout(socket.chatModify(modification, chatJid), this.tuning.sendTimeoutMs, timedOut('timed out'), this.clock);
      } catch (error) {
        connection.logger.warn({ err: error, chatJid, modification: Object.keys(modification)[0] }, 'could not apply a chat change to WhatsApp');
      }
    }
  }

  async act(session: ProviderSession, chatJid: string, action: ChatAction): Promise<void> {
    const connection = this.connections.get(session.id);
    const socket = connection?.status === 'connected' ? connection.socket : null;
    if (!connection || !socket) throw new ConflictError('session is not connected');
    const sendAction = (content: AnyMessageContent): Promise<unknown> => {
      const messageId = actionMessageId();
      // Its echo (`messages.upsert` of this device's own message) is not ingested again.
      remember(connection.sent, messageId, null, MAX_SENT_REMEMBERED);
      return socket.sendMessage(chatJid, content, { messageId });
    };
    let call: Promise<unknown>;
    switch (action.type) {
      case 'reaction':
        call = sendAction({ react: { text: action.emoji, key: messageKey(chatJid, action.message) } });
        break;
      case 'edit':
        call = sendAction({ text: action.text, edit: messageKey(chatJid, action.message) });
        break;
      case 'revoke':
        call = sendAction({ delete: messageKey(chatJid, action.message) });
        break;
      case 'read':
        call = socket.readMessages(action.messages.map((message) => messageKey(chatJid, message)));
        break;
      case 'presence':
        call = socket.sendPresenceUpdate(action.state, chatJid);
        break;
    }
    await withTimeout(call, this.tuning.sendTimeoutMs, timedOut(`WhatsApp did not take the ${action.type} within ${this.tuning.sendTimeoutMs} ms`), this.clock);
  }

  override heldSessions(): string[] {
    return [...this.connections.values()].filter((c) => c.status === 'connected' && c.socket).map((c) => c.session.id);
  }

  /** Downloads from WhatsApp's CDN need no connection: the stored message carries where and how. */
  override async downloadMedia(_session: ProviderSession, raw: unknown): Promise<Readable> {
    const media = downloadableMedia(revive(raw)?.message);
    if (!media) throw new Error('the message carries no downloadable file');
    return this.downloader.download(media);
  }

  override async requestMediaReupload(session: ProviderSession, raw: unknown): Promise<unknown> {
    const connection = this.connections.get(session.id);
    const socket = connection?.status === 'connected' ? connection.socket : null;
    const message = revive(raw);
    if (!socket || !message) throw new ConflictError('session is not connected');
    const updated = await withTimeout(socket.updateMediaMessage(message), this.tuning.sendTimeoutMs, timedOut('the phone did not answer'), this.clock);
    return toRawJson(updated);
  }

  /**
   * Closes every connection (status `disconnected`) and gives the events still queued, of every
   * session at once, up to `timeoutMs` to reach the database; what is left then is given up.
   */
  async closeAll(timeoutMs: number): Promise<void> {
    const connections = [...this.connections.values()];
    for (const connection of connections) {
      this.stop(connection);
      this.setStatus(connection, 'disconnected');
    }
    await Promise.all(connections.map((connection) => connection.auth?.close() ?? Promise.resolve()));
    await Promise.all([...this.queues.values()].map((queue) => queue.drain(timeoutMs)));
    for (const queue of this.queues.values()) queue.close('shutdown');
    this.queues.clear();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.closeAll(this.tuning.drainTimeoutMs);
  }

  private queueOf(sessionId: string): SessionWriteQueue {
    let queue = this.queues.get(sessionId);
    if (!queue) {
      queue = new SessionWriteQueue(sessionId, this.sink, this.tuning, this.clock, this.logger.child({ component: 'baileys' }), this.budget);
      this.queues.set(sessionId, queue);
    }
    return queue;
  }

  private enqueue(connection: Connection, events: GatewayEvent[], origin: EventOrigin): void {
    this.queueOf(connection.session.id).push(events, origin);
  }

  private setStatus(connection: Connection, status: SessionStatus, phoneNumber?: string): void {
    const samePhone = phoneNumber === undefined || phoneNumber === connection.phoneNumber;
    if (connection.status === status && samePhone) return;
    connection.status = status;
    if (phoneNumber !== undefined) connection.phoneNumber = phoneNumber;
    this.enqueue(connection, [{ type: 'session.status', status, ...(phoneNumber !== undefined ? { phoneNumber } : {}) }], 'live');
  }

  /** Opens a socket with the session's stored credentials; failures reconnect later. */
  private async open(connection: Connection): Promise<void> {
    if (connection.stopped) return;
    const generation = ++connection.generation;
    try {
      connection.auth ??= await this.auth.load(connection.session.id, () => this.sockets.initialCreds());
      this.abandonUnfinishedPairing(connection.auth);
      const socket = await this.sockets.create({
        sessionId: connection.session.id,
        auth: connection.auth.state,
        logger: this.socketLogger(connection),
        getMessage: (key) => Promise.resolve(this.sentMessage(connection, key)),
      });
      if (connection.stopped || generation !== connection.generation) {
        this.endSocket(connection, socket);
        return;
      }
      connection.socket = socket;
      connection.qrShown = 0;
      this.listen(connection, socket, generation);
    } catch (error) {
      if (connection.stopped) return;
      if (error instanceof CredentialsUnreadableError) {
        connection.logger.error({ err: error }, 'stored WhatsApp credentials cannot be read; the session is failed');
        this.halt(connection, 'failed');
        return;
      }
      if (error instanceof EncryptionKeyUnavailableError) {
        connection.logger.error({ err: error }, `no encryption key for WhatsApp credentials; the session is failed: ${error.message}`);
        this.halt(connection, 'failed');
        return;
      }
      connection.logger.warn({ err: error }, 'could not start the WhatsApp connection');
      this.setStatus(connection, 'connecting');
      this.scheduleReconnect(connection);
    }
  }

  /**
   * A pairing code request writes the number into `creds.me` before the phone confirms. If the
   * socket went away before that, the next socket would try to log in as a device that was never
   * linked (and be told "logged out"): start the registration afresh instead.
   */
  private abandonUnfinishedPairing(auth: SessionAuth): void {
    const creds = auth.state.creds;
    if (creds.me && !creds.account) {
      creds.me = undefined;
      creds.pairingCode = undefined;
      auth.saveCreds();
    }
  }

  /** Baileys is chatty: its own log lines only show at debug level, or when they are errors. */
  private socketLogger(connection: Connection): Logger {
    const level = this.logger.isLevelEnabled('debug') || !this.logger.isLevelEnabled('error') ? this.logger.level : 'error';
    return connection.logger.child({ component: 'baileys-socket' }, { level });
  }

  private listen(connection: Connection, socket: BaileysSocket, generation: number): void {
    const on = <E extends keyof BaileysEventMap>(event: E, handler: (payload: BaileysEventMap[E]) => void) =>
      socket.ev.on(event, (payload) => {
        if (connection.stopped || generation !== connection.generation) return;
        try {
          handler(payload);
        } catch (error) {
          connection.logger.error({ err: error, event }, 'failed to handle a WhatsApp event');
        }
      });
    const context = (): MappingContext => ({ ownJid: this.ownJid(connection), now: this.clock.now() });
    on('creds.update', () => connection.auth?.saveCreds());
    on('connection.update', (update) => this.onConnectionUpdate(connection, update));
    on('messaging-history.set', (payload) => {
      this.track(connection, payload.messages ?? []);
      // People first, so that the messages after them find their senders' numbers.
      this.enqueue(connection, [...mapHistoryDirectory(payload), ...mapHistorySet(payload, context())], 'history');
    });
    on('messages.upsert', (payload) => {
      this.track(connection, payload.messages ?? []);
      const messages = (payload.messages ?? []).filter((m) => !(m.key?.fromMe && m.key.id && connection.sent.has(m.key.id)));
      this.enqueue(connection, mapMessagesUpsert({ ...payload, messages }, context()), 'live');
    });
    on('messages.update', (updates) => this.enqueue(connection, mapMessagesUpdate(updates), 'live'));
    on('chats.upsert', (chats) => this.enqueue(connection, mapChatsUpsert(chats), 'live'));
    on('chats.update', (updates) => this.enqueue(connection, mapChatsUpdate(updates), 'live'));
    on('chats.delete', (ids) => this.enqueue(connection, mapChatsDelete(ids), 'live'));
    on('groups.update', (updates) => this.enqueue(connection, [...mapGroupsUpdate(updates), ...mapGroupUpdates(updates)], 'live'));
    on('groups.upsert', (groups) => this.enqueue(connection, mapGroupsUpsert(groups), 'live'));
    on('group-participants.update', (update) => this.enqueue(connection, mapGroupParticipantsUpdate(update), 'live'));
    on('contacts.upsert', (contacts) => this.enqueue(connection, mapContacts(contacts), 'live'));
    on('contacts.update', (updates) => this.enqueue(connection, mapContactUpdates(updates), 'live'));
    on('lid-mapping.update', (mapping) => this.enqueue(connection, [mapLidMapping(mapping)].filter((e) => e !== null), 'live'));
  }

  private onConnectionUpdate(connection: Connection, update: Partial<ConnectionState>): void {
    if (update.connection === 'close') {
      this.onClose(connection, update.lastDisconnect?.error);
      return;
    }
    if (update.qr) {
      connection.qrShown += 1;
      const ttl = connection.qrShown === 1 ? this.tuning.firstQrTtlMs : this.tuning.nextQrTtlMs;
      connection.qr = { qr: update.qr, expiresAt: this.clock.now() + ttl };
      this.shareQr(connection.session.id, connection.qr, ttl);
      // A QR means WhatsApp answered: the network is fine again.
      connection.attempt = 0;
    }
    if (update.connection === 'open') {
      connection.attempt = 0;
      this.forgetQr(connection);
    }
    const event = mapConnectionUpdate(update, this.ownJid(connection));
    if (event) this.setStatus(connection, event.status, event.phoneNumber ?? undefined);
  }

  private onClose(connection: Connection, error: Error | undefined): void {
    connection.socket = null;
    this.forgetQr(connection);
    const action = classifyClose(error);
    const details = { code: closeCodeOf(error), reason: error?.message, action };
    switch (action) {
      case 'restart':
        connection.logger.info(details, 'WhatsApp asked for a new connection');
        this.setStatus(connection, 'connecting');
        // At once the first time (right after pairing); a restart loop backs off like any close.
        if (connection.attempt === 0) {
          connection.attempt = 1;
          void this.open(connection);
        } else {
          this.scheduleReconnect(connection);
        }
        return;
      case 'retry':
        connection.logger.warn(details, 'WhatsApp connection closed; reconnecting');
        this.setStatus(connection, 'connecting');
        this.scheduleReconnect(connection);
        return;
      case 'logged-out':
        connection.logger.warn(details, 'WhatsApp logged this device out');
        void this.onLoggedOut(connection);
        return;
      case 'replaced':
        connection.logger.warn(details, 'another client took over this WhatsApp session; not reconnecting');
        this.halt(connection, 'disconnected');
        return;
      case 'failed':
        connection.logger.error(details, 'WhatsApp refused this session; not reconnecting');
        this.halt(connection, 'failed');
        return;
    }
  }

  /** The number removed this device: stop and forget the credentials; the stored copy stays. */
  private async onLoggedOut(connection: Connection): Promise<void> {
    this.halt(connection, 'logged_out');
    await connection.auth?.close();
    await this.auth.clear(connection.session.id).catch((error: unknown) =>
      connection.logger.error({ err: error }, 'could not delete the credentials of a logged-out session'),
    );
  }

  private scheduleReconnect(connection: Connection): void {
    if (connection.stopped || connection.retryTimer !== null) return;
    const delay = backoffDelay(connection.attempt, this.tuning.reconnect, this.clock.random());
    connection.attempt += 1;
    connection.logger.info({ attempt: connection.attempt, delayMs: delay }, 'reconnecting to WhatsApp');
    connection.retryTimer = this.clock.setTimeout(() => {
      connection.retryTimer = null;
      void this.open(connection);
    }, delay);
  }

  /** Stops for good (until the next `connect`), with a final status. */
  private halt(connection: Connection, status: SessionStatus): void {
    this.setStatus(connection, status);
    this.forgetQr(connection);
    this.stop(connection);
    void connection.auth?.close();
  }

  /** The connection shows no QR any more; the other replicas are told. */
  private forgetQr(connection: Connection): void {
    if (!connection.qr) return;
    connection.qr = null;
    this.shareQr(connection.session.id, null);
  }

  /** Stores (or, null, removes) the session's QR where any replica serves it from. */
  private shareQr(sessionId: string, qr: PairingQr | null, ttlMs = 0): void {
    const write = (this.qrWrites.get(sessionId) ?? Promise.resolve())
      .then(() => (qr ? this.qrs.save(sessionId, qr, ttlMs) : this.qrs.clear(sessionId)))
      .catch((error: unknown) => this.logger.warn({ err: error, sessionId }, 'could not share the pairing QR with the other replicas'))
      .finally(() => {
        if (this.qrWrites.get(sessionId) === write) this.qrWrites.delete(sessionId);
      });
    this.qrWrites.set(sessionId, write);
  }

  /** No more sockets or reconnects for this connection; `endSocket` closes the current one. */
  private stop(connection: Connection, endSocket = true): void {
    connection.stopped = true;
    this.clock.clearTimeout(connection.retryTimer);
    connection.retryTimer = null;
    connection.qr = null;
    if (endSocket) this.endSocket(connection, connection.socket);
    connection.socket = null;
    if (this.connections.get(connection.session.id) === connection) this.connections.delete(connection.session.id);
  }

  private endSocket(connection: Connection, socket: BaileysSocket | null): void {
    if (!socket) return;
    try {
      void Promise.resolve(socket.end(undefined)).catch((error: unknown) =>
        connection.logger.warn({ err: error }, 'closing the WhatsApp socket failed'),
      );
    } catch (error) {
      connection.logger.warn({ err: error }, 'closing the WhatsApp socket failed');
    }
  }

  private ownJid(connection: Connection): string | null {
    return connection.socket?.user?.id ?? connection.auth?.state.creds.me?.id ?? null;
  }

  /** Remembers each chat's latest message, which WhatsApp wants named when a chat is archived. */
  private track(connection: Connection, messages: readonly WAMessage[]): void {
    for (const message of messages) {
      const chatJid = normalizeJid(message.key?.remoteJid);
      const timestamp = toNumber(message.messageTimestamp);
      if (!chatJid || !message.key?.id || !timestamp) continue;
      if (chatJid.endsWith('@g.us') && !message.key.fromMe && !message.key.participant) continue;
      const known = connection.lastMessages.get(chatJid);
      if (known && (toNumber(known.messageTimestamp) ?? 0) > timestamp) continue;
      remember(connection.lastMessages, chatJid, { key: message.key, messageTimestamp: timestamp }, MAX_CHATS_REMEMBERED);
    }
  }

  private sentMessage(connection: Connection, key: WAMessageKey): proto.IMessage | undefined {
    const text = key.id ? connection.sent.get(key.id) : undefined;
    return text === undefined || text === null ? undefined : { conversation: text };
  }

  // Contacts, numbers and groups (API.md §10): asked of the socket, each bounded by the send timeout.

  async lookupNumbers(session: ProviderSession, phoneNumbers: string[]): Promise<NumberLookup[]> {
    const { connection, socket } = this.connected(session.id);
    const ask = async (numbers: string[]) =>
      (await this.askWhatsApp(connection, 'number lookup', () => socket.onWhatsApp(...numbers.map(userJidOf)))) ?? [];
    const { results, leftOver } = matchLookups(phoneNumbers, await ask(phoneNumbers));
    // Rare: WhatsApp rewrote some numbers, and only asking each alone tells which answer is whose.
    for (const phoneNumber of leftOver) {
      const alone = matchLookups([phoneNumber], await ask([phoneNumber])).results.get(phoneNumber);
      if (alone) results.set(phoneNumber, alone);
    }
    return phoneNumbers.map((phoneNumber) => results.get(phoneNumber) ?? { phoneNumber, exists: false, jid: null });
  }

  async profilePictureUrl(session: ProviderSession, jid: string): Promise<string | null> {
    const { connection, socket } = this.connected(session.id);
    try {
      const url = await withTimeout(
        socket.profilePictureUrl(jid, 'image', this.tuning.sendTimeoutMs),
        this.tuning.sendTimeoutMs,
        timedOut('WhatsApp did not answer in time'),
        this.clock,
      );
      return url || null;
    } catch (error) {
      // No picture, or one hidden from this number by the person's privacy settings.
      if ([401, 403, 404].includes(whatsappErrorCode(error) ?? 0)) return null;
      throw this.refused(connection, 'profile picture request', error);
    }
  }

  async groupMetadata(session: ProviderSession, jid: string): Promise<ProviderGroup> {
    const { connection, socket } = this.connected(session.id);
    const group = toProviderGroup(await this.askWhatsApp(connection, 'group request', () => socket.groupMetadata(jid), true));
    if (!group) throw new UnavailableError('WhatsApp answered the group request with something that is not a group');
    return group;
  }

  async createGroup(session: ProviderSession, subject: string, phoneNumbers: string[]): Promise<ProviderGroup> {
    const { connection, socket } = this.connected(session.id);
    const group = toProviderGroup(await this.askWhatsApp(connection, 'group creation', () => socket.groupCreate(subject, phoneNumbers.map(userJidOf))));
    if (!group) throw new UnavailableError('WhatsApp answered the group creation with something that is not a group');
    return group;
  }

  async updateGroupParticipants(
    session: ProviderSession,
    jid: string,
    action: ParticipantAction,
    phoneNumbers: string[],
  ): Promise<ParticipantResult[]> {
    const { connection, socket } = this.connected(session.id);
    const answers = await this.askWhatsApp(
      connection,
      'participants change',
      () => socket.groupParticipantsUpdate(jid, phoneNumbers.map(userJidOf), action),
      true,
    );
    const aligned = alignAnswers(phoneNumbers, answers);
    const invited = action === 'add' ? await this.sendInvitations(connection, socket, jid, phoneNumbers, aligned) : new Set<string>();
    return phoneNumbers.map((phoneNumber, i) => participantResult(action, phoneNumber, aligned[i], invited.has(phoneNumber)));
  }

  async groupInviteLink(session: ProviderSession, jid: string): Promise<string> {
    const { connection, socket } = this.connected(session.id);
    const code = await this.askWhatsApp(connection, 'invite link request', () => socket.groupInviteCode(jid), true);
    if (!code) throw new UnavailableError('WhatsApp gave no invite code');
    return `https://chat.whatsapp.com/${code}`;
  }

  /** The session's socket, or 409 when it is not connected here. */
  private connected(sessionId: string): { connection: Connection; socket: BaileysSocket } {
    const connection = this.connections.get(sessionId);
    const socket = connection?.status === 'connected' ? connection.socket : null;
    if (!connection || !socket) throw new ConflictError('session is not connected');
    return { connection, socket };
  }

  /** What WhatsApp answers, or the error its refusal means for the client (`group` names a group the call is about). */
  private async askWhatsApp<T>(connection: Connection, what: string, call: () => Promise<T>, group = false): Promise<T> {
    try {
      return await withTimeout(call(), this.tuning.sendTimeoutMs, timedOut('WhatsApp did not answer in time'), this.clock);
    } catch (error) {
      throw this.refused(connection, what, error, group);
    }
  }

  private refused(connection: Connection, what: string, error: unknown, group = false): Error {
    const code = whatsappErrorCode(error);
    // A group this number is not in (any more) is one WhatsApp will not describe: unknown to it.
    if (group && (code === 404 || code === 403)) return new NotFoundError('group not found');
    if (group && code === 401) return new ConflictError(`WhatsApp refused the ${what}: this number is not an admin of the group`);
    connection.logger.warn({ err: error, code }, `WhatsApp did not carry out a ${what}`);
    return new UnavailableError(`WhatsApp did not answer the ${what}`);
  }

  /**
   * Numbers whose privacy settings refuse being added come back as 403 with an invitation code:
   * as WhatsApp does, the gateway sends each of them the invitation as a message. Returns the
   * numbers it was sent to.
   */
  private async sendInvitations(
    connection: Connection,
    socket: BaileysSocket,
    groupJid: string,
    phoneNumbers: string[],
    answers: ({ status: string; content: BinaryNode } | undefined)[],
  ): Promise<Set<string>> {
    const invited = new Set<string>();
    const requests = phoneNumbers
      .map((phoneNumber, i) => ({ phoneNumber, request: answers[i]?.status === '403' ? addRequestOf(answers[i]?.content) : null }))
      .filter((entry) => entry.request !== null);
    if (requests.length === 0) return invited;
    const subject = await this.askWhatsApp(connection, 'group request', () => socket.groupMetadata(groupJid)).then(
      (group) => group.subject,
      () => '',
    );
    for (const { phoneNumber, request } of requests) {
      const invitation: AnyMessageContent = {
        groupInvite: { inviteCode: request!.code, inviteExpiration: request!.expiration, text: 'Invitation to join my WhatsApp group', jid: groupJid, subject },
      };
      try {
        await withTimeout(socket.sendMessage(userJidOf(phoneNumber), invitation, { messageId: actionMessageId() }), this.tuning.sendTimeoutMs, timedOut('timed out'), this.clock);
        invited.add(phoneNumber);
      } catch (error) {
        connection.logger.warn({ err: error, groupJid }, 'could not send a group invitation');
      }
    }
    return invited;
  }
}
