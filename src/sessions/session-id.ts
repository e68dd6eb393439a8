import { NotFoundError } from '../common/errors/app-error';

/** A canonical ULID: 26 upper-case Crockford base32 characters, the first at most 7. */
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export function isSessionId(value: string): boolean {
  return ULID.test(value);
}

/** The one answer for a missing, malformed or foreign session, so that none can be told apart. */
export function sessionNotFound(): NotFoundError {
  return new NotFoundError('session not found');
}
