// A table keyed by SMPP sequence number, for per-request bookkeeping that churns once per message.
//
// Why not a Map: a Map with one set and one delete per message is rehashed every few hundred
// operations, and V8 keeps each obsolete hash table pointing at its replacement. Once a table has
// been promoted, that dead table roots the new one at every scavenge until the next full GC, so
// everything in flight gets promoted, in chains (12-34 MB surviving each scavenge, 20-27 ms pauses,
// measured with a standalone script and --trace-gc-nvp; the same churn in a ring array kept
// 194 KB alive). This table never rehashes in steady state: open addressing in
// preallocated arrays that only grow (by doubling, rarely), and a removed slot's value is set to
// `undefined`, so nothing dead points at a live young object.
//
// Sequence numbers are 1..0x7FFFFFFF (SMPP 3.4 §3.2), never 0, so key 0 marks an empty slot. Slots
// are found by linear probing from `seq & mask`: a session numbers its requests consecutively, so
// the keys in flight fill consecutive slots and a lookup nearly always takes one step. Deletion
// shifts the rest of the probe run back (no tombstones, so lookups never slow down with churn).
//
// Robin Hood order: an insert that meets an entry nearer its home slot than the new key is to its
// own takes that slot and carries the entry on. A probe run then holds its keys in order of home
// slot, so a deletion's shift stops at the first entry that sits at its home (no later entry can
// belong before it). With plain first-free-slot inserts it had to go on to the run's end: the
// window's keys in flight, all at home in one run, were all read at every response (~2,500
// instructions per message with its receipt, callgrind of smppd under the (c) closed loop).

import { MAX_SEQUENCE } from './sequence.js';

/** Smallest capacity; a power of two. */
const MIN_CAPACITY = 16;

export class SeqTable<T> {
  private keys: Int32Array;
  private vals: Array<T | undefined>;
  private mask: number;
  private count = 0;

  /** `expected`: how many entries to make room for without growing (e.g. the window size). */
  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity < expected * 2) capacity *= 2;
    this.keys = new Int32Array(capacity);
    this.vals = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Number of slots; at least twice the entries. */
  get capacity(): number {
    return this.mask + 1;
  }

  get(seq: number): T | undefined {
    const i = this.find(seq);
    return i < 0 ? undefined : this.vals[i];
  }

  has(seq: number): boolean {
    return this.find(seq) >= 0;
  }

  /** Adds `seq`, or replaces its value if present. */
  set(seq: number, value: T): void {
    if (!(Number.isInteger(seq) && seq >= 1 && seq <= MAX_SEQUENCE)) {
      throw new RangeError(`sequence number must be 1..${MAX_SEQUENCE}, got ${seq}`);
    }
    const found = this.find(seq);
    if (found >= 0) {
      this.vals[found] = value;
      return;
    }
    // Keep at most half the slots used, so probe runs stay short even when keys are not consecutive.
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    this.place(seq, value);
    this.count++;
  }

  /** Removes `seq`; returns the value it had, or undefined if it was absent. */
  delete(seq: number): T | undefined {
    let hole = this.find(seq);
    if (hole < 0) return undefined;
    const { keys, vals, mask } = this;
    const value = vals[hole];
    // Backward shift: each next entry of the run that is away from its home moves one slot back,
    // up to an empty slot or an entry at home (Robin Hood order, above).
    for (let j = (hole + 1) & mask; keys[j] !== 0 && (j - (keys[j] & mask)) & mask; j = (j + 1) & mask) {
      keys[hole] = keys[j];
      vals[hole] = vals[j];
      hole = j;
    }
    keys[hole] = 0;
    vals[hole] = undefined;
    this.count--;
    return value;
  }

  /** Calls `fn` for every entry, in slot order (not insertion order). `fn` must not change the table. */
  forEach(fn: (value: T, seq: number) => void): void {
    const { keys, vals } = this;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== 0) fn(vals[i] as T, keys[i]);
    }
  }

  /** Removes every entry; keeps the capacity. */
  clear(): void {
    this.keys.fill(0);
    this.vals.fill(undefined);
    this.count = 0;
  }

  /** Slot of `seq`, or -1. */
  private find(seq: number): number {
    if (seq === 0) return -1; // 0 would match an empty slot
    const { keys, mask } = this;
    for (let i = seq & mask; ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === seq) return i;
      if (k === 0) return -1;
    }
  }

  /**
   * Puts an absent key in its run (Robin Hood order, above): it takes the first slot whose entry is
   * nearer its own home than the key is to its, and that entry goes on in its place; the caller
   * counts it.
   */
  private place(seq: number, value: T): void {
    const { keys, vals, mask } = this;
    let key = seq;
    let val: T | undefined = value;
    let distance = 0;
    for (let i = key & mask; ; i = (i + 1) & mask, distance++) {
      const resident = keys[i];
      if (resident === 0) {
        keys[i] = key;
        vals[i] = val;
        return;
      }
      const residentDistance = (i - (resident & mask)) & mask;
      if (residentDistance < distance) {
        const residentVal = vals[i];
        keys[i] = key;
        vals[i] = val;
        key = resident;
        val = residentVal;
        distance = residentDistance;
      }
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const capacity = oldKeys.length * 2;
    this.keys = new Int32Array(capacity);
    this.vals = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] !== 0) this.place(oldKeys[i], oldVals[i] as T);
    }
  }
}
