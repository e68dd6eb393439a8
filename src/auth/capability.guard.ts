import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError, UnauthorizedError } from '../common/errors/app-error';
import { IS_PUBLIC, REQUIRED_CAPABILITY } from './access.decorators';
import { ApiKeysService } from './api-keys/api-keys.service';
import { looksLikeApiKey } from './api-keys/api-key-format';
import { AuthenticatedRequest, Caller } from './caller.decorator';
import { Capability } from './capability';

const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * The one global guard: deny by default. A route is open only with `@Public()`; otherwise it
 * must declare `@RequireCapability()` and the caller's credential must carry that capability.
 */
@Injectable()
export class CapabilityGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const required = this.reflector.getAllAndOverride<Capability | undefined>(REQUIRED_CAPABILITY, targets);
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const caller = await this.authenticate(request);
    if (!required) throw new ForbiddenError('this route declares no capability and is closed');
    if (!caller.capabilities.includes(required)) {
      throw new ForbiddenError(`this route requires the ${required} capability`);
    }
    request.caller = caller;
    return true;
  }

  private async authenticate(request: AuthenticatedRequest): Promise<Caller> {
    const header = request.headers.authorization;
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    if (!token) throw new UnauthorizedError();
    const caller = looksLikeApiKey(token) ? await this.apiKeys.authenticate(token) : null;
    if (!caller) throw new UnauthorizedError();
    return caller;
  }
}
