// The message records of the memory store (memory-store.ts), held column-wise in pages of slots
// rather than as one object per message.
//
// Why (bench: `npm run bench`, through smppd, p99 at 10,000 msg/s offered): the store keeps every
// message for `ttl` (hours), hundreds of thousands of them. One object per message is a young object
// that survives, and V8's scavenger copies each survivor twice, with the process stopped: 20-50 ms
// pauses every second at 10,000 msg/s, far past the 5 ms p99 target. (V8 may allocate such objects
// in the old generation once it sees them survive — "pretenuring" — but measured, it does so for
// some runs and not others.) Here a message is a slot number: its fields are written into arrays
// that already live in the old generation (typed arrays for numbers, shared strings for names), and
// the Maps from id and the upstream key index (KeyIndex: number keys in typed arrays) hold slot
// numbers, not objects. What is still allocated per message and kept: the upstream id string, and
// upstream keys that are not numbers (strings).
//
// Slots are numbered in save order (`seq`); with one ttl, save order is expiry order, so expiry and
// eviction advance `head` over the oldest slots, as the queues of memory-store.ts do. A slot removed
// out of order (an id saved again, an expired record found by a lookup) is left dead until the head
// passes it; when dead slots outnumber live ones the table is rebuilt with only the live ones.
// Pages the head has passed are dropped (one is kept for reuse).

import { CounterIndex } from './counter-index.js';
import type { MessageRecord } from './store.js';
import { charCode, startsWith } from '../smpp/string-calls.js';

/**
 * Record and index keys: a number where a number says the same (recordKey, indexKey), else the
 * string. Numbers below 2^31 are not heap objects; a string per key and message would be one that
 * survives (see the top of this file).
 */
export type Key = number | string;

/**
 * Slots per page, as a power of two. 2^13: a column is 64 KiB, under V8's largest young object
 * (128 KiB), so a page is made by bump allocation (~1.5 ms for all its columns) and copied by a
 * scavenge or two (a memcpy). At 2^15 each column went to the large-object space: no copying,
 * but ~1 ms per column to allocate, a 13 ms stall every 32,768 messages (measured, Node 24).
 */
export const DEFAULT_PAGE_BITS = 13;


/** smppd ids (message-id.ts) are a fixed prefix of this length and a base36 counter. */
const ID_PREFIX_LENGTH = 14;
/** Up to 10 base36 digits are exact as a double (36^10 < 2^53). */
const ID_COUNTER_MAX_DIGITS = 10;

function column<T>(size: number): (T | undefined)[] {
  return new Array<T | undefined>(size).fill(undefined);
}

/** `size` slots, one array per field. A slot is live while `key` holds its record key. */
class Page {
  readonly key: (Key | undefined)[];
  readonly client: (string | undefined)[];
  readonly cluster: (string | undefined)[];
  readonly endpoint: (string | undefined)[];
  readonly routeName: (string | undefined)[];
  readonly upstreamId: (string | undefined)[];
  readonly createdAt: Float64Array;
  readonly expiresAt: Float64Array;
  /** NaN: no `parts`. */
  readonly parts: Float64Array;
  /** The first setUpstreamId's cluster and up to two index keys; the rest in moreKeys as pairs cluster, key. */
  readonly keyCluster: (string | undefined)[];
  readonly key0: (Key | undefined)[];
  readonly key1: (Key | undefined)[];
  readonly moreKeys: (Key[] | undefined)[];

  constructor(size: number) {
    this.key = column<Key>(size);
    this.client = column<string>(size);
    this.cluster = column<string>(size);
    this.endpoint = column<string>(size);
    this.routeName = column<string>(size);
    this.upstreamId = column<string>(size);
    this.createdAt = new Float64Array(size);
    this.expiresAt = new Float64Array(size);
    this.parts = new Float64Array(size);
    this.keyCluster = column<string>(size);
    this.key0 = column<Key>(size);
    this.key1 = column<Key>(size);
    this.moreKeys = column<Key[]>(size);
  }
}

/**
 * The index key of a normalised upstream key: canonical decimal numbers (messageIdKeys writes
 * numeric ids so) of up to 15 digits as numbers, exactly; anything else (a leading zero, a letter,
 * more digits) stays a string. One-to-one, and a number never equals a string in a Map.
 */
export function indexKey(key: string): Key {
  const n = key.length;
  if (n === 0 || n > 15 || (n > 1 && charCode(key, 0) === 0x30)) return key;
  // The value in the same pass as the check (exact: at most 15 digits), not Number(key) after it.
  let value = 0;
  for (let i = 0; i < n; i++) {
    const c = charCode(key, i);
    if (c < 0x30 || c > 0x39) return key;
    value = value * 10 + (c - 0x30);
  }
  return value;
}

/** Shards of an index, as bits of a key's hash: 256 shards. */
const INDEX_SHARD_BITS = 8;
/** Slots a number shard starts with; a power of two. It doubles when more than half full. */
const TABLE_INITIAL_SLOTS = 8;
/** The key of a free slot in a number shard: number keys are >= 0 (indexKey). */
const EMPTY = -1;

/**
 * 32 well-mixed bits of a number key's block, its 8 consecutive keys k - k % 8 .. k - k % 8 + 7 (key
 * an integer 0 <= key < 2^53): the block's low and high 32 bits folded together, then murmur3-style
 * mixing, so that blocks counting up spread over shards and slots. The low bits pick the shard, the
 * bits above them the block's place in its table (homeOf).
 */
function hashBlock(key: number): number {
  let h = (key >>> 3) ^ Math.imul((key / 4294967296) | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return h ^ (h >>> 16);
}

/**
 * Where a table (`mask`: its length - 2) starts probing for `key`: the 8 keys of a block (hash `h`)
 * have 8 neighbouring home slots. Upstream ids mostly count up, so keys saved (and expiring)
 * together share a cache line or two rather than costing a cache miss each. Measured (throwaway
 * microbenchmark, Node 24: a window of 200,000 keys sliding by a set and a delete, 1 million times):
 * keys counting up ~90 ns a step, against ~220 ns with a home per key and ~220 ns with the Maps
 * this replaced. Keys that skip (every 8th: one node of eight) share one home slot per block, 4 keys
 * at load 1/2, still a short run: ~260 ns, against ~230 ns with a home per key (Maps: ~560 ns).
 */
function homeOf(key: number, h: number, shardBits: number, mask: number): number {
  return (((h >>> shardBits) << 4) | ((key & 7) << 1)) & mask;
}

/** A string key's shard (before masking): its last two characters. */
function stringShard(key: string): number {
  const n = key.length;
  return n === 0 ? 0 : charCode(key, n - 1) + (n > 1 ? charCode(key, n - 2) * 31 : 0);
}

/**
 * One cluster's index (upstream key -> slot).
 *
 * Number keys (nearly all of them: indexKey) live in open-addressing hash tables on Float64Arrays,
 * not in Maps. Map.set was 7.6% of smppd's CPU at ~70,000 msg/s (profile of `npm run bench`,
 * through smppd: ~1 µs a key, with the Map's rehashing as it grows and shrinks); here a set is a
 * hash, a few probes and two stores. A typed array holds no pointers either, so per-message set and
 * delete leave nothing for the scavenger to trace (a churned Map's replaced tables chain young
 * objects into the old generation). Linear probing at load <= 1/2 keeps probe runs short; a delete
 * moves the rest of its run back into the hole (no tombstones), so runs stay short however long
 * keys come and go, as they do here: every key leaves again when its record expires.
 *
 * Both kinds are split by key into 2^shardBits shards. A table (or Map) grows by rehashing all of its
 * keys at once, with the process stopped: one Map of 2 million keys (1 million messages, two keys
 * each) stalled smppd for tens of ms at each doubling; a shard holds a 256th of the
 * keys, so its rehash does too (bench: `npm run bench`, p99 at 10,000 msg/s). String keys (rare:
 * ids with letters or leading zeros) stay in one Map per shard, picked by their last two characters.
 */
export class KeyIndex {
  size = 0;
  private readonly shardBits: number;
  private readonly shardMask: number;
  /** Per shard, the number keys' slots as pairs (key, seq); key EMPTY: a free slot. */
  private readonly tables: Float64Array[] = [];
  /** Per shard, the number keys in its table. */
  private readonly counts: Int32Array;
  private readonly strings: Map<string, number>[] = [];

  /** `shardBits`: tests use 0 (one shard) so that every key collides with every other. */
  constructor(shardBits = INDEX_SHARD_BITS) {
    this.shardBits = shardBits;
    this.shardMask = (1 << shardBits) - 1;
    this.counts = new Int32Array(1 << shardBits);
    for (let s = 0; s <= this.shardMask; s++) {
      this.tables.push(new Float64Array(2 * TABLE_INITIAL_SLOTS).fill(EMPTY));
      this.strings.push(new Map());
    }
  }

  // A table's slot i (an even index: the key at i, its seq at i + 1) is probed from the key's home
  // (homeOf) onwards, wrapping at the end; `mask` is the table's length - 2.

  get(key: Key): number | undefined {
    if (typeof key !== 'number') return this.strings[stringShard(key) & this.shardMask]!.get(key);
    const h = hashBlock(key);
    const t = this.tables[h & this.shardMask]!;
    const mask = t.length - 2;
    for (let i = homeOf(key, h, this.shardBits, mask); ; i = (i + 2) & mask) {
      const k = t[i]!;
      if (k === key) return t[i + 1];
      if (k === EMPTY) return undefined;
    }
  }

  /** Points `key` at `seq`; true when the key is new. */
  set(key: Key, seq: number): boolean {
    if (typeof key !== 'number') {
      const m = this.strings[stringShard(key) & this.shardMask]!;
      const before = m.size;
      m.set(key, seq);
      if (m.size === before) return false;
      this.size++;
      return true;
    }
    const h = hashBlock(key);
    const s = h & this.shardMask;
    let t = this.tables[s]!;
    let mask = t.length - 2;
    let i = homeOf(key, h, this.shardBits, mask);
    for (let k = t[i]!; k !== EMPTY; i = (i + 2) & mask, k = t[i]!) {
      if (k === key) {
        t[i + 1] = seq;
        return false;
      }
    }
    const n = this.counts[s]! + 1;
    if (4 * n > t.length) {
      // Over half full with this key (length / 4 keys at most): twice the slots, and probe again.
      t = this.grow(s);
      mask = t.length - 2;
      i = homeOf(key, h, this.shardBits, mask);
      while (t[i] !== EMPTY) i = (i + 2) & mask;
    }
    t[i] = key;
    t[i + 1] = seq;
    this.counts[s] = n;
    this.size++;
    return true;
  }

  delete(key: Key): boolean {
    if (typeof key !== 'number') {
      if (!this.strings[stringShard(key) & this.shardMask]!.delete(key)) return false;
      this.size--;
      return true;
    }
    const h = hashBlock(key);
    const s = h & this.shardMask;
    const t = this.tables[s]!;
    const mask = t.length - 2;
    let i = homeOf(key, h, this.shardBits, mask);
    for (let k = t[i]!; k !== key; i = (i + 2) & mask, k = t[i]!) if (k === EMPTY) return false;
    this.removeAt(s, i);
    return true;
  }

  /** Gives every slot a new number (or drops its keys when `renumber` has none): rebuild(). */
  renumber(renumber: ReadonlyMap<number, number>): void {
    for (let s = 0; s <= this.shardMask; s++) {
      const t = this.tables[s]!;
      const mask = t.length - 2;
      // The walk starts after a free slot (at least half are) and goes once round. A removal moves
      // back keys of the hole's run only, which ends before that free slot: keys not reached yet.
      // So the slot is looked at again after a removal, and no key is renumbered twice.
      let start = 0;
      while (t[start] !== EMPTY) start += 2;
      for (let n = 0, i = (start + 2) & mask; n < t.length; ) {
        if (t[i] !== EMPTY) {
          const seq = renumber.get(t[i + 1]!);
          if (seq === undefined) {
            this.removeAt(s, i);
            continue;
          }
          t[i + 1] = seq;
        }
        n += 2;
        i = (i + 2) & mask;
      }
    }
    for (const m of this.strings) {
      for (const [key, seq] of m) {
        const n = renumber.get(seq);
        if (n !== undefined) m.set(key, n);
        else if (m.delete(key)) this.size--;
      }
    }
  }

  /**
   * Frees slot i of shard s. Each later key of its run moves back into the hole unless its home is
   * after the hole (it would then be unreachable from its home), and the hole moves to where it was:
   * every key stays reachable from its home without probing past a free slot.
   */
  private removeAt(s: number, i: number): void {
    const t = this.tables[s]!;
    const mask = t.length - 2;
    for (let j = (i + 2) & mask; ; j = (j + 2) & mask) {
      const k = t[j]!;
      if (k === EMPTY) break;
      const home = homeOf(k, hashBlock(k), this.shardBits, mask);
      if (((j - home) & mask) >= ((j - i) & mask)) {
        t[i] = k;
        t[i + 1] = t[j + 1]!;
        i = j;
      }
    }
    t[i] = EMPTY;
    this.counts[s]--;
    this.size--;
  }

  /** Shard s's table with twice the slots, its keys rehashed into it. */
  private grow(s: number): Float64Array {
    const old = this.tables[s]!;
    const t = new Float64Array(2 * old.length).fill(EMPTY);
    const mask = t.length - 2;
    for (let j = 0; j < old.length; j += 2) {
      const k = old[j]!;
      if (k === EMPTY) continue;
      let i = homeOf(k, hashBlock(k), this.shardBits, mask);
      while (t[i] !== EMPTY) i = (i + 2) & mask;
      t[i] = k;
      t[i + 1] = old[j + 1]!;
    }
    this.tables[s] = t;
    return t;
  }
}

export class RecordTable {
  evictions = 0;
  expirations = 0;
  /** Index keys held (all clusters). */
  upstreamKeyCount = 0;

  /** Record key -> slot, for the keys `dense` does not hold. */
  private readonly records = new Map<Key, number>();
  /** smppd's own ids (numeric keys) -> slot, by counter (counter-index.ts); others go to `records`. */
  private readonly dense = new CounterIndex();
  /** Live records (in `records` and `dense`). */
  private count = 0;
  /** Numeric keys in `records` (own ids `dense` could not take): none, and a dense miss is final. */
  private numericInMap = 0;
  /** cluster -> index key -> slot. Nested: no string is built per lookup. */
  private readonly index = new Map<string, KeyIndex>();
  private pages: Page[] = [];
  /** The slot number of pages[0]'s first slot. */
  private base = 0;
  /** The oldest slot that may be live, and the next slot to use. */
  private head = 0;
  private tail = 0;
  private spare: Page | undefined;
  /** The id prefix recordKey turns into numbers: that of the first long enough id saved. */
  private idPrefix: string | undefined;
  /** compact() calls so far (it renumbers slots). */
  private rebuilds = 0;
  /** The largest numeric record key saved so far. */
  private maxNumericKey = -1;

  private readonly pageBits: number;
  private readonly pageSize: number;
  private readonly pageMask: number;

  /** `pageBits`: slots per page as a power of two (tests use small pages to cross many). */
  constructor(
    private readonly maxEntries: number,
    pageBits = DEFAULT_PAGE_BITS,
  ) {
    this.pageBits = pageBits;
    this.pageSize = 1 << pageBits;
    this.pageMask = this.pageSize - 1;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Saves `record` (its id already checked) to expire at `expiresAt`. An id saved before is replaced
   * and keeps its index keys; a new one beyond maxEntries evicts the oldest record.
   */
  save(record: MessageRecord, expiresAt: number): number {
    const key = this.recordKey(record.id);
    // smppd's own ids only grow: one above every number seen cannot be here, and the big Map is
    // not asked (one lookup fewer per message; bench: `npm run bench`, through smppd).
    let old: number | undefined;
    if (typeof key === 'number' && key > this.maxNumericKey) this.maxNumericKey = key;
    else old = this.slotOf(key);
    if (old === undefined && this.count >= this.maxEntries) this.evictOldest();
    const rebuilds = this.rebuilds;
    const seq = this.allocate();
    // A rebuild renumbered the slots: look the old one up again.
    if (old !== undefined && rebuilds !== this.rebuilds) old = this.slotOf(key);
    const page = this.pageOf(seq);
    const i = seq & this.pageMask;
    page.key[i] = key;
    page.client[i] = record.client;
    page.cluster[i] = record.cluster;
    page.endpoint[i] = record.endpoint;
    page.routeName[i] = record.routeName;
    page.upstreamId[i] = record.upstreamId;
    page.createdAt[i] = record.createdAt;
    page.parts[i] = record.parts ?? NaN;
    page.expiresAt[i] = expiresAt;
    page.keyCluster[i] = undefined;
    page.key0[i] = undefined;
    page.key1[i] = undefined;
    page.moreKeys[i] = undefined;
    if (old !== undefined) this.takeKeys(seq, old);
    else this.count++;
    this.setSlot(key, seq);
    return seq;
  }

  /** The live record with this id (an expired one is removed and counted), or undefined. */
  get(id: string, now: number): MessageRecord | undefined {
    const seq = this.live(id, now);
    return seq < 0 ? undefined : this.toRecord(seq);
  }

  /**
   * MessageStore.setUpstreamId's record part (see there). False when no live record has this id.
   * `keys` are messageIdKeys strings.
   */
  setUpstreamId(id: string, cluster: string, upstreamId: string, keys: readonly string[], endpoint: string | undefined, now: number): boolean {
    const seq = this.live(id, now);
    if (seq < 0) return false;
    this.indexSlot(seq, cluster, upstreamId, keys, endpoint);
    return true;
  }

  /**
   * save() and setUpstreamId() in one: the slot save() filled is indexed directly, without
   * parsing the id and finding the record again (the memory store's saveAccepted, once per
   * submitted message; bench: `npm run bench`, through smppd).
   */
  saveIndexed(record: MessageRecord, expiresAt: number, cluster: string, upstreamId: string, keys: readonly string[], endpoint: string | undefined): void {
    this.indexSlot(this.save(record, expiresAt), cluster, upstreamId, keys, endpoint);
  }

  private indexSlot(seq: number, cluster: string, upstreamId: string, keys: readonly string[], endpoint: string | undefined): void {
    const page = this.pageOf(seq);
    const i = seq & this.pageMask;
    if (endpoint !== undefined) page.endpoint[i] = endpoint;
    else if (page.cluster[i] !== cluster) page.endpoint[i] = undefined;
    page.cluster[i] = cluster;
    page.upstreamId[i] = upstreamId;
    let index = this.index.get(cluster);
    if (index === undefined) {
      index = new KeyIndex();
      this.index.set(cluster, index);
    }
    for (let k = 0; k < keys.length; k++) {
      const key = indexKey(keys[k] as string);
      // One lookup per key where a get-then-set would be two: set() tells whether it is new.
      if (index.set(key, seq)) {
        this.upstreamKeyCount++;
        this.addKey(page, i, cluster, key);
      } else if (!this.hasKey(page, i, cluster, key)) {
        // The key pointed at another message (an id reused upstream): it is this one's now.
        this.addKey(page, i, cluster, key);
      }
    }
  }

  /** The live record indexed under (cluster, key) for the first key that has one. */
  findByUpstream(cluster: string, keys: readonly string[], now: number): MessageRecord | undefined {
    const index = this.index.get(cluster);
    if (index === undefined) return undefined;
    for (let k = 0; k < keys.length; k++) {
      const seq = index.get(indexKey(keys[k] as string));
      if (seq === undefined || !this.isLive(seq)) continue;
      if (this.pageOf(seq).expiresAt[seq & this.pageMask]! <= now) {
        this.remove(seq);
        this.expirations++;
        continue;
      }
      return this.toRecord(seq);
    }
    return undefined;
  }

  /** Removes every record whose time has passed, oldest first. */
  sweep(now: number): void {
    while (this.head < this.tail) {
      const seq = this.head;
      if (this.isLive(seq)) {
        if (this.pageOf(seq).expiresAt[seq & this.pageMask]! > now) break;
        this.remove(seq);
        this.expirations++;
      }
      this.head++;
    }
    this.dropPassedPages();
  }

  clear(): void {
    this.records.clear();
    this.dense.clear();
    this.count = 0;
    this.numericInMap = 0;
    this.index.clear();
    this.pages = [];
    this.spare = undefined;
    this.base = this.head = this.tail = 0;
    this.upstreamKeyCount = 0;
    this.maxNumericKey = -1;
  }

  // ---- keys -------------------------------------------------------------------------------------

  /**
   * The records key of an id: ids made of the learned prefix and a canonical base36 counter (what
   * message-id.ts hands out: lowercase, no leading zero) are keyed by the counter, a number, and no
   * id string is kept per message; any other id is its own key. One-to-one: idOf inverts it.
   */
  private recordKey(id: string): Key {
    let prefix = this.idPrefix;
    if (prefix === undefined) {
      if (id.length <= ID_PREFIX_LENGTH) return id;
      prefix = this.idPrefix = id.slice(0, ID_PREFIX_LENGTH);
    }
    const digits = id.length - ID_PREFIX_LENGTH;
    if (digits < 1 || digits > ID_COUNTER_MAX_DIGITS || !startsWith(id, prefix)) return id;
    let n = 0;
    for (let i = ID_PREFIX_LENGTH; i < id.length; i++) {
      const c = charCode(id, i);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x7a) d = c - 0x61 + 10;
      else return id;
      if (d === 0 && i === ID_PREFIX_LENGTH && digits > 1) return id; // a leading zero
      n = n * 36 + d;
    }
    return n;
  }

  private idOf(key: Key): string {
    return typeof key === 'number' ? (this.idPrefix as string) + key.toString(36) : key;
  }

  private addKey(page: Page, i: number, cluster: string, key: Key): void {
    if (page.keyCluster[i] === undefined) {
      page.keyCluster[i] = cluster;
      page.key0[i] = key;
    } else if (page.keyCluster[i] === cluster && page.key1[i] === undefined) {
      page.key1[i] = key;
    } else {
      const more = page.moreKeys[i];
      if (more === undefined) page.moreKeys[i] = [cluster, key];
      else more.push(cluster, key);
    }
  }

  private hasKey(page: Page, i: number, cluster: string, key: Key): boolean {
    if (page.keyCluster[i] === cluster && (page.key0[i] === key || page.key1[i] === key)) return true;
    const more = page.moreKeys[i];
    if (more !== undefined) for (let k = 0; k < more.length; k += 2) if (more[k] === cluster && more[k + 1] === key) return true;
    return false;
  }

  /** Calls fn for each (cluster, index key) noted on slot `seq`. */
  private eachKey(seq: number, fn: (cluster: string, key: Key) => void): void {
    const page = this.pageOf(seq);
    const i = seq & this.pageMask;
    const cluster = page.keyCluster[i];
    if (cluster === undefined) return;
    fn(cluster, page.key0[i] as Key);
    const key1 = page.key1[i];
    if (key1 !== undefined) fn(cluster, key1);
    const more = page.moreKeys[i];
    if (more !== undefined) for (let k = 0; k < more.length; k += 2) fn(more[k] as string, more[k + 1] as Key);
  }

  /** Slot `seq` takes over the index keys of slot `old` (the same id saved again), which dies. */
  private takeKeys(seq: number, old: number): void {
    const from = this.pageOf(old);
    const j = old & this.pageMask;
    const to = this.pageOf(seq);
    const i = seq & this.pageMask;
    to.keyCluster[i] = from.keyCluster[j];
    to.key0[i] = from.key0[j];
    to.key1[i] = from.key1[j];
    to.moreKeys[i] = from.moreKeys[j];
    this.eachKey(seq, (cluster, key) => {
      const index = this.index.get(cluster);
      if (index !== undefined && index.get(key) === old) index.set(key, seq);
    });
    this.kill(old);
  }

  // ---- slots ------------------------------------------------------------------------------------

  private pageOf(seq: number): Page {
    return this.pages[(seq - this.base) >>> this.pageBits] as Page;
  }

  /** The slot of a record key (dense for own ids, else the Map), or undefined. A key is in one of the two. */
  private slotOf(key: Key): number | undefined {
    if (typeof key !== 'number') return this.records.get(key);
    const seq = this.dense.get(key);
    if (seq !== undefined) return seq;
    return this.numericInMap > 0 ? this.records.get(key) : undefined;
  }

  private setSlot(key: Key, seq: number): void {
    if (typeof key === 'number') {
      if (this.dense.set(key, seq)) {
        if (this.numericInMap > 0 && this.records.delete(key)) this.numericInMap--;
        return;
      }
      const size = this.records.size;
      this.records.set(key, seq);
      if (this.records.size !== size) this.numericInMap++;
      return;
    }
    this.records.set(key, seq);
  }

  private deleteSlot(key: Key, seq: number): void {
    if (typeof key === 'number') {
      if (this.dense.delete(key, seq)) return;
      if (this.records.get(key) === seq) {
        this.records.delete(key);
        this.numericInMap--;
      }
      return;
    }
    if (this.records.get(key) === seq) this.records.delete(key);
  }

  private isLive(seq: number): boolean {
    if (seq < this.head || seq >= this.tail) return false;
    return this.pageOf(seq).key[seq & this.pageMask] !== undefined;
  }

  /** The live slot of this id (an expired one is removed and counted), or -1. */
  private live(id: string, now: number): number {
    const seq = this.slotOf(this.recordKey(id));
    if (seq === undefined) return -1;
    if (this.pageOf(seq).expiresAt[seq & this.pageMask]! <= now) {
      this.remove(seq);
      this.expirations++;
      return -1;
    }
    return seq;
  }

  private toRecord(seq: number): MessageRecord {
    const page = this.pageOf(seq);
    const i = seq & this.pageMask;
    const parts = page.parts[i]!;
    return {
      id: this.idOf(page.key[i] as Key),
      client: page.client[i] as string,
      cluster: page.cluster[i] as string,
      endpoint: page.endpoint[i],
      routeName: page.routeName[i],
      upstreamId: page.upstreamId[i],
      createdAt: page.createdAt[i]!,
      parts: Number.isNaN(parts) ? undefined : parts,
    };
  }

  /** A fresh slot at the tail (compacting first when dead slots outnumber live ones). */
  private allocate(): number {
    if (this.tail - this.head > 2 * this.count + 2 * this.pageSize) this.compact();
    const seq = this.tail++;
    if (((seq - this.base) >>> this.pageBits) >= this.pages.length) {
      const page = this.spare ?? new Page(this.pageSize);
      this.spare = undefined;
      this.pages.push(page);
    }
    this.pageOf(seq).key[seq & this.pageMask] = undefined; // not live until written (a reused page)
    return seq;
  }

  /** Out of the table: its id and index keys go, the slot is dead. */
  private remove(seq: number): void {
    const key = this.pageOf(seq).key[seq & this.pageMask] as Key;
    this.count--;
    this.deleteSlot(key, seq);
    this.eachKey(seq, (cluster, k) => {
      const index = this.index.get(cluster);
      // A key reused upstream may point at a newer message by now: leave that one.
      if (index === undefined || index.get(k) !== seq) return;
      index.delete(k);
      this.upstreamKeyCount--;
      if (index.size === 0) this.index.delete(cluster);
    });
    this.kill(seq);
  }

  /** The slot is dead; what it held that is its own (not shared names) is let go. */
  private kill(seq: number): void {
    const page = this.pageOf(seq);
    const i = seq & this.pageMask;
    page.key[i] = undefined;
    page.upstreamId[i] = undefined;
    page.key0[i] = undefined;
    page.key1[i] = undefined;
    page.moreKeys[i] = undefined;
  }

  private evictOldest(): void {
    while (this.head < this.tail) {
      const seq = this.head;
      const live = this.isLive(seq);
      if (live) {
        this.remove(seq);
        this.evictions++;
      }
      this.head++;
      if (live) break;
    }
    this.dropPassedPages();
  }

  /** Pages wholly before the head hold only dead slots: dropped (the last one kept for reuse). */
  private dropPassedPages(): void {
    this.dense.trim(this.head);
    while (this.pages.length > 0 && this.head - this.base >= this.pageSize) {
      this.spare = this.pages.shift();
      this.base += this.pageSize;
    }
  }

  /** Rebuilds the pages with the live slots only, in order, renumbered from 0. Rare: see the top. */
  private compact(): void {
    const seqs: number[] = [];
    for (let seq = this.head; seq < this.tail; seq++) if (this.isLive(seq)) seqs.push(seq);
    const pages: Page[] = [];
    const renumber = new Map<number, number>();
    seqs.forEach((seq, n) => {
      if ((n >>> this.pageBits) >= pages.length) pages.push(new Page(this.pageSize));
      const from = this.pageOf(seq);
      const j = seq & this.pageMask;
      const to = pages[n >>> this.pageBits] as Page;
      const i = n & this.pageMask;
      to.key[i] = from.key[j];
      to.client[i] = from.client[j];
      to.cluster[i] = from.cluster[j];
      to.endpoint[i] = from.endpoint[j];
      to.routeName[i] = from.routeName[j];
      to.upstreamId[i] = from.upstreamId[j];
      to.createdAt[i] = from.createdAt[j]!;
      to.expiresAt[i] = from.expiresAt[j]!;
      to.parts[i] = from.parts[j]!;
      to.keyCluster[i] = from.keyCluster[j];
      to.key0[i] = from.key0[j];
      to.key1[i] = from.key1[j];
      to.moreKeys[i] = from.moreKeys[j];
      renumber.set(seq, n);
    });
    for (const [key, seq] of this.records) this.records.set(key, renumber.get(seq) as number);
    this.dense.renumber(renumber);
    for (const index of this.index.values()) index.renumber(renumber);
    this.pages = pages;
    this.base = 0;
    this.head = 0;
    this.tail = seqs.length;
    this.spare = undefined;
    this.rebuilds++;
  }
}
