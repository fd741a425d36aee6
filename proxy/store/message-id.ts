// smppd's own message ids (SPEC §4 Submit: unique across replicas, <= 64 characters).
//
// id = prefix (14 chars, fixed) + counter in base36 (1..11 chars): at most 25 lowercase [0-9a-z].
//   prefix = start second (6 base36 chars: seconds since 2024-01-01, wraps after ~69 years)
//          + 8 base36 chars from crypto randomness (36^8 ≈ 2.8e12), drawn once per generator.
//
// Why unique:
// - One generator: the counter only grows, and stays exact up to 2^53 (285 years at 1e6 ids/s).
// - Two generators: the prefix has a fixed length, so two ids are equal only when both the prefixes
//   and the counters are. Generators started in different seconds have different prefixes; two
//   started in the same second (a rollout starting many pods) share one with probability 36^-8
//   ≈ 3.5e-13 per pair. A restarted process starts in a later second or draws a new random part,
//   so it does not repeat the ids of its previous life that the store may still hold (ttl 72h).
// Per id the cost is one number-to-string conversion and one concatenation: no crypto, no clock.

import { randomInt } from 'node:crypto';

export const MESSAGE_ID_PREFIX_LENGTH = 14;
const TIME_CHARS = 6;
const RANDOM_CHARS = MESSAGE_ID_PREFIX_LENGTH - TIME_CHARS;
const TIME_EPOCH_MS = Date.UTC(2024, 0, 1);
const TIME_MODULUS = 36 ** TIME_CHARS;
const PREFIX_PATTERN = /^[0-9a-z]{14}$/;

export interface MessageIdGenerator {
  /** The fixed 14-character prefix of every id this generator returns. */
  readonly prefix: string;
  /** The next id: prefix + counter in base36. */
  next(): string;
}

export interface MessageIdOptions {
  /** Use this prefix instead of a fresh one (tests); exactly 14 characters of [0-9a-z]. */
  readonly prefix?: string;
  /** Clock for the time part of a fresh prefix. */
  readonly now?: () => number;
}

/** A fresh prefix: start second + random part, as described at the top of this file. */
export function newMessageIdPrefix(now: () => number = Date.now): string {
  const seconds = Math.max(0, Math.floor((now() - TIME_EPOCH_MS) / 1000)) % TIME_MODULUS;
  let prefix = seconds.toString(36).padStart(TIME_CHARS, '0');
  for (let i = 0; i < RANDOM_CHARS; i++) prefix += randomInt(36).toString(36);
  return prefix;
}

class CounterIdGenerator implements MessageIdGenerator {
  readonly prefix: string;
  private counter = 0;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  next(): string {
    return this.prefix + (this.counter++).toString(36);
  }
}

export function createMessageIdGenerator(options: MessageIdOptions = {}): MessageIdGenerator {
  const prefix = options.prefix ?? newMessageIdPrefix(options.now);
  if (!PREFIX_PATTERN.test(prefix)) {
    // A shorter or longer prefix could make prefix+counter of one generator equal another's.
    throw new RangeError(`message id prefix must be ${MESSAGE_ID_PREFIX_LENGTH} characters of [0-9a-z]`);
  }
  return new CounterIdGenerator(prefix);
}
