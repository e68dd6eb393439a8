import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../common/logging/logging.module';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';

const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** Rows per DELETE, so that one prune never holds many locks or a long transaction. */
const PRUNE_BATCH = 5_000;
const MAX_BATCHES_PER_RUN = 100;

/**
 * Deletes expired `Idempotency-Key`s once an hour. Expired rows are already ignored (and replaced
 * when their key comes back); this only keeps the table from growing. Every replica does it;
 * they do not get in each other's way.
 */
@Injectable()
export class IdempotencyKeysPrunerService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: IdempotencyKeysRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Deletes expired keys in batches; returns how many. */
  async prune(): Promise<number> {
    let deleted = 0;
    try {
      for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
        const count = await this.repository.pruneExpired(PRUNE_BATCH);
        deleted += count;
        if (count < PRUNE_BATCH) break;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not prune expired idempotency keys');
    }
    return deleted;
  }
}
