import { createHash } from 'node:crypto';
import { ValidationError } from '../errors/app-error';

export type CursorValue = string | number;

// A checksum, not a secret: a cursor is opaque to clients, and any edit or truncation of it is
// detected and answered 422. Forging a valid cursor gains nothing, as every query is scoped to the
// caller's organization.
function checksum(payload: string): string {
  return createHash('sha256').update(`wgw-cursor:${payload}`).digest('base64url').slice(0, 12);
}

export function encodeCursor(values: CursorValue[]): string {
  const payload = Buffer.from(JSON.stringify(values)).toString('base64url');
  return `${payload}.${checksum(payload)}`;
}

const invalidCursor = (): ValidationError => ValidationError.field('cursor', 'is not a valid cursor');

/**
 * Decodes a cursor made by `encodeCursor` and checks each value against `shape`
 * (`'string'` or `'number'`, in order); anything else is a 422.
 */
export function decodeCursor<T extends CursorValue[]>(cursor: string, shape: ('string' | 'number')[]): T {
  const dot = cursor.indexOf('.');
  if (dot <= 0 || cursor.length > 1024) throw invalidCursor();
  const payload = cursor.slice(0, dot);
  if (cursor.slice(dot + 1) !== checksum(payload)) throw invalidCursor();
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (
    !Array.isArray(values) ||
    values.length !== shape.length ||
    !values.every((v, i) => typeof v === shape[i] && (typeof v !== 'number' || Number.isSafeInteger(v)))
  ) {
    throw invalidCursor();
  }
  return values as T;
}
