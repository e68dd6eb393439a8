import { Inject, Injectable } from '@nestjs/common';
import { Request } from 'express';
import { Logger } from 'pino';
import { UnavailableError } from '../common/errors/app-error';
import { LOGGER } from '../common/logging/logging.module';
import { ApiKeysService } from './api-keys/api-keys.service';
import { looksLikeApiKey } from './api-keys/api-key-format';
import { Caller } from './caller.decorator';
import { JWT_STRATEGY, JwtStrategy, LoginRequest } from './jwt/jwt.strategy';

/** Turns a bearer token into a caller, trying each kind of credential the contract accepts. */
@Injectable()
export class AuthenticationService {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly jwt: JwtStrategy,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The caller of `token` (the bearer token of `request`), or null when it is no valid
   * credential. A token that looks like an API key is only ever checked as one, so it never
   * reaches the JWKS; any other is a login JWT for the passport strategy. `offline` checks
   * against what is already in memory (cached keys, known signing keys): no database query, no
   * JWKS fetch. Throws `UnavailableError` when the identity provider cannot be reached for a key.
   */
  authenticate(request: Request, token: string, offline = false): Promise<Caller | null> {
    if (looksLikeApiKey(token)) return this.apiKeys.authenticate(token, offline);
    const login = request as LoginRequest;
    login.loginAttempt = { token, offline };
    return new Promise((resolve, reject) => {
      const authenticate = this.jwt
        .getPassportInstance()
        .authenticate(JWT_STRATEGY, { session: false }, (error: Error | null, caller: Caller | false, challenge: unknown) => {
          if (error) reject(error);
          else if (caller) resolve(caller);
          else if (challenge instanceof UnavailableError) reject(challenge);
          else {
            if (challenge) this.logger.debug({ reason: challenge instanceof Error ? challenge.message : challenge }, 'login token refused');
            resolve(null);
          }
        }) as (req: Request, res: undefined, next: (error: Error) => void) => void;
      // With a callback, passport never writes to the response and calls next only with an error.
      authenticate(login, undefined, reject);
    });
  }
}
