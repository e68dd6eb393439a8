import { randomBytes } from 'node:crypto';
import { NotFoundError } from '../common/errors/app-error';
import { MESSAGE_ID_PATTERN } from '../domain/message-id';

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
