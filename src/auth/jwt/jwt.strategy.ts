import { Inject, Injectable, Optional } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Request } from 'express';
import { Algorithm } from 'jsonwebtoken';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import { Logger } from 'pino';
import { LOGGER } from '../../common/logging/logging.module';
import { AppConfig, JwtConfig } from '../../config/app-config';
import { Caller } from '../caller.decorator';
import { JwksKeys, JWKS_TIMEOUT_MS } from './jwks-keys';
import { callerFromClaims } from './login-claims';

/** The name the strategy is registered under with passport. */
export const JWT_STRATEGY = 'jwt';
/** Injection token for another JWKS fetch timeout than 3 s (tests that should not wait that long). */
export const JWKS_FETCH_TIMEOUT_MS = Symbol('JWKS_FETCH_TIMEOUT_MS');

const ALGORITHMS: Algorithm[] = ['RS256', 'ES256'];
const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_KID_LENGTH = 256;

/** What the global guard read from the request before handing it to the strategy. */
export interface LoginAttempt {
  /** The bearer token. */
  token: string;
  /** Verify with keys already known; never fetch the JWKS. */
  offline: boolean;
}

export interface LoginRequest extends Request {
  loginAttempt?: LoginAttempt;
}

/** Why a token was refused before or during verification (passport's failure challenge). */
export class InvalidLoginToken extends Error {}

type KeyCallback = (error: unknown, key?: Buffer) => void;

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

/** Looks the signing key up in the JWKS, for passport-jwt; refuses everything when login is off. */
function keyProvider(jwt: JwtConfig | undefined, logger: Logger, fetchTimeoutMs: number) {
  if (!jwt) {
    return (_request: LoginRequest, _token: string, done: KeyCallback) => done(new InvalidLoginToken('login tokens are off'));
  }
  const keys = new JwksKeys(jwt.jwksUrl, logger, fetchTimeoutMs);
  return (request: LoginRequest, token: string, done: KeyCallback) => {
    const kid = acceptableKid(token);
    if (kid === null) {
      done(new InvalidLoginToken('unsupported algorithm or malformed kid'));
      return;
    }
    const offline = request.loginAttempt?.offline ?? false;
    const mayFetch = () => !offline && worthAFetch(token, jwt.issuer, jwt.audience);
    keys.keyFor(kid, mayFetch).then(
      // jsonwebtoken verifies with a KeyObject as it is; its declared types only lag behind.
      (key) => (key ? done(null, key as unknown as Buffer) : done(new InvalidLoginToken('unknown signing key'))),
      (error: unknown) => done(error),
    );
  };
}

/**
 * Login JWTs, verified by passport-jwt against the identity provider's JWKS. RS256 and ES256
 * only, `iss` and `aud` pinned, `exp` required. A token whose header names another algorithm
 * (`none`, HS256 …) or a malformed `kid` is refused before any key is looked up, and only a
 * signed, unexpired token for our issuer and audience may make the gateway fetch the JWKS.
 * Off (every token refused) when `AUTH_JWKS_URL` is unset. The global guard runs it through
 * `passport.authenticate()` for every bearer token that is not an API key.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  // Not a class field: the mixin's constructor registers the strategy (through
  // getPassportInstance) before this class's fields would be initialized.
  private declare ownPassport?: passport.Authenticator;
  private readonly claims?: JwtConfig;

  constructor(
    config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(JWKS_FETCH_TIMEOUT_MS) fetchTimeoutMs: number = JWKS_TIMEOUT_MS,
  ) {
    const jwt = config.jwt;
    super({
      jwtFromRequest: (request: LoginRequest) => request.loginAttempt?.token ?? null,
      secretOrKeyProvider: keyProvider(jwt, logger, fetchTimeoutMs),
      // At the top level: passport-jwt overwrites these three in jsonWebTokenOptions.
      algorithms: ALGORITHMS,
      issuer: jwt?.issuer,
      audience: jwt?.audience,
      jsonWebTokenOptions: { clockTolerance: CLOCK_TOLERANCE_SECONDS },
    });
    this.claims = jwt;
  }

  /**
   * This app's own passport, which the strategy registers with: on the process-wide one, the
   * strategy of the app built last would serve every app in the process (as tests build them).
   */
  getPassportInstance(): passport.Authenticator {
    return (this.ownPassport ??= new passport.Authenticator());
  }

  /** The caller of a verified token, or false (refused) when its claims do not name one. */
  validate(payload: Record<string, unknown>): Caller | false {
    const caller = callerFromClaims(payload, this.claims!);
    if (typeof caller !== 'string') return caller;
    this.logger.debug({ reason: caller }, 'login token refused');
    return false;
  }
}
