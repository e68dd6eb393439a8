import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Response } from 'express';
import { ForbiddenError, UnauthorizedError } from '../common/errors/app-error';
import { IS_PUBLIC, REQUIRED_CAPABILITY } from './access.decorators';
import { AuthenticationService } from './authentication.service';
import { AuthenticatedRequest, Caller } from './caller.decorator';
import { Capability } from './capability';
import { RateLimitService } from './rate-limit/rate-limit.service';

const BEARER = /^Bearer +([^\s]+) *$/i;

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? BEARER.exec(header)?.[1] : undefined;
}

/**
 * The one global guard: deny by default. A route is open only with `@Public()`; otherwise it
 * must declare `@RequireCapability()` and the caller's credential must carry that capability.
 * The checks run in this order: credential (401, or 429 past the IP's failure limit), the
 * credential's rate limit (429), the capability (403).
 */
@Injectable()
export class CapabilityGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authentication: AuthenticationService,
    private readonly limits: RateLimitService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const required = this.reflector.getAllAndOverride<Capability | undefined>(REQUIRED_CAPABILITY, targets);
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const caller = await this.authenticate(request);
    this.limits.consume(caller, http.getResponse<Response>());
    if (!required) throw new ForbiddenError('this route declares no capability and is closed');
    if (!caller.capabilities.includes(required)) {
      throw new ForbiddenError(`this route requires the ${required} capability`);
    }
    request.caller = caller;
    return true;
  }

  private async authenticate(request: AuthenticatedRequest): Promise<Caller> {
    const ip = request.ip ?? request.socket.remoteAddress ?? 'unknown';
    const token = bearerToken(request.headers.authorization);
    // An IP past its failure limit is only let through on credentials already in memory: its
    // failed attempts cost no database query and no JWKS fetch.
    const caller = token ? await this.authentication.authenticate(token, this.limits.isBlocked(ip)) : null;
    if (caller) return caller;
    this.limits.recordFailure(ip);
    throw new UnauthorizedError();
  }
}
