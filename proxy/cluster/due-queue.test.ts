import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemTimers } from '../session/index.js';
import { countingTimers } from '../session/testing.js';
import { DueQueue } from './due-queue.js';


describe('DueQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('calls onDue for each item at its time, earliest first, whatever the insertion order', async () => {
    const fired: Array<[string, number]> = [];
    const q = new DueQueue<string>(systemTimers, (item) => fired.push([item, Date.now() - 1_000_000]));
    q.add('c', 1_000_300);
    q.add('a', 1_000_100);
    q.add('b', 1_000_200);
    q.add('a2', 1_000_100);
    expect(q.size).toBe(4);
    await vi.advanceTimersByTimeAsync(99);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(300);
    expect(fired).toEqual([
      ['a', 100],
      ['a2', 100],
      ['b', 200],
      ['c', 300],
    ]);
    expect(q.size).toBe(0);
  });

  it('rounds due times up to its granularity and keeps one timer for many items', async () => {
    const timers = countingTimers();
    const fired: number[] = [];
    const q = new DueQueue<number>(timers, () => fired.push(Date.now() - 1_000_000), 10);
    for (let i = 0; i < 1000; i++) q.add(i, 1_000_000 + 1 + (i % 10));
    expect(timers.armed).toBe(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(fired).toHaveLength(1000);
    expect(new Set(fired)).toEqual(new Set([10]));
  });

  it('delete() removes an item before it is due', async () => {
    const fired: string[] = [];
    const q = new DueQueue<string>(systemTimers, (item) => fired.push(item));
    const ka = q.add('a', 1_000_050);
    q.add('b', 1_000_050);
    expect(q.delete('a', ka)).toBe(true);
    expect(q.delete('a', ka)).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual(['b']);
  });

  it('a bucket emptied early takes items again, each due once; an empty bucket fires nothing', async () => {
    const fired: string[] = [];
    const q = new DueQueue<string>(systemTimers, (item) => fired.push(item), 10);
    const k = q.add('a', 1_000_050);
    expect(q.delete('a', k)).toBe(true);
    expect(q.delete('a', k)).toBe(false);
    expect(q.add('b', 1_000_045)).toBe(k); // the same bucket, emptied before
    q.delete('b', k);
    q.add('c', 1_000_050);
    q.add('d', 1_000_200);
    const ke = q.add('e', 1_000_300);
    q.delete('e', ke);
    expect(q.size).toBe(2);
    await vi.advanceTimersByTimeAsync(400);
    expect(fired).toEqual(['c', 'd']);
    expect(q.size).toBe(0);
    expect(q.drain()).toEqual([]);
  });

  it('an earlier item re-arms the timer; items added from onDue are handled too', async () => {
    const fired: string[] = [];
    const q: DueQueue<string> = new DueQueue<string>(systemTimers, (item) => {
      fired.push(item);
      if (item === 'a') {
        q.add('from-a-now', Date.now());
        q.add('from-a-later', Date.now() + 500);
      }
    });
    q.add('late', 1_000_400);
    q.add('a', 1_000_100);
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual(['a', 'from-a-now']);
    await vi.advanceTimersByTimeAsync(300);
    expect(fired).toEqual(['a', 'from-a-now', 'late']);
    await vi.advanceTimersByTimeAsync(200);
    expect(fired).toEqual(['a', 'from-a-now', 'late', 'from-a-later']);
  });

  it('drain() hands back every waiting item and clears the timer', async () => {
    const fired: string[] = [];
    const q = new DueQueue<string>(systemTimers, (item) => fired.push(item));
    q.add('b', 1_000_200);
    q.add('a', 1_000_100);
    expect(q.drain()).toEqual(['a', 'b']);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(500);
    expect(fired).toEqual([]);
  });

  // 2^20 steps apart share a wheel slot at every wheel size up to 2^20 (the wheel stops at 2^16).
  const SAME_SLOT = 2 ** 20;

  it('a handle names its own bucket: once that bucket fired, a later one in the same slot is untouched', async () => {
    const fired: string[] = [];
    const q = new DueQueue<string>(systemTimers, (item) => fired.push(item));
    const h1 = q.add('x', 1_000_010);
    await vi.advanceTimersByTimeAsync(10);
    expect(fired).toEqual(['x']);
    expect(q.delete('x', h1)).toBe(false); // already due
    const h2 = q.add('x', 1_000_010 + SAME_SLOT); // the same slot, the same index, another time
    expect(h2).not.toBe(h1);
    expect(q.delete('x', h1)).toBe(false);
    expect(q.size).toBe(1);
    expect(q.delete('x', h2)).toBe(true);
    expect(q.delete('x', h2)).toBe(false);
    expect(q.size).toBe(0);
    await vi.advanceTimersByTimeAsync(SAME_SLOT);
    expect(fired).toEqual(['x']);
  });

  it('delete() of an item already due is false and leaves the rest alone', async () => {
    const fired: string[] = [];
    const q = new DueQueue<string>(systemTimers, (item) => fired.push(item), 10);
    const ha = q.add('a', 1_000_005);
    q.add('b', 1_000_500);
    await vi.advanceTimersByTimeAsync(10);
    expect(fired).toEqual(['a']);
    expect(q.delete('a', ha)).toBe(false);
    expect(q.delete('a', -1)).toBe(false); // what callers keep for "not queued"
    expect(q.size).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(fired).toEqual(['a', 'b']);
  });

  it('keeps order and handles while it grows and when due times collide in the wheel', async () => {
    const fired: number[] = [];
    const q = new DueQueue<number>(systemTimers, (item) => fired.push(item));
    const base = 1_000_001;
    // Far apart in one slot: the later ones wait in the overflow.
    const far = [0, 1, 2, 3].map((k) => q.add(-k - 1, base + k * SAME_SLOT));
    // 5,000 distinct due times, two items each: the wheel doubles many times under them.
    const handles: number[] = [];
    for (let i = 0; i < 10_000; i++) handles.push(q.add(i, base + 3 + ((i * 7919) % 5000)));
    for (let i = 0; i < 10_000; i += 2) expect(q.delete(i, handles[i]!)).toBe(true);
    for (let i = 0; i < 10_000; i += 2) expect(q.delete(i, handles[i]!)).toBe(false);
    expect(q.delete(-3, far[2]!)).toBe(true);
    expect(q.delete(-3, far[2]!)).toBe(false);
    expect(q.delete(-2, far[2]!)).toBe(false); // another item's handle
    expect(q.size).toBe(5_000 + 3);

    await vi.advanceTimersByTimeAsync(5_010);
    const odd = Array.from({ length: 5_000 }, (_, j) => 2 * j + 1);
    const dueOf = (i: number): number => (i * 7919) % 5000;
    expect(fired[0]).toBe(-1);
    expect(fired.slice(1)).toEqual([...odd].sort((a, b) => dueOf(a) - dueOf(b) || a - b));
    expect(q.delete(-2, far[1]!)).toBe(true);
    await vi.advanceTimersByTimeAsync(3 * SAME_SLOT);
    expect(fired.slice(-1)).toEqual([-4]);
    expect(q.size).toBe(0);
  });

  it('drain() and clear() empty the overflow too, and the queue works afterwards', async () => {
    const fired: string[] = [];
    const q = new DueQueue<string>(systemTimers, (item) => fired.push(item));
    q.add('c', 1_000_001 + 2 * SAME_SLOT);
    q.add('a', 1_000_001);
    q.add('b', 1_000_001 + SAME_SLOT);
    q.add('a2', 1_000_002);
    expect(q.drain()).toEqual(['a', 'a2', 'b', 'c']);
    expect(q.size).toBe(0);
    q.add('d', 1_000_001 + SAME_SLOT);
    q.add('e', 1_000_001);
    q.clear();
    expect(q.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    const h = q.add('f', 1_000_001 + SAME_SLOT);
    q.add('g', 1_000_001);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['g']);
    expect(q.delete('f', h)).toBe(true);
    await vi.advanceTimersByTimeAsync(SAME_SLOT);
    expect(fired).toEqual(['g']);
  });

  it('onDue may add to the bucket being handed out, and delete what it added', async () => {
    const fired: string[] = [];
    let handle = -1;
    const q: DueQueue<string> = new DueQueue<string>(
      systemTimers,
      (item) => {
        fired.push(item);
        if (item === 'a') {
          q.add('a-again', 1_000_045); // rounds to the bucket being handed out: due now
          handle = q.add('gone', 1_000_050);
          expect(q.delete('gone', handle)).toBe(true);
          q.add('next', 1_000_060);
        }
      },
      10,
    );
    q.add('a', 1_000_050);
    q.add('b', 1_000_050);
    await vi.advanceTimersByTimeAsync(50);
    expect(fired).toEqual(['a', 'b', 'a-again']);
    expect(q.delete('gone', handle)).toBe(false);
    expect(q.size).toBe(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(fired).toEqual(['a', 'b', 'a-again', 'next']);
    expect(q.size).toBe(0);
  });

  it('takes due times before the clock starts and refuses ones that are not finite', async () => {
    vi.setSystemTime(0);
    const fired: string[] = [];
    const q = new DueQueue<string>(systemTimers, (item) => fired.push(item), 5);
    const h = q.add('past', -12);
    expect(h).toBeGreaterThanOrEqual(0);
    q.add('kept', -7);
    expect(q.delete('past', h)).toBe(true);
    expect(() => q.add('never', Infinity)).toThrow(RangeError);
    expect(() => q.add('never', NaN)).toThrow(RangeError);
    // Handles keep a bucket's time mod 2^32 steps: two waiting buckets must differ there.
    expect(() => q.add('never', -7 + 5 * 2 ** 32)).toThrow(RangeError);
    expect(q.size).toBe(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(fired).toEqual(['kept']);
  });

  it('deletes from a bucket of more than 2^21 items (the handle keeps no larger index)', async () => {
    const n = 2 ** 21 + 3;
    let fired = 0;
    const q = new DueQueue<number>(systemTimers, () => fired++);
    const handles = new Float64Array(n);
    for (let i = 0; i < n; i++) handles[i] = q.add(i, 1_000_010);
    expect(q.delete(n - 1, handles[n - 1]!)).toBe(true);
    expect(q.delete(n - 3, handles[n - 3]!)).toBe(true);
    expect(q.delete(n - 3, handles[n - 3]!)).toBe(false);
    expect(q.delete(5, handles[5]!)).toBe(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(fired).toBe(n - 3);
  });
});
