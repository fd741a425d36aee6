// Who may read /config and call POST endpoints (SPEC §5):
//
// - with a token configured (`admin.token`, or `admin.token_file` resolved by the config loader):
//   only requests carrying `Authorization: Bearer <token>`, from anywhere; others get 401;
// - with no token: only requests from a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.x.x), so a
//   proxy started without a token is still operable with curl on its own host or through
//   `kubectl port-forward`; others get 403.
//
// The peer address is the socket's (fastify's trustProxy is off): an X-Forwarded-For header cannot
// make a remote request look local.

import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

export type AuthDecision =
  | { allowed: true }
  | { allowed: false; status: 401 | 403; reason: 'missing_token' | 'wrong_token' | 'not_loopback' };

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.x.x.x. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped ? mapped[1]! : address;
  if (isIPv4(v4)) return v4.startsWith('127.');
  if (!isIPv6(address)) return false;
  // The URL parser writes an IPv6 address in its one canonical form ("0:0:0:0:0:0:0:1" -> "::1",
  // "::ffff:7f00:1" stays hex): compare against that rather than every spelling.
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname;
  } catch {
    return false; // a zone id ("fe80::1%eth0") is never loopback
  }
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/** The token of an `Authorization: Bearer <token>` header; undefined when absent or another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match ? match[1] : undefined;
}

/**
 * Constant-time comparison: both sides are hashed first, so neither the content nor the length of
 * the configured token leaks through the time an answer takes.
 */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function authorize(
  request: { authorization: string | undefined; remoteAddress: string | undefined },
  token: string | undefined,
): AuthDecision {
  if (token === undefined || token === '') {
    return isLoopbackAddress(request.remoteAddress)
      ? { allowed: true }
      : { allowed: false, status: 403, reason: 'not_loopback' };
  }
  const given = bearerToken(request.authorization);
  if (given === undefined) return { allowed: false, status: 401, reason: 'missing_token' };
  return tokenMatches(given, token) ? { allowed: true } : { allowed: false, status: 401, reason: 'wrong_token' };
}
