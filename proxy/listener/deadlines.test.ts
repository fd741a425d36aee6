import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemTimers, type Timers } from '../session/index.js';
import { countingTimers } from '../session/testing.js';
import { DeadlineQueue } from './deadlines.js';

const T0 = 1_000_000;


/** A queue whose expiries are recorded as [item, ms since T0]. */
function queue<T>(timers: Timers = systemTimers): { q: DeadlineQueue<T>; expired: Array<[T, number]> } {
  const expired: Array<[T, number]> = [];
  const q = new DeadlineQueue<T>(timers, (item) => expired.push([item, Date.now() - T0]));
  return { q, expired };
}

describe('DeadlineQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires items at their deadlines, in insertion order, with one timer armed at a time', async () => {
    const timers = countingTimers();
    const { q, expired } = queue<string>(timers);
    q.add('a', T0 + 100);
    q.add('b', T0 + 100);
    q.add('c', T0 + 200);
    expect(q.size).toBe(3);
    expect(timers.armed).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(expired).toEqual([
      ['a', 100],
      ['b', 100],
    ]);
    expect(q.size).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(expired).toEqual([
      ['a', 100],
      ['b', 100],
      ['c', 200],
    ]);
    expect(q.size).toBe(0);
    expect(timers.armed).toBe(2);
  });

  it('delete() of the head, a middle item and the tail: only the others expire', async () => {
    const { q, expired } = queue<string>();
    const tickets = ['a', 'b', 'c', 'd', 'e'].map((item, i) => [item, q.add(item, T0 + 10 * (i + 1))] as const);
    const ticket = new Map(tickets);
    expect(q.delete(ticket.get('a')!, 'a')).toBe(true); // head
    expect(q.delete(ticket.get('c')!, 'c')).toBe(true); // middle
    expect(q.delete(ticket.get('e')!, 'e')).toBe(true); // tail
    expect(q.size).toBe(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(expired).toEqual([
      ['b', 20],
      ['d', 40],
    ]);
    expect(q.size).toBe(0);
  });

  it('delete() of an item already expired (a late answer) returns false and changes nothing', async () => {
    const { q, expired } = queue<string>();
    const ta = q.add('a', T0 + 10);
    const tb = q.add('b', T0 + 50);
    await vi.advanceTimersByTimeAsync(10);
    expect(expired).toEqual([['a', 10]]);
    expect(q.delete(ta, 'a')).toBe(false);
    expect(q.size).toBe(1);
    expect(q.delete(tb, 'b')).toBe(true);
    expect(q.delete(tb, 'b')).toBe(false); // answered twice
    expect(q.size).toBe(0);
  });

  it('a stale ticket whose slot now holds a later item does not remove it', async () => {
    const { q, expired } = queue<number>();
    // More than the ring's initial size goes through one slot after another, so old tickets' slots
    // are reused by later items.
    const old: Array<[number, number]> = [];
    for (let i = 0; i < 40; i++) {
      const t = q.add(i, T0 + 100);
      old.push([t, i]);
      expect(q.delete(t, i)).toBe(true);
    }
    const live = Array.from({ length: 40 }, (_, i) => 100 + i);
    for (const item of live) q.add(item, T0 + 100);
    for (const [t, i] of old) {
      expect(q.delete(t, i)).toBe(false);
      expect(q.delete(t, live[i]!)).toBe(false); // the right slot, the wrong ticket
    }
    expect(q.size).toBe(40);
    await vi.advanceTimersByTimeAsync(100);
    expect(expired.map(([item]) => item)).toEqual(live);
  });

  it('a stale ticket of an item added again does not remove the new entry', async () => {
    const { q, expired } = queue<string>();
    const first = q.add('x', T0 + 100);
    expect(q.delete(first, 'x')).toBe(true);
    // Enough others that the second 'x' lands in the first one's slot, or past it.
    for (let i = 0; i < 15; i++) q.delete(q.add(String(i), T0 + 100), String(i));
    const second = q.add('x', T0 + 100);
    expect(q.delete(first, 'x')).toBe(false);
    expect(q.delete(second + 16, 'x')).toBe(false); // not issued yet
    expect(q.size).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(expired).toEqual([['x', 100]]);
  });

  it('grows while the head is still held: tickets stay valid and expiry keeps insertion order', async () => {
    const { q, expired } = queue<number>();
    // Answered at once, so the held ones start part-way round the ring and wrap when it grows.
    for (let i = 0; i < 11; i++) q.delete(q.add(-1 - i, T0), -1 - i);
    const tickets: number[] = [];
    // Item 0 is never answered; each other is answered except every fifth, across several doublings.
    for (let i = 0; i < 200; i++) tickets.push(q.add(i, T0 + 1 + i));
    for (let i = 1; i < 200; i++) if (i % 5 !== 0) expect(q.delete(tickets[i]!, i)).toBe(true);
    expect(q.size).toBe(40);
    // Items added after growth, interleaved with deletes, still land behind the held ones.
    for (let i = 200; i < 260; i++) {
      tickets.push(q.add(i, T0 + 1 + i));
      if (i % 2 === 1) expect(q.delete(tickets[i]!, i)).toBe(true);
    }
    await vi.advanceTimersByTimeAsync(1_000);
    const kept = [...Array.from({ length: 40 }, (_, k) => k * 5), ...Array.from({ length: 30 }, (_, k) => 200 + 2 * k)];
    expect(expired).toEqual(kept.map((i) => [i, 1 + i]));
    expect(q.size).toBe(0);
  });

  it('wraps around its ring many times with a steady number in flight', async () => {
    const { q, expired } = queue<number>();
    const tickets: number[] = [];
    // Ten in flight at a time; each answered ten adds later, except one in a hundred.
    for (let i = 0; i < 1_000; i++) {
      tickets.push(q.add(i, T0 + 5_000));
      const j = i - 10;
      if (j >= 0 && j % 100 !== 0) expect(q.delete(tickets[j]!, j)).toBe(true);
    }
    await vi.advanceTimersByTimeAsync(5_000);
    const kept = [...Array.from({ length: 10 }, (_, k) => k * 100), ...Array.from({ length: 10 }, (_, k) => 990 + k)];
    expect(expired.map(([item]) => item)).toEqual(kept);
  });

  it('an item added from onExpire is held to its own deadline, not fired early or late', async () => {
    const expired: Array<[string, number]> = [];
    const q: DeadlineQueue<string> = new DeadlineQueue<string>(systemTimers, (item) => {
      expired.push([item, Date.now() - T0]);
      if (item === 'a') q.add('c', Date.now() + 100);
    });
    q.add('a', T0 + 10);
    q.add('b', T0 + 20);
    await vi.advanceTimersByTimeAsync(200);
    expect(expired).toEqual([
      ['a', 10],
      ['b', 20],
      ['c', 110],
    ]);
  });

  it('clear() drops every item without expiring them and stops the timer', async () => {
    const { q, expired } = queue<string>();
    const ta = q.add('a', T0 + 10);
    q.add('b', T0 + 20);
    q.clear();
    expect(q.size).toBe(0);
    expect(q.delete(ta, 'a')).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(expired).toEqual([]);
    q.add('c', Date.now() + 10);
    await vi.advanceTimersByTimeAsync(10);
    expect(expired).toEqual([['c', 110]]);
  });
});
