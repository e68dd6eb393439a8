import { ValidationError } from '../common/errors/app-error';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor';

/** A place in a list ordered by (time desc, id desc): where the next page starts. */
export type KeysetPosition = [time: number, id: string];

export function encodePosition(time: number, id: string): string {
  return encodeCursor([time, id]);
}

/**
 * The position a cursor carries. The checksum catches edits; the shape check here also stops a
 * forged cursor from carrying a value that its list cannot hold (a NUL, a malformed id).
 */
export function decodePosition(cursor: string, isId: (id: string) => boolean, minTime = 0): KeysetPosition {
  const [time, id] = decodeCursor<KeysetPosition>(cursor, ['number', 'string']);
  if (time < minTime || !isId(id)) throw ValidationError.field('cursor', 'is not a valid cursor');
  return [time, id];
}
