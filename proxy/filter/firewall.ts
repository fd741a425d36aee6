// The `firewall` filter (SPEC §3 listeners[].filters): CIDR allow and deny lists, checked when a
// connection is accepted, before any byte is read or a TLS handshake is spent on it. Pure.
// Deny wins over allow; an empty allow list allows every address not denied (config/listener-schema.ts).

import type { FirewallFilterConfig } from '../config/schema.js';
import { compileCidrs, parseIp } from './cidr.js';

export interface Firewall {
  /** Whether a client at `remoteAddress` (as the socket reports it) may connect. An address that
   *  does not parse (a closed socket reports none) is refused. */
  allows(remoteAddress: string | undefined): boolean;
}

export function createFirewall(config: FirewallFilterConfig): Firewall {
  const allow = compileCidrs(config.allow);
  const deny = compileCidrs(config.deny);
  const allowAll = allow.size === 0;
  return {
    allows(remoteAddress) {
      if (remoteAddress === undefined) return false;
      const ip = parseIp(remoteAddress);
      if (ip === undefined) return false;
      if (deny.has(ip)) return false;
      return allowAll || allow.has(ip);
    },
  };
}
