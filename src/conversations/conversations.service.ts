import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { chatJidOf, chatNotFound } from '../chats/chat-id';
import { ChatRow, ChatsRepository } from '../chats/chats.repository';
import { ConflictError, ValidationError } from '../common/errors/app-error';
import { ProviderName } from '../config/app-config';
import { GatewayEvent, SessionStatus } from '../domain/gateway-events';
import { chatTypeOf, userJidOf } from '../domain/jid';
import { EventLogRepository } from '../events/event-log.repository';
import { IngestionService } from '../ingestion/ingestion.service';
import { checkCanSend } from '../messages/message-send.service';
import { messageIdOf, messageNotFound } from '../messages/message-id';
import { MessageDto, toMessageDto } from '../messages/message.dto';
import { MessageRow, MessagesRepository } from '../messages/messages.repository';
import { OutboxDispatcher } from '../messages/outbox-dispatcher.service';
import { OutboxRepository } from '../outbox/outbox.repository';
import { isSessionId, sessionNotFound } from '../sessions/session-id';
import { SessionsRepository } from '../sessions/sessions.repository';
import { ProviderRegistry } from '../whatsapp/providers/provider-registry';
import { ChatAction, MessageRef, PresenceState } from '../whatsapp/whatsapp-provider';

/** WhatsApp lets a message be edited this long after it was sent. */
export const EDIT_WINDOW_MS = 15 * 60 * 1000;
/** Read receipts sent at most by one `read`. */
const MAX_READ_RECEIPTS = 100;

/** A chat an action is in, under its session's lock, within the action's transaction. */
interface ActionScope {
  runner: QueryRunner;
  session: { id: string; orgId: string; provider: ProviderName; phoneNumber: string | null; status: SessionStatus };
  chat: ChatRow;
}

/** What an action does: the events WhatsApp would report for it, and what goes to WhatsApp. */
interface Plan {
  events: GatewayEvent[];
  action: ChatAction | null;
}

const refOf = (row: MessageRow): MessageRef => ({ id: row.id, fromMe: row.from_me, senderId: row.sender_jid });

/**
 * The actions of API.md §9. Each is stored as the change WhatsApp would report for it (through
 * the ingestion service, so that the stored copy and the event log read exactly as if it had
 * come from WhatsApp), with the outbox row that carries it to WhatsApp, in one transaction under
 * the session's lock; the replica that may carry it out is woken once it commits.
 */
@Injectable()
export class ConversationsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sessions: SessionsRepository,
    private readonly chats: ChatsRepository,
    private readonly messages: MessagesRepository,
    private readonly ingestion: IngestionService,
    private readonly eventLog: EventLogRepository,
    private readonly outbox: OutboxRepository,
    private readonly dispatcher: OutboxDispatcher,
    private readonly providers: ProviderRegistry,
  ) {}

  /** Sets (or, `""`, removes) this number's reaction to a message. */
  react(orgId: string, sid: string, cid: string, mid: string, emoji: string): Promise<MessageDto> {
    return this.onMessage(orgId, sid, cid, mid, (scope, message) => {
      if (message.revoked) throw ValidationError.field('mid', 'must not be revoked');
      this.checkCanAct(scope);
      const { phoneNumber } = scope.session;
      if (!phoneNumber) throw new ConflictError('the session cannot act: its own number is not known yet');
      const event: GatewayEvent = {
        type: 'message.react',
        chatId: scope.chat.jid,
        messageId: message.id,
        senderId: userJidOf(phoneNumber),
        emoji,
        timestamp: Date.now(),
      };
      return { events: [event], action: { type: 'reaction', message: refOf(message), emoji } };
    });
  }

  /** Replaces the text of a text message sent from this number, within WhatsApp's 15 minutes. */
  edit(orgId: string, sid: string, cid: string, mid: string, text: string): Promise<MessageDto> {
    return this.onMessage(orgId, sid, cid, mid, (scope, message) => {
      if (message.type !== 'text' || !message.from_me || message.revoked) {
        throw ValidationError.field('mid', 'must be a text message sent from this number, not revoked');
      }
      const now = Date.now();
      if (now - Number(message.ts) > EDIT_WINDOW_MS) throw new ConflictError('a message can only be edited within 15 minutes of its timestamp');
      this.checkCanAct(scope);
      return {
        events: [{ type: 'message.edit', chatId: scope.chat.jid, messageId: message.id, text, timestamp: now }],
        action: { type: 'edit', message: refOf(message), text },
      };
    });
  }

  /** Deletes a message for everyone: own ones, and others' in groups (where WhatsApp wants the number to be admin). */
  revoke(orgId: string, sid: string, cid: string, mid: string): Promise<MessageDto> {
    return this.onMessage(orgId, sid, cid, mid, (scope, message) => {
      if (!message.from_me && chatTypeOf(scope.chat.jid) === 'direct') {
        throw ValidationError.field('mid', 'must be a message sent from this number: in a direct chat only those can be revoked');
      }
      // Deleted for everyone already: nothing to change, nothing to send again.
      if (message.revoked) return { events: [], action: null };
      this.checkCanAct(scope);
      return {
        events: [{ type: 'message.revoke', chatId: scope.chat.jid, messageId: message.id }],
        action: { type: 'revoke', message: refOf(message) },
      };
    });
  }

  /** Removes one message from the stored copy only. */
  async deleteLocal(orgId: string, sid: string, cid: string, mid: string): Promise<void> {
    await this.inChat(orgId, sid, cid, async ({ runner, session, chat }) => {
      const id = messageIdOf(mid);
      if (!id || !(await this.messages.deleteOne(runner, session.id, chat.jid, id))) throw messageNotFound();
      // No chat event for `lastMessageAt` alone (API.md §7).
      await this.chats.refreshLastMessageAt(runner, session.id, [chat.jid]);
      await this.eventLog.append(runner, orgId, [{ type: 'message.deleted', sessionId: session.id, data: { id, chatId: chat.jid } }]);
      return false;
    });
  }

  /**
   * Marks the chat read: `unreadCount` 0, and read receipts for its newest received messages, as
   * many as were unread (at most 100), at least the newest one.
   */
  async markRead(orgId: string, sid: string, cid: string): Promise<void> {
    await this.inChat(orgId, sid, cid, async (scope) => {
      this.checkCanAct(scope);
      const { runner, session, chat } = scope;
      const count = Math.min(Math.max(chat.unread_count, 1), MAX_READ_RECEIPTS);
      const unread = await this.messages.newestReceived(runner, session.id, chat.jid, count);
      const plan: Plan = {
        events: [{ type: 'chat.upsert', chat: { id: chat.jid, unreadCount: 0 } }],
        action: unread.length > 0 ? { type: 'read', messages: unread.map(refOf) } : null,
      };
      return this.carryOut(scope, plan, null);
    });
  }

  /** Shows (or stops) a typing indicator in the chat; nothing is stored. */
  async setPresence(orgId: string, sid: string, cid: string, state: PresenceState): Promise<void> {
    await this.inChat(orgId, sid, cid, (scope) => {
      this.checkCanAct(scope);
      return this.carryOut(scope, { events: [], action: { type: 'presence', state } }, null);
    });
  }

  /** An action on a stored message of the chat; answers the message as it is afterwards. */
  private async onMessage(
    orgId: string,
    sid: string,
    cid: string,
    mid: string,
    plan: (scope: ActionScope, message: MessageRow) => Plan,
  ): Promise<MessageDto> {
    let answer: MessageDto | null = null;
    await this.inChat(orgId, sid, cid, async (scope) => {
      const id = messageIdOf(mid);
      const message = id ? await this.messages.findOneIn(scope.runner, scope.session.id, scope.chat.jid, id) : null;
      if (!message) throw messageNotFound();
      const queued = await this.carryOut(scope, plan(scope, message), message.id);
      const after = await this.messages.findOneIn(scope.runner, scope.session.id, scope.chat.jid, message.id);
      answer = toMessageDto(after ?? message);
      return queued;
    });
    return answer!;
  }

  /**
   * Runs `work` in a transaction holding the session's lock, once the session (of `orgId`) and
   * the chat are found (404 otherwise, in that order); `work` tells whether it queued an action.
   */
  private async inChat(orgId: string, sid: string, cid: string, work: (scope: ActionScope) => Promise<boolean>): Promise<void> {
    if (!isSessionId(sid)) throw sessionNotFound();
    const queued = await this.dataSource.transaction(async (manager) => {
      const runner = manager.queryRunner!;
      const session = await this.sessions.lockForSend(runner, sid, orgId);
      if (!session) throw sessionNotFound();
      const jid = chatJidOf(cid);
      const chat = jid ? await this.chats.findOneIn(runner, sid, jid) : null;
      if (!chat) throw chatNotFound();
      return work({ runner, session: { id: sid, orgId, ...session }, chat });
    });
    // This replica starts at once when it may (it holds the session, or any replica may).
    if (queued) this.dispatcher.poke(sid);
  }

  /** 409 when the session cannot reach WhatsApp now, as for sends. */
  private checkCanAct({ session }: ActionScope): void {
    checkCanSend(this.providers.get(session.provider), session.id, session.status);
  }

  /** Stores the plan's events as ingested ones and queues its action; true when an action was queued. */
  private async carryOut({ runner, session, chat }: ActionScope, plan: Plan, messageId: string | null): Promise<boolean> {
    if (plan.events.length > 0) {
      await this.ingestion.applyWithin(runner, { id: session.id, orgId: session.orgId, provider: session.provider }, plan.events);
    }
    if (!plan.action) return false;
    await this.outbox.enqueue(runner, {
      sessionId: session.id,
      orgId: session.orgId,
      provider: session.provider,
      kind: 'action',
      chatJid: chat.jid,
      messageId,
      payload: plan.action,
    });
    return true;
  }
}
