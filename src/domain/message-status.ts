import { MessageStatus } from './gateway-events';

/**
 * Receipts only move a message forward along this order; a late `delivered` does not undo
 * `read`. `failed` sits before `sent` so that a receipt that proves delivery still counts.
 */
export const MESSAGE_STATUS_PROGRESS: readonly MessageStatus[] = ['pending', 'failed', 'sent', 'delivered', 'read', 'played'];

/** The further along of two statuses. */
export function furtherStatus(a: MessageStatus | undefined, b: MessageStatus): MessageStatus {
  return a !== undefined && MESSAGE_STATUS_PROGRESS.indexOf(a) > MESSAGE_STATUS_PROGRESS.indexOf(b) ? a : b;
}
