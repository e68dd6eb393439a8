import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../common/logging/logging.module';
import { AppConfig } from '../config/app-config';
import { EventRetentionRepository } from './event-retention.repository';

const PRUNE_INTERVAL_MS = 5 * 60 * 1000;
/** Rows per transaction, so that pruning never holds many locks or a long transaction. */
const PRUNE_BATCH = 5_000;
const MAX_BATCHES_PER_RUN = 200;

/**
 * Deletes events older than `EVENT_RETENTION_HOURS` (and their webhook delivery records) every few
 * minutes, in bounded batches. Every replica runs it; an advisory lock lets only one prune at a time.
 */
@Injectable()
export class EventLogPrunerService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: EventRetentionRepository,
    private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Prunes what is past the retention at `now`; returns how many events and deliveries went. */
  async prune(now = Date.now()): Promise<{ events: number; deliveries: number }> {
    const cutoff = now - this.config.eventRetentionHours * 3_600_000;
    const total = { events: 0, deliveries: 0 };
    try {
      for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
        const pruned = await this.repository.pruneBatch(cutoff, PRUNE_BATCH);
        total.events += pruned.events;
        total.deliveries += pruned.deliveries;
        if (!pruned.locked || (pruned.events < PRUNE_BATCH && pruned.deliveries < PRUNE_BATCH)) break;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not prune the event log; will retry');
    }
    if (total.events > 0 || total.deliveries > 0) this.logger.info(total, 'pruned the event log');
    return total;
  }
}
