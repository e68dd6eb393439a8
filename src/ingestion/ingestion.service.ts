import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { ChatsRepository } from '../chats/chats.repository';
import { MessagesRepository } from '../messages/messages.repository';
import { ConflictError } from '../common/errors/app-error';
import { MetricsService } from '../metrics/metrics.service';
import { isSessionId, sessionNotFound } from '../sessions/session-id';
import { SessionsRepository } from '../sessions/sessions.repository';
import { GatewayEvent } from '../domain/gateway-events';
import { validateEventBatch, validateEvents, ValidEvent } from './event-validation';
import { IngestionStep, planIngestion } from './ingestion-plan';

export interface IngestionResult {
  /** Events in the batch, all applied. */
  events: number;
  /** Messages inserted or changed by `message.upsert` (a replayed, unchanged message is not counted). */
  messagesStored: number;
}

/**
 * The one way events enter a session's stored copy, whichever provider produced them. A batch is
 * validated whole, then applied in order in one transaction under the session's write lock, with
 * set-based upserts: it lands entirely or not at all, and replaying it changes nothing.
 */
@Injectable()
export class IngestionService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sessions: SessionsRepository,
    private readonly chats: ChatsRepository,
    private readonly messages: MessagesRepository,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * For providers: applies `events` to session `sessionId`. Throws `NotFoundError` when the
   * session does not exist and `ValidationError` (`details.index` names the event) when an event
   * is invalid; nothing is written then.
   */
  async ingest(sessionId: string, events: readonly GatewayEvent[]): Promise<IngestionResult> {
    return this.apply(sessionId, undefined, validateEvents(events, 'provider'));
  }

  /** For `POST /sessions/{sid}/events`: the body as received, for a session of `orgId`. */
  async ingestPushed(orgId: string, sessionId: string, body: unknown): Promise<{ accepted: number }> {
    const { events } = validateEventBatch(body);
    const result = await this.apply(sessionId, orgId, events);
    return { accepted: result.events };
  }

  private async apply(sessionId: string, orgId: string | undefined, events: ValidEvent[]): Promise<IngestionResult> {
    if (!isSessionId(sessionId)) throw sessionNotFound();
    const steps = planIngestion(events);
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const provider = await this.sessions.lockForWrite(runner, sessionId, orgId);
      if (!provider) throw sessionNotFound();
      // Pushed events are for connector-fed sessions only; a held connection is the truth for the others.
      if (orgId !== undefined && provider !== 'external') {
        throw new ConflictError(`session uses the ${provider} provider: events are pushed only into external sessions`);
      }
      let messagesStored = 0;
      for (const step of steps) messagesStored += await this.applyStep(runner, sessionId, step);
      await runner.commitTransaction();
      this.metrics.recordIngestion(provider, events.length, messagesStored);
      return { events: events.length, messagesStored };
    } catch (error) {
      // A rollback on a dead connection fails too; the original error is the one to report.
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  private async applyStep(runner: QueryRunner, sessionId: string, step: IngestionStep): Promise<number> {
    if (step.deletedChats.length > 0) await this.chats.deleteMany(runner, sessionId, step.deletedChats);
    if (step.chats.length > 0) await this.chats.insertMissing(runner, sessionId, step.chats);
    if (step.chatsWithFields.length > 0) await this.chats.applyFields(runner, sessionId, step.chatsWithFields);
    let stored = 0;
    if (step.messages.length > 0) {
      stored = await this.messages.upsertMany(runner, sessionId, step.messages);
      const chatsWithMessages = [...new Set(step.messages.map((m) => m.chatJid))];
      await this.chats.refreshLastMessageAt(runner, sessionId, chatsWithMessages);
    }
    if (step.messageChanges.length > 0) await this.messages.applyChanges(runner, sessionId, step.messageChanges);
    if (step.session) await this.sessions.applyStatus(runner, sessionId, step.session);
    return stored;
  }
}
