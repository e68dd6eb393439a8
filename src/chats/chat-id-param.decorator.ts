import { ApiParam } from '@nestjs/swagger';

/** Documents the `cid` path parameter. */
export const ApiChatIdParam = (): MethodDecorator & ClassDecorator =>
  ApiParam({
    name: 'cid',
    description:
      'The chat\'s JID: `<digits>@s.whatsapp.net` (direct), `<digits>@g.us` (group) or `<digits>@lid`; `@` may be sent ' +
      'raw or as `%40`.',
    examples: {
      direct: { value: '6281234567890@s.whatsapp.net' },
      group: { value: '120363025246125888@g.us' },
    },
  });
