/** A canonical ULID: 26 upper-case Crockford base32 characters, the first at most 7. */
export const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/** Ids of sessions and API keys are ULIDs; anything else names no stored row. */
export function isUlid(value: string): boolean {
  return ULID_PATTERN.test(value);
}
