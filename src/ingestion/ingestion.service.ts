import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { ChatsRepository } from '../chats/chats.repository';
import { ContactsRepository } from '../contacts/contacts.repository';
import { GroupsRepository } from '../groups/groups.repository';
import { MessagesRepository } from '../messages/messages.repository';
import { MediaDownloadsRepository } from '../messages/media-downloads.repository';
import { AppConfig, ProviderName } from '../config/app-config';
import { ConflictError } from '../common/errors/app-error';
import { EventLogRepository } from '../events/event-log.repository';
import { MetricsService } from '../metrics/metrics.service';
import { isSessionId, sessionNotFound } from '../sessions/session-id';
import { SessionsRepository } from '../sessions/sessions.repository';
import { GatewayEvent } from '../domain/gateway-events';
import { validateEventBatch, validateEvents, ValidEvent } from './event-validation';
import { ChangeRecorder } from '../messages/change-recorder';
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
    private readonly contacts: ContactsRepository,
    private readonly groups: GroupsRepository,
    private readonly metrics: MetricsService,
    private readonly eventLog: EventLogRepository,
    private readonly mediaDownloads: MediaDownloadsRepository,
    private readonly config: AppConfig,
  ) {}

  /**
   * For providers: applies `events` to session `sessionId`. Throws `NotFoundError` when the
   * session does not exist and `ValidationError` (`details.index` names the event) when an event
   * is invalid; nothing is written then.
   */
  async ingest(sessionId: string, events: readonly GatewayEvent[], history = false): Promise<IngestionResult> {
    return this.apply(sessionId, undefined, validateEvents(events, 'provider'), history);
  }

  /** For `POST /sessions/{sid}/events`: the body as received, for a session of `orgId`. */
  async ingestPushed(orgId: string, sessionId: string, body: unknown): Promise<{ accepted: number }> {
    const { events, history } = validateEventBatch(body);
    const result = await this.apply(sessionId, orgId, events, history);
    return { accepted: result.events };
  }

  private async apply(sessionId: string, orgId: string | undefined, events: ValidEvent[], history: boolean): Promise<IngestionResult> {
    if (!isSessionId(sessionId)) throw sessionNotFound();
    const steps = planIngestion(events);
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const session = await this.sessions.lockForWrite(runner, sessionId, orgId);
      if (!session) throw sessionNotFound();
      const { provider } = session;
      // Pushed events are for connector-fed sessions only; a held connection is the truth for the others.
      if (orgId !== undefined && provider !== 'external') {
        throw new ConflictError(`session uses the ${provider} provider: events are pushed only into external sessions`);
      }
      const messagesStored = await this.applySteps(runner, { id: sessionId, orgId: session.orgId, provider }, steps, history);
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

  /**
   * For services that act on WhatsApp through the API (API.md §9): applies `events` in the
   * caller's transaction, which holds the session's row lock, exactly as the same events from a
   * provider would land, events of the log included. Throws `ValidationError` for an invalid event.
   */
  async applyWithin(runner: QueryRunner, session: { id: string; orgId: string; provider: ProviderName }, events: readonly GatewayEvent[]): Promise<void> {
    await this.applySteps(runner, session, planIngestion(validateEvents(events, 'provider')), false);
  }

  private async applySteps(
    runner: QueryRunner,
    session: { id: string; orgId: string; provider: ProviderName },
    steps: IngestionStep[],
    history: boolean,
  ): Promise<number> {
    const changes = new ChangeRecorder(session.id);
    let messagesStored = 0;
    for (const step of steps) messagesStored += await this.applyStep(runner, session.id, session.provider, step, changes);
    await this.eventLog.append(runner, session.orgId, changes.events(), history);
    return messagesStored;
  }

  private async applyStep(runner: QueryRunner, sessionId: string, provider: ProviderName, step: IngestionStep, changes: ChangeRecorder): Promise<number> {
    if (step.deletedChats.length > 0) changes.chatsDeleted(await this.chats.deleteMany(runner, sessionId, step.deletedChats));
    if (step.contacts.length > 0) {
      const { written: contacts, merged } = await this.contacts.upsertMany(runner, sessionId, step.contacts);
      changes.contactsMerged(merged);
      changes.contactsWritten(contacts);
      // Messages of a LID sender get the number a mapping just revealed.
      const mappings = contacts.filter((c) => c.lid !== null && c.phone_number !== null).map((c) => ({ lid: c.lid!, phoneNumber: c.phone_number! }));
      if (mappings.length > 0) changes.messagesWritten(await this.messages.backfillSenderNumbers(runner, sessionId, mappings));
    }
    if (step.chats.length > 0) changes.chatsCreated(await this.chats.insertMissing(runner, sessionId, step.chats));
    if (step.chatsWithFields.length > 0) changes.chatsUpdated(await this.chats.applyFields(runner, sessionId, step.chatsWithFields));
    let stored = 0;
    if (step.messages.length > 0) {
      const written = await this.messages.upsertMany(runner, sessionId, step.messages);
      stored = written.length;
      changes.messagesWritten(written);
      // Files a provider downloads itself are queued with their message; a connector PUTs its own.
      if (provider === 'baileys') await this.mediaDownloads.enqueue(runner, sessionId, written, this.config.media.autoDownloadMaxBytes);
      const chatsWithMessages = [...new Set(step.messages.map((m) => m.chatJid))];
      changes.chatsTouched(await this.chats.refreshLastMessageAt(runner, sessionId, chatsWithMessages));
    }
    if (step.messageChanges.length > 0) changes.messagesWritten(await this.messages.applyChanges(runner, sessionId, step.messageChanges));
    if (step.groups.length > 0) await this.groups.apply(runner, sessionId, step.groups);
    if (step.session) {
      const session = await this.sessions.applyStatus(runner, sessionId, step.session);
      if (session) changes.sessionUpdated(session);
    }
    return stored;
  }
}
