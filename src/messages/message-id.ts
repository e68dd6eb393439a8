import { NotFoundError } from '../common/errors/app-error';

/** Message ids as the stored copy accepts them (ingestion validates the same shape). */
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

/** The id named by a `mid` path segment, or null when no message can have it. */
export function messageIdOf(mid: string): string | null {
  return MESSAGE_ID_PATTERN.test(mid) ? mid : null;
}

export function messageNotFound(): NotFoundError {
  return new NotFoundError('message not found');
}
