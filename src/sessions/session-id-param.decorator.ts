import { ApiParam } from '@nestjs/swagger';

/** Documents the `sid` path parameter. */
export const ApiSessionIdParam = (): MethodDecorator & ClassDecorator =>
  ApiParam({
    name: 'sid',
    description:
      'The session id (a ULID, upper case). A session of another organization answers 404 like one that does not exist.',
    example: '01HF7Z3K8Q2V5N9T4W6X0Y1B2C',
  });
