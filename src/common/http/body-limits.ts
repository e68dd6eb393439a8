const MIB = 1024 * 1024;
/** The largest JSON body a route takes. */
export const DEFAULT_BODY_LIMIT_BYTES = MIB;
/** Ingestion batches (up to 1000 events) may be larger than any other body. */
const EVENTS_BODY_LIMIT_BYTES = 8 * MIB;
/** A send may carry a file as base64 (`media.data`): up to 64 MiB of file. */
const SEND_BODY_LIMIT_BYTES = 96 * MIB;
/** What `MEDIA_MAX_BYTES` allows by default; the media upload route checks the configured value itself. */
const MEDIA_BODY_LIMIT_BYTES = 64 * MIB;
/** `[^/]+` also matches `{sid}`, so the same test serves request paths and the document's templates. */
const EVENTS_PATH = /^\/api\/v1\/sessions\/[^/]+\/events\/?$/;
const SEND_PATH = /^\/api\/v1\/sessions\/[^/]+\/chats\/[^/]+\/messages\/?$/;
const MEDIA_PATH = /^\/api\/v1\/sessions\/[^/]+\/chats\/[^/]+\/messages\/[^/]+\/media\/?$/;

/** The body limit of a request path, or of a path template of the OpenAPI document. */
export function bodyLimitOf(path: string): number {
  if (EVENTS_PATH.test(path)) return EVENTS_BODY_LIMIT_BYTES;
  if (SEND_PATH.test(path)) return SEND_BODY_LIMIT_BYTES;
  if (MEDIA_PATH.test(path)) return MEDIA_BODY_LIMIT_BYTES;
  return DEFAULT_BODY_LIMIT_BYTES;
}

/** Whether the route reads its body as a stream itself (a file upload of any type, JSON included): no JSON parser runs for it. */
export function streamsItsBody(method: string, path: string): boolean {
  return method === 'PUT' && MEDIA_PATH.test(path);
}
