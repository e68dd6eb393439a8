import { NotFoundError } from '../common/errors/app-error';
import { isChatJid } from '../whatsapp/jid';

/**
 * The chat JIDs `isChatJid` accepts, as the document's pattern for `cid` (a unit test keeps the
 * two in step): up to 24 digits, and for the older groups a second run of them after a `-`.
 */
export const CHAT_ID_SCHEMA = {
  type: 'string',
  pattern: '^([0-9]{1,24}@s\\.whatsapp\\.net|[0-9]{1,24}(-[0-9]{1,24})?@g\\.us|[0-9]{1,24}@lid)$',
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
