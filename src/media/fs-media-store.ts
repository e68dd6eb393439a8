import { constants } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { StagedFile } from './media-staging';
import { ByteRange, MediaStore } from './media-store';

/** Reads of a whole file: fewer system calls and chunks than the 64 KiB default, still bounded per stream. */
const READ_CHUNK_BYTES = 256 * 1024;
const MIN_CHUNK_BYTES = 16 * 1024;
/** A range is read in one go up to this (a player's 1 MiB seek is one read and one write to the socket). */
const RANGE_CHUNK_BYTES = 1024 * 1024;

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Objects as files under `root` (`DATA_DIR/media`), readable by the gateway's user only. A staged
 * file is flushed to disk and renamed into place, so an object is either whole or absent, also
 * across a crash.
 */
export class FsMediaStore extends MediaStore {
  readonly kind = 'fs' as const;

  constructor(private readonly root: string) {
    super();
  }

  async commit(staged: StagedFile, key: string): Promise<void> {
    const target = this.pathOf(key);
    if (await stat(target).catch(() => null)) {
      await unlink(staged.path).catch(() => undefined);
      return;
    }
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const handle = await open(staged.path, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(staged.path, target);
  }

  async stat(key: string): Promise<{ size: number } | null> {
    const info = await stat(this.pathOf(key)).catch((error: unknown) => {
      if (isMissing(error)) return null;
      throw error;
    });
    return info ? { size: info.size } : null;
  }

  async open(key: string, range?: ByteRange, size?: number): Promise<Readable | null> {
    try {
      const handle = await open(this.pathOf(key), constants.O_RDONLY);
      // Reads as large as the bytes asked for, within bounds: a small file is one read of its size, with no read past its end.
      const span = range ?? (size !== undefined && size > 0 ? { start: 0, end: size - 1 } : undefined);
      if (!span) return handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES });
      const limit = range ? RANGE_CHUNK_BYTES : READ_CHUNK_BYTES;
      const highWaterMark = Math.max(MIN_CHUNK_BYTES, Math.min(limit, span.end - span.start + 1));
      return handle.createReadStream({ highWaterMark, start: span.start, end: span.end });
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch((error: unknown) => {
      if (!isMissing(error)) throw error;
    });
  }

  private pathOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }
}
