import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../common/logging/logging.module';
import { PurgeStep, StoredCopyPurgeRepository } from './stored-copy-purge.repository';

/** Rows per purge transaction: short enough to hold no lock for long. */
const PURGE_BATCH_ROWS = 2_000;
/**
 * How often every replica looks for purges nobody is running: left by a replica that stopped or
 * died, or at start. A chat being purged cannot be created again meanwhile (503), so not long.
 */
const SWEEP_INTERVAL_MS = 5_000;

/**
 * Deletes the rows of deleted sessions and locally deleted chats in the background, in bounded
 * batches (API.md §5: the 204 comes first). The delete itself only marked the row, which every
 * read leaves out from then on. The work is in the database, so it resumes after a restart and
 * any replica may do it.
 */
@Injectable()
export class StoredCopyPurger implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running: Promise<void> | null = null;
  private again = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: StoredCopyPurgeRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.wake();
    this.timer = setInterval(() => this.wake(), SWEEP_INTERVAL_MS).unref();
  }

  /**
   * Called after a delete committed: purges one batch of that session or chat at once, so that a
   * small one is gone before the delete is answered (and a chat can be created again at once),
   * and leaves the rest to the background.
   */
  async purgeNow(what: { sessionId: string; jid?: string }): Promise<void> {
    try {
      const step =
        what.jid === undefined
          ? await this.repository.purgeSessionStep(PURGE_BATCH_ROWS, what.sessionId)
          : await this.repository.purgeChatStep(PURGE_BATCH_ROWS, { sessionId: what.sessionId, jid: what.jid });
      this.logDone(step);
      if (step?.done) return;
    } catch (error) {
      this.logger.warn({ err: error, ...what }, 'could not purge a deleted session or chat at once; purging it in the background');
    }
    this.wake();
  }

  /** Purges whatever is marked, in the background. */
  wake(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Stops between two batches; what is left is purged after the next start (or by another replica). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopping) {
        const session = await this.repository.purgeSessionStep(PURGE_BATCH_ROWS);
        const chat = this.stopping ? null : await this.repository.purgeChatStep(PURGE_BATCH_ROWS);
        this.logDone(session);
        this.logDone(chat);
        if (!session && !chat) return;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not purge deleted sessions or chats; trying again later');
    }
  }

  private logDone(step: PurgeStep): void {
    if (!step?.done) return;
    if (step.kind === 'session') this.logger.debug({ sessionId: step.id }, 'purged a deleted session');
    else this.logger.debug({ sessionId: step.sessionId, chatJid: step.jid }, 'purged a deleted chat');
  }
}
