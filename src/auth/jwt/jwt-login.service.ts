import { Inject, Injectable } from '@nestjs/common';
import { Request } from 'express';
import { Algorithm } from 'jsonwebtoken';
import { Strategy as JwtStrategy, VerifiedCallback } from 'passport-jwt';
import { Logger } from 'pino';
import { UnavailableError } from '../../common/errors/app-error';
import { LOGGER } from '../../common/logging/logging.module';
import { AppConfig } from '../../config/app-config';
import { Caller } from '../caller.decorator';
import { JwksKeys } from './jwks-keys';
import { callerFromClaims } from './login-claims';

const ALGORITHMS: Algorithm[] = ['RS256', 'ES256'];
const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_KID_LENGTH = 256;

/** What the strategy is run on: the token the guard took from the header, not the request. */
interface LoginAttempt {
  token: string;
  /** Verify with keys already known; never fetch the JWKS. */
  offline: boolean;
}

class InvalidLoginToken extends Error {}

/** A JOSE segment decoded without trusting it, to refuse a token before any key is fetched. */
function decodeSegment(segment: string | undefined): Record<string, unknown> | null {
  if (!segment) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The `kid` to look the key up by (undefined when the header has none), or null when the header
 * names an algorithm other than RS256/ES256 (`none`, HS256 …) or a malformed `kid`.
 */
function acceptableKid(token: string): string | undefined | null {
  const header = decodeSegment(token.split('.', 1)[0]);
  if (!header || !ALGORITHMS.includes(header.alg as Algorithm)) return null;
  const kid = header.kid;
  if (kid === undefined) return undefined;
  return typeof kid === 'string' && kid.length > 0 && kid.length <= MAX_KID_LENGTH ? kid : null;
}

/**
 * Whether an unverified token is worth fetching the JWKS for: signed, unexpired, for our issuer
 * and audience. Anything else would be refused after the fetch anyway.
 */
function worthAFetch(token: string, issuer: string, audience: string): boolean {
  const [, payloadSegment, signature] = token.split('.');
  const payload = decodeSegment(payloadSegment);
  if (!payload || !signature) return false;
  const aud = payload.aud;
  return (
    payload.iss === issuer &&
    (aud === audience || (Array.isArray(aud) && aud.includes(audience))) &&
    typeof payload.exp === 'number' &&
    payload.exp + CLOCK_TOLERANCE_SECONDS > Date.now() / 1000
  );
}

/**
 * Login JWTs, verified by passport-jwt against the identity provider's JWKS. RS256 and ES256
 * only, `iss` and `aud` pinned, `exp` required. A token whose header names another algorithm
 * (`none`, HS256 …) or a malformed `kid` is refused before any key is looked up, and only a
 * signed, unexpired token for our issuer and audience may make the gateway fetch the JWKS.
 * Off (every token refused) when `AUTH_JWKS_URL` is unset.
 */
type KeyCallback = (error: unknown, key?: Buffer) => void;

@Injectable()
export class JwtLoginService {
  private readonly strategy?: JwtStrategy;

  constructor(config: AppConfig, @Inject(LOGGER) private readonly logger: Logger) {
    const jwt = config.jwt;
    if (!jwt) return;
    const keys = new JwksKeys(jwt.jwksUrl, logger);
    this.strategy = new JwtStrategy(
      {
        jwtFromRequest: (attempt: LoginAttempt) => attempt.token,
        secretOrKeyProvider: (attempt: LoginAttempt, _raw: unknown, done: KeyCallback) => {
          const kid = acceptableKid(attempt.token);
          if (kid === null) {
            done(new InvalidLoginToken('unsupported algorithm or malformed kid'));
            return;
          }
          const mayFetch = () => !attempt.offline && worthAFetch(attempt.token, jwt.issuer, jwt.audience);
          keys.keyFor(kid, mayFetch).then(
            // jsonwebtoken verifies with a KeyObject as it is; its declared types only lag behind.
            (key) => (key ? done(null, key as unknown as Buffer) : done(new InvalidLoginToken('unknown signing key'))),
            (error: unknown) => done(error),
          );
        },
        // At the top level: passport-jwt overwrites these three in jsonWebTokenOptions.
        algorithms: ALGORITHMS,
        issuer: jwt.issuer,
        audience: jwt.audience,
        jsonWebTokenOptions: { clockTolerance: CLOCK_TOLERANCE_SECONDS },
      },
      (payload: Record<string, unknown>, done: VerifiedCallback) => {
        const caller = callerFromClaims(payload, jwt);
        if (typeof caller === 'string') done(null, false, new InvalidLoginToken(caller));
        else done(null, caller);
      },
    );
  }

  /**
   * The caller of a login token, or null when the token is not a valid login (or login is
   * off). Throws `UnavailableError` when the identity provider cannot be reached for its key.
   * `offline` verifies with keys already known and never fetches the JWKS.
   */
  verify(token: string, offline = false): Promise<Caller | null> {
    const strategy = this.strategy;
    if (!strategy) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      // How passport itself runs a strategy: a fresh object per attempt carrying the outcomes.
      const attempt = Object.create(strategy) as JwtStrategy;
      attempt.success = (caller: Caller) => resolve(caller);
      attempt.fail = (reason: unknown) => {
        if (reason instanceof UnavailableError) {
          reject(reason);
          return;
        }
        this.logger.debug({ reason: reason instanceof Error ? reason.message : reason }, 'login token refused');
        resolve(null);
      };
      attempt.error = (error: unknown) => reject(error instanceof Error ? error : new Error(String(error)));
      attempt.authenticate({ token, offline } satisfies LoginAttempt as unknown as Request);
    });
  }
}
