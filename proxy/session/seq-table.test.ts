import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqTable } from './seq-table.js';
import { MAX_SEQUENCE } from './sequence.js';

function entries<T>(t: SeqTable<T>): Array<[number, T]> {
  const out: Array<[number, T]> = [];
  t.forEach((v, k) => out.push([k, v]));
  return out.sort((a, b) => a[0] - b[0]);
}

/** Checks `t` against a Map model: same size, same lookups, same entries. */
function expectSame(t: SeqTable<string>, model: Map<number, string>, probes: number[]): void {
  expect(t.size).toBe(model.size);
  for (const k of probes) {
    expect(t.get(k)).toBe(model.get(k));
    expect(t.has(k)).toBe(model.has(k));
  }
  expect(entries(t)).toEqual([...model.entries()].sort((a, b) => a[0] - b[0]));
}

describe('SeqTable', () => {
  it('gets, replaces and deletes; deleting an absent key changes nothing', () => {
    const t = new SeqTable<string>();
    t.set(1, 'a');
    t.set(2, 'b');
    t.set(2, 'B');
    expect(t.size).toBe(2);
    expect(t.get(2)).toBe('B');
    expect(t.delete(7)).toBeUndefined();
    expect(t.delete(1)).toBe('a');
    expect(t.delete(1)).toBeUndefined();
    expect(t.has(1)).toBe(false);
    expect(t.get(2)).toBe('B');
    expect(t.size).toBe(1);
  });

  it('never finds key 0 (it marks an empty slot) and refuses keys outside 1..0x7FFFFFFF', () => {
    const t = new SeqTable<string>();
    t.set(16, 'x'); // home slot 0
    expect(t.has(0)).toBe(false);
    expect(t.get(0)).toBeUndefined();
    expect(t.delete(0)).toBeUndefined();
    expect(t.size).toBe(1);
    for (const bad of [0, -1, MAX_SEQUENCE + 1, 1.5]) expect(() => t.set(bad, 'y')).toThrow(RangeError);
  });

  it('grows by doubling, keeping at least twice as many slots as entries and every entry', () => {
    const t = new SeqTable<string>(10);
    expect(t.capacity).toBe(32);
    const model = new Map<number, string>();
    for (let k = 1; k <= 1000; k++) {
      t.set(k, `v${k}`);
      model.set(k, `v${k}`);
      expect(t.capacity).toBeGreaterThanOrEqual(2 * t.size);
    }
    expect(t.capacity).toBe(2048);
    expectSame(t, model, [0, 1, 500, 1000, 1001]);
  });

  it('handles sequence numbers wrapping from 0x7FFFFFFF to 1 as a sliding window', () => {
    const t = new SeqTable<string>(8);
    const model = new Map<number, string>();
    let next = MAX_SEQUENCE - 20;
    const sent: number[] = [];
    for (let i = 0; i < 100; i++) {
      t.set(next, `m${i}`);
      model.set(next, `m${i}`);
      sent.push(next);
      next = next >= MAX_SEQUENCE ? 1 : next + 1;
      if (sent.length === 8) {
        const oldest = sent.shift()!;
        expect(t.delete(oldest)).toBe(model.get(oldest));
        model.delete(oldest);
      }
      expectSame(t, model, [...sent, MAX_SEQUENCE, 1, 0]);
    }
    expect(t.capacity).toBe(16); // 8 in flight at most: never needed more
  });

  it('keeps colliding keys findable after deleting the head, the middle or the end of a probe run', () => {
    // With 32 slots, 31, 63, 0x7FFFFFFF and 95 share home slot 31 and their run wraps round to slots
    // 0-2; 3, 35, 67, 99 share slot 3 and 4, 36 slot 4, which those runs already took: one long run.
    const keys = [31, 63, MAX_SEQUENCE, 95, 3, 35, 67, 4, 99, 36];
    for (let victim = 0; victim < keys.length; victim++) {
      const t = new SeqTable<string>();
      const model = new Map<number, string>();
      for (const k of keys) {
        t.set(k, `v${k}`);
        model.set(k, `v${k}`);
      }
      expect(t.capacity).toBe(32);
      expect(t.delete(keys[victim]!)).toBe(`v${keys[victim]}`);
      model.delete(keys[victim]!);
      expectSame(t, model, [...keys, 131, 127]);
    }
  });

  it('agrees with a Map under random inserts and deletes of far-apart keys', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const t = new SeqTable<string>();
    const model = new Map<number, string>();
    // Keys that agree in their low bits collide at every capacity.
    const pool = Array.from({ length: 200 }, (_, i) => ((i % 7) + 1 + (i >> 3) * 4096) % MAX_SEQUENCE || 1);
    for (let step = 0; step < 5000; step++) {
      const k = pool[rand(pool.length)]!;
      if (rand(2) === 0) {
        t.set(k, `s${step}`);
        model.set(k, `s${step}`);
      } else {
        expect(t.delete(k)).toBe(model.get(k));
        model.delete(k);
      }
    }
    expectSame(t, model, pool);
    t.clear();
    expect(t.size).toBe(0);
    expect(entries(t)).toEqual([]);
    expect(t.has(pool[0]!)).toBe(false);
  });
  it('agrees with a Map after every step when homes collide and runs overlap', () => {
    // Keys 1..40 at capacity 64 (the table never holds more than 32 here): homes collide only by
    // key, but runs meet, so an insert lands past keys that sit at their own home, and a delete
    // must move such keys back across them.
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 }));
    const ops = fc.array(op, { minLength: 100, maxLength: 300 });
    const high = fc.array(fc.integer({ min: 0, max: 63 }), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(ops, high, (steps, homes) => {
        const t = new SeqTable<string>(32);
        const model = new Map<number, string>();
        // More keys that share a home with one of 1..40 at capacity 64.
        const pool = [...Array.from({ length: 40 }, (_, i) => i + 1), ...homes.map((h) => 64 * (h + 1) + (h % 40) + 1)];
        steps.forEach(([insert, pick], step) => {
          const k = pool[(pick * 7 + step) % pool.length]!;
          if (insert && model.size < 32) {
            t.set(k, `s${step}`);
            model.set(k, `s${step}`);
          } else {
            expect(t.delete(k)).toBe(model.get(k));
            model.delete(k);
          }
          // Plain comparisons per step (an expect per probe is slow), then one expect.
          const wrong = pool.filter((p) => t.get(p) !== model.get(p));
          expect({ step, wrong, size: t.size }).toEqual({ step, wrong: [], size: model.size });
        });
        expect(t.capacity).toBe(64);
        expectSame(t, model, pool);
      }),
      { numRuns: 200 },
    );
  });
});
