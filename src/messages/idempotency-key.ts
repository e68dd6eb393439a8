import { createHash } from 'node:crypto';
import { ValidationError } from '../common/errors/app-error';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Visible ASCII and spaces (a header cannot carry more), 1 to 255 characters. */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** The key a request carries, or undefined without the header; 422 when it is malformed. */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !KEY_PATTERN.test(header)) {
    throw ValidationError.field(IDEMPOTENCY_HEADER, 'must be 1 to 255 visible ASCII characters');
  }
  return header;
}

/**
 * What makes two sends "the same request": the hash of the body's fields in a fixed order, so
 * that the order or spacing of the JSON a client sent does not matter.
 */
export function requestHash(
  body: {
    type: string;
    text?: string;
    voiceNote?: boolean;
    media?: { mimetype?: string; fileName?: string };
    replyTo?: string;
    location?: { latitude: number; longitude: number; name?: string | null; address?: string | null };
    contacts?: { name: string; phoneNumber: string }[];
  },
  fileSha256?: string,
): string {
  // A text keeps the form it always had, so that keys stored before files could be sent still match.
  const fields: unknown[] =
    fileSha256 === undefined
      ? [body.type, body.text]
      : [body.type, body.text ?? null, fileSha256, body.media?.fileName ?? null, body.media?.mimetype ?? null, body.voiceNote ?? false];
  // And so do bodies without the fields of conversations (API.md §9).
  if (body.replyTo !== undefined || body.location !== undefined || body.contacts !== undefined) {
    const { location, contacts } = body;
    fields.push(
      body.replyTo ?? null,
      location ? [location.latitude, location.longitude, location.name ?? null, location.address ?? null] : null,
      contacts ? contacts.map((card) => [card.name, card.phoneNumber]) : null,
    );
  }
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}
