import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiResponse } from '@nestjs/swagger';
import { ErrorEnvelopeDto } from '../common/errors/error-envelope.dto';
import { ApiErrorResponses, ERROR_RESPONSES } from '../common/http/api-error-responses.decorator';
import { Capability } from './capability';

export const REQUIRED_CAPABILITY = 'auth:required-capability';
export const IS_PUBLIC = 'auth:public';
/** OpenAPI extension naming the capability; the document builder adds it to the description. */
export const CAPABILITY_EXTENSION = 'x-required-capability';

const integerHeader = (description: string) => ({ description, schema: { type: 'integer' as const } });

/** The route needs a credential that carries `capability`. */
export function RequireCapability(capability: Capability): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_CAPABILITY, capability),
    ApiBearerAuth('bearer'),
    ApiExtension(CAPABILITY_EXTENSION, capability),
    ApiErrorResponses(403, 503),
    ApiResponse({
      status: 401,
      type: ErrorEnvelopeDto,
      ...ERROR_RESPONSES[401],
      headers: { 'WWW-Authenticate': { description: 'Always `Bearer`.', schema: { type: 'string' } } },
    }),
    ApiResponse({
      status: 429,
      type: ErrorEnvelopeDto,
      ...ERROR_RESPONSES[429],
      description:
        '`rate_limited`: the credential\'s requests per minute (`RATE_LIMIT_PER_MINUTE`), or the client IP\'s ' +
        'failed authentications per minute (`AUTH_FAILURE_LIMIT_PER_MINUTE`), are used up',
      headers: {
        'Retry-After': integerHeader('Seconds until the window ends.'),
        'RateLimit-Limit': integerHeader('Requests (or failed authentications) allowed per minute.'),
        'RateLimit-Remaining': integerHeader('What is left of them in this window: 0.'),
        'RateLimit-Reset': integerHeader('Seconds until the window ends.'),
      },
    }),
  );
}

/** The route needs no credential (health, docs). */
export function Public(): MethodDecorator & ClassDecorator {
  return SetMetadata(IS_PUBLIC, true);
}
