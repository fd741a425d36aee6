import { describe, expect, it } from 'vitest';
import { createBackoff, fullJitterDelay, type Rng } from './backoff.js';

const opts = { initialMs: 200, maxMs: 5_000 };
const ALMOST_ONE = 0.999_999_9;

function seeded(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fullJitterDelay', () => {
  it('the upper bound doubles per attempt up to the cap', () => {
    const highs = [0, 1, 2, 3, 4, 5, 6].map((n) => fullJitterDelay(n, opts, () => ALMOST_ONE));
    expect(highs).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('the lower bound is zero', () => {
    expect(fullJitterDelay(4, opts, () => 0)).toBe(0);
  });

  it('stays within [0, cap] for any attempt, including absurd ones and an rng returning 1', () => {
    expect(fullJitterDelay(1e9, opts, () => 1)).toBe(5000);
    expect(fullJitterDelay(Number.MAX_SAFE_INTEGER, opts, () => 0.5)).toBe(2500);
    expect(fullJitterDelay(-3, opts, () => ALMOST_ONE)).toBe(200);
  });

  it('spreads delays across the whole range, so reconnecting replicas do not move in lockstep', () => {
    const rng = seeded(11);
    const samples = Array.from({ length: 1000 }, () => fullJitterDelay(3, opts, rng));
    expect(Math.min(...samples)).toBeLessThan(160);
    expect(Math.max(...samples)).toBeGreaterThan(1440);
    expect(samples.every((d) => Number.isInteger(d) && d >= 0 && d <= 1600)).toBe(true);
    expect(new Set(samples).size).toBeGreaterThan(400);
  });

  it('rejects nonsensical options', () => {
    expect(() => fullJitterDelay(0, { initialMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => fullJitterDelay(0, { initialMs: 10, maxMs: 5 })).toThrow(RangeError);
  });
});

describe('createBackoff (decorrelated, the default)', () => {
  it('grows by up to 3x per attempt and caps at max', () => {
    const b = createBackoff({ ...opts, rng: () => ALMOST_ONE });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([600, 1800, 5000, 5000, 5000]);
    expect(b.attempts).toBe(5);
  });

  it('never waits less than the initial delay', () => {
    const b = createBackoff({ ...opts, rng: () => 0 });
    expect([b.next(), b.next(), b.next()]).toEqual([200, 200, 200]);
  });

  it('stays within [initial, max] with a uniform rng', () => {
    const b = createBackoff({ ...opts, rng: seeded(5) });
    const delays = Array.from({ length: 500 }, () => b.next());
    expect(delays.every((d) => Number.isInteger(d) && d >= 200 && d <= 5000)).toBe(true);
    expect(Math.max(...delays)).toBeGreaterThan(4500); // it climbs to the cap region, then jitters below it
  });

  it('reset() starts the sequence over', () => {
    const b = createBackoff({ ...opts, rng: () => ALMOST_ONE });
    b.next();
    b.next();
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(600);
  });
});

describe('createBackoff (full jitter)', () => {
  it('follows fullJitterDelay by attempt and restarts on reset', () => {
    const b = createBackoff({ ...opts, strategy: 'full', rng: () => ALMOST_ONE });
    expect([b.next(), b.next(), b.next()]).toEqual([200, 400, 800]);
    b.reset();
    expect(b.next()).toBe(200);
  });
});
