import { randomBytes } from 'node:crypto';
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

/**
 * An id for a message the gateway sends, in the format WhatsApp Web uses (`3EB0` and 18 random
 * bytes in upper-case hex): the provider sends the message under this id, so that receipts and
 * the message on the phone carry it too.
 */
export function newOutgoingMessageId(): string {
  return `3EB0${randomBytes(18).toString('hex').toUpperCase()}`;
}
