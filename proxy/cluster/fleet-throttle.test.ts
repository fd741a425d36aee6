// FleetThrottle over a fake shared bucket (the Redis one is tested in store/fleet-limits.test.ts):
// what the cluster sees — go / wait then release / reject — and how it leases.

import { describe, expect, it } from 'vitest';
import { ManualTimers } from '../session/testing.js';
import type { TokenSource } from '../store/fleet-limits.js';
import { FleetThrottle } from './fleet-throttle.js';

interface Item {
  readonly deadline: number;
  waiting: boolean;
  released?: boolean;
}

/** A bucket the test answers by hand: each lease waits for grant() or fail(). */
class HandBucket implements TokenSource {
  readonly asks: Array<{ want: number; rate: number; burst: number; grant(n: number, retryMs?: number): Promise<void>; fail(): Promise<void> }> = [];

  lease(_key: string, rate: number, burst: number, want: number): Promise<{ granted: number; retryMs: number }> {
    return new Promise((resolve, reject) => {
      this.asks.push({
        want,
        rate,
        burst,
        async grant(n, retryMs = 0) {
          resolve({ granted: n, retryMs });
          await Promise.resolve();
        },
        async fail() {
          reject(new Error('redis unreachable'));
          await Promise.resolve().then(() => undefined);
        },
      });
    });
  }

  last() {
    return this.asks[this.asks.length - 1]!;
  }
}

function setup(rate = 500) {
  const timers = new ManualTimers();
  const bucket = new HandBucket();
  const released: Item[] = [];
  const throttle = new FleetThrottle<Item>(
    rate,
    'k',
    bucket,
    timers,
    (i) => i.waiting,
    (i) => {
      i.waiting = false;
      released.push(i);
    },
  );
  const item = (deadline = 10_000): Item => ({ deadline, waiting: true });
  return { timers, bucket, throttle, released, item };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('FleetThrottle', () => {
  it('leases 1% of the rate from a bucket of 5% burst, and sends from the leased pool without asking again', async () => {
    const { bucket, throttle, released, item } = setup(500);
    const first = item();
    expect(throttle.admit(first)).toBe('wait');
    expect(bucket.asks).toHaveLength(1);
    expect(bucket.last()).toMatchObject({ want: 5, rate: 500, burst: 25 });
    await bucket.last().grant(5);
    expect(released).toEqual([first]);
    // Four tokens in hand: the next four go at once, without a lease.
    for (let i = 0; i < 3; i++) expect(throttle.admit(item())).toBe('go');
    expect(bucket.asks).toHaveLength(1);
    // The last token in hand refills ahead of need.
    expect(throttle.admit(item())).toBe('go');
    expect(bucket.asks).toHaveLength(2);
  });

  it('releases waiters oldest first as tokens come, waiting for the refill the bucket announces', async () => {
    const { bucket, throttle, released, item, timers } = setup(100);
    const items = [item(), item(), item()];
    for (const i of items) expect(throttle.admit(i)).toBe('wait');
    expect(throttle.waiting).toBe(3);
    expect(bucket.asks).toHaveLength(1); // one lease at a time
    await bucket.last().grant(1);
    expect(released).toEqual([items[0]]);
    // A full grant: ask again at once for those still waiting.
    expect(bucket.asks).toHaveLength(2);
    await bucket.last().grant(0, 20);
    // The bucket is empty: ask again when it says tokens will be there.
    timers.advance(19);
    expect(bucket.asks).toHaveLength(2);
    timers.advance(1);
    expect(bucket.asks).toHaveLength(3);
    await bucket.last().grant(1);
    expect(released).toEqual([items[0], items[1]]);
    await bucket.last().grant(1);
    expect(released).toEqual(items);
    expect(throttle.waiting).toBe(0);
  });

  it('refuses at once what could not get a token before its deadline even at the whole fleet rate', () => {
    const { throttle, item } = setup(10); // 100 ms per token
    expect(throttle.admit(item(50))).toBe('reject');
    expect(throttle.admit(item(150))).toBe('wait');
    expect(throttle.admit(item(150))).toBe('reject'); // second in line: 200 ms
  });

  it('skips waiters that left (deadline) and hands their token to the next', async () => {
    const { bucket, throttle, released, item } = setup(100);
    const [a, b] = [item(), item()];
    throttle.admit(a);
    throttle.admit(b);
    a.waiting = false;
    throttle.forget();
    await bucket.last().grant(1);
    expect(released).toEqual([b]);
  });

  it('fails closed while the bucket cannot be asked, and asks again', async () => {
    const { bucket, throttle, released, item, timers } = setup(100);
    const a = item();
    throttle.admit(a);
    await bucket.last().fail();
    await flush();
    expect(released).toEqual([]);
    expect(bucket.asks).toHaveLength(1);
    timers.advance(250);
    expect(bucket.asks).toHaveLength(2);
    await bucket.last().grant(1);
    expect(released).toEqual([a]);
  });

  it('drain() hands back the waiters and stops asking', async () => {
    const { bucket, throttle, item, timers } = setup(100);
    const [a, b] = [item(), item()];
    throttle.admit(a);
    throttle.admit(b);
    await bucket.last().grant(0, 50);
    expect(throttle.drain()).toEqual([a, b]);
    timers.advance(1_000);
    expect(bucket.asks).toHaveLength(1);
  });
});
