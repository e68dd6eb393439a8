import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorCode } from '../errors/app-error';
import { envelope, ErrorEnvelope } from '../errors/envelope';
import { ErrorEnvelopeDto } from '../errors/error-envelope.dto';

interface ErrorResponseDoc {
  description: string;
  example: ErrorEnvelope;
}

const doc = (code: ErrorCode, description: string, message: string, details = {}): ErrorResponseDoc => ({
  description: `\`${code}\`: ${description}`,
  example: envelope(code, message, details),
});

/** What each error status means, with an example body as the gateway really sends it. */
export const ERROR_RESPONSES: Record<number, ErrorResponseDoc> = {
  401: doc('unauthorized', 'no, invalid, expired or revoked credential', 'missing or invalid credential'),
  403: doc('forbidden', 'the caller lacks the required capability', 'this route requires the manage capability'),
  404: doc('not_found', "no such resource in the caller's organization", 'session not found'),
  409: doc('conflict', "the action does not fit the resource's state", 'the session is not pairing'),
  413: doc('payload_too_large', 'body over the limit', 'request body too large', { limitBytes: 1048576 }),
  422: doc('validation_error', 'malformed JSON, wrong types, unknown fields, bad `limit` or cursor', 'request validation failed', {
    fields: { limit: ['must not be greater than 100'] },
  }),
  410: doc('gone', 'the cursor is older than the event retention: events after it were pruned', 'cursor is older than the event retention'),
  429: doc('rate_limited', 'rate limit hit; see `Retry-After`', 'rate limit exceeded'),
  500: doc('internal_error', 'a bug; `details.errorId` names it in the server log', 'internal error', {
    errorId: '3f2b8c1e-9a4d-4f6b-8e2a-5c7d9b0a1e34',
  }),
  503: doc('unavailable', 'a dependency (database, identity provider) is down; see `Retry-After`', 'database unavailable'),
};

/** Documents error responses of an operation, each with the envelope schema and an example. */
export function ApiErrorResponses(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, type: ErrorEnvelopeDto, ...ERROR_RESPONSES[status] })),
  );
}
