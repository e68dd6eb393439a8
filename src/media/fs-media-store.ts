import { constants } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { StagedFile } from './media-staging';
import { ByteRange, MediaStore } from './media-store';

const READ_CHUNK_BYTES = 256 * 1024;

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

  async open(key: string, range?: ByteRange): Promise<Readable | null> {
    try {
      const handle = await open(this.pathOf(key), constants.O_RDONLY);
      // Larger reads than the 64 KiB default: fewer system calls and chunks per file, still bounded per stream.
      return handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES, ...(range ? { start: range.start, end: range.end } : {}) });
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
