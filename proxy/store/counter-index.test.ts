import { describe, expect, it } from 'vitest';
import { CounterIndex, MAX_GAP } from './counter-index.js';

// Counters near what smppd's base36 ids reach (10 digits: up to 36^10 ~ 3.7e15).
const C0 = 3_000_000_000_000_000;

describe('counter index', () => {
  it('holds counters across many chunks and drops the front as slots below the head die', () => {
    const x = new CounterIndex();
    const n = 50_000; // about six chunks
    for (let i = 0; i < n; i++) expect(x.set(C0 + i, i)).toBe(true);
    expect([x.get(C0), x.get(C0 + 8191), x.get(C0 + 8192), x.get(C0 + n - 1)]).toEqual([0, 8191, 8192, n - 1]);
    expect(x.get(C0 + n)).toBeUndefined();
    expect(x.get(C0 - 1)).toBeUndefined();

    // Slots below 30,000 are gone (the record table's head passed them).
    x.trim(30_000);
    expect(x.get(C0 + 29_999)).toBeUndefined();
    expect(x.get(C0 + 30_000)).toBe(30_000);
    expect(x.get(C0 + n - 1)).toBe(n - 1);
    // A counter behind the front is refused (the caller keeps it elsewhere).
    expect(x.set(C0 + 100, 7)).toBe(false);

    // New counters keep coming after the front moved and chunks were dropped.
    for (let i = n; i < n + 20_000; i++) expect(x.set(C0 + i, i)).toBe(true);
    expect(x.get(C0 + n + 19_999)).toBe(n + 19_999);
    expect(x.get(C0 + 40_000)).toBe(40_000);
  });

  it('fills a small gap with nothing, refuses a large one, and starts again once empty', () => {
    const x = new CounterIndex();
    expect(x.set(C0, 0)).toBe(true);
    expect(x.set(C0 + 1 + MAX_GAP, 1)).toBe(true);
    expect(x.get(C0 + 1)).toBeUndefined();
    expect(x.get(C0 + 1 + MAX_GAP)).toBe(1);
    expect(x.set(C0 + 3 + 2 * MAX_GAP, 2)).toBe(false);

    // Everything dead: the next counter, wherever it is, starts the index afresh.
    x.trim(2);
    expect(x.get(C0 + 1 + MAX_GAP)).toBeUndefined();
    expect(x.set(C0 + 10 * MAX_GAP, 3)).toBe(true);
    expect(x.get(C0 + 10 * MAX_GAP)).toBe(3);
  });

  it('delete forgets a counter only while it points at that slot; the front skips deleted counters', () => {
    const x = new CounterIndex();
    for (let i = 0; i < 10; i++) x.set(C0 + i, 100 + i);
    expect(x.delete(C0 + 3, 999)).toBe(false);
    expect(x.delete(C0 + 3, 103)).toBe(true);
    expect(x.get(C0 + 3)).toBeUndefined();
    expect(x.delete(C0 + 3, 103)).toBe(false);
    expect(x.delete(C0 + 50, 150)).toBe(false);
    // Counters 0-2 point below the head, 3 is deleted: the front moves to 4.
    x.trim(103);
    expect(x.set(C0 + 2, 5)).toBe(false);
    expect(x.get(C0 + 4)).toBe(104);
  });

  it('renumbers slots, dropping counters whose slot has no new number', () => {
    const x = new CounterIndex();
    for (let i = 0; i < 20_000; i++) x.set(C0 + i, i);
    const renumber = new Map<number, number>();
    for (let i = 0; i < 20_000; i += 2) renumber.set(i, i / 2);
    x.renumber(renumber);
    expect([x.get(C0), x.get(C0 + 1), x.get(C0 + 19_998), x.get(C0 + 19_999)]).toEqual([0, undefined, 9_999, undefined]);
  });

  it('keeps slot numbers past 2^31 whole', () => {
    const x = new CounterIndex();
    x.set(C0, 2 ** 40 + 1);
    expect(x.get(C0)).toBe(2 ** 40 + 1);
  });
});
