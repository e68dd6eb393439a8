/** The contract's organization ids: opaque strings of 1..128 characters. */
export const MAX_ORG_ID_LENGTH = 128;

export function isOrgId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ORG_ID_LENGTH;
}
