import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { EventLogRepository } from '../events/event-log.repository';
import { OutboxRepository } from '../outbox/outbox.repository';
import { LOGGER } from '../common/logging/logging.module';
import { Page, toPage } from '../common/pagination/page';
import { ProviderName } from '../config/app-config';
import { decodePosition, encodePosition } from '../common/pagination/keyset-position';
import { isSessionId, sessionNotFound } from '../sessions/session-id';
import { SessionsRepository } from '../sessions/sessions.repository';
import { StoredCopyPurger } from '../sessions/stored-copy-purger.service';
import { ProviderRegistry } from '../whatsapp/providers/provider-registry';
import { isChatJid } from '../domain/jid';
import { ChatStateChange } from '../whatsapp/whatsapp-provider';
import { chatJidOf, chatNotFound } from './chat-id';
import { ChatDto, toChatDto } from './chat.dto';
import { ChatListFilter, ChatRow, ChatsRepository, ScopedChat } from './chats.repository';
import { UpdateChatDto } from './update-chat.dto';

const activityOf = (row: ChatRow): number => (row.last_message_at === null ? -1 : Number(row.last_message_at));

/** The chat a scoped lookup found, or the 404 it calls for. */
function foundChat(result: ScopedChat): ChatRow {
  if (!result.sessionFound) throw sessionNotFound();
  if (!result.chat) throw chatNotFound();
  return result.chat;
}

@Injectable()
export class ChatsService {
  constructor(
    private readonly repository: ChatsRepository,
    private readonly sessions: SessionsRepository,
    private readonly providers: ProviderRegistry,
    private readonly eventLog: EventLogRepository,
    private readonly purger: StoredCopyPurger,
    private readonly outbox: OutboxRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Most recent activity first (chats without messages last), ties broken by id. */
  async list(
    orgId: string,
    sessionId: string,
    query: { limit: number; cursor?: string; archived?: boolean; pinned?: boolean },
  ): Promise<Page<ChatDto>> {
    const filter: ChatListFilter = { archived: query.archived, pinned: query.pinned };
    // A chat without messages sits at activity -1.
    if (query.cursor) filter.after = decodePosition(query.cursor, isChatJid, -1);
    const rows = isSessionId(sessionId) ? await this.repository.listPage(orgId, sessionId, query.limit + 1, filter) : null;
    if (!rows) throw sessionNotFound();
    return toPage(rows, query.limit, toChatDto, (row) => encodePosition(activityOf(row), row.jid));
  }

  async get(orgId: string, sessionId: string, cid: string): Promise<ChatDto> {
    if (!isSessionId(sessionId)) throw sessionNotFound();
    return toChatDto(foundChat(await this.repository.findOne(orgId, sessionId, chatJidOf(cid))));
  }

  /**
   * Stores archive/pin/mute, and mirrors the change to WhatsApp through the session's provider,
   * best effort: the stored copy is the answer whether or not the provider manages. A connection
   * held by a replica gets it through the outbox, written in the same transaction, wherever the
   * request arrived.
   */
  async update(orgId: string, sessionId: string, cid: string, input: UpdateChatDto): Promise<ChatDto> {
    const change: ChatStateChange = {};
    if (input.archived !== undefined) change.archived = input.archived;
    if (input.pinned !== undefined) change.pinned = input.pinned;
    if (input.unmute === true) change.mutedUntil = null;
    else if (input.mutedUntil !== undefined) change.mutedUntil = input.mutedUntil;
    if (Object.keys(change).length === 0) return this.get(orgId, sessionId, cid);

    if (!isSessionId(sessionId)) throw sessionNotFound();
    const result = await this.dataSource.transaction(async (manager) => {
      const runner = manager.queryRunner!;
      const updated = await this.repository.updateState(runner, orgId, sessionId, chatJidOf(cid), change);
      if (updated.changed && updated.chat) {
        await this.eventLog.append(runner, orgId, [{ type: 'chat.updated', sessionId, data: toChatDto(updated.chat) }]);
      }
      if (updated.chat && this.providers.get(updated.provider!).holdsConnection) {
        const entry = { sessionId, orgId, provider: updated.provider!, chatJid: updated.chat.jid, messageId: null, payload: change };
        await this.outbox.enqueue(runner, { ...entry, kind: 'chat-state' });
      }
      return updated;
    });
    const chat = foundChat(result);
    if (!this.providers.get(result.provider!).holdsConnection) this.mirrorToWhatsApp(result.provider!, { id: sessionId, orgId }, chat.jid, change);
    return toChatDto(chat);
  }

  /**
   * Deletes the chat and its messages from the stored copy only; WhatsApp is not touched. The
   * chat is gone for every read at once; its rows are purged in bounded batches, the first before
   * the answer, the rest (of a large chat) in the background.
   */
  async delete(orgId: string, sessionId: string, cid: string): Promise<void> {
    if (!isSessionId(sessionId)) throw sessionNotFound();
    const jid = chatJidOf(cid);
    await this.dataSource.transaction(async (manager) => {
      // Under the session's write lock, so that a batch being ingested lands wholly before or after.
      if (!(await this.sessions.lockForWrite(manager.queryRunner!, sessionId, orgId))) throw sessionNotFound();
      if (!jid || !(await this.repository.markPurging(manager.queryRunner!, sessionId, jid))) throw chatNotFound();
      await this.eventLog.append(manager.queryRunner!, orgId, [{ type: 'chat.deleted', sessionId, data: { id: jid } }]);
    });
    await this.purger.purgeNow({ sessionId, jid: jid! });
  }

  private mirrorToWhatsApp(
    providerName: ProviderName,
    session: { id: string; orgId: string },
    jid: string,
    change: ChatStateChange,
  ): void {
    Promise.resolve()
      .then(() => this.providers.get(providerName).applyChatState(session, jid, change))
      .catch((error: unknown) => this.logger.warn({ err: error, sessionId: session.id, jid }, 'could not apply chat state on WhatsApp'));
  }
}
