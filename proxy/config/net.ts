// host:port and CIDR syntax for config values. Pure string checks (no DNS): a hostname is checked for
// shape only, so a config that names a Kubernetes Service validates before that Service exists.

import { isIP, isIPv4, isIPv6 } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

const BRACKETED = /^\[([^\]]+)\]:(\d{1,5})$/;
const PLAIN = /^([^:[\]]+):(\d{1,5})$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** "host:port", "1.2.3.4:2775" or "[::1]:2775" -> parts; undefined when malformed or port > 65535. */
export function parseHostPort(text: string): HostPort | undefined {
  const bracketed = BRACKETED.exec(text);
  if (bracketed) {
    const [, host, port] = bracketed as unknown as [string, string, string];
    return isIPv6(host) ? withPort(host, port) : undefined;
  }
  const plain = PLAIN.exec(text);
  if (!plain) return undefined;
  const [, host, port] = plain as unknown as [string, string, string];
  return isIPv4(host) || HOSTNAME.test(host) ? withPort(host, port) : undefined;
}

function withPort(host: string, portText: string): HostPort | undefined {
  const port = Number(portText);
  return port <= 65_535 ? { host, port } : undefined;
}

/** "10.0.0.0/8", "2001:db8::/32", or a bare address (a single host). */
export function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash === -1) return true;
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}
