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
import { OutgoingText, ProviderSession } from '../whatsapp/whatsapp-provider';
import { ChangeRecorder } from './change-recorder';
import { IDEMPOTENCY_HEADER, requestHash } from './idempotency-key';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { MessageDto } from './message.dto';
import { newOutgoingMessageId } from './message-id';
import { MessagesRepository } from './messages.repository';
import { OutboxDispatcher } from './outbox-dispatcher.service';
import { SendMessageDto } from './send-message.dto';

export interface SendResult {
  message: MessageDto;
  /** True when an `Idempotency-Key` answered its first response again and nothing was sent. */
  replayed: boolean;
}

/**
 * Sending: the message is stored as `pending` (with its chat, the `Idempotency-Key`'s first
 * response, and the outbox row that carries it to the replica holding the session) in one
 * transaction and answered at once; the provider's one attempt is made by that replica (see
 * `OutboxDispatcher`), and its outcome moves the message to `sent` or `failed` (forward only, so
 * a receipt that arrived first is kept).
 */
@Injectable()
export class MessageSendService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sessions: SessionsRepository,
    private readonly chats: ChatsRepository,
    private readonly messages: MessagesRepository,
    private readonly idempotencyKeys: IdempotencyKeysRepository,
    private readonly providers: ProviderRegistry,
    private readonly eventLog: EventLogRepository,
    private readonly outbox: OutboxRepository,
    private readonly dispatcher: OutboxDispatcher,
  ) {}

  async send(orgId: string, sessionId: string, cid: string, body: SendMessageDto, key?: string): Promise<SendResult> {
    if (!isSessionId(sessionId)) throw sessionNotFound();
    const chatJid = chatJidOf(cid);
    const scope = key !== undefined && chatJid !== null ? { orgId, sessionId, chatJid, key } : undefined;
    const hash = requestHash(body);
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
      const provider = this.providers.get(session.provider);
      // A connection held by a replica, maybe another one: what it last stored tells.
      if (provider.holdsConnection ? session.status !== 'connected' : !provider.canSend(sessionId)) {
        throw new ConflictError(
          provider.name === 'external'
            ? 'the session cannot send: no connector is configured for external sessions'
            : 'the session cannot send: it is not connected',
        );
      }
      const message = await this.storePending(runner, { id: sessionId, orgId }, chatJid, session.phoneNumber, body.text);
      if (scope) await this.idempotencyKeys.save(runner, scope, { requestHash: hash, response: message });
      const outgoing: OutgoingText = { id: message.id, type: 'text', text: body.text };
      await this.outbox.enqueue(runner, { sessionId, orgId, provider: provider.name, kind: 'send', chatJid, messageId: message.id, payload: outgoing });
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

  /** Stores the `pending` message (and its chat, when new) with their events. */
  private async storePending(
    runner: QueryRunner,
    { id: sessionId, orgId }: ProviderSession,
    chatJid: string,
    phoneNumber: string | null,
    text: string,
  ): Promise<MessageDto> {
    const message: MessageDto = {
      id: newOutgoingMessageId(),
      chatId: chatJid,
      fromMe: true,
      senderId: phoneNumber ? userJidOf(phoneNumber) : null,
      timestamp: Date.now(),
      type: 'text',
      text,
      status: 'pending',
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
        rawJson: null,
      },
    ]);
    changes.messagesWritten(written);
    changes.chatsTouched(await this.chats.refreshLastMessageAt(runner, sessionId, [chatJid]));
    await this.eventLog.append(runner, orgId, changes.events());
    return message;
  }
}
