import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Response } from 'express';
import { ForbiddenError } from '../common/errors/app-error';
import { IS_PUBLIC, REQUIRED_CAPABILITY } from './access.decorators';
import { AuthenticatedRequest } from './caller.decorator';
import { Capability } from './capability';
import { RateLimitService } from './rate-limit/rate-limit.service';
import { RequestAuthenticator } from './request-authenticator';

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
    private readonly authenticator: RequestAuthenticator,
    private readonly limits: RateLimitService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const required = this.reflector.getAllAndOverride<Capability | undefined>(REQUIRED_CAPABILITY, targets);
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const caller = await this.authenticator.callerOf(request);
    this.limits.consume(caller, http.getResponse<Response>());
    if (!required) throw new ForbiddenError('this route declares no capability and is closed');
    if (!caller.capabilities.includes(required)) {
      throw new ForbiddenError(`this route requires the ${required} capability`);
    }
    request.caller = caller;
    return true;
  }
}
