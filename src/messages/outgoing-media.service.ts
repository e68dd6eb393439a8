import { Injectable, OnModuleDestroy } from '@nestjs/common';
import busboy from 'busboy';
import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { AppError, ValidationError } from '../common/errors/app-error';
import { StrictValidationPipe } from '../common/validation/strict-validation.pipe';
import { AppConfig } from '../config/app-config';
import { MediaMessageType, MessageMedia } from '../domain/media';
import { anyAddress, publicAddressesOnly } from '../media/address-policy';
import { checkFileKind } from '../media/file-kind';
import { MediaInfo } from '../media/media-probe';
import { MediaStaging, MediaTooLargeError, StagedFile } from '../media/media-staging';
import { RemoteFileError, RemoteFileFetcher, toRemoteFileError } from '../media/remote-file';
import { SendMessageDto } from './send-message.dto';

/** A file to send: received whole into the staging area and checked, with the description it is stored under. */
export interface CheckedFile {
  staged: StagedFile;
  media: MessageMedia;
}

/** Base64 decoded this many characters at a time (a multiple of 4), so that the decoded file is never whole in memory. */
const BASE64_CHUNK = 4 * 64 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MULTIPART_FIELDS = new Set(['type', 'text', 'fileName', 'voiceNote']);

const fileProblem = (field: string, problem: string): ValidationError => ValidationError.field(field, problem);
const tooLarge = (limitBytes: number): AppError => new AppError('payload_too_large', 'request body too large', { limitBytes });

function base64Chunks(data: string): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < data.length; at += BASE64_CHUNK) yield Buffer.from(data.slice(at, at + BASE64_CHUNK), 'base64');
    })(),
  );
}

/** What a message of `type` tells of its file: the sides of pictures and videos, the duration of videos and sounds. */
function describedBy(type: MediaMessageType, info: MediaInfo | undefined): MediaInfo {
  const pictured = type === 'image' || type === 'sticker' || type === 'video';
  const timed = type === 'video' || type === 'audio';
  return {
    width: pictured ? (info?.width ?? null) : null,
    height: pictured ? (info?.height ?? null) : null,
    durationMs: timed ? (info?.durationMs ?? null) : null,
  };
}

/**
 * Receives the file of a media send, before anything is stored: fetched from `media.url` (through
 * the SSRF guard), decoded from `media.data`, or streamed from a `multipart/form-data` part; then
 * checked (not empty, at most `MEDIA_MAX_BYTES`, its sniffed type fits the message type) and
 * described (width, height and duration read from its headers as it streams in; see
 * `MediaProbe` for the formats covered, null otherwise). A file that fails any check is deleted
 * and answered with 4xx.
 */
@Injectable()
export class OutgoingMediaService implements OnModuleDestroy {
  private readonly fetcher: RemoteFileFetcher;
  private readonly validation = new StrictValidationPipe();

  constructor(
    private readonly staging: MediaStaging,
    private readonly config: AppConfig,
  ) {
    this.fetcher = new RemoteFileFetcher(config.media.allowPrivateUrls ? anyAddress : publicAddressesOnly);
  }

  async onModuleDestroy(): Promise<void> {
    await this.fetcher.close();
  }

  /**
   * The body's rules across fields, which class-validator cannot say: a file exactly for media
   * types, a place only for `location`, cards only for `contact`.
   */
  checkShape(body: SendMessageDto, uploaded: boolean): void {
    if (body.location !== undefined && body.type !== 'location') throw fileProblem('location', 'is only for location messages');
    if (body.contacts !== undefined && body.type !== 'contact') throw fileProblem('contacts', 'is only for contact messages');
    if (body.type === 'location' || body.type === 'contact') {
      if (body.media !== undefined || uploaded) throw fileProblem('media', `must be absent for a ${body.type} message`);
      if (body.text !== undefined) throw fileProblem('text', `must be absent for a ${body.type} message`);
      if (body.voiceNote !== undefined) throw fileProblem('voiceNote', 'is only for audio messages');
      return;
    }
    if (body.type === 'text') {
      if (body.media !== undefined || uploaded) throw fileProblem('media', 'must be absent for a text message');
      if (body.voiceNote !== undefined) throw fileProblem('voiceNote', 'is only for audio messages');
      return;
    }
    if (body.voiceNote && body.type !== 'audio') throw fileProblem('voiceNote', 'is only for audio messages');
    if (body.type === 'audio' || body.type === 'sticker') {
      if (body.text !== undefined) throw fileProblem('text', `must be absent: a${body.type === 'audio' ? 'n audio message' : ' sticker'} has no caption`);
    }
    if (uploaded) return;
    const sources = [body.media?.url, body.media?.data].filter((source) => source !== undefined);
    if (sources.length !== 1) throw fileProblem('media', 'must carry exactly one of url and data');
  }

  /** The file of a JSON send: fetched from `media.url` or decoded from `media.data`. */
  async fromJson(body: SendMessageDto): Promise<CheckedFile> {
    const type = body.type as MediaMessageType;
    const media = body.media!;
    const limit = this.config.media.maxBytes;
    if (media.data !== undefined) {
      if (media.data.length % 4 !== 0 || !BASE64.test(media.data)) throw fileProblem('media.data', 'must be base64 (standard alphabet, padded)');
      const staged = await this.staging.stage(base64Chunks(media.data), limit, { probe: true }).catch((error: unknown) => {
        throw error instanceof MediaTooLargeError ? tooLarge(limit) : error;
      });
      return this.check(type, staged, body, media.fileName ?? null, media.mimetype);
    }
    let staged: StagedFile;
    let remoteName: string | null = null;
    try {
      const remote = await this.fetcher.fetch(media.url!);
      remoteName = remote.fileName;
      staged = await this.staging.stage(remote.body, limit, { probe: true }).finally(() => remote.abort());
    } catch (error) {
      if (error instanceof MediaTooLargeError) throw fileProblem('media.url', `serves a file larger than ${limit} bytes`);
      const problem = error instanceof RemoteFileError ? error : toRemoteFileError(error);
      throw fileProblem('media.url', problem.message);
    }
    return this.check(type, staged, body, media.fileName ?? (type === 'document' ? remoteName : null), media.mimetype);
  }

  /**
   * A `multipart/form-data` send: the fields `type`, `text`, `fileName`, `voiceNote` and one `file`
   * part, streamed into the staging area. The fields are validated as the JSON body is.
   */
  async fromMultipart(req: IncomingMessage): Promise<{ body: SendMessageDto; file: CheckedFile }> {
    const { fields, staged, partType } = await this.receiveMultipart(req);
    try {
      const plain: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(fields)) {
        if (name === 'voiceNote') {
          if (value !== 'true' && value !== 'false') throw fileProblem('voiceNote', 'must be true or false');
          plain.voiceNote = value === 'true';
        } else if (name === 'fileName') plain.media = { fileName: value };
        else plain[name] = value;
      }
      const body = (await this.validation.transform(plain, { type: 'body', metatype: SendMessageDto })) as SendMessageDto;
      this.checkShape(body, true);
      if (!staged) throw fileProblem('file', 'is required: the part with the file');
      if (body.type === 'text' || body.type === 'location' || body.type === 'contact') {
        throw fileProblem('file', `must be absent for a ${body.type} message`);
      }
      const declared = partType && partType !== 'application/octet-stream' ? partType : undefined;
      return { body, file: await this.check(body.type, staged.file, body, body.media?.fileName ?? staged.name, declared) };
    } catch (error) {
      if (staged) await this.staging.discard(staged.file);
      throw error;
    }
  }

  /** Deletes a file that will not be stored. */
  async discard(file: CheckedFile): Promise<void> {
    await this.staging.discard(file.staged);
  }

  private async check(
    type: MediaMessageType,
    staged: StagedFile,
    body: SendMessageDto,
    fileName: string | null,
    declaredMimetype: string | undefined,
  ): Promise<CheckedFile> {
    const voiceNote = body.voiceNote ?? false;
    try {
      if (staged.size === 0) throw fileProblem('media', 'is an empty file');
      const kind = await checkFileKind(type, staged.head, voiceNote);
      if (!kind.ok) throw fileProblem('media', kind.problem);
      const mimetype = (type === 'document' ? (declaredMimetype ?? kind.mimetype) : kind.mimetype) ?? 'application/octet-stream';
      const { width, height, durationMs } = describedBy(type, staged.info);
      return {
        staged,
        media: { mimetype, size: staged.size, fileName, sha256: staged.sha256, width, height, durationMs, voiceNote, status: 'ready' },
      };
    } catch (error) {
      await this.staging.discard(staged);
      throw error;
    }
  }

  private receiveMultipart(
    req: IncomingMessage,
  ): Promise<{ fields: Record<string, string>; staged: { file: StagedFile; name: string | null } | null; partType: string | undefined }> {
    const limit = this.config.media.maxBytes;
    return new Promise((resolve, reject) => {
      const fields: Record<string, string> = {};
      let problem: AppError | null = null;
      let staging: Promise<StagedFile | null> = Promise.resolve(null);
      let partName: string | null = null;
      let partType: string | undefined;
      let files = 0;
      let fileStream: Readable | null = null;
      let finished = false;
      let parser: busboy.Busboy;
      try {
        parser = busboy({
          headers: req.headers,
          // Larger chunks than the 64 KiB default: the part is parsed and written in fewer, bounded pieces.
          highWaterMark: 1024 * 1024,
          fileHwm: 1024 * 1024,
          limits: { files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12, fileSize: limit + 1 },
        });
      } catch {
        reject(new ValidationError('malformed multipart body'));
        return;
      }
      const fail = (error: AppError) => {
        problem ??= error;
        req.unpipe(parser);
        req.resume();
        // A file part cut off here fails its staging, which deletes what it had written.
        fileStream?.destroy(error);
        void finish();
      };
      const finish = async () => {
        if (finished) return;
        finished = true;
        const file = await staging.catch((error: unknown) => {
          if (error instanceof MediaTooLargeError) problem ??= tooLarge(limit);
          else problem ??= new ValidationError('malformed multipart body');
          return null;
        });
        if (problem) {
          if (file) await this.staging.discard(file);
          reject(problem);
          return;
        }
        resolve({ fields, staged: file ? { file, name: partName } : null, partType });
      };
      parser.on('field', (name, value, info) => {
        if (!MULTIPART_FIELDS.has(name)) return fail(fileProblem(name, 'is not an accepted field'));
        if (info.valueTruncated) return fail(fileProblem(name, 'is too long'));
        if (name in fields) return fail(fileProblem(name, 'is given twice'));
        fields[name] = value;
      });
      parser.on('file', (name, stream, info) => {
        // The parser may still hand out parts of a chunk it had when the body was refused.
        if (problem) {
          stream.resume();
          return;
        }
        files += 1;
        if (name !== 'file' || files > 1) {
          stream.resume();
          return fail(fileProblem(name, name === 'file' ? 'is given twice' : 'is not an accepted part'));
        }
        partName = info.filename || null;
        partType = info.mimeType;
        fileStream = stream;
        // The parser cuts the part off after `limit + 1` bytes, and staging reads it to that end.
        staging = this.staging.stage(stream, limit, { readToEnd: true, probe: true });
        staging.catch((error: unknown) => fail(error instanceof MediaTooLargeError ? tooLarge(limit) : new ValidationError('malformed multipart body')));
      });
      parser.on('filesLimit', () => fail(fileProblem('file', 'is given twice')));
      parser.on('fieldsLimit', () => fail(new ValidationError('too many fields')));
      parser.on('partsLimit', () => fail(new ValidationError('too many parts')));
      parser.on('error', () => fail(new ValidationError('malformed multipart body')));
      parser.on('close', () => void finish());
      req.on('aborted', () => fail(new ValidationError('request body incomplete')));
      req.pipe(parser);
    });
  }
}
