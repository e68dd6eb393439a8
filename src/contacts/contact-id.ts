import { ApiParam } from '@nestjs/swagger';
import { NotFoundError } from '../common/errors/app-error';
import { isUserJid } from '../domain/jid';

/**
 * The person named by a `jid` path segment, or null when it is not a person's JID: a malformed id
 * is then looked up as one that matches nothing, so the session is still checked first.
 */
export function contactJidOf(jid: string): string | null {
  return isUserJid(jid) ? jid : null;
}

export function contactNotFound(): NotFoundError {
  return new NotFoundError('contact not found');
}

/** Documents the `jid` path parameter of the contact routes. */
export const ApiContactJidParam = (): MethodDecorator & ClassDecorator =>
  ApiParam({
    name: 'jid',
    description:
      'The person\'s JID: `<digits>@s.whatsapp.net`, or `<digits>@lid` (a LID finds the contact it is known to belong to); ' +
      '`@` may be sent raw or as `%40`.',
    examples: {
      phoneNumber: { value: '6281234567890@s.whatsapp.net' },
      lid: { value: '123456789012345@lid' },
    },
  });
