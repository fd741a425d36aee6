// Items due at a time, with one timer for the whole queue: request deadlines of the cluster, the mock
// SMSC's delayed responses and receipts. Due times are rounded up to `granularityMs` and grouped in
// buckets; a small min-heap of bucket times says which bucket is next, and the single timer is armed
// for it. At 50,000 requests/s with 10 ms buckets that is one timer callback per 10 ms instead of
// 50,000 timers.
//
// Nothing here is a Map or Set touched per message: a long-lived hash table with one insert and one
// delete per message rehashes every few hundred operations, and each obsolete table that was
// promoted keeps its replacement (and so every message in flight) alive through scavenges until the
// next full GC: 30-50 ms scavenges at 10,000 msg/s (`npm run bench`, p99 at 10,000 msg/s, with --trace-gc-nvp). Instead a bucket
// is an array (an item appended, a removed one overwritten with `undefined`, the array truncated
// when the bucket empties or fires), found in a wheel of slots indexed by its time in granularity
// steps (`ticks & mask`). The wheel doubles when two waiting buckets need the same slot (the waiting
// times span more steps than it has slots), up to MAX_WHEEL; past that a colliding bucket goes to a
// Map, one set and delete per bucket, not per message. Buckets are recycled through a free list.

import type { Timers } from '../session/index.js';

/** A handle is `wrap * INDEX_SPAN + index`: the bucket's ticks mod 2^32 and the item's index in it,
 *  under 2^53. Wrapping ticks (not keys relative to a base) lets the queue run forever. */
const INDEX_SPAN = 2 ** 21;
/** An index this large or larger is saved as this value, and delete() searches from it. */
const INDEX_SEARCH = INDEX_SPAN - 1;
const MIN_WHEEL = 256;
/** 65,536 slots: 65 s of 1 ms buckets, 5.5 min of 5 ms buckets, before the overflow Map is used. */
const MAX_WHEEL = 2 ** 16;

class Bucket<T> {
  /** Due time in granularity steps (the key is ticks * granularityMs). */
  ticks = 0;
  /** `undefined` where an item left early. */
  readonly items: Array<T | undefined> = [];
  live = 0;
}

export class DueQueue<T> {
  /** Waiting buckets by `ticks & mask`. */
  private wheel: Array<Bucket<T> | undefined> = newWheel(MIN_WHEEL);
  private mask = MIN_WHEEL - 1;
  /** Waiting buckets whose wheel slot was taken at MAX_WHEEL, by `ticks >>> 0`. */
  private readonly overflow = new Map<number, Bucket<T>>();
  private readonly free: Array<Bucket<T>> = [];
  /** Ticks of the waiting buckets (one entry each, emptied ones too), a binary min-heap. */
  private readonly heap: number[] = [];
  private timer: unknown;
  private timerAt = Infinity;
  private count = 0;
  private readonly fire = (): void => this.onTimer();

  constructor(
    private readonly timers: Timers,
    private readonly onDue: (item: T) => void,
    private readonly granularityMs = 1,
  ) {
    if (!(granularityMs >= 1)) throw new RangeError(`granularityMs must be >= 1, got ${granularityMs}`);
  }

  /** Items waiting. */
  get size(): number {
    return this.count;
  }

  /**
   * Schedules `item` (any value but undefined) for `due` (ms, the timers' clock); returns the handle
   * delete() needs, a number >= 0.
   */
  add(item: T, due: number): number {
    const g = this.granularityMs;
    const ticks = Math.ceil(due / g);
    if (!Number.isFinite(ticks)) throw new RangeError(`due must be a finite time, got ${due}`);
    const b = this.bucketFor(ticks);
    const items = b.items;
    const i = items.length;
    items.push(item);
    b.live++;
    this.count++;
    const key = ticks * g;
    if (key < this.timerAt) this.arm(key);
    return (ticks >>> 0) * INDEX_SPAN + (i < INDEX_SEARCH ? i : INDEX_SEARCH);
  }

  /**
   * Removes an item before it is due; false when it was not there (already due or deleted). The
   * item itself must sit at the handle's place: a slot reused by another bucket, or a bucket emptied
   * and filled again, holds other items there. A bucket left empty keeps its (truncated) array until
   * its time, as its entry stays in the heap.
   */
  delete(item: T, handle: number): boolean {
    if (!(handle >= 0)) return false;
    const wrap = Math.floor(handle / INDEX_SPAN);
    let i = handle - wrap * INDEX_SPAN;
    let b = this.wheel[wrap & this.mask];
    if (b === undefined || b.ticks >>> 0 !== wrap) b = this.overflow.size > 0 ? this.overflow.get(wrap) : undefined;
    if (b === undefined) return false;
    const items = b.items;
    if (i === INDEX_SEARCH) i = items.indexOf(item, INDEX_SEARCH);
    if (i < 0 || items[i] !== item) return false;
    items[i] = undefined;
    this.count--;
    if (--b.live === 0) items.length = 0;
    return true;
  }

  /** Removes everything without calling onDue, and stops the timer. */
  clear(): void {
    for (const ticks of this.heap) this.recycle(this.take(ticks));
    this.heap.length = 0;
    this.count = 0;
    this.disarm();
  }

  /** Every waiting item, earliest bucket first; for close paths that settle them all. */
  drain(): T[] {
    const out: T[] = [];
    while (this.heap.length > 0) {
      const b = this.take(heapPop(this.heap));
      for (const item of b.items) if (item !== undefined) out.push(item);
      this.recycle(b);
    }
    this.clear();
    return out;
  }

  /** The waiting bucket for `ticks`, opened (and put in the heap) when there is none. */
  private bucketFor(ticks: number): Bucket<T> {
    const wrap = ticks >>> 0;
    let occupant = this.wheel[ticks & this.mask];
    if (occupant !== undefined && occupant.ticks === ticks) return occupant;
    if (this.overflow.size > 0) {
      const b = this.overflow.get(wrap);
      if (b !== undefined) {
        if (b.ticks === ticks) return b;
        throw tooFarApart(b.ticks, ticks);
      }
    }
    if (occupant !== undefined) {
      // Handles name a bucket by its ticks mod 2^32, so two waiting buckets must differ there.
      if (occupant.ticks >>> 0 === wrap) throw tooFarApart(occupant.ticks, ticks);
      while (occupant !== undefined && this.wheel.length < MAX_WHEEL) {
        this.grow();
        occupant = this.wheel[ticks & this.mask];
      }
    }
    const b = this.free.pop() ?? new Bucket<T>();
    b.ticks = ticks;
    if (occupant === undefined) this.wheel[ticks & this.mask] = b;
    else this.overflow.set(wrap, b);
    heapPush(this.heap, ticks);
    return b;
  }

  /** Doubles the wheel and rehomes its buckets (the overflow is empty below MAX_WHEEL). */
  private grow(): void {
    const old = this.wheel;
    const wheel = newWheel<T>(old.length * 2);
    const mask = wheel.length - 1;
    // Buckets in distinct slots differ in their low bits, so they stay apart with one bit more.
    for (const b of old) if (b !== undefined) wheel[b.ticks & mask] = b;
    this.wheel = wheel;
    this.mask = mask;
  }

  /** Unlinks the waiting bucket for `ticks` (its heap entry is the caller's business). */
  private take(ticks: number): Bucket<T> {
    const s = ticks & this.mask;
    const b = this.wheel[s];
    if (b !== undefined && b.ticks === ticks) {
      this.wheel[s] = undefined;
      return b;
    }
    const wrap = ticks >>> 0;
    const o = this.overflow.get(wrap)!;
    this.overflow.delete(wrap);
    return o;
  }

  private recycle(b: Bucket<T>): void {
    b.items.length = 0;
    b.live = 0;
    this.free.push(b);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private arm(at: number): void {
    this.disarm();
    this.timerAt = at;
    this.timer = this.timers.setTimeout(this.fire, Math.max(0, at - this.timers.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const g = this.granularityMs;
    const now = this.timers.now();
    // The bucket is unlinked before its items are handed out, so onDue may add items: one due now
    // lands in a new bucket (of the same time, possibly) that this loop also takes.
    while (this.heap.length > 0 && this.heap[0]! * g <= now) {
      const b = this.take(heapPop(this.heap));
      const items = b.items;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (item === undefined) continue;
        this.count--;
        this.onDue(item);
      }
      this.recycle(b);
    }
    // onDue may have armed the timer for a later bucket than the earliest one left.
    if (this.heap.length > 0 && this.heap[0]! * g < this.timerAt) this.arm(this.heap[0]! * g);
  }
}

function newWheel<T>(size: number): Array<Bucket<T> | undefined> {
  return new Array<Bucket<T> | undefined>(size).fill(undefined);
}

function tooFarApart(a: number, b: number): RangeError {
  return new RangeError(`due times ${a} and ${b} granularity steps are 2^32 or more steps apart`);
}

function heapPush(heap: number[], v: number): void {
  let i = heap.length;
  heap.push(v);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= v) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = v;
}

function heapPop(heap: number[]): number {
  const top = heap[0]!;
  const last = heap.pop()!;
  const n = heap.length;
  if (n === 0) return top;
  let i = 0;
  while (true) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && heap[r]! < heap[l]! ? r : l;
    if (heap[c]! >= last) break;
    heap[i] = heap[c]!;
    i = c;
  }
  heap[i] = last;
  return top;
}
