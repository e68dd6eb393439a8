import { createPublicKey, KeyObject } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';
import { Logger } from 'pino';
import { UnavailableError } from '../../common/errors/app-error';
import { timedOut, withTimeout } from '../../common/time';

/** How long a key from the JWKS is used before the JWKS is asked again. */
const KEY_TTL_MS = 10 * 60_000;
/** Fetches for keys not seen yet, per minute: a flood of made-up `kid`s costs the IdP this much. */
const JWKS_REQUESTS_PER_MINUTE = 10;
/** One JWKS fetch may take this long before the identity provider counts as down. */
export const JWKS_TIMEOUT_MS = 3000;
/** Only keys the JWKS actually served are kept, so this bound is never reached in practice. */
const MAX_KEYS = 100;

interface KnownKey {
  key: KeyObject;
  freshUntil: number;
}

/**
 * The signing keys of the identity provider, by `kid`, on top of jwks-rsa (which caches, rate
 * limits refetches and times them out). Keys are kept as parsed `KeyObject`s, so a verification
 * parses no PEM; and a key stays usable after its freshness ends while the JWKS cannot be
 * fetched, so an IdP outage only refuses tokens signed with keys never seen.
 */
export class JwksKeys {
  private readonly client: JwksClient;
  private readonly known = new Map<string, KnownKey>();
  private lastFetchFailed = false;

  constructor(
    jwksUrl: string,
    private readonly logger: Logger,
    private readonly timeoutMs = JWKS_TIMEOUT_MS,
  ) {
    this.client = new JwksClient({
      jwksUri: jwksUrl,
      cache: true,
      cacheMaxAge: KEY_TTL_MS,
      rateLimit: true,
      jwksRequestsPerMinute: JWKS_REQUESTS_PER_MINUTE,
      timeout: timeoutMs,
    });
  }

  /**
   * The key for `kid`, or null when the JWKS has no such key. Throws `UnavailableError` when the
   * JWKS cannot be fetched and no key seen before has that `kid`. The JWKS is only fetched when
   * `mayFetch()` says so (it is asked only then); otherwise a key seen before is used, however old.
   */
  async keyFor(kid: string | undefined, mayFetch: () => boolean): Promise<KeyObject | null> {
    const id = kid ?? '';
    const known = this.known.get(id);
    if (known && known.freshUntil > Date.now()) return known.key;
    if (!mayFetch()) return known?.key ?? null;
    try {
      const signingKey = await withTimeout(
        this.client.getSigningKey(kid),
        this.timeoutMs,
        timedOut(`JWKS fetch took longer than ${this.timeoutMs} ms`),
      );
      const key = createPublicKey(signingKey.getPublicKey());
      this.remember(id, key);
      this.lastFetchFailed = false;
      return key;
    } catch (error) {
      return this.afterFailedLookup(error, known);
    }
  }

  private afterFailedLookup(error: unknown, known: KnownKey | undefined): KeyObject | null {
    const name = error instanceof Error ? error.name : '';
    if (name === 'SigningKeyNotFoundError') {
      this.lastFetchFailed = false;
      return null;
    }
    if (name !== 'JwksRateLimitError') {
      this.lastFetchFailed = true;
      this.logger.warn({ err: error }, 'JWKS fetch failed');
    }
    if (known) return known.key;
    // Out of refetches: an unknown kid is refused, unless the last fetch showed the IdP is down.
    if (name === 'JwksRateLimitError' && !this.lastFetchFailed) return null;
    throw new UnavailableError('identity provider unavailable');
  }

  private remember(id: string, key: KeyObject): void {
    if (!this.known.has(id) && this.known.size >= MAX_KEYS) {
      this.known.delete(this.known.keys().next().value!);
    }
    this.known.set(id, { key, freshUntil: Date.now() + KEY_TTL_MS });
  }
}
