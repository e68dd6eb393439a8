import { NotFoundError } from '../common/errors/app-error';
import { isUlid } from '../common/ulid';

export const isSessionId = isUlid;

/** The one answer for a missing, malformed or foreign session, so that none can be told apart. */
export function sessionNotFound(): NotFoundError {
  return new NotFoundError('session not found');
}
