import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { Request } from 'express';
import { Capability } from './capability';

/** Who is calling: the organization and capabilities every service call is scoped by. */
export interface Caller {
  kind: 'user' | 'api_key';
  orgId: string;
  /** The JWT `sub`, or the API key's id. */
  subject: string;
  capabilities: readonly Capability[];
}

export interface AuthenticatedRequest extends Request {
  caller?: Caller;
}

/** The authenticated caller of the request, set by the global guard. */
export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const caller = ctx.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new Error('@Caller() used on a route without an authenticated caller');
  return caller;
});
