// IP addresses and CIDR sets for the firewall filter and clients' `allowed_ips`. Pure.
//
// IPv4 and IPv6 are kept apart: an IPv4 rule matches IPv4 clients, an IPv6 rule IPv6 clients. A
// dual-stack listener sees IPv4 clients as IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`, RFC 4291
// §2.5.5.2); those are turned back into IPv4 before matching, and so are rules written inside
// ::ffff:0:0/96, so `10.0.0.0/8` means the same client however the socket reports it.
// Sets are compiled once (at config load); a lookup parses the address once and compares integers.

import { isIPv4, isIPv6 } from 'node:net';

/** A parsed address: IPv4 as one unsigned 32-bit number, IPv6 as eight 16-bit groups. */
export type IpAddress = { readonly family: 4; readonly v4: number } | { readonly family: 6; readonly v6: readonly number[] };

/** The address, or undefined when `text` is not an IP address. IPv4-mapped IPv6 comes out as IPv4. */
export function parseIp(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { family: 4, v4: parseV4(text) };
  const zone = text.indexOf('%');
  const bare = zone === -1 ? text : text.slice(0, zone);
  if (!isIPv6(bare)) return undefined;
  const groups = parseV6(bare);
  if (isMapped(groups)) return { family: 4, v4: ((groups[6]! << 16) | groups[7]!) >>> 0 };
  return { family: 6, v6: groups };
}

/** `a.b.c.d` for IPv4 (also for IPv4-mapped IPv6), the input otherwise: for logs and keys. */
export function normaliseIp(text: string): string {
  const ip = parseIp(text);
  return ip?.family === 4 ? formatV4(ip.v4) : text;
}

function parseV4(text: string): number {
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function formatV4(v4: number): string {
  return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
}

/** Eight groups from a valid IPv6 text (checked by isIPv6), with `::` and a dotted IPv4 tail expanded. */
function parseV6(text: string): number[] {
  let body = text;
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    // "::ffff:1.2.3.4" -> "::ffff:102:304"
    const v4 = parseV4(body.slice(lastColon + 1));
    body = `${body.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const half = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const gap = body.indexOf('::');
  if (gap === -1) return half(body);
  const head = half(body.slice(0, gap));
  const rest = half(body.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
}

function isMapped(g: readonly number[]): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

interface V4Rule {
  readonly network: number;
  readonly mask: number;
}

interface V6Rule {
  readonly groups: readonly number[];
  readonly prefix: number;
}

export interface CidrSet {
  /** Whether the address (parsed, or as text) lies in one of the set's ranges. Text that is not an
   *  IP address is in no range. */
  has(address: IpAddress | string): boolean;
  readonly size: number;
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function v6Contains(rule: V6Rule, g: readonly number[]): boolean {
  let bits = rule.prefix;
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((g[i]! & mask) !== (rule.groups[i]! & mask)) return false;
  }
  return true;
}

/**
 * Compiles "10.0.0.0/8", "2001:db8::/32" or bare addresses (one host). The config schema has
 * validated the syntax (config/net.ts isCidr); an entry that still does not parse throws.
 */
export function compileCidrs(entries: readonly string[]): CidrSet {
  const v4: V4Rule[] = [];
  const v6: V6Rule[] = [];
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const addressText = slash === -1 ? entry : entry.slice(0, slash);
    const address = parseIp(addressText);
    if (address === undefined) throw new RangeError(`not an IP address or CIDR: ${entry}`);
    const written = slash === -1 ? undefined : Number(entry.slice(slash + 1));
    // A rule written as IPv4-mapped IPv6 became IPv4 in parseIp; its prefix counts from bit 96.
    const mappedV6 = address.family === 4 && isIPv6(addressText.split('%')[0]!);
    if (address.family === 4) {
      let prefix = written ?? 32;
      if (mappedV6 && written !== undefined) {
        // ::ffff:0:0/95 and shorter cover more than the mapped range: treat as every IPv4 address.
        prefix = Math.max(0, written - 96);
      }
      if (!(prefix >= 0 && prefix <= 32)) throw new RangeError(`bad prefix length: ${entry}`);
      const mask = v4Mask(prefix);
      v4.push({ network: (address.v4 & mask) >>> 0, mask });
    } else {
      const prefix = written ?? 128;
      if (!(prefix >= 0 && prefix <= 128)) throw new RangeError(`bad prefix length: ${entry}`);
      v6.push({ groups: address.v6, prefix });
    }
  }
  return {
    size: v4.length + v6.length,
    has(input) {
      const address = typeof input === 'string' ? parseIp(input) : input;
      if (address === undefined) return false;
      if (address.family === 4) {
        const a = address.v4;
        for (const r of v4) if (((a & r.mask) >>> 0) === r.network) return true;
        return false;
      }
      for (const r of v6) if (v6Contains(r, address.v6)) return true;
      return false;
    },
  };
}
