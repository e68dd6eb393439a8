import ipaddr from 'ipaddr.js';

/**
 * Whether an IP address is a public one: IPv4 and IPv6 global unicast only. Loopback, private,
 * link-local (169.254.169.254, the cloud metadata service), carrier-grade NAT, multicast,
 * reserved, and the IPv6 forms that embed an IPv4 address (mapped, 6to4, Teredo, NAT64) are not.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

/** Which addresses a server-side fetch may connect to. */
export type AddressPolicy = (address: string) => boolean;

export const publicAddressesOnly: AddressPolicy = isPublicAddress;
export const anyAddress: AddressPolicy = () => true;
