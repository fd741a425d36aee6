import { describe, expect, it } from 'vitest';
import { createTokenBucket, type TokenBucketLimits } from './token-bucket.js';

function setup(limits: TokenBucketLimits) {
  const clock = { t: 5_000 };
  const bucket = createTokenBucket({ ...limits, now: () => clock.t });
  const takeAll = (max = 10_000) => {
    let n = 0;
    while (n < max && bucket.take()) n++;
    return n;
  };
  return { clock, bucket, takeAll };
}

describe('token bucket', () => {
  it('starts full: a new client may send its burst at once, then is limited', () => {
    const { bucket, takeAll } = setup({ rate: 100, burst: 20 });
    expect(takeAll()).toBe(20);
    expect(bucket.take()).toBe(false);
  });

  it('refills at `rate` per second', () => {
    const { clock, takeAll } = setup({ rate: 100, burst: 20 });
    takeAll();
    clock.t += 50; // 5 tokens
    expect(takeAll()).toBe(5);
    clock.t += 1_000; // would be 100, capped at the burst
    expect(takeAll()).toBe(20);
  });

  it('sustains exactly `rate` per second over a long run', () => {
    const { clock, takeAll } = setup({ rate: 500, burst: 500 });
    takeAll();
    let sent = 0;
    for (let ms = 0; ms < 10_000; ms++) {
      clock.t += 1;
      sent += takeAll();
    }
    expect(sent).toBe(5_000);
  });

  it('burst defaults to one second of rate, and at least one token', () => {
    expect(setup({ rate: 50 }).takeAll()).toBe(50);
    const slow = setup({ rate: 0.5 });
    expect(slow.takeAll()).toBe(1);
    slow.clock.t += 1_999;
    expect(slow.bucket.take()).toBe(false);
    slow.clock.t += 1;
    expect(slow.bucket.take()).toBe(true);
  });

  it('take(n) takes all n or nothing', () => {
    const { bucket } = setup({ rate: 10, burst: 10 });
    expect(bucket.take(7)).toBe(true);
    expect(bucket.take(4)).toBe(false);
    expect(bucket.tokens).toBeCloseTo(3);
    expect(bucket.take(3)).toBe(true);
  });

  it('timeUntil(n) is how long to wait, and after waiting take(n) succeeds', () => {
    const { clock, bucket } = setup({ rate: 3, burst: 3 });
    expect(bucket.timeUntil()).toBe(0);
    expect(bucket.take(3)).toBe(true);
    const wait = bucket.timeUntil(1);
    expect(wait).toBe(334); // 1/3 s, rounded up to whole ms
    clock.t += wait - 1;
    expect(bucket.take()).toBe(false);
    clock.t += 1;
    expect(bucket.take()).toBe(true);
    expect(bucket.timeUntil(3)).toBe(1000);
  });

  it('a request larger than the burst can never pass', () => {
    const { clock, bucket } = setup({ rate: 10, burst: 5 });
    expect(bucket.timeUntil(6)).toBe(Infinity);
    clock.t += 60_000;
    expect(bucket.take(6)).toBe(false);
  });

  it('rate 0 means unlimited', () => {
    const { bucket, takeAll } = setup({ rate: 0 });
    expect(takeAll(100_000)).toBe(100_000);
    expect(bucket.timeUntil(1e9)).toBe(0);
    expect(bucket.tokens).toBe(Infinity);
  });

  it('a clock stepping backwards grants nothing extra', () => {
    const { clock, bucket, takeAll } = setup({ rate: 100, burst: 10 });
    takeAll();
    clock.t -= 10_000;
    expect(bucket.take()).toBe(false);
    clock.t += 10_000 + 10; // only the 10 ms past the latest reading count
    expect(takeAll()).toBe(1);
  });

  it('update() changes limits without granting a fresh burst', () => {
    const { clock, bucket, takeAll } = setup({ rate: 100, burst: 100 });
    takeAll();
    bucket.update({ rate: 10, burst: 50 });
    expect(bucket.take()).toBe(false);
    clock.t += 1_000;
    expect(takeAll()).toBe(10);
    bucket.update({ rate: 10, burst: 2 });
    clock.t += 10_000;
    expect(takeAll()).toBe(2);
  });

  it('update() from unlimited to limited starts with a full burst', () => {
    const { bucket, takeAll } = setup({ rate: 0 });
    takeAll(50);
    bucket.update({ rate: 20, burst: 20 });
    expect(takeAll()).toBe(20);
  });

  it('rejects nonsensical limits', () => {
    expect(() => createTokenBucket({ rate: -1 })).toThrow(RangeError);
    expect(() => createTokenBucket({ rate: Number.NaN })).toThrow(RangeError);
    expect(() => createTokenBucket({ rate: 10, burst: 0 })).toThrow(RangeError);
  });
});
