import { capabilitiesOfRole, isCapability } from '../../src/auth/capability';
import { callerFromClaims } from '../../src/auth/jwt/login-claims';

const names = { orgClaim: 'org_id', roleClaim: 'role' };
const exp = 2_000_000_000;

describe('role → capabilities', () => {
  it('follows the contract', () => {
    expect(capabilitiesOfRole('owner')).toEqual(['read', 'send', 'manage', 'ingest']);
    expect(capabilitiesOfRole('admin')).toEqual(['read', 'send', 'manage', 'ingest']);
    expect(capabilitiesOfRole('member')).toEqual(['read', 'send']);
    expect(capabilitiesOfRole('viewer')).toEqual(['read']);
  });

  it('gives any other role nothing, including names inherited by every object', () => {
    for (const role of ['Owner', 'root', '', 'toString', '__proto__', 'constructor', undefined, null, 1, ['owner'], { owner: true }]) {
      expect(capabilitiesOfRole(role)).toEqual([]);
    }
  });

  it('recognises exactly the four capabilities', () => {
    expect(['read', 'send', 'manage', 'ingest'].every(isCapability)).toBe(true);
    for (const value of ['READ', 'admin', '', null, 1]) expect(isCapability(value)).toBe(false);
  });
});

describe('login claims → caller', () => {
  it('reads the organization, subject and role', () => {
    expect(callerFromClaims({ exp, org_id: 'acme', sub: 'alice', role: 'member' }, names)).toEqual({
      kind: 'user',
      orgId: 'acme',
      subject: 'alice',
      capabilities: ['read', 'send'],
    });
  });

  it('uses the configured claim names', () => {
    const caller = callerFromClaims({ exp, tenant: 'globex', perm: 'viewer', org_id: 'ignored', role: 'owner' }, {
      orgClaim: 'tenant',
      roleClaim: 'perm',
    });
    expect(caller).toMatchObject({ orgId: 'globex', capabilities: ['read'] });
  });

  it('refuses a token without exp or without a usable organization', () => {
    expect(typeof callerFromClaims({ org_id: 'acme', role: 'owner' }, names)).toBe('string');
    for (const org of [undefined, '', 7, ['acme'], { id: 'acme' }, 'o'.repeat(129)]) {
      expect(typeof callerFromClaims({ exp, org_id: org, role: 'owner' }, names)).toBe('string');
    }
    expect(callerFromClaims({ exp, org_id: 'o'.repeat(128) }, names)).toMatchObject({ orgId: 'o'.repeat(128) });
  });

  it('keeps a token with an unknown or missing role, with no capabilities', () => {
    expect(callerFromClaims({ exp, org_id: 'acme' }, names)).toMatchObject({ capabilities: [], subject: '' });
  });
});
