import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { chatJidOf, chatNotFound } from '../chats/chat-id';
import { ChatsRepository } from '../chats/chats.repository';
import { ConflictError, ValidationError } from '../common/errors/app-error';
import { EventLogRepository } from '../events/event-log.repository';
import { OutboxRepository } from '../outbox/outbox.repository';
import { isSessionId, sessionNotFound } from '../sessions/session-id';
import { SessionsRepository } from '../sessions/sessions.repository';
import { chatTypeOf, userJidOf } from '../domain/jid';
import { ProviderRegistry } from '../whatsapp/providers/provider-registry';
import { ProviderSession, QuotedMessage, WhatsAppProvider } from '../whatsapp/whatsapp-provider';
import { IncomingMessage } from 'node:http';
import { MediaMessageType, MessageMedia } from '../domain/media';
import { MediaFiles } from '../media/media-files.service';
import { StrictValidationPipe } from '../common/validation/strict-validation.pipe';
import { CheckedFile, OutgoingMediaService } from './outgoing-media.service';
import { ChangeRecorder } from './change-recorder';
import { IDEMPOTENCY_HEADER, requestHash } from './idempotency-key';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { MessageDto, toMessageDto } from './message.dto';
import { newOutgoingMessageId } from './message-id';
import { MessageRow, MessagesRepository } from './messages.repository';
import { OutboxDispatcher, QueuedSend } from './outbox-dispatcher.service';
import { SendMessageDto } from './send-message.dto';

/**
 * The 409 of a session that cannot send (nor act, API.md §9) now. A connection held by a replica,
 * maybe another one: what it last stored tells.
 */
export function checkCanSend(provider: WhatsAppProvider, sessionId: string, status: string): void {
  if (provider.holdsConnection ? status !== 'connected' : !provider.canSend(sessionId)) {
    throw new ConflictError(
      provider.name === 'external'
        ? 'the session cannot send: no connector is configured for external sessions'
        : 'the session cannot send: it is not connected',
    );
  }
}

export interface SendResult {
  message: MessageDto;
  /** True when an `Idempotency-Key` answered its first response again and nothing was sent. */
  replayed: boolean;
}

/**
 * Sending: the message is stored as `pending` (with its chat, its file, the `Idempotency-Key`'s
 * first response, and the outbox row that carries it to the replica holding the session) in one
 * transaction and answered at once; the provider's one attempt is made by that replica (see
 * `OutboxDispatcher`), and its outcome moves the message to `sent` or `failed` (forward only, so
 * a receipt that arrived first is kept).
 */
@Injectable()
export class MessageSendService {
  private readonly validation = new StrictValidationPipe();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sessions: SessionsRepository,
    private readonly chats: ChatsRepository,
    private readonly messages: MessagesRepository,
    private readonly idempotencyKeys: IdempotencyKeysRepository,
    private readonly providers: ProviderRegistry,
    private readonly eventLog: EventLogRepository,
    private readonly outgoingMedia: OutgoingMediaService,
    private readonly files: MediaFiles,
    private readonly outbox: OutboxRepository,
    private readonly dispatcher: OutboxDispatcher,
  ) {}

  /**
   * A send with a JSON body (a text, a place, contact cards, or a file by `media.url` or `media.data`). `origin` is the
   * gateway's own address as the caller reached it, for the file URL a connector is given.
   */
  async sendJson(orgId: string, sessionId: string, cid: string, json: unknown, key: string | undefined, origin: string): Promise<SendResult> {
    const body = (await this.validation.transform(json, { type: 'body', metatype: SendMessageDto })) as SendMessageDto;
    this.outgoingMedia.checkShape(body, false);
    if (body.type === 'text' || body.type === 'location' || body.type === 'contact') return this.send(orgId, sessionId, cid, body, key, origin);
    // Cheap checks first: no file is fetched for a session that cannot send.
    await this.preflight(orgId, sessionId, cid);
    const file = await this.outgoingMedia.fromJson(body);
    return this.discardAfter(file, () => this.send(orgId, sessionId, cid, body, key, origin, file));
  }

  /** A send with a `multipart/form-data` body: the fields and a `file` part, streamed. */
  async sendUpload(orgId: string, sessionId: string, cid: string, req: IncomingMessage, key: string | undefined, origin: string): Promise<SendResult> {
    await this.preflight(orgId, sessionId, cid);
    const { body, file } = await this.outgoingMedia.fromMultipart(req);
    return this.discardAfter(file, () => this.send(orgId, sessionId, cid, body, key, origin, file));
  }

  /** The 404 or 409 a send would answer, before a file is received for it. */
  private async preflight(orgId: string, sessionId: string, cid: string): Promise<void> {
    if (!isSessionId(sessionId)) throw sessionNotFound();
    await this.dataSource.transaction(async (manager) => {
      const session = await this.sessions.lockForSend(manager.queryRunner!, sessionId, orgId);
      if (!session) throw sessionNotFound();
      if (!chatJidOf(cid)) throw chatNotFound();
      checkCanSend(this.providers.get(session.provider), sessionId, session.status);
    });
  }

  /** Runs a send of a received file, then lets the staged copy go: stored by now, or not to be stored. */
  private async discardAfter(file: CheckedFile, send: () => Promise<SendResult>): Promise<SendResult> {
    try {
      return await send();
    } finally {
      await this.outgoingMedia.discard(file);
    }
  }

  private async send(
    orgId: string,
    sessionId: string,
    cid: string,
    body: SendMessageDto,
    key: string | undefined,
    origin: string,
    file?: CheckedFile,
  ): Promise<SendResult> {
    if (!isSessionId(sessionId)) throw sessionNotFound();
    const chatJid = chatJidOf(cid);
    const scope = key !== undefined && chatJid !== null ? { orgId, sessionId, chatJid, key } : undefined;
    const hash = requestHash(body, file?.media.sha256);
    let queued = false;
    const result = await this.dataSource.transaction(async (manager): Promise<SendResult> => {
      const runner = manager.queryRunner!;
      // First, so that a duplicate arriving meanwhile is told at once rather than queued behind it.
      if (scope && !(await this.idempotencyKeys.tryLock(runner, scope))) {
        throw new ConflictError(`a request with this ${IDEMPOTENCY_HEADER} is still being handled`);
      }
      const session = await this.sessions.lockForSend(runner, sessionId, orgId);
      if (!session) throw sessionNotFound();
      if (!chatJid) throw chatNotFound();
      const stored = scope ? await this.idempotencyKeys.findLive(runner, scope) : null;
      if (stored) {
        if (stored.requestHash !== hash) {
          throw ValidationError.field(IDEMPOTENCY_HEADER, 'was already used with another request body');
        }
        return { message: stored.response, replayed: true };
      }
      const quoted = body.replyTo === undefined ? null : await this.messages.findOneIn(runner, sessionId, chatJid, body.replyTo);
      if (body.replyTo !== undefined && !quoted) throw ValidationError.field('replyTo', 'must be the id of a stored message of this chat');
      const provider = this.providers.get(session.provider);
      checkCanSend(provider, sessionId, session.status);
      if (file) await this.files.keep(runner, orgId, file.staged);
      const message = await this.storePending(runner, { id: sessionId, orgId }, chatJid, session.phoneNumber, body, file?.media ?? null);
      if (scope) await this.idempotencyKeys.save(runner, scope, { requestHash: hash, response: message });
      const payload = this.outgoing(sessionId, chatJid, message, origin, quoted);
      await this.outbox.enqueue(runner, { sessionId, orgId, provider: provider.name, kind: 'send', chatJid, messageId: message.id, payload });
      queued = true;
      return { message, replayed: false };
    });
    // This replica starts at once when it may (it holds the session, or any replica may).
    if (queued) this.dispatcher.poke(sessionId);
    return result;
  }

  /** Resolves once every send this replica is carrying out has its outcome recorded, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void> {
    return this.dispatcher.drain(timeoutMs);
  }

  /**
   * What the outbox row carries for the provider: the message, with the file's fields (the
   * dispatcher opens the file from the blob store) and what a reply quotes.
   */
  private outgoing(sessionId: string, chatJid: string, message: MessageDto, origin: string, quotedRow: MessageRow | null): QueuedSend {
    const replyTo: QuotedMessage | null = quotedRow
      ? { id: quotedRow.id, fromMe: quotedRow.from_me, senderId: quotedRow.sender_jid, type: quotedRow.type, text: quotedRow.text }
      : null;
    const { id } = message;
    if (message.type === 'location') return { id, type: 'location', location: message.location!, replyTo };
    if (message.type === 'contact') {
      return { id, type: 'contact', contacts: message.contacts!.map((card) => ({ name: card.name, phoneNumber: card.phoneNumber! })), replyTo };
    }
    if (!message.media) return { id, type: 'text', text: message.text!, replyTo };
    const media = message.media;
    return {
      id,
      type: message.type as MediaMessageType,
      text: message.text,
      media: {
        mimetype: media.mimetype,
        size: media.size,
        sha256: media.sha256,
        fileName: media.fileName,
        voiceNote: media.voiceNote,
        url: `${origin}/api/v1/sessions/${sessionId}/chats/${chatJid}/messages/${message.id}/media`,
      },
      replyTo,
    };
  }

  /** Stores the `pending` message (and its chat, when new) with their events. */
  private async storePending(
    runner: QueryRunner,
    { id: sessionId, orgId }: ProviderSession,
    chatJid: string,
    phoneNumber: string | null,
    body: SendMessageDto,
    media: MessageMedia | null,
  ): Promise<MessageDto> {
    const senderJid = phoneNumber ? userJidOf(phoneNumber) : null;
    const changes = new ChangeRecorder(sessionId);
    changes.chatsCreated(await this.chats.insertMissing(runner, sessionId, [{ jid: chatJid, type: chatTypeOf(chatJid) }]));
    const written = await this.messages.upsertMany(runner, sessionId, [
      {
        chatJid,
        id: newOutgoingMessageId(),
        fromMe: true,
        senderJid,
        ts: Date.now(),
        type: body.type,
        text: body.text ?? null,
        status: 'pending',
        media,
        rawJson: null,
        replyTo: body.replyTo ?? null,
        location: body.location
          ? { latitude: body.location.latitude, longitude: body.location.longitude, name: body.location.name ?? null, address: body.location.address ?? null }
          : null,
        contacts: body.contacts?.map((card) => ({ name: card.name, phoneNumber: card.phoneNumber })) ?? null,
        senderPn: phoneNumber,
        reactions: null,
        edited: false,
        revoked: false,
      },
    ]);
    changes.messagesWritten(written);
    changes.chatsTouched(await this.chats.refreshLastMessageAt(runner, sessionId, [chatJid]));
    await this.eventLog.append(runner, orgId, changes.events());
    return toMessageDto(written[0]);
  }
}
