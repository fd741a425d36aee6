// Slows down repeated bind failures from one address (SPEC §4: "repeated failures from one address
// are slowed down"). Each credential failure (unknown system_id, wrong password) adds 1 to the
// address's score, which halves every `halfLifeMs`; the failure response is held back
//   min(maxDelayMs, baseDelayMs * 2^(score - 1))
// so the 1st failure waits baseDelayMs, a quick 2nd twice that, a 3rd four times, and a client that
// mistyped once an hour ago is not punished today. Successful binds are never delayed.
//
// Memory is bounded: at most `maxEntries` addresses, the one that failed longest ago is forgotten
// first. IPv6 clients are keyed by their /64 (one subscriber's allocation), so cycling through the
// addresses of one prefix neither evades the slowdown nor floods the table.

import { parseIp } from './cidr.js';

export interface AuthFailureOptions {
  /** Clock in ms (default performance.now). */
  now?: () => number;
  /** Delay of the first failure (default 250 ms). */
  baseDelayMs?: number;
  /** Longest delay (default 5 s: below the bind timeouts of common clients). */
  maxDelayMs?: number;
  /** Time for a score to halve (default 60 s). */
  halfLifeMs?: number;
  /** Addresses remembered (default 10,000). */
  maxEntries?: number;
}

export interface AuthFailures {
  /** Records a failure from `remoteAddress`; returns how long to hold back its response (ms). */
  record(remoteAddress: string | undefined): number;
  /** The current (decayed) score of the address: about the number of recent failures. */
  score(remoteAddress: string | undefined): number;
  /** Addresses remembered. */
  readonly size: number;
}

/** A score below this is forgotten (about 7 half-lives after a single failure). */
const STALE_SCORE = 0.01;

interface Entry {
  score: number;
  at: number;
}

/** The key an address's failures are counted under. */
export function failureKey(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return '?';
  const ip = parseIp(remoteAddress);
  if (ip === undefined) return remoteAddress;
  if (ip.family === 4) return `${ip.v4}`;
  return ip.v6.slice(0, 4).map((g) => g.toString(16)).join(':') + '::/64';
}

export function createAuthFailures(options: AuthFailureOptions = {}): AuthFailures {
  const now = options.now ?? (() => performance.now());
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 5_000;
  const halfLife = options.halfLifeMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  if (!(base >= 0 && max >= base && halfLife > 0 && maxEntries >= 1)) {
    throw new RangeError('auth failure slowdown: need 0 <= baseDelayMs <= maxDelayMs, halfLifeMs > 0, maxEntries >= 1');
  }
  // Insertion order = order of last failure: the first key is the one to forget.
  const entries = new Map<string, Entry>();

  function decayed(e: Entry, t: number): number {
    return t > e.at ? e.score * Math.pow(0.5, (t - e.at) / halfLife) : e.score;
  }

  /** Drops a few entries from the old end whose score has decayed to nothing (no timer needed). */
  function forgetStale(t: number): void {
    for (let i = 0; i < 4; i++) {
      const first = entries.entries().next().value;
      if (first === undefined || decayed(first[1], t) >= STALE_SCORE) return;
      entries.delete(first[0]);
    }
  }

  return {
    record(remoteAddress) {
      const key = failureKey(remoteAddress);
      const t = now();
      forgetStale(t);
      const e = entries.get(key);
      const score = (e === undefined ? 0 : decayed(e, t)) + 1;
      if (e !== undefined) entries.delete(key);
      else if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { score, at: Math.max(t, e?.at ?? t) });
      return Math.min(max, base * Math.pow(2, score - 1));
    },
    score(remoteAddress) {
      const e = entries.get(failureKey(remoteAddress));
      return e === undefined ? 0 : decayed(e, now());
    },
    get size() {
      return entries.size;
    },
  };
}
