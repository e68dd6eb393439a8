export const CAPABILITIES = ['read', 'send', 'manage', 'ingest'] as const;
export type Capability = (typeof CAPABILITIES)[number];

const ROLE_CAPABILITIES: Record<string, readonly Capability[]> = {
  owner: CAPABILITIES,
  admin: CAPABILITIES,
  member: ['read', 'send'],
  viewer: ['read'],
};

/** A login's role as capabilities; an unknown role has none. */
export function capabilitiesOfRole(role: unknown): readonly Capability[] {
  return typeof role === 'string' && Object.hasOwn(ROLE_CAPABILITIES, role) ? ROLE_CAPABILITIES[role] : [];
}

export function isCapability(value: unknown): value is Capability {
  return typeof value === 'string' && (CAPABILITIES as readonly string[]).includes(value);
}
