import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { lookup as dnsLookupAll } from 'node:dns/promises';
import { isIP, LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { buildConnector } from 'undici';
import { storedTextProblem } from '../common/validation/stored-text';

/** Longest webhook URL accepted (API.md §7). */
export const MAX_WEBHOOK_URL_LENGTH = 2048;
/** A resolver that does not answer in time does not hold a request; the delivery-time check still guards. */
const CREATION_LOOKUP_TIMEOUT_MS = 5000;
const NO_SUCH_HOST = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME']);
/** IANA's global unicast block: every public IPv6 address lies in it. */
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/** An attempt to reach an address that webhooks may not call. */
export class NonPublicAddressError extends Error {
  readonly code = 'ENONPUBLIC';

  constructor(host: string, address: string) {
    super(host === address ? `address ${address} is not public` : `host ${host} resolves to ${address}, which is not public`);
    this.name = 'NonPublicAddressError';
  }
}

/**
 * Whether webhooks may call `address`: public unicast only. Loopback, private, link-local,
 * carrier-grade NAT, multicast, broadcast, unspecified, documentation and other reserved ranges are
 * refused, and so is an IPv4 address dressed as IPv6 (`::ffff:10.0.0.1`, NAT64, 6to4, Teredo).
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  if (parsed.range() !== 'unicast') return false;
  return parsed.kind() === 'ipv4' || (parsed as ipaddr.IPv6).match(IPV6_GLOBAL_UNICAST);
}

/** The host as the resolver and `net.isIP` take it: an IPv6 literal without its brackets. */
function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** What is wrong with the form of a webhook URL, or null; no network access. */
export function urlFormProblem(value: unknown): string | null {
  const textProblem = storedTextProblem(value, { min: 1, max: MAX_WEBHOOK_URL_LENGTH });
  if (textProblem) return textProblem;
  const raw = value as string;
  if (/[\s\p{Cc}]/u.test(raw)) return 'must be a URL without spaces or control characters';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an absolute http or https URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.hostname === '') return 'must name a host';
  return null;
}

/**
 * Why the URL's host may not be called, or null: it is a non-public address, or a name that
 * resolves to one (any of its addresses), or a name that does not exist. A resolver that fails
 * otherwise or is slow does not block the caller: every delivery checks the address it connects to.
 */
export async function urlHostProblem(rawUrl: string): Promise<string | null> {
  const host = bareHost(new URL(rawUrl));
  if (isIP(host)) return isPublicAddress(host) ? null : 'must not point to a loopback, private or otherwise non-public address';
  let addresses: LookupAddress[];
  let timer: NodeJS.Timeout | undefined;
  try {
    addresses = await Promise.race([
      dnsLookupAll(host, { all: true, verbatim: true }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('lookup timed out')), CREATION_LOOKUP_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    return NO_SUCH_HOST.has((error as NodeJS.ErrnoException).code ?? '') ? 'must name a host that resolves' : null;
  } finally {
    clearTimeout(timer);
  }
  const blocked = addresses.find((a) => !isPublicAddress(a.address));
  return blocked ? `must not point to a loopback, private or otherwise non-public address (${host} resolves to ${blocked.address})` : null;
}

/** `net.connect`'s resolver, refusing a name when any of its addresses is not public. */
const publicOnlyLookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void): void => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error);
    const blocked = addresses.find((a) => !isPublicAddress(a.address));
    if (blocked) return callback(new NonPublicAddressError(hostname, blocked.address));
    if (addresses.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }));
    if (options.all) return callback(null, addresses);
    return callback(null, addresses[0].address, addresses[0].family);
  });
}) as unknown as LookupFunction;

/**
 * undici's connector, checking the address each connection is really made to: literal addresses
 * before connecting, names through a resolver that only hands out public addresses. Pooled
 * connections are reused only for the origin they were checked for.
 */
export function publicOnlyConnector(connectTimeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: connectTimeoutMs, lookup: publicOnlyLookup });
  return (options, callback) => {
    if (isIP(options.hostname) && !isPublicAddress(options.hostname)) {
      callback(new NonPublicAddressError(options.hostname, options.hostname), null);
      return;
    }
    connect(options, callback);
  };
}
