import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Logger } from 'pino';
import { DataSource, QueryRunner } from 'typeorm';
import { chatJidOf, chatNotFound } from '../chats/chat-id';
import { ChatsRepository } from '../chats/chats.repository';
import { ConflictError, ValidationError } from '../common/errors/app-error';
import { LOGGER } from '../common/logging/logging.module';
import { EventLogRepository } from '../events/event-log.repository';
import { MetricsService } from '../metrics/metrics.service';
import { isSessionId, sessionNotFound } from '../sessions/session-id';
import { SessionsRepository } from '../sessions/sessions.repository';
import { chatTypeOf, userJidOf } from '../domain/jid';
import { ProviderRegistry } from '../whatsapp/providers/provider-registry';
import { OutgoingMessage, ProviderSession, WhatsAppProvider } from '../whatsapp/whatsapp-provider';
import { IncomingMessage } from 'node:http';
import { MediaMessageType, MessageMedia } from '../domain/media';
import { MediaFiles } from '../media/media-files.service';
import { MediaStore, objectKey } from '../media/media-store';
import { StrictValidationPipe } from '../common/validation/strict-validation.pipe';
import { CheckedFile, OutgoingMediaService } from './outgoing-media.service';
import { ChangeRecorder } from './change-recorder';
import { IDEMPOTENCY_HEADER, requestHash } from './idempotency-key';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { MessageDto } from './message.dto';
import { newOutgoingMessageId } from './message-id';
import { MessagesRepository } from './messages.repository';
import { SendMessageDto } from './send-message.dto';

/** Attempts to record a send's outcome while the database is briefly unavailable. */
const OUTCOME_WRITE_ATTEMPTS = 3;
const OUTCOME_RETRY_MS = 500;
/** On shutdown, sends already answered 202 get this long to finish and record their outcome. */
const SHUTDOWN_WAIT_MS = 8_000;

export interface SendResult {
  message: MessageDto;
  /** True when an `Idempotency-Key` answered its first response again and nothing was sent. */
  replayed: boolean;
}

interface Send {
  provider: WhatsAppProvider;
  session: ProviderSession;
  chatJid: string;
  message: OutgoingMessage;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Sending: the message is stored as `pending` (with its chat, and the `Idempotency-Key`'s first
 * response) in one transaction and answered at once; the provider's one attempt runs after the
 * response, and its outcome moves the message to `sent` or `failed` (forward only, so a receipt
 * that arrived first is kept).
 */
@Injectable()
export class MessageSendService implements BeforeApplicationShutdown {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly validation = new StrictValidationPipe();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sessions: SessionsRepository,
    private readonly chats: ChatsRepository,
    private readonly messages: MessagesRepository,
    private readonly idempotencyKeys: IdempotencyKeysRepository,
    private readonly providers: ProviderRegistry,
    private readonly metrics: MetricsService,
    private readonly eventLog: EventLogRepository,
    private readonly outgoingMedia: OutgoingMediaService,
    private readonly files: MediaFiles,
    private readonly store: MediaStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * A send with a JSON body (a text, or a file by `media.url` or `media.data`). `origin` is the
   * gateway's own address as the caller reached it, for the file URL a connector is given.
   */
  async sendJson(orgId: string, sessionId: string, cid: string, json: unknown, key: string | undefined, origin: string): Promise<SendResult> {
    const body = (await this.validation.transform(json, { type: 'body', metatype: SendMessageDto })) as SendMessageDto;
    this.outgoingMedia.checkShape(body, false);
    if (body.type === 'text') return this.send(orgId, sessionId, cid, body, key, origin);
    // Cheap checks first: no file is fetched for a session that cannot send.
    await this.preflight(orgId, sessionId, cid);
    return this.send(orgId, sessionId, cid, body, key, origin, await this.outgoingMedia.fromJson(body));
  }

  /** A send with a `multipart/form-data` body: the fields and a `file` part, streamed. */
  async sendUpload(orgId: string, sessionId: string, cid: string, req: IncomingMessage, key: string | undefined, origin: string): Promise<SendResult> {
    await this.preflight(orgId, sessionId, cid);
    const { body, file } = await this.outgoingMedia.fromMultipart(req);
    return this.send(orgId, sessionId, cid, body, key, origin, file);
  }

  /** The 404 or 409 a send would answer, before a file is received for it. */
  private async preflight(orgId: string, sessionId: string, cid: string): Promise<void> {
    if (!isSessionId(sessionId)) throw sessionNotFound();
    await this.dataSource.transaction(async (manager) => {
      const session = await this.sessions.lockForSend(manager.queryRunner!, sessionId, orgId);
      if (!session) throw sessionNotFound();
      if (!chatJidOf(cid)) throw chatNotFound();
      this.checkCanSend(this.providers.get(session.provider), sessionId);
    });
  }

  private checkCanSend(provider: WhatsAppProvider, sessionId: string): void {
    if (!provider.canSend(sessionId)) {
      throw new ConflictError(
        provider.name === 'external'
          ? 'the session cannot send: no connector is configured for external sessions'
          : 'the session cannot send: it is not connected',
      );
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
    try {
      return await this.sendChecked(orgId, sessionId, cid, body, key, origin, file);
    } finally {
      // Stored by now, or not to be stored.
      if (file) await this.outgoingMedia.discard(file);
    }
  }

  private async sendChecked(
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
    let send: Send | undefined;
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
      const provider = this.providers.get(session.provider);
      this.checkCanSend(provider, sessionId);
      if (file) await this.files.keep(runner, orgId, file.staged);
      const message = await this.storePending(runner, { id: sessionId, orgId }, chatJid, session.phoneNumber, body, file?.media ?? null);
      if (scope) await this.idempotencyKeys.save(runner, scope, { requestHash: hash, response: message });
      send = { provider, session: { id: sessionId, orgId }, chatJid, message: this.outgoing(orgId, sessionId, chatJid, message, origin) };
      return { message, replayed: false };
    });
    if (send) this.dispatch(send);
    return result;
  }

  /** On shutdown, sends already answered get to finish, so that their outcome is recorded. */
  beforeApplicationShutdown(): Promise<void> {
    return this.drain(SHUTDOWN_WAIT_MS);
  }

  /** Resolves once every send answered so far has its outcome recorded, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all(this.inFlight), timeout]);
    clearTimeout(timer);
  }

  /** What the provider is given to send. */
  private outgoing(orgId: string, sessionId: string, chatJid: string, message: MessageDto, origin: string): OutgoingMessage {
    if (!message.media) return { id: message.id, type: 'text', text: message.text! };
    const media = message.media;
    const key = objectKey(orgId, media.sha256);
    return {
      id: message.id,
      type: message.type as MediaMessageType,
      text: message.text,
      media: {
        mimetype: media.mimetype,
        size: media.size,
        sha256: media.sha256,
        fileName: media.fileName,
        voiceNote: media.voiceNote,
        url: `${origin}/api/v1/sessions/${sessionId}/chats/${chatJid}/messages/${message.id}/media`,
        open: async () => {
          const stream = await this.store.open(key);
          if (!stream) throw new Error('the file to send is missing from the media store');
          return stream;
        },
      },
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
    const text = body.text ?? null;
    const message: MessageDto = {
      id: newOutgoingMessageId(),
      chatId: chatJid,
      fromMe: true,
      senderId: phoneNumber ? userJidOf(phoneNumber) : null,
      timestamp: Date.now(),
      type: body.type,
      text,
      status: 'pending',
      media,
    };
    const changes = new ChangeRecorder(sessionId);
    changes.chatsCreated(await this.chats.insertMissing(runner, sessionId, [{ jid: chatJid, type: chatTypeOf(chatJid) }]));
    const written = await this.messages.upsertMany(runner, sessionId, [
      {
        chatJid,
        id: message.id,
        fromMe: true,
        senderJid: message.senderId,
        ts: message.timestamp,
        type: message.type,
        text,
        status: message.status,
        media,
        rawJson: null,
      },
    ]);
    changes.messagesWritten(written);
    changes.chatsTouched(await this.chats.refreshLastMessageAt(runner, sessionId, [chatJid]));
    await this.eventLog.append(runner, orgId, changes.events());
    return message;
  }

  /** Runs the provider's one attempt after the response is on its way. */
  private dispatch(send: Send): void {
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.deliver(send))
      .catch((error: unknown) => this.logger.error({ err: error, sessionId: send.session.id }, 'send task failed'));
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async deliver({ provider, session, chatJid, message }: Send): Promise<void> {
    let outcome: 'sent' | 'failed' = 'sent';
    try {
      await provider.send(session, chatJid, message);
    } catch (error) {
      outcome = 'failed';
      this.logger.warn({ err: error, sessionId: session.id, chatJid, messageId: message.id }, 'send failed');
    }
    this.metrics.recordSend(outcome);
    await this.recordOutcome(session, chatJid, message.id, outcome);
  }

  private async recordOutcome(session: ProviderSession, chatJid: string, id: string, status: 'sent' | 'failed'): Promise<void> {
    const sessionId = session.id;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dataSource.transaction(async (manager) => {
          const runner = manager.queryRunner!;
          const changes = new ChangeRecorder(sessionId);
          changes.messagesWritten(await this.messages.applyChanges(runner, sessionId, [{ chatJid, id, status, revoked: false }]));
          await this.eventLog.append(runner, session.orgId, changes.events());
        });
        return;
      } catch (error) {
        if (attempt >= OUTCOME_WRITE_ATTEMPTS) {
          this.logger.error({ err: error, sessionId, chatJid, messageId: id, status }, 'could not record the outcome of a send');
          return;
        }
        await sleep(OUTCOME_RETRY_MS);
      }
    }
  }
}
