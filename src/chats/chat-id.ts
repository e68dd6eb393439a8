import { NotFoundError } from '../common/errors/app-error';
import { isChatJid } from '../domain/jid';

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
