import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../common/logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';

/**
 * A send's outcome is recorded within seconds of its 202. A message still `pending` long after
 * that belongs to a send whose process died between the answer and the outcome: it may or may
 * not have reached WhatsApp, and nothing will ever settle it, so it is marked `failed` (a later
 * receipt still moves it forward). Runs at start and then every minute, on every replica.
 */
const STALLED_AFTER_MS = 60_000;
const SWEEP_INTERVAL_MS = 60_000;
const SWEEP_BATCH = 1_000;

@Injectable()
export class StalledSendsService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Marks sends pending for longer than `STALLED_AFTER_MS` as failed; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    try {
      // SKIP LOCKED: a replica recording an outcome right now keeps its row.
      const rows: unknown[] = await this.dataSource.query(
        `UPDATE messages m SET status = 'failed'
           FROM (SELECT session_id, chat_jid, id FROM messages
                  WHERE status = 'pending' AND ts < $1
                  LIMIT $2 FOR UPDATE SKIP LOCKED) stalled
          WHERE m.session_id = stalled.session_id AND m.chat_jid = stalled.chat_jid AND m.id = stalled.id
        RETURNING m.id`,
        [now - STALLED_AFTER_MS, SWEEP_BATCH],
      );
      if (rows.length > 0) {
        this.metrics.sends.inc({ outcome: 'failed' }, rows.length);
        this.logger.warn({ count: rows.length }, 'marked sends without an outcome as failed');
      }
      return rows.length;
    } catch (error) {
      this.logger.warn({ err: error }, 'could not sweep stalled sends');
      return 0;
    }
  }
}
