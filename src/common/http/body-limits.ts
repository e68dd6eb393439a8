/** The largest JSON body a route takes. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/** Ingestion batches (up to 1000 events) may be larger than any other body. */
const EVENTS_BODY_LIMIT_BYTES = 8 * 1024 * 1024;
/** `[^/]+` also matches `{sid}`, so the same test serves request paths and the document's templates. */
const EVENTS_PATH = /^\/api\/v1\/sessions\/[^/]+\/events\/?$/;

/** The body limit of a request path, or of a path template of the OpenAPI document. */
export function bodyLimitOf(path: string): number {
  return EVENTS_PATH.test(path) ? EVENTS_BODY_LIMIT_BYTES : DEFAULT_BODY_LIMIT_BYTES;
}
