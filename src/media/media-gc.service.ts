import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../common/logging/logging.module';
import { MediaObjectsRepository } from './media-objects.repository';
import { MediaStore, objectKey } from './media-store';

/** How often the store is swept: deleted chats and sessions free their files within the hour. */
const SWEEP_EVERY_MS = 10 * 60 * 1000;
/** A file younger than this is left alone: a send or upload may be about to refer to it. */
const GRACE_MS = 15 * 60 * 1000;
const BATCH = 100;

/**
 * Removes from the blob store the files no stored message of their organization refers to any
 * more (after a chat or session delete). Each removal re-checks under the object's lock, which
 * storing a file takes too, so a file being stored again is never removed; any number of replicas
 * may sweep at once.
 */
@Injectable()
export class MediaGcService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly objects: MediaObjectsRepository,
    private readonly store: MediaStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep().catch((error: unknown) => this.logger.warn({ err: error }, 'media sweep failed')), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One sweep; returns how many files it removed. */
  sweep(graceMs = GRACE_MS): Promise<number> {
    this.running ??= this.collect(graceMs).finally(() => (this.running = null));
    return this.running;
  }

  private async collect(graceMs: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const candidates = await this.objects.findUnreferenced(this.dataSource, graceMs, BATCH);
      let removedNow = 0;
      for (const { orgId, sha256 } of candidates) {
        const gone = await this.dataSource.transaction(async (manager) => {
          const runner = manager.queryRunner!;
          await this.objects.lock(runner, orgId, sha256);
          if (!(await this.objects.deleteIfUnreferenced(runner, orgId, sha256))) return false;
          // Inside the transaction: a blob that cannot be removed keeps its row, for the next sweep.
          await this.store.remove(objectKey(orgId, sha256));
          return true;
        });
        if (gone) removedNow += 1;
      }
      removed += removedNow;
      if (candidates.length < BATCH || removedNow === 0) break;
    }
    if (removed > 0) this.logger.info({ removed }, 'removed media files no message refers to');
    return removed;
  }
}
