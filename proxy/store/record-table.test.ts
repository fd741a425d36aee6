// The record table's own bookkeeping: pages, the head passing them, eviction across pages and the
// rebuild when dead slots pile up. The MessageStore behaviour is in contract.ts / memory-store.test.ts.

import { describe, expect, it } from 'vitest';
import { createMessageIdGenerator } from './message-id.js';
import { KeyIndex, RecordTable, indexKey, type Key } from './record-table.js';
import type { MessageRecord } from './store.js';

const T0 = Date.UTC(2025, 5, 1);

function rec(id: string, createdAt = T0): MessageRecord {
  return { id, client: 'acme', cluster: 'vodacom', routeName: 'r1', createdAt };
}

/** 1,024-slot pages: the tests' thousands of records cross many pages (the default holds 8,192). */
const SMALL_PAGES = 10;

describe('record table', () => {
  it('holds records over many pages, expires them oldest first and keeps serving the rest', () => {
    const t = new RecordTable(1_000_000, SMALL_PAGES);
    const ids = createMessageIdGenerator({ prefix: 'abcdefghijklmn' });
    const all: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const id = i % 7 === 0 ? `other-${i}` : ids.next();
      all.push(id);
      t.save(rec(id, T0 + i), T0 + i + 1000);
      expect(t.setUpstreamId(id, 'vodacom', String(i), [String(5_000_000_000 + i), `t${i}`], 'ep', T0)).toBe(true);
    }
    expect(t.size).toBe(20_000);
    expect(t.upstreamKeyCount).toBe(40_000);
    // Everything saved before T0 + 12,000 has expired by T0 + 12,999 (expiry at T0 + i + 1000).
    t.sweep(T0 + 12_999);
    expect(t.size).toBe(8_000);
    expect(t.expirations).toBe(12_000);
    expect(t.upstreamKeyCount).toBe(16_000);
    expect(t.get(all[11_999]!, T0)).toBeUndefined();
    expect(t.findByUpstream('vodacom', [String(5_000_000_000 + 11_999)], T0)).toBeUndefined();
    for (const i of [12_000, 15_555, 19_999]) {
      expect(t.get(all[i]!, T0)).toEqual({
        id: all[i],
        client: 'acme',
        cluster: 'vodacom',
        endpoint: 'ep',
        routeName: 'r1',
        upstreamId: String(i),
        createdAt: T0 + i,
        parts: undefined,
      });
      expect(t.findByUpstream('vodacom', [`t${i}`], T0)?.id).toBe(all[i]);
    }
    // New records after the head moved on land in fresh (or reused) pages.
    for (let i = 0; i < 10_000; i++) t.save(rec(`late-${i}`), T0 + 50_000);
    expect(t.size).toBe(18_000);
    expect(t.get('late-9999', T0)?.id).toBe('late-9999');
    t.sweep(T0 + 100_000);
    expect(t.size).toBe(0);
    expect(t.upstreamKeyCount).toBe(0);
    t.save(rec('again'), T0 + 200_000);
    expect(t.get('again', T0)?.id).toBe('again');
  });

  it('evicts the oldest beyond maxEntries across pages, index keys included', () => {
    const t = new RecordTable(10_000, SMALL_PAGES);
    for (let i = 0; i < 25_000; i++) {
      t.save(rec(`m${i}`), T0 + 1_000_000);
      t.setUpstreamId(`m${i}`, 'vodacom', String(i), [String(i)], undefined, T0);
    }
    expect(t.size).toBe(10_000);
    expect(t.evictions).toBe(15_000);
    expect(t.upstreamKeyCount).toBe(10_000);
    expect(t.get('m14999', T0)).toBeUndefined();
    expect(t.findByUpstream('vodacom', ['14999'], T0)).toBeUndefined();
    expect(t.get('m15000', T0)?.upstreamId).toBe('15000');
    expect(t.findByUpstream('vodacom', ['24999'], T0)?.id).toBe('m24999');
  });

  it('rebuilds when ids saved again leave dead slots piling up; ids and keys still resolve', () => {
    const t = new RecordTable(1_000_000);
    for (let i = 0; i < 100; i++) {
      t.save({ ...rec(`k${i}`), parts: i }, T0 + 1_000_000);
      t.setUpstreamId(`k${i}`, 'vodacom', `u${i}`, [`u${i}`, String(i)], undefined, T0);
    }
    // 60,000 saves of one id: each leaves a dead slot behind; the table rebuilds itself meanwhile.
    for (let n = 0; n < 60_000; n++) t.save(rec('hot'), T0 + 1_000_000 + n);
    t.setUpstreamId('hot', 'mcel', 'h', ['h'], undefined, T0);
    expect(t.size).toBe(101);
    for (let i = 0; i < 100; i++) {
      expect(t.get(`k${i}`, T0)).toMatchObject({ upstreamId: `u${i}`, parts: i });
      expect(t.findByUpstream('vodacom', [String(i)], T0)?.id).toBe(`k${i}`);
    }
    expect(t.findByUpstream('mcel', ['h'], T0)?.id).toBe('hot');
    // The re-saved record keeps the index keys it had.
    t.save(rec('k5'), T0 + 2_000_000);
    expect(t.findByUpstream('vodacom', ['u5'], T0)).toMatchObject({ id: 'k5', upstreamId: undefined });
    t.sweep(T0 + 1_500_000);
    expect(t.size).toBe(1); // k5, saved last with the latest expiry
    expect(t.upstreamKeyCount).toBe(2);
    expect(t.findByUpstream('vodacom', ['5'], T0)?.id).toBe('k5');
  });

  it('an own id saved again replaces its record (numeric keys), whatever came after it', () => {
    const t = new RecordTable(100);
    const ids = createMessageIdGenerator({ prefix: 'abcdefghijklmn' });
    const [a, b, c] = [ids.next(), ids.next(), ids.next()];
    for (const id of [a, b, c]) t.save(rec(id), T0 + 1000);
    t.setUpstreamId(a, 'vodacom', 'ua', ['11'], undefined, T0);
    t.save({ ...rec(a), routeName: 'again' }, T0 + 5000);
    expect(t.size).toBe(3);
    expect(t.get(a, T0)).toMatchObject({ id: a, routeName: 'again', upstreamId: undefined });
    expect(t.findByUpstream('vodacom', ['11'], T0)?.id).toBe(a);
    t.sweep(T0 + 2000);
    expect([t.get(a, T0)?.id, t.get(b, T0), t.get(c, T0)]).toEqual([a, undefined, undefined]);
  });

  it('agrees with a plain Map model over random saves, re-saves, counter jumps, keys, expiry and eviction', () => {
    // Own ids go to the dense counter index, or to the Map when they cannot (behind it, far ahead):
    // both paths, and moves between them, must read like one Map.
    for (const maxEntries of [1_000_000, 3_000]) {
      const t = new RecordTable(maxEntries, SMALL_PAGES);
      const prefix = 'abcdefghijklmn';
      const TTL = 5_000;
      let seed = 7;
      const rnd = (n: number): number => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed % n;
      };
      const model = new Map<string, { at: number; upstreamId?: string }>(); // insertion order = save order
      const index = new Map<string, string>();
      /** A record leaves (expired, evicted): so do the keys still pointing at it. */
      const drop = (gone: string): void => {
        model.delete(gone);
        for (const [key, owner] of index) if (owner === gone) index.delete(key);
      };
      let counter = 0;
      let now = T0;
      const ids: string[] = [];
      for (let op = 0; op < 30_000; op++) {
        now += rnd(3);
        const r = rnd(100);
        let id: string;
        if (r < 70) id = `${prefix}${(counter++).toString(36)}`;
        else if (r < 73) id = `${prefix}${(counter += 5_000 + rnd(20_000)).toString(36)}`; // a jump
        else if (r < 85 && ids.length > 0) id = ids[rnd(ids.length)]!; // saved again, maybe long gone
        else id = `s${rnd(5_000)}`;
        ids.push(id);
        const before = model.get(id);
        if (before !== undefined) model.delete(id); // saved again: its keys stay
        else if (model.size >= maxEntries) drop(model.keys().next().value as string);
        model.set(id, { at: now, upstreamId: undefined });
        t.save(rec(id, now), now + TTL);
        if (rnd(2) === 0) {
          // Upstream keys: small numbers (0 among them), 8-hex-digit SMSC ids as numbers, 15-digit
          // ids near the largest number key, and text.
          const kind = rnd(8);
          const key =
            kind < 3 ? String(rnd(kind === 0 ? 3 : 50_000))
            : kind < 6 ? String(3_000_000_000 + rnd(50_000))
            : kind < 7 ? String(999_999_999_999_999 - rnd(50_000))
            : `t${rnd(5_000)}`;
          const m = model.get(id)!;
          m.upstreamId = `u${op}`;
          index.set(key, id);
          expect(t.setUpstreamId(id, 'vodacom', `u${op}`, [key], undefined, now)).toBe(true);
        }
        if (op % 500 === 0) {
          t.sweep(now);
          for (const [mid, m] of model) {
            if (m.at + TTL > now) break;
            drop(mid);
          }
          for (let k = 0; k < 50; k++) {
            const probe = ids[rnd(ids.length)]!;
            const m = model.get(probe);
            expect(t.get(probe, now)?.upstreamId, probe).toBe(m?.upstreamId);
            expect(t.get(probe, now) === undefined, probe).toBe(m === undefined);
          }
          for (const [key, owner] of index) expect(t.findByUpstream('vodacom', [key], now)?.id, key).toBe(owner);
          expect(t.size).toBe(model.size);
        }
      }
    }
  });

  it('index keys: canonical numbers become numbers, everything else stays text', () => {
    expect(indexKey('12107289')).toBe(12107289);
    expect(indexKey('0')).toBe(0);
    expect(indexKey('999999999999999')).toBe(999999999999999);
    for (const k of ['007', '1234567890123456', 'B8BE19', '', '12a', '-1', '1.5']) expect(indexKey(k)).toBe(k);
  });
});

describe('key index', () => {
  /** A seeded generator (an LCG's high bits), so failures repeat. */
  function random(seed: number): (n: number) => number {
    return (n) => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return (seed >>> 8) % n;
    };
  }

  /** The index holds what the model holds, and none of `absent` that the model lacks. */
  function expectSame(ix: KeyIndex, model: Map<Key, number>, absent: readonly Key[]): void {
    expect(ix.size).toBe(model.size);
    const wrong: [Key, number | undefined, number | undefined][] = [];
    for (const [key, seq] of model) if (ix.get(key) !== seq) wrong.push([key, ix.get(key), seq]);
    for (const key of absent) if (!model.has(key) && ix.get(key) !== undefined) wrong.push([key, ix.get(key), undefined]);
    expect(wrong).toEqual([]);
  }

  // One shard (every key competes for the same slots, runs wrap round the table's end) and the
  // default 256; keys come and go in save order, as records expire, with stragglers and re-saves.
  for (const shardBits of [0, 8]) {
    it(`agrees with a Map over inserts, deletes and re-inserts while growing (${2 ** shardBits} shard(s))`, () => {
      const rnd = random(shardBits + 1);
      const ix = new KeyIndex(shardBits);
      const model = new Map<Key, number>();
      const pools: ((i: number) => Key)[] = [
        (i) => i % 100, // 0 among them, saved, deleted and saved again many times
        (i) => 3_000_000_000 + i,
        (i) => 999_999_999_999_999 - i,
        (i) => i * 4_294_967_296, // low 32 bits all zero
        (i) => 7_000_000_005 + 8 * i, // every 8th: one home slot per block of 8
        (i) => `u${i}`,
      ];
      const saved: Key[] = [];
      /** Operations whose answer differed from the model's (collected: an expect per step is slow). */
      const wrong: [string, Key][] = [];
      let oldest = 0;
      let seq = 0;
      for (let step = 0; step < 60_000; step++) {
        // The window of saved keys grows to ~20,000 (many doublings), then slides.
        const r = rnd(100);
        const window = saved.length - oldest;
        if (window === 0 || r < (window < Math.min(step, 20_000) ? 70 : 45)) {
          const key = pools[rnd(pools.length)]!(rnd(4) === 0 ? rnd(2_000) : saved.length);
          saved.push(key);
          if (ix.set(key, seq) === model.has(key)) wrong.push(['set', key]);
          model.set(key, seq++);
        } else if (r < 92) {
          const key = saved[oldest++]!; // the oldest leaves (it may have left already)
          if (ix.delete(key) !== model.delete(key)) wrong.push(['delete', key]);
        } else if (r < 97) {
          const key = saved[oldest + rnd(saved.length - oldest)]!; // one from the middle
          if (ix.delete(key) !== model.delete(key)) wrong.push(['delete', key]);
        } else {
          const key = rnd(2) === 0 ? 123_456_789_000 + rnd(1_000) : `x${rnd(1_000)}`; // no pool makes these
          if (ix.delete(key) || ix.get(key) !== undefined) wrong.push(['absent', key]);
        }
        if (step % 5_000 === 0) expectSame(ix, model, saved.slice(0, oldest));
      }
      expect(wrong).toEqual([]);
      expect(model.size).toBeGreaterThan(10_000);
      expectSame(ix, model, saved);
      // Emptied and filled again.
      for (const key of saved) expect(ix.delete(key)).toBe(model.delete(key));
      expect(ix.size).toBe(0);
      expectSame(ix, model, saved);
      for (let i = 0; i < 5_000; i++) {
        const key = 3_000_000_000 + i;
        expect(ix.set(key, i)).toBe(true);
        model.set(key, i);
      }
      expectSame(ix, model, saved);
    });

    it(`renumber keeps, renumbers and drops keys by their slots (${2 ** shardBits} shard(s))`, () => {
      const ix = new KeyIndex(shardBits);
      const keys: Key[] = [];
      for (let i = 0; i < 3_000; i++) keys.push(i, 3_000_000_000 + i, 999_999_999_999_999 - i, `s${i}`);
      keys.forEach((key, seq) => ix.set(key, seq));
      for (let i = 0; i < keys.length; i += 7) ix.delete(keys[i]!);
      // Every third slot survives, renumbered; the rest are gone.
      const renumber = new Map<number, number>();
      for (let seq = 0; seq < keys.length; seq += 3) renumber.set(seq, 5_000_000_000 + seq);
      ix.renumber(renumber);
      const model = new Map<Key, number>();
      keys.forEach((key, seq) => {
        if (seq % 7 !== 0 && seq % 3 === 0) model.set(key, 5_000_000_000 + seq);
      });
      expectSame(ix, model, keys);
      // And it keeps working: the dropped keys come back, the kept ones are replaced.
      keys.forEach((key, seq) => {
        expect(ix.set(key, seq)).toBe(!model.has(key));
        model.set(key, seq);
      });
      expectSame(ix, model, keys);
    });
  }

  it('keeps numbers and text apart, and set tells a new key from a replaced one', () => {
    const ix = new KeyIndex();
    expect(ix.set(0, 1)).toBe(true);
    expect(ix.set('0', 2)).toBe(true);
    expect(ix.set(999_999_999_999_999, 3)).toBe(true);
    expect(ix.set(0, 4)).toBe(false);
    expect([ix.get(0), ix.get('0'), ix.get(999_999_999_999_999), ix.get(999_999_999_999_998), ix.size]).toEqual([4, 2, 3, undefined, 3]);
    expect(ix.delete(0)).toBe(true);
    expect(ix.delete(0)).toBe(false);
    expect([ix.get(0), ix.get('0'), ix.size]).toEqual([undefined, 2, 2]);
    // Slot numbers past 2^32 (a long run) come back whole.
    expect(ix.set(12, 2 ** 40 + 1)).toBe(true);
    expect(ix.get(12)).toBe(2 ** 40 + 1);
  });
});
