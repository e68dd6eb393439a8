import { ValidationError } from '../errors/app-error';
import { decodeCursor, encodeCursor } from './cursor';

/** A place in a list ordered by (time desc, id desc): where the next page starts. */
export type KeysetPosition = [time: number, id: string];

/** The latest instant a JavaScript Date (and so a timestamptz column read through it) can hold. */
export const MAX_DATE_MS = 8.64e15;

export function encodePosition(time: number, id: string): string {
  return encodeCursor([time, id]);
}

/**
 * The position a cursor carries. The checksum catches edits; the shape check here also stops a
 * forged cursor from carrying a value that its list cannot hold (a NUL, a malformed id).
 */
export function decodePosition(
  cursor: string,
  isId: (id: string) => boolean,
  minTime = 0,
  maxTime = Number.MAX_SAFE_INTEGER,
): KeysetPosition {
  const [time, id] = decodeCursor<KeysetPosition>(cursor, ['number', 'string']);
  if (time < minTime || time > maxTime || !isId(id)) throw ValidationError.field('cursor', 'is not a valid cursor');
  return [time, id];
}
