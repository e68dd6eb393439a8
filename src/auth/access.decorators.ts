import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { Capability } from './capability';

export const REQUIRED_CAPABILITY = 'auth:required-capability';
export const IS_PUBLIC = 'auth:public';
/** OpenAPI extension naming the capability; the document builder adds it to the description. */
export const CAPABILITY_EXTENSION = 'x-required-capability';

/** The route needs a credential that carries `capability`. */
export function RequireCapability(capability: Capability): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_CAPABILITY, capability),
    ApiBearerAuth('bearer'),
    ApiExtension(CAPABILITY_EXTENSION, capability),
    ApiErrorResponses(401, 403, 429, 503),
  );
}

/** The route needs no credential (health, docs). */
export function Public(): MethodDecorator & ClassDecorator {
  return SetMetadata(IS_PUBLIC, true);
}
