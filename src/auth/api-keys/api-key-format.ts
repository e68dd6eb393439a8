import { createHash, randomBytes } from 'node:crypto';
import { isUlid } from '../../common/ulid';

const PREFIX = 'wgw_';
const SECRET_BYTES = 24; // 192 bits of randomness
const KEY_PATTERN = /^wgw_([A-Za-z0-9_-]{32})([A-Za-z0-9_-]{6})$/;
/** How much of the key is kept in clear, to tell keys apart in lists. */
const DISPLAY_PREFIX_LENGTH = 12;

function checksumOf(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url').slice(0, 6);
}

export interface GeneratedApiKey {
  key: string;
  prefix: string;
  hash: Buffer;
}

export function generateApiKey(): GeneratedApiKey {
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const key = `${PREFIX}${secret}${checksumOf(secret)}`;
  return { key, prefix: key.slice(0, DISPLAY_PREFIX_LENGTH), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** Whether the token claims to be an API key at all (then it never goes to the JWKS). */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(PREFIX);
}

/** Shape and checksum: a mistyped or made-up key is refused without a database query. */
export function isWellFormedApiKey(token: string): boolean {
  const match = KEY_PATTERN.exec(token);
  return match !== null && checksumOf(match[1]) === match[2];
}

export const isApiKeyId = isUlid;
