import { Injectable } from '@nestjs/common';
import { UnauthorizedError } from '../common/errors/app-error';
import { AuthenticationService } from './authentication.service';
import { AuthenticatedRequest, Caller } from './caller.decorator';
import { RateLimitService } from './rate-limit/rate-limit.service';

const BEARER = /^Bearer +([^\s]+) *$/i;
/** The outcome of a request's credential check, kept so that it runs once per request. */
const CHECKED = Symbol('credential checked');

type CheckedRequest = AuthenticatedRequest & { [CHECKED]?: Promise<Caller> };

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? BEARER.exec(header)?.[1] : undefined;
}

/**
 * The credential step of the guard: the caller of a request's bearer token, or 401 (429 past
 * the client IP's failure limit). It may run before the body is read (routes that take large
 * bodies) and again in the guard; the check itself runs once per request.
 */
@Injectable()
export class RequestAuthenticator {
  constructor(
    private readonly authentication: AuthenticationService,
    private readonly limits: RateLimitService,
  ) {}

  callerOf(request: AuthenticatedRequest): Promise<Caller> {
    const checked = request as CheckedRequest;
    checked[CHECKED] ??= this.check(request);
    return checked[CHECKED];
  }

  private async check(request: AuthenticatedRequest): Promise<Caller> {
    const ip = request.ip ?? request.socket.remoteAddress ?? 'unknown';
    const token = bearerToken(request.headers.authorization);
    // An IP past its failure limit is only let through on credentials already in memory: its
    // failed attempts cost no database query and no JWKS fetch.
    const caller = token ? await this.authentication.authenticate(request, token, this.limits.isBlocked(ip)) : null;
    if (caller) return caller;
    this.limits.recordFailure(ip);
    throw new UnauthorizedError();
  }
}
