import { randomUUID, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MediaInfo, MediaProbe } from './media-probe';

/** Bytes kept from the start of a file: what `file-type` needs to tell its type. */
export const HEAD_BYTES = 4100;
/**
 * Bytes buffered between the source, the hash and the file: large enough that the disk write of
 * one chunk overlaps the hashing of the next (the 16 KiB default makes them take turns), small
 * enough to stay bounded per upload.
 */
const STAGING_BUFFER_BYTES = 1024 * 1024;
/** Staged files older than this at start are leftovers of a crash. */
const STALE_MS = 60 * 60 * 1000;

/** A file received whole into the staging area, hashed on the way, not yet in the store. */
export interface StagedFile {
  path: string;
  size: number;
  sha256: string;
  /** The first bytes (up to `HEAD_BYTES`), for sniffing the type. */
  head: Buffer;
  /** What its headers tell (sides, duration), when it was staged with `probe`. */
  info?: MediaInfo;
}

/** A file past the size limit; nothing of it is kept. */
export class MediaTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`the file is larger than ${limitBytes} bytes`);
  }
}

/** Counts, hashes and keeps the head of what streams through it; fails once past `maxBytes`. */
class Measure extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  private readonly headChunks: Buffer[] = [];
  private headSize = 0;
  private overLimit = false;

  constructor(
    private readonly maxBytes: number,
    private readonly readToEnd: boolean,
    readonly probe: MediaProbe | null,
  ) {
    super({ highWaterMark: STAGING_BUFFER_BYTES });
  }

  get head(): Buffer {
    return Buffer.concat(this.headChunks, this.headSize);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      if (!this.readToEnd) {
        callback(new MediaTooLargeError(this.maxBytes));
        return;
      }
      // The rest is read and dropped; the error comes at the end.
      this.overLimit = true;
      callback();
      return;
    }
    if (this.headSize < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.headSize);
      this.headChunks.push(Buffer.from(part));
      this.headSize += part.length;
    }
    this.hash.update(chunk);
    this.probe?.write(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.overLimit ? new MediaTooLargeError(this.maxBytes) : null);
  }
}

/**
 * Where incoming files land before they are checked and stored: one private temporary file each,
 * on the same file system as the `fs` store (so storing is a rename). A file that fails on the way
 * (too large, cut off, refused) is deleted before the error reaches the caller.
 */
export class MediaStaging {
  private prepared = false;

  constructor(readonly dir: string) {}

  /** Creates the directory and deletes what a crash left behind. */
  async prepare(): Promise<void> {
    // Only the staging folder is private: the data folder above it keeps its usual mode, since the
    // embedded PostgreSQL runs as another user under it.
    await mkdir(dirname(this.dir), { recursive: true });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.prepared = true;
    const now = Date.now();
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => null);
      if (info && now - info.mtimeMs > STALE_MS) await unlink(path).catch(() => undefined);
    }
  }

  /**
   * Streams `source` into a new staged file; rejects (keeping nothing) past `maxBytes` or on a
   * stream error. `readToEnd` reads a source past the limit to its end before rejecting: a part of
   * a multipart body, whose parser stalls when a part stops being read. `probe` reads the file's
   * sides and duration from its headers on the way (`info`).
   */
  async stage(source: Readable, maxBytes: number, { readToEnd = false, probe = false } = {}): Promise<StagedFile> {
    if (!this.prepared) await this.prepare();
    const path = join(this.dir, `${randomUUID()}.part`);
    const measure = new Measure(maxBytes, readToEnd, probe ? new MediaProbe() : null);
    try {
      await pipeline(source, measure, createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: STAGING_BUFFER_BYTES }));
    } catch (error) {
      source.destroy();
      await unlink(path).catch(() => undefined);
      throw error;
    }
    return { path, size: measure.size, sha256: measure.hash.digest('hex'), head: measure.head, ...(measure.probe ? { info: measure.probe.info() } : {}) };
  }

  /** Deletes a staged file that will not be stored. */
  async discard(file: StagedFile): Promise<void> {
    await unlink(file.path).catch(() => undefined);
  }
}
