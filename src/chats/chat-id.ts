import { NotFoundError } from '../common/errors/app-error';
import { CHAT_JID_PATTERN, isChatJid } from '../domain/jid';

/**
 * The chat JIDs `isChatJid` accepts, as the document's schema for `cid`: up to 24 digits, and for
 * the older groups a second run of them after a `-`.
 */
export const CHAT_ID_SCHEMA = {
  type: 'string',
  pattern: CHAT_JID_PATTERN.source,
  minLength: '0@lid'.length,
  maxLength: `${'9'.repeat(24)}-${'9'.repeat(24)}@g.us`.length,
} as const;

/**
 * The JID named by a `cid` path segment, or null when it is not a chat JID: a malformed id is
 * then looked up as one that matches nothing, so the session is still checked first.
 */
export function chatJidOf(cid: string): string | null {
  return isChatJid(cid) ? cid : null;
}

export function chatNotFound(): NotFoundError {
  return new NotFoundError('chat not found');
}
