import { Caller } from '../caller.decorator';
import { capabilitiesOfRole } from '../capability';
import { isOrgId } from '../org-id';

export interface ClaimNames {
  orgClaim: string;
  roleClaim: string;
}

/**
 * The caller a verified login token stands for, or the reason it is refused. The signature,
 * `iss`, `aud` and `exp`'s value are checked before this; here `exp` must be present, the
 * organization claim a non-empty string, and the role is mapped to capabilities (an unknown
 * role gets none, so every route answers 403 rather than 401).
 */
export function callerFromClaims(payload: Record<string, unknown>, names: ClaimNames): Caller | string {
  if (typeof payload.exp !== 'number') return 'token has no exp claim';
  const org = payload[names.orgClaim];
  if (!isOrgId(org)) return `token has no valid ${names.orgClaim} claim`;
  return {
    kind: 'user',
    orgId: org,
    subject: typeof payload.sub === 'string' ? payload.sub : '',
    capabilities: capabilitiesOfRole(payload[names.roleClaim]),
  };
}
