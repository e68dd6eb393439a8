import { OpenAPIObject } from '@nestjs/swagger';
import {
  HeaderObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { envelope } from '../errors/envelope';
import { ErrorEnvelopeDto } from '../errors/error-envelope.dto';
import { ERROR_RESPONSES } from './api-error-responses.decorator';

export interface HttpConventions {
  /** The body limit of a path template, as the JSON parser applies it. */
  bodyLimitOf(path: string): number;
  /** The schema (with its bounds) of each path parameter, by name. */
  pathParameters: Record<string, SchemaObject>;
}

const NO_CORS =
  '\n\nThe API serves no CORS headers and answers no preflight (`OPTIONS`): browsers on other origins cannot call it ' +
  'directly. Call it from a server, or serve the frontend and the API on one origin.';

const ENVELOPE_SCHEMA: ReferenceObject = { $ref: `#/components/schemas/${ErrorEnvelopeDto.name}` };
const MALFORMED_JSON = 'malformed JSON body';

const integerHeader = (description: string): HeaderObject => ({ description, schema: { type: 'integer' } });
const RATE_LIMIT_HEADERS: Record<string, HeaderObject> = {
  'RateLimit-Limit': integerHeader('Requests the credential may make per minute (`RATE_LIMIT_PER_MINUTE`); sent while the limit is on.'),
  'RateLimit-Remaining': integerHeader('What is left of them in this window.'),
  'RateLimit-Reset': integerHeader('Seconds until the window ends.'),
};
const RETRY_AFTER: Record<string, HeaderObject> = { 'Retry-After': integerHeader('Seconds to wait before trying again.') };
const REQUEST_ID: Record<string, HeaderObject> = {
  'X-Request-Id': {
    description: "The request's id (a sane incoming one is kept); a 500's `details.errorId` names it in the log.",
    schema: { type: 'string' },
  },
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * What the HTTP layer does for every route, written into the document once, so that each route
 * (a future one too) documents it without saying so itself: the 500 envelope; 413 and a 422 for
 * malformed JSON (any request may carry a body); the `RateLimit-*` headers on every answer past
 * authentication; `Retry-After` on 429 and 503; `X-Request-Id` everywhere; closed request
 * schemas (unknown fields are 422); bounded path parameters; and no CORS.
 */
export function applyHttpConventions(document: OpenAPIObject, conventions: HttpConventions): OpenAPIObject {
  document.info.description = `${document.info.description ?? ''}${NO_CORS}`;
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) applyToOperation(document, operation, conventions.bodyLimitOf(path), conventions.pathParameters);
    }
  }
  return document;
}

function applyToOperation(
  document: OpenAPIObject,
  operation: OperationObject,
  bodyLimit: number,
  pathParameters: Record<string, SchemaObject>,
): void {
  const responses = operation.responses as Record<string, ResponseObject>;
  const authenticated = !(Array.isArray(operation.security) && operation.security.length === 0);
  const body = operation.requestBody && !('$ref' in operation.requestBody) ? operation.requestBody : undefined;
  // A route that streams a file body reads it itself; the JSON parser reads every other request's body, whatever its method, before any route runs.
  const streamsFile = body !== undefined && !body.content['application/json'];
  responses['413'] = errorResponse(
    streamsFile
      ? `\`payload_too_large\`: the file is over \`MEDIA_MAX_BYTES\` (default ${bodyLimit / (1024 * 1024)} MiB), or the request headers are too large`
      : `\`payload_too_large\`: the body is over ${bodyLimit / (1024 * 1024)} MiB, or the request headers are too large`,
    envelope('payload_too_large', 'request body too large', { limitBytes: bodyLimit }),
  );
  if (!streamsFile) responses['422'] = withMalformedJson(responses['422']);
  for (const media of Object.values(body?.content ?? {})) {
    if (media.schema) closeObjectSchemas(document, media.schema, new Set());
  }
  responses['500'] ??= errorResponse(ERROR_RESPONSES[500].description, ERROR_RESPONSES[500].example);
  for (const [status, response] of Object.entries(responses)) {
    if (status === '429' || status === '503') addHeaders(response, RETRY_AFTER);
    // A 401 is answered before the credential's window is counted.
    if (authenticated && status !== '401') addHeaders(response, RATE_LIMIT_HEADERS);
    addHeaders(response, REQUEST_ID);
  }
  operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
  for (const parameter of (operation.parameters ?? []) as ParameterObject[]) {
    const bounds = parameter.in === 'path' ? pathParameters[parameter.name] : undefined;
    if (bounds) parameter.schema = { ...parameter.schema, ...bounds };
  }
}

function errorResponse(description: string, example: unknown): ResponseObject {
  return { description, content: { 'application/json': { schema: ENVELOPE_SCHEMA, example } } };
}

/**
 * A 422 whose examples include malformed JSON, which the body parser answers before any route
 * runs: on an operation that takes no body too, when a client sends one anyway.
 */
function withMalformedJson(existing: ResponseObject | undefined): ResponseObject {
  const response = existing ?? { description: '`validation_error`: the request carries a body that is malformed JSON', content: {} };
  const media = response.content?.['application/json'] ?? { schema: ENVELOPE_SCHEMA };
  const single = media.example as unknown;
  const examples = media.examples ?? (single === undefined ? {} : { invalid: { summary: 'A request that does not validate', value: single } });
  delete media.example;
  media.examples = { ...examples, malformedJson: { summary: 'Malformed JSON', value: envelope('validation_error', MALFORMED_JSON) } };
  if (!response.description.includes('malformed JSON')) response.description += '; or malformed JSON';
  return { ...response, content: { ...response.content, 'application/json': media } };
}

function addHeaders(response: ResponseObject, headers: Record<string, HeaderObject>): void {
  response.headers = { ...headers, ...response.headers };
}

/** Unknown fields are 422 everywhere, so every object a body is made of is closed. */
function closeObjectSchemas(document: OpenAPIObject, schema: SchemaObject | ReferenceObject, seen: Set<object>): void {
  const resolved = '$ref' in schema ? document.components?.schemas?.[schema.$ref.replace('#/components/schemas/', '')] : schema;
  if (!resolved || '$ref' in resolved || seen.has(resolved)) return;
  seen.add(resolved);
  if (resolved.properties) {
    resolved.additionalProperties ??= false;
    for (const property of Object.values(resolved.properties)) closeObjectSchemas(document, property, seen);
  }
  if (resolved.items) closeObjectSchemas(document, resolved.items, seen);
  for (const part of [...(resolved.oneOf ?? []), ...(resolved.anyOf ?? []), ...(resolved.allOf ?? [])]) {
    closeObjectSchemas(document, part, seen);
  }
}
