import { HttpStatus } from '@nestjs/common';

/** The error codes of the contract, each with its one HTTP status. */
export const ERROR_STATUS = {
  unauthorized: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  payload_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  range_not_satisfiable: HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
  validation_error: HttpStatus.UNPROCESSABLE_ENTITY,
  gone: HttpStatus.GONE,
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
  internal_error: HttpStatus.INTERNAL_SERVER_ERROR,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorDetails = Record<string, unknown>;

/**
 * A domain error: services throw these and the global filter turns them into the envelope.
 * `headers` carries what the status needs (`Retry-After`, `WWW-Authenticate`).
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super('not_found', message);
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('validation_error', message, details);
  }

  /** One field, one problem: the common case. */
  static field(field: string, problem: string): ValidationError {
    return new ValidationError('request validation failed', { fields: { [field]: [problem] } });
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('conflict', message, details);
  }
}

/** What the request names was there once and is no more (an event-feed cursor past the retention). */
export class GoneError extends AppError {
  constructor(message: string) {
    super('gone', message);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'missing or invalid credential') {
    super('unauthorized', message, {}, { 'WWW-Authenticate': 'Bearer' });
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

export class UnavailableError extends AppError {
  constructor(message: string, retryAfterSeconds = 5) {
    super('unavailable', message, {}, { 'Retry-After': String(retryAfterSeconds) });
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, headers: Record<string, string>) {
    super('rate_limited', 'rate limit exceeded', {}, { ...headers, 'Retry-After': String(retryAfterSeconds) });
  }
}
