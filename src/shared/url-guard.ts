import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent } from 'undici';
import { BadRequestError } from './errors';

/**
 * Addresses a URL given by an API caller must never reach: this host, private and carrier-grade
 * NAT networks, link-local (cloud metadata at 169.254.169.254), multicast and reserved ranges, in
 * IPv4 and IPv6 (mapped and NAT64 forms included).
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv4');
// Mapped and NAT64 forms are checked by their IPv4 address (embeddedIpv4): a ::ffff:0:0/96 rule
// here would also match every IPv4 address, as BlockList checks those against mapped rules.
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv6');

/** The IPv4 address inside a mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 one. */
function embeddedIpv4(address: string): string | null {
  const m = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1] as string;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return null;
  const n = (parseInt(hex[1] as string, 16) << 16) | parseInt(hex[2] as string, 16);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedIpv4(address);
  if (v4 !== null) return BLOCKED.check(v4, 'ipv4');
  return BLOCKED.check(address, 'ipv6');
}

/** A URL without its credentials: what may be recorded or shown. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Where a caller-given URL may lead: https to public addresses, or any scheme to the hosts the
 * operator names (TTPGRAPH_IMPORT_ALLOWED_HOSTS: a mirror inside the network). Checked again on
 * every redirect hop; names are resolved by the connection's own lookup, so a name cannot
 * resolve to a public address for the check and a private one for the connection.
 */
export class UrlGuard {
  private readonly allowed: Set<string>;
  readonly dispatcher: Agent;

  constructor(allowedHosts: string[]) {
    this.allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
    this.dispatcher = new Agent({
      connect: {
        lookup: (hostname, options, callback) => this.lookup(hostname, options, callback),
      },
    });
  }

  private isAllowedHost(u: URL): boolean {
    const host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    return this.allowed.has(host) || this.allowed.has(u.host.toLowerCase());
  }

  /** Throws when the URL itself (scheme, host, credentials) may not be fetched. */
  check(url: string): URL {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new BadRequestError('url is not a valid URL');
    }
    if (this.isAllowedHost(u)) return u;
    if (u.protocol !== 'https:') {
      throw new BadRequestError(
        'url must be https (plain http only to the hosts in TTPGRAPH_IMPORT_ALLOWED_HOSTS)',
      );
    }
    const literal = u.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && isBlockedAddress(literal)) {
      throw new BadRequestError('url names an address this service does not fetch from');
    }
    return u;
  }

  private lookup(
    hostname: string,
    options: object,
    callback: (
      err: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      if (
        !this.allowed.has(hostname.toLowerCase()) &&
        list.some((a) => isBlockedAddress(a.address))
      ) {
        const refused: NodeJS.ErrnoException = new Error(
          `${hostname} resolves to a refused address`,
        );
        refused.code = 'EADDRREFUSED';
        return callback(refused, []);
      }
      const all = (options as { all?: boolean }).all === true;
      if (all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(new Error(`${hostname} has no address`), []);
      return callback(null, first.address, first.family);
    });
  }
}
