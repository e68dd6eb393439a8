import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { chatJidOf, chatNotFound } from '../chats/chat-id';
import { AppError, ValidationError } from '../common/errors/app-error';
import { LOGGER } from '../common/logging/logging.module';
import { AppConfig } from '../config/app-config';
import { MessageType } from '../domain/gateway-events';
import { MediaStatus, MessageMedia } from '../domain/media';
import { EventLogRepository } from '../events/event-log.repository';
import { MediaFiles } from '../media/media-files.service';
import { MediaStaging, MediaTooLargeError, StagedFile } from '../media/media-staging';
import { MediaStore, objectKey } from '../media/media-store';
import { HolderRelay } from '../sessions/holder-relay.service';
import { isSessionId, sessionNotFound } from '../sessions/session-id';
import { ChangeRecorder } from './change-recorder';
import { MediaDownloadService } from './media-download.service';
import { contentDisposition, matchesEtag, rangeAllowed, requestedRange } from './media-http';
import { messageIdOf, messageNotFound } from './message-id';
import { MessagesRepository } from './messages.repository';

/** Files are content-addressed: the bytes behind a URL never change, so browsers may keep them a day. */
const CACHE_CONTROL = 'private, max-age=86400';
/** How long a request waits for a file fetched on its behalf. */
const FETCH_ON_REQUEST_MS = 25_000;
/** The relayed request that has the replica holding a session fetch a file now. */
const MEDIA_FETCH_REQUEST = 'media-fetch';

interface MediaFetchRequest {
  chatJid: string;
  messageId: string;
}

/** What `GET …/media` answers: status, headers and, unless 304, the bytes. */
export interface MediaResponse {
  status: 200 | 206 | 304;
  headers: Record<string, string>;
  body?: Readable;
}

interface FoundMedia {
  provider: string;
  sessionId: string;
  chatJid: string;
  id: string;
  type: MessageType;
  media: MessageMedia | null;
  error: string | null;
}

export function mediaNotFound(status?: MediaStatus, reason?: string | null): AppError {
  return new AppError('not_found', 'media not found', {
    ...(status ? { status } : {}),
    ...(reason ? { reason } : {}),
  });
}

/** The file a connector uploads, or the caller's request for it, does not fit the message. */
function mismatch(field: 'size' | 'sha256', problem: string): ValidationError {
  return new ValidationError('the file does not match the announced media', { fields: { [field]: [problem] } });
}

/**
 * The bytes of a media message: uploaded by a connector (`PUT …/media`), checked against what it
 * announced and kept in the blob store, and served (`GET …/media`) straight from the store.
 */
@Injectable()
export class MessageMediaService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly messages: MessagesRepository,
    private readonly staging: MediaStaging,
    private readonly files: MediaFiles,
    private readonly store: MediaStore,
    private readonly eventLog: EventLogRepository,
    private readonly config: AppConfig,
    private readonly downloads: MediaDownloadService,
    private readonly relay: HolderRelay,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // A received file is downloaded by the replica holding its session, wherever it was asked for.
    this.relay.handle(MEDIA_FETCH_REQUEST, async (sessionId, payload) => {
      const { chatJid, messageId } = payload as MediaFetchRequest;
      await this.downloads.fetchSoon(sessionId, chatJid, messageId);
      return {};
    });
  }

  /**
   * Receives the bytes of an announced file. Nothing is stored unless they match the announced
   * size and sha256; bytes that are already stored answer as success and change nothing.
   */
  async upload(orgId: string, sid: string, cid: string, mid: string, body: Readable, contentLength?: number): Promise<void> {
    const found = await this.find(orgId, sid, cid, mid);
    const media = found.media;
    if (!media) throw mediaNotFound();
    const limit = this.config.media.maxBytes;
    if (media.size > limit) throw new AppError('payload_too_large', 'request body too large', { limitBytes: limit });
    if (contentLength !== undefined && contentLength !== media.size) {
      throw mismatch('size', `is ${contentLength} bytes, the message announced ${media.size}`);
    }
    let staged: StagedFile;
    try {
      staged = await this.staging.stage(body, media.size);
    } catch (error) {
      if (error instanceof MediaTooLargeError) throw mismatch('size', `is more than the ${media.size} bytes the message announced`);
      throw new ValidationError('request body incomplete');
    }
    try {
      if (staged.size !== media.size) throw mismatch('size', `is ${staged.size} bytes, the message announced ${media.size}`);
      if (staged.sha256 !== media.sha256) throw mismatch('sha256', `is ${staged.sha256}, the message announced ${media.sha256}`);
      await this.dataSource.transaction(async (manager) => {
        const runner = manager.queryRunner!;
        await this.files.keep(runner, orgId, staged);
        const row = await this.messages.setMediaStatus(runner, found.sessionId, found.chatJid, found.id, media.sha256, 'ready');
        if (!row) return;
        const changes = new ChangeRecorder(found.sessionId);
        changes.messagesWritten([row]);
        await this.eventLog.append(runner, orgId, changes.events());
      });
    } finally {
      await this.staging.discard(staged);
    }
  }

  /**
   * The stored file, whole or the one range asked for, or 304 when the caller has it already. For
   * `HEAD` (`headersOnly`) the same status and headers, and no file opened.
   */
  async read(
    orgId: string,
    sid: string,
    cid: string,
    mid: string,
    headers: { range?: string; ifRange?: string; ifNoneMatch?: string },
    headersOnly = false,
  ): Promise<MediaResponse> {
    let found = await this.find(orgId, sid, cid, mid);
    if (found.media?.status === 'pending' && found.provider === 'baileys' && Number(found.media.size) <= this.config.media.maxBytes) {
      // Larger files are not fetched in the background: the first request has the session's holder
      // fetch them (and smaller ones not fetched yet); 503 when no replica holds the session.
      const request: MediaFetchRequest = { chatJid: found.chatJid, messageId: found.id };
      await this.relay.ask(found.sessionId, MEDIA_FETCH_REQUEST, request);
      await this.downloads.waitFor(found.sessionId, found.chatJid, found.id, FETCH_ON_REQUEST_MS);
      found = await this.find(orgId, sid, cid, mid);
    }
    const { type, media, error } = found;
    if (!media) throw mediaNotFound();
    if (media.status !== 'ready') throw mediaNotFound(media.status, error);
    const size = Number(media.size);
    const etag = `"${media.sha256}"`;
    const common: Record<string, string> = {
      ETag: etag,
      'Cache-Control': CACHE_CONTROL,
      'Accept-Ranges': 'bytes',
      'Content-Type': media.mimetype,
      'Content-Disposition': contentDisposition(type === 'document', media.fileName),
      // The bytes are whatever a chat sent: a browser must neither sniff them nor run them.
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
    };
    if (matchesEtag(headers.ifNoneMatch, etag)) return { status: 304, headers: common };
    const range = rangeAllowed(headers.ifRange, etag) ? requestedRange(headers.range, size) : undefined;
    if (range === 'unsatisfiable') {
      throw new AppError('range_not_satisfiable', 'range not satisfiable', { size }, { 'Content-Range': `bytes */${size}` });
    }
    const answer: MediaResponse = range
      ? {
          status: 206,
          headers: { ...common, 'Content-Length': String(range.end - range.start + 1), 'Content-Range': `bytes ${range.start}-${range.end}/${size}` },
        }
      : { status: 200, headers: { ...common, 'Content-Length': String(size) } };
    if (headersOnly) return answer;
    const body = await this.store.open(objectKey(orgId, media.sha256), range, size);
    if (!body) {
      this.logger.error({ orgId, sha256: media.sha256 }, 'a ready media file is missing from the store');
      throw mediaNotFound(media.status);
    }
    return { ...answer, body };
  }

  private async find(orgId: string, sid: string, cid: string, mid: string): Promise<FoundMedia> {
    if (!isSessionId(sid)) throw sessionNotFound();
    const chatJid = chatJidOf(cid);
    const id = messageIdOf(mid);
    const result = await this.messages.findMedia(orgId, sid, chatJid, id);
    if (!result.sessionFound) throw sessionNotFound();
    if (!result.chatFound || !chatJid) throw chatNotFound();
    if (!result.row || !id) throw messageNotFound();
    return { provider: result.row.provider, sessionId: sid, chatJid, id, type: result.row.type, media: result.row.media, error: result.row.media_error };
  }
}
