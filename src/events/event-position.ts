import { ValidationError } from '../common/errors/app-error';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor';

/**
 * A place in an organization's event log, which is ordered by the writing transaction (`xid`,
 * a `pg_current_xact_id()`) and then by `seq`. A reader at a position has seen every event at or
 * below it. `seq` 0 (no event has it) stands just before the first event of transaction `xid`.
 */
export interface EventPosition {
  xid: number;
  seq: number;
}

export const LOG_START: EventPosition = { xid: 0, seq: 0 };

/** The tag that tells a feed cursor from other lists' cursors. */
const TAG = 'ev';

export function comparePositions(a: EventPosition, b: EventPosition): number {
  return a.xid - b.xid || a.seq - b.seq;
}

export function laterOf(a: EventPosition, b: EventPosition): EventPosition {
  return comparePositions(a, b) >= 0 ? a : b;
}

export function encodeEventCursor(position: EventPosition): string {
  return encodeCursor([TAG, position.xid, position.seq]);
}

/** The position a feed cursor (or an SSE `Last-Event-ID`) carries; anything else is a 422 on `field`. */
export function decodeEventCursor(cursor: string, field: string): EventPosition {
  let values: [string, number, number];
  try {
    values = decodeCursor<[string, number, number]>(cursor, ['string', 'number', 'number']);
  } catch {
    throw ValidationError.field(field, 'is not a valid event cursor');
  }
  const [tag, xid, seq] = values;
  if (tag !== TAG || xid < 0 || seq < 0) throw ValidationError.field(field, 'is not a valid event cursor');
  return { xid, seq };
}

/** A position read from PostgreSQL, where `xid8` and `bigint` arrive as decimal text. */
export function positionOf(xid: string, seq: string): EventPosition {
  const position = { xid: Number(xid), seq: Number(seq) };
  // An xid8 carries the wraparound epoch in its high bits: past 2^53 it would take ~2 million epochs.
  if (!Number.isSafeInteger(position.xid) || !Number.isSafeInteger(position.seq)) {
    throw new Error(`event position out of range: ${xid}/${seq}`);
  }
  return position;
}
