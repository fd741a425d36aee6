// One address criterion (`prefix`, `regex` or `exact`, SPEC §3 routes[].match), compiled to test
// addresses without allocating: the route table tests routes with it, and the client filter tests
// clients[].allowed_sources. A leading '+' is ignored on both sides for `prefix` and `exact` when
// `ignorePlus` (route-table.ts says why); `regex` sees the address exactly as received.

import { charCode, startsWith } from '../smpp/string-calls.js';

/** One address criterion. Every field given must match (the config normally gives exactly one). */
export interface AddressMatch {
  prefix?: string;
  regex?: string;
  exact?: string;
}

export interface AddressTest {
  /** '+'-stripped when ignorePlus; undefined when absent. */
  prefix: string | undefined;
  exact: string | undefined;
  regex: RegExp | undefined;
  /** false for sender_id: compare as given. */
  ignorePlus: boolean;
}

const PLUS = 0x2b;

export function plusOffset(s: string): number {
  return charCode(s, 0) === PLUS ? 1 : 0;
}

export function stripPlus(s: string): string {
  return plusOffset(s) === 1 ? s.slice(1) : s;
}

/**
 * `m` compiled; `regex` is m.regex already compiled (callers report a bad one their own way).
 * `skip` leaves out a part the caller checks otherwise (the route table's destination trie).
 * undefined when nothing is left to test.
 */
export function addressTest(
  m: AddressMatch,
  ignorePlus: boolean,
  regex: RegExp | undefined,
  skip?: 'prefix' | 'exact',
): AddressTest | undefined {
  const norm = (s: string): string => (ignorePlus ? stripPlus(s) : s);
  const test: AddressTest = {
    prefix: m.prefix !== undefined && skip !== 'prefix' ? norm(m.prefix) : undefined,
    exact: m.exact !== undefined && skip !== 'exact' ? norm(m.exact) : undefined,
    regex,
    ignorePlus,
  };
  return test.prefix === undefined && test.exact === undefined && test.regex === undefined ? undefined : test;
}

// Allocation-free: offsets instead of sliced strings, because this runs per criterion per message.
export function addressMatches(t: AddressTest, value: string): boolean {
  const off = t.ignorePlus ? plusOffset(value) : 0;
  if (t.exact !== undefined) {
    if (value.length - off !== t.exact.length || !startsWith(value, t.exact, off)) return false;
  }
  if (t.prefix !== undefined && !startsWith(value, t.prefix, off)) return false;
  // No 'g'/'y' flags are ever set, so test() keeps no lastIndex state between messages.
  if (t.regex !== undefined && !t.regex.test(value)) return false;
  return true;
}
