import { ErrorCode, ErrorDetails } from './app-error';

/** The one body every non-2xx response has. */
export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; details: ErrorDetails };
}

export function envelope(code: ErrorCode, message: string, details: ErrorDetails = {}): ErrorEnvelope {
  return { error: { code, message, details } };
}
