import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorEnvelopeDto } from '../errors/error-envelope.dto';

const DESCRIPTIONS: Record<number, string> = {
  401: '`unauthorized`: no, invalid, expired or revoked credential',
  403: '`forbidden`: the caller lacks the required capability',
  404: '`not_found`: no such resource in the caller\'s organization',
  409: '`conflict`: the action does not fit the resource\'s state',
  413: '`payload_too_large`: body over the limit',
  422: '`validation_error`: malformed JSON, wrong types, unknown fields, bad `limit` or cursor',
  429: '`rate_limited`: rate limit hit; see `Retry-After`',
  503: '`unavailable`: a dependency (database, identity provider) is down; see `Retry-After`',
};

/** Documents error responses of an operation, each with the envelope schema. */
export function ApiErrorResponses(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: DESCRIPTIONS[status], type: ErrorEnvelopeDto })),
  );
}
