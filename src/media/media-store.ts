import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StagedFile } from './media-staging';

/** A byte range, both ends included (as HTTP's `Range` counts). */
export interface ByteRange {
  start: number;
  end: number;
}

/** Organization ids that can stand in a path or object key as they are. */
const PLAIN_ORG = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The object key of a file: `<org>/<sha256>`, so that a file is stored once per organization.
 * An organization id with other characters (ids are opaque, up to 128 characters: `/`, `..`,
 * anything) is replaced by `~` and a hash of it, which no plain id starts with.
 */
export function objectKey(orgId: string, sha256: string): string {
  const org = PLAIN_ORG.test(orgId) ? orgId : `~${createHash('sha256').update(orgId).digest('hex').slice(0, 40)}`;
  return `${org}/${sha256}`;
}

/**
 * The blob store of media files: objects are private, written whole or not at all (a reader never
 * sees part of one), and streamed both ways, never held whole in memory. `fs` keeps them under
 * `DATA_DIR/media`; `s3` in any S3-compatible bucket.
 */
export abstract class MediaStore {
  abstract readonly kind: 'fs' | 's3';

  /** Moves a staged file into the store under `key`; when the key is already stored, the staged copy is dropped. */
  abstract commit(staged: StagedFile, key: string): Promise<void>;

  /** The stored object's size, or null when there is none. */
  abstract stat(key: string): Promise<{ size: number } | null>;

  /**
   * The object's bytes (those of `range` only, when given), or null when there is none. `size`,
   * when the caller knows it, lets the reads fit the object.
   */
  abstract open(key: string, range?: ByteRange, size?: number): Promise<Readable | null>;

  /** Deletes the object; deleting one that is not there is fine. */
  abstract remove(key: string): Promise<void>;

  /** Lets go of connections at shutdown (an S3 client's sockets); nothing to do for files. */
  close(): void {}
}
