import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemTimers, type Timers } from '../session/index.js';
import { DueQueue } from './due-queue.js';

function countingTimers(): Timers & { armed: number } {
  const t = {
    armed: 0,
    now: () => systemTimers.now(),
    setTimeout: (fn: () => void, ms: number) => {
      t.armed++;
      return systemTimers.setTimeout(fn, ms);
    },
    clearTimeout: (h: unknown) => systemTimers.clearTimeout(h),
  };
  return t;
}

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
});
