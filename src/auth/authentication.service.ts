import { Injectable } from '@nestjs/common';
import { ApiKeysService } from './api-keys/api-keys.service';
import { looksLikeApiKey } from './api-keys/api-key-format';
import { Caller } from './caller.decorator';
import { JwtLoginService } from './jwt/jwt-login.service';

/** Turns a bearer token into a caller, trying each kind of credential the contract accepts. */
@Injectable()
export class AuthenticationService {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly logins: JwtLoginService,
  ) {}

  /**
   * The caller, or null when the token is no valid credential. A token that looks like an API
   * key is only ever checked as one, so it never reaches the JWKS. `offline` checks against what
   * is already in memory (cached keys, known signing keys): no database query, no JWKS fetch.
   */
  authenticate(token: string, offline = false): Promise<Caller | null> {
    return looksLikeApiKey(token) ? this.apiKeys.authenticate(token, offline) : this.logins.verify(token, offline);
  }
}
