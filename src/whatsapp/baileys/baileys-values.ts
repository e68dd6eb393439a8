/**
 * Numbers as Baileys hands them over. Protobuf 64-bit fields arrive as `Long` objects
 * (`{low, high, unsigned}` with `toNumber()`), or as the same object without its methods once it
 * has been through JSON, or as plain numbers or numeric strings; any of them may be null.
 */
export type LongLike = number | string | { low: number; high: number; unsigned?: boolean; toNumber?: () => number };

const TWO_POW_32 = 4_294_967_296;

/** The numeric value of a protobuf number, or null when it is absent or not a finite number. */
export function toNumber(value: LongLike | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') {
    if (!/^-?\d+$/.test(value.trim())) return null;
    return Number(value);
  }
  if (typeof value.toNumber === 'function') return value.toNumber();
  if (typeof value.low !== 'number' || typeof value.high !== 'number') return null;
  const low = value.low >>> 0;
  const high = value.unsigned ? value.high >>> 0 : value.high | 0;
  return high * TWO_POW_32 + low;
}

/** A WhatsApp timestamp in seconds (message and chat times) as epoch milliseconds. */
export function secondsToEpochMs(value: LongLike | null | undefined): number | null {
  const seconds = toNumber(value);
  return seconds === null || seconds <= 0 ? null : Math.round(seconds * 1000);
}

/**
 * Instants below this are read as seconds, at or above it as milliseconds: WhatsApp gives mute
 * ends in seconds in history sync conversations and in milliseconds in app-state mute actions.
 * 1e11 s is the year 5138, 1e11 ms is 1973; neither is a real mute end in the other unit.
 */
const SECONDS_MS_BOUNDARY = 1e11;

/**
 * A mute end as the contract's `mutedUntil`: epoch ms, -1 for "always" (WhatsApp's negative
 * end), null when not muted (absent or 0).
 */
export function muteEndToMutedUntil(value: LongLike | null | undefined): number | null {
  const end = toNumber(value);
  if (end === null || end === 0) return null;
  if (end < 0) return -1;
  return end < SECONDS_MS_BOUNDARY ? end * 1000 : end;
}
