import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { Logger } from 'pino';
import { DataSource, QueryRunner } from 'typeorm';
import { ConflictError } from '../common/errors/app-error';
import { LOGGER } from '../common/logging/logging.module';
import { MediaStatus } from '../domain/media';
import { EventLogRepository } from '../events/event-log.repository';
import { MediaFiles } from '../media/media-files.service';
import { MediaStaging, MediaTooLargeError, StagedFile } from '../media/media-staging';
import { SessionOwnershipService } from '../sessions/session-ownership.service';
import { ProviderRegistry } from '../whatsapp/providers/provider-registry';
import { MediaGoneError, MediaIntegrityError } from '../whatsapp/whatsapp-provider';
import { ChangeRecorder } from './change-recorder';
import { DownloadJob, MediaDownloadsRepository } from './media-downloads.repository';
import { MessageRow, MessagesRepository } from './messages.repository';

/** Downloads in flight per process, at most one per session. */
const MAX_CONCURRENT = 4;
const POLL_MS = 1_000;
/**
 * A download taking longer than this is cut off and tried again later: a lease is held as long as
 * its replica lives, so a transfer that trickles on must not keep the session's queue for ever.
 */
const DOWNLOAD_TIMEOUT_MS = 10 * 60 * 1000;
const MAX_ATTEMPTS = 5;
/** While the phone is not connected, a re-upload request waits this long. */
const OFFLINE_RETRY_MS = 30_000;

/** On shutdown, downloads in flight get this long; the others are released for the next holder. */
const SHUTDOWN_WAIT_MS = 8_000;

const backoffMs = (attempts: number): number => Math.min(60_000 * 2 ** (attempts - 1), 30 * 60_000);

/**
 * Fetches received files (`baileys`) in the background from the durable `media_downloads` queue:
 * each is downloaded, decrypted and checked against the size and sha256 WhatsApp announced, then
 * stored and marked `ready` (a mismatch is `failed`, never served). When WhatsApp's copy is gone
 * the phone is asked once to upload it again, then the file is `expired`. Each outcome records
 * `message.updated` in the transaction that sets it.
 *
 * A download is leased by the replica holding its session, under the liveness lock of that
 * replica's lock connection: when the replica dies, the lease dies with it and the session's next
 * holder resumes the download at once; when the replica loses its lock connection, it stops its
 * downloads before another can take them, so two live replicas never fetch one file together.
 */
@Injectable()
export class MediaDownloadService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly active = new Map<string, { job: DownloadJob; run: Promise<void>; stop: AbortController }>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | null = null;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: MediaDownloadsRepository,
    private readonly messages: MessagesRepository,
    private readonly staging: MediaStaging,
    private readonly files: MediaFiles,
    private readonly eventLog: EventLogRepository,
    private readonly providers: ProviderRegistry,
    private readonly ownership: SessionOwnershipService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // The leases were taken under the lost connection's liveness lock: other replicas may take them now.
    this.ownership.onLost(() => this.stopAll());
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.polling;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS)));
    await Promise.race([Promise.allSettled(this.runs()), timeout]);
    clearTimeout(timer);
    // What is still running is stopped and its lease given back, so the next holder starts at once.
    const unfinished = [...this.active.values()].map(({ job }) => job);
    this.stopAll();
    if (unfinished.length > 0) await this.jobs.release(unfinished).catch((error: unknown) => this.logger.warn({ err: error }, 'could not release media downloads'));
  }

  private stopAll(): void {
    for (const { stop } of this.active.values()) stop.abort();
  }

  private runs(): Promise<void>[] {
    return [...this.active.values()].map(({ run }) => run);
  }

  /** Leases what is due and starts it; resolves once those downloads have ended. */
  async poll(): Promise<void> {
    if (this.stopped) return;
    this.polling ??= this.leaseAndStart().finally(() => (this.polling = null));
    await this.polling;
    await Promise.allSettled(this.runs());
  }

  /**
   * Queues a message's file now and, on the replica holding its session, starts it at once (the
   * first request for a large file, relayed to the holder).
   */
  async fetchSoon(sessionId: string, chatJid: string, messageId: string): Promise<void> {
    await this.jobs.enqueueOne(sessionId, chatJid, messageId);
    // A look already under way may have missed the row just queued: one more after it.
    await this.polling;
    if (this.stopped) return;
    this.polling ??= this.leaseAndStart().finally(() => (this.polling = null));
    await this.polling;
  }

  /** Waits (up to `timeoutMs`) until a queued file's download has an outcome, on whichever replica. */
  async waitFor(sessionId: string, chatJid: string, messageId: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.stopped) {
      if (!(await this.jobs.isQueued(sessionId, chatJid, messageId))) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async leaseAndStart(): Promise<void> {
    const free = MAX_CONCURRENT - this.active.size;
    // The replica holding a session downloads its files: it can also ask the phone to upload one again.
    const held = this.providers.all().flatMap((provider) => provider.heldSessions());
    if (free <= 0 || held.length === 0) return;
    try {
      const holder = await this.ownership.liveHolder();
      const leased = await this.jobs.lease(free, holder, held, [...this.active.keys()]);
      // The lock connection went while leasing: those leases are dead already, free for whoever holds the sessions next.
      if (!this.ownership.isLiveHolder(holder)) return;
      for (const job of leased) {
        const stop = new AbortController();
        const run = this.run(job, stop.signal)
          .catch((error: unknown) => this.logger.error({ err: error, sessionId: job.sessionId, messageId: job.messageId }, 'media download failed'))
          .finally(() => this.active.delete(job.sessionId));
        this.active.set(job.sessionId, { job, run, stop });
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not lease media downloads');
    }
  }

  private async run(job: DownloadJob, stopped: AbortSignal): Promise<void> {
    const media = job.media;
    if (!media || media.status !== 'pending') {
      await this.dataSource.transaction((manager) => this.jobs.finish(manager.queryRunner!, job));
      return;
    }
    const provider = this.providers.get(job.provider);
    const session = { id: job.sessionId, orgId: job.orgId };
    let staged: StagedFile;
    try {
      staged = await this.download(provider.downloadMedia(session, job.raw), Number(media.size), stopped);
    } catch (error) {
      // Stopped: the lease is another replica's to take (or given back on shutdown); nothing is recorded.
      if (stopped.aborted) return;
      if (error instanceof MediaGoneError) return this.onGone(job);
      if (error instanceof MediaTooLargeError) return this.conclude(job, 'failed', 'the file is larger than WhatsApp announced');
      if (error instanceof MediaIntegrityError) return this.conclude(job, 'failed', error.message);
      if (job.attempts >= MAX_ATTEMPTS) return this.conclude(job, 'failed', `could not be downloaded: ${(error as Error).message}`);
      return this.jobs.retryLater(job, backoffMs(job.attempts));
    }
    try {
      if (staged.size !== Number(media.size) || staged.sha256 !== media.sha256) {
        return await this.conclude(job, 'failed', 'the downloaded file does not match the size and sha256 WhatsApp announced');
      }
      await this.dataSource.transaction(async (manager) => {
        const runner = manager.queryRunner!;
        await this.files.keep(runner, job.orgId, staged);
        await this.record(runner, job, await this.messages.setMediaStatus(runner, job.sessionId, job.chatJid, job.messageId, media.sha256, 'ready'));
      });
    } finally {
      await this.staging.discard(staged);
    }
  }

  /** Stages the downloaded file; cut off (its staged part deleted) when stopped or after `DOWNLOAD_TIMEOUT_MS`. */
  private async download(opening: Promise<Readable>, maxBytes: number, stopped: AbortSignal): Promise<StagedFile> {
    const source = await opening;
    const cutOff = (error: Error) => source.destroy(error);
    const onStop = () => cutOff(new Error('the download was stopped'));
    if (stopped.aborted) onStop();
    stopped.addEventListener('abort', onStop);
    const timer = setTimeout(() => cutOff(new Error(`the download took longer than ${DOWNLOAD_TIMEOUT_MS / 60_000} minutes`)), DOWNLOAD_TIMEOUT_MS);
    try {
      return await this.staging.stage(source, maxBytes);
    } finally {
      clearTimeout(timer);
      stopped.removeEventListener('abort', onStop);
    }
  }

  /** WhatsApp's copy is gone: the phone is asked once to upload it again, then the file is expired. */
  private async onGone(job: DownloadJob): Promise<void> {
    if (!job.reuploadRequested) {
      try {
        const reuploaded = await this.providers.get(job.provider).requestMediaReupload({ id: job.sessionId, orgId: job.orgId }, job.raw);
        return await this.jobs.retryLater(job, 0, reuploaded);
      } catch (error) {
        // The phone can only be asked while the session is connected.
        if (error instanceof ConflictError) return this.jobs.retryLater(job, OFFLINE_RETRY_MS);
      }
    }
    await this.conclude(job, 'expired', 'WhatsApp no longer has the file and the phone did not upload it again');
  }

  private async conclude(job: DownloadJob, status: MediaStatus, reason: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const runner = manager.queryRunner!;
      await this.record(runner, job, await this.messages.setMediaStatus(runner, job.sessionId, job.chatJid, job.messageId, job.media!.sha256, status, reason));
    });
  }

  private async record(runner: QueryRunner, job: DownloadJob, row: MessageRow | null): Promise<void> {
    await this.jobs.finish(runner, job);
    if (!row) return;
    const changes = new ChangeRecorder(job.sessionId);
    changes.messagesWritten([row]);
    await this.eventLog.append(runner, job.orgId, changes.events());
  }
}
