import { ApiParam } from '@nestjs/swagger';
import { NotFoundError } from '../common/errors/app-error';
import { chatTypeOf, isChatJid } from '../domain/jid';

/**
 * The group named by a `jid` path segment, or null when it is not a group's JID (a person's, or
 * malformed): such an id names no group, answered 404 once the session is checked.
 */
export function groupJidOf(jid: string): string | null {
  return isChatJid(jid) && chatTypeOf(jid) === 'group' ? jid : null;
}

export function groupNotFound(): NotFoundError {
  return new NotFoundError('group not found');
}

/** Documents the `jid` path parameter of the group routes. */
export const ApiGroupJidParam = (): MethodDecorator & ClassDecorator =>
  ApiParam({
    name: 'jid',
    description: 'The group\'s JID, `<digits>@g.us` (older groups `<digits>-<digits>@g.us`); `@` may be sent raw or as `%40`.',
    example: '120363025246125888@g.us',
  });
