// The memory backend of MessageStore: one replica's messages in Maps, nothing shared.
//
// Expiry without timers: each kind of entry is also queued in insertion order (fifo.ts), and with one
// ttl per kind insertion order is expiry order, so a sweep pops each queue from its head and stops at
// the first entry still alive. Entries removed out of order (ack, lookup of an expired entry, re-save)
// are marked dead and skipped when they reach the head; a queue is compacted when dead entries
// outnumber live ones.
// The sweep runs inside calls, at most once per `sweepIntervalMs` (a comparison per call otherwise),
// and always before stats()/pendingCount() so their counts are exact. Lookups also check the entry
// they found, so an expired entry is never returned between sweeps. Bounds (max entries, deliveries,
// orphans) evict from the head: the oldest first.
// bench/store.ts measures the per-message path (save + setUpstreamId + findByUpstream) and the heap
// cost per record that the approxBytes estimate below uses.

import { Fifo } from './fifo.js';
import {
  DEFAULT_LEASE_MS,
  MAX_MESSAGE_ID_LENGTH,
  STORE_DONE,
  STORE_NO_ORPHANS,
  StoreError,
  StoreErrorCode,
  type ClaimedDelivery,
  type Clock,
  type DeliveryItem,
  type MessageRecord,
  type MessageStore,
  type OrphanReceipt,
  type StoreOptions,
  type StoreStats,
} from './store.js';

export interface MemoryStoreOptions extends StoreOptions {
  /** Most message records held (SPEC §3 `store.max_entries`); the oldest are evicted beyond it. */
  readonly maxEntries?: number;
  /** Most pending deliveries held, all clients; default maxEntries. */
  readonly maxDeliveries?: number;
  /** Most orphan receipts held; default the smaller of maxEntries and 100,000. */
  readonly maxOrphans?: number;
  /** Least time between two sweeps; default ttl/8, at most 1s. */
  readonly sweepIntervalMs?: number;
}

export const DEFAULT_MAX_ENTRIES = 1_000_000;
const DEFAULT_MAX_ORPHANS = 100_000;

// Estimated heap bytes per held item, for stats().memory.approxBytes. RECORD and INDEX_KEY are
// measured (bench/store.ts: ~640 bytes per message with a 25-char id and two upstream keys, ~270
// before its upstream id is set); the other two assume a deliver_sm with a 160-byte short_message.
const RECORD_BYTES = 300;
const INDEX_KEY_BYTES = 170;
const DELIVERY_BYTES = 700;
const ORPHAN_BYTES = 800;

/** Separates cluster and key in orphan index keys; config cluster names are printable, so never contain it. */
const SEP = '\u0000';

interface Queued {
  /** False once removed from the store; it may still sit in a Fifo. */
  live: boolean;
}

/**
 * Index and record keys: a number where a number says the same (see indexKey and recordKey), else
 * the string. The store holds hundreds of thousands of messages; a string per key and message would
 * be a young object that survives, and scavenges copy survivors (twice) while the process waits:
 * at the bench's 10,000 msg/s that made 20-50 ms pauses (bench: `npm run bench`, p99 at 10,000
 * msg/s offered). Numbers below 2^31 are not objects at all.
 */
type Key = number | string;

/**
 * One stored message: the record's fields inline. Made by one object literal (newEntry) on purpose:
 * V8 tracks survival per literal site and, as every entry lives long, soon allocates them straight
 * in the old generation, so they are never copied by a scavenge (a `new` of a class is not
 * pretenured: measured 15-25 ms scavenges for the same load; bench: p99 at 10,000 msg/s). Callers
 * get a fresh MessageRecord copy (toRecord), so a record handed out never changes.
 */
interface RecordEntry extends Queued {
  /** The message id, as recordKey gives it. */
  readonly key: Key;
  readonly client: string;
  cluster: string;
  endpoint: string | undefined;
  readonly routeName: string | undefined;
  upstreamId: string | undefined;
  readonly createdAt: number;
  readonly parts: number | undefined;
  readonly expiresAt: number;
  /** The first setUpstreamId's cluster and (up to two) index keys, inline: the common case allocates nothing more. */
  keyCluster: string | undefined;
  key0: Key | undefined;
  key1: Key | undefined;
  /** Further index keys, as pairs: cluster, key, cluster, key, ... */
  moreKeys: Key[] | undefined;
}

function newEntry(key: Key, record: MessageRecord, expiresAt: number): RecordEntry {
  // Copied field by field: later changes to the caller's object do not reach the store.
  return {
    live: true,
    key,
    client: record.client,
    cluster: record.cluster,
    endpoint: record.endpoint,
    routeName: record.routeName,
    upstreamId: record.upstreamId,
    createdAt: record.createdAt,
    parts: record.parts,
    expiresAt,
    keyCluster: undefined,
    key0: undefined,
    key1: undefined,
    moreKeys: undefined,
  };
}

/** Notes that (cluster, key) points at `entry` in the index. */
function addKey(entry: RecordEntry, cluster: string, key: Key): void {
  if (entry.keyCluster === undefined) {
    entry.keyCluster = cluster;
    entry.key0 = key;
  } else if (entry.keyCluster === cluster && entry.key1 === undefined) {
    entry.key1 = key;
  } else if (entry.moreKeys === undefined) {
    entry.moreKeys = [cluster, key];
  } else {
    entry.moreKeys.push(cluster, key);
  }
}

/** (cluster, key) is among the keys noted on `entry`. */
function hasKey(entry: RecordEntry, cluster: string, key: Key): boolean {
  if (entry.keyCluster === cluster && (entry.key0 === key || entry.key1 === key)) return true;
  const more = entry.moreKeys;
  if (more !== undefined) for (let i = 0; i < more.length; i += 2) if (more[i] === cluster && more[i + 1] === key) return true;
  return false;
}

/**
 * The index key of a normalised upstream key: canonical decimal numbers (messageIdKeys writes
 * numeric ids so) of up to 15 digits as numbers, exactly; anything else (a leading zero, a letter,
 * more digits) stays a string. One-to-one, and a number never equals a string in a Map.
 */
function indexKey(key: string): Key {
  const n = key.length;
  if (n === 0 || n > 15 || (n > 1 && key.charCodeAt(0) === 0x30)) return key;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return key;
  }
  return Number(key);
}

/** smppd ids (message-id.ts) are a fixed prefix of this length and a base36 counter. */
const ID_PREFIX_LENGTH = 14;
/** Up to 10 base36 digits are exact as a double (36^10 < 2^53). */
const ID_COUNTER_MAX_DIGITS = 10;

interface OrphanHold extends Queued {
  readonly seq: number;
  readonly receipt: OrphanReceipt;
  readonly expiresAt: number;
  readonly keys: readonly string[];
}

interface DeliveryEntry extends Queued {
  readonly id: string;
  readonly client: string;
  readonly item: DeliveryItem;
  readonly expiresAt: number;
  /** 0 while queued; the end of the lease while claimed. */
  leaseUntil: number;
  attempts: number;
}

const NO_ORPHANS: readonly OrphanReceipt[] = Object.freeze([]);
// The per-message calls (save, setUpstreamId, findByUpstream) are not `async`: the memory backend
// answers synchronously and returns the shared settled promises of store.ts (STORE_DONE,
// STORE_NO_ORPHANS), which callers need not await (bench: `npm run bench`, through smppd). Errors
// still come as rejections, never throws.

function positive(name: string, value: number, integer: boolean): number {
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new StoreError(StoreErrorCode.INVALID_ARGUMENT, `${name} must be a positive ${integer ? 'integer' : 'number'}`);
  }
  return value;
}

function byOldest(a: OrphanHold, b: OrphanHold): number {
  return a.seq - b.seq;
}

function isLive(entry: Queued): boolean {
  return entry.live;
}

/** Queue an entry; compact the queue when dead entries would outnumber the live ones. */
function enqueue<T extends Queued>(order: Fifo<T>, entry: T, liveCount: number): void {
  order.push(entry);
  if (order.length > 2 * liveCount + 1024) order.compact(isLive);
}

class MemoryStore implements MessageStore {
  private readonly ttlMs: number;
  private readonly leaseMs: number;
  private readonly maxEntries: number;
  private readonly maxDeliveries: number;
  private readonly maxOrphans: number;
  private readonly sweepIntervalMs: number;
  private readonly clock: Clock;
  private closed = false;
  private nextSweepAt = 0;
  private readonly queuedListeners = new Set<(client: string) => void>();

  private readonly records = new Map<Key, RecordEntry>();
  /** The id prefix recordKey turns into numbers: that of the first long enough id saved. */
  private idPrefix: string | undefined = undefined;
  private readonly recordOrder = new Fifo<RecordEntry>();
  /**
   * cluster -> normalised upstream key -> the message's entry (a receipt finds it with one lookup).
   * Nested rather than keyed `${cluster}\0${key}`: no string is built per lookup, and both strings
   * keep their cached hashes (bench/store.ts).
   */
  private readonly upstreamIndex = new Map<string, Map<Key, RecordEntry>>();
  private upstreamKeyCount = 0;
  private readonly orphanOrder = new Fifo<OrphanHold>();
  private readonly orphanIndex = new Map<string, OrphanHold[]>();
  private orphanCount = 0;
  private orphanSeq = 0;
  /** All deliveries by id, in enqueue order (expiry and eviction), and per client (FIFO). */
  private readonly deliveries = new Map<string, DeliveryEntry>();
  private readonly deliveryOrder = new Fifo<DeliveryEntry>();
  private readonly queues = new Map<string, Map<string, DeliveryEntry>>();
  private deliverySeq = 0;

  private evictions = 0;
  private expirations = 0;
  private deliveriesExpired = 0;
  private deliveriesEvicted = 0;
  private orphansExpired = 0;
  private orphansEvicted = 0;

  constructor(options: MemoryStoreOptions) {
    this.ttlMs = positive('ttlMs', options.ttlMs, false);
    this.leaseMs = positive('leaseMs', options.leaseMs ?? DEFAULT_LEASE_MS, false);
    this.maxEntries = positive('maxEntries', options.maxEntries ?? DEFAULT_MAX_ENTRIES, true);
    this.maxDeliveries = positive('maxDeliveries', options.maxDeliveries ?? this.maxEntries, true);
    this.maxOrphans = positive('maxOrphans', options.maxOrphans ?? Math.min(this.maxEntries, DEFAULT_MAX_ORPHANS), true);
    this.sweepIntervalMs = positive(
      'sweepIntervalMs',
      options.sweepIntervalMs ?? Math.max(1, Math.min(1000, Math.floor(this.ttlMs / 8))),
      false,
    );
    this.clock = options.clock ?? Date.now;
  }

  // --- messages ---

  save(record: MessageRecord): Promise<void> {
    try {
      this.saveNow(record);
      return STORE_DONE;
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private saveNow(record: MessageRecord): void {
    this.assertOpen();
    const id = record.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_MESSAGE_ID_LENGTH) {
      throw new StoreError(StoreErrorCode.INVALID_ARGUMENT, `message id must be 1..${MAX_MESSAGE_ID_LENGTH} characters`);
    }
    const now = this.clock();
    if (now >= this.nextSweepAt) this.sweep(now);
    const key = this.recordKey(id);
    const existing = this.records.get(key);
    if (existing !== undefined) {
      // Queued again at the tail: its ttl restarts, so it belongs after everything saved before now.
      existing.live = false;
    } else if (this.records.size >= this.maxEntries) {
      this.evictOldestRecord();
    }
    const entry = newEntry(key, record, now + this.ttlMs);
    if (existing !== undefined) {
      entry.keyCluster = existing.keyCluster;
      entry.key0 = existing.key0;
      entry.key1 = existing.key1;
      entry.moreKeys = existing.moreKeys;
      this.repointKeys(entry, existing);
    }
    this.records.set(key, entry);
    enqueue(this.recordOrder, entry, this.records.size);
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    this.assertOpen();
    const entry = this.liveRecord(id, this.clock());
    return entry === undefined ? undefined : this.toRecord(entry);
  }

  setUpstreamId(
    id: string,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint?: string,
  ): Promise<readonly OrphanReceipt[]> {
    try {
      const orphans = this.setUpstreamIdNow(id, cluster, upstreamId, keys, endpoint);
      return orphans === NO_ORPHANS ? STORE_NO_ORPHANS : Promise.resolve(orphans);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private setUpstreamIdNow(
    id: string,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint: string | undefined,
  ): readonly OrphanReceipt[] {
    this.assertOpen();
    const now = this.clock();
    if (now >= this.nextSweepAt) this.sweep(now);
    const entry = this.liveRecord(id, now);
    if (entry === undefined) {
      throw new StoreError(StoreErrorCode.NOT_FOUND, 'no stored message with this id');
    }
    // Records handed out are copies (toRecord): changing the entry in place is safe.
    if (endpoint !== undefined) entry.endpoint = endpoint;
    else if (entry.cluster !== cluster) entry.endpoint = undefined;
    entry.cluster = cluster;
    entry.upstreamId = upstreamId;
    let index = this.upstreamIndex.get(cluster);
    if (index === undefined) {
      index = new Map();
      this.upstreamIndex.set(cluster, index);
    }
    for (let i = 0; i < keys.length; i++) {
      const key = indexKey(keys[i] as string);
      // One lookup per key where a get-then-set would be two: the size tells whether it is new.
      const size = index.size;
      index.set(key, entry);
      if (index.size !== size) {
        this.upstreamKeyCount++;
        addKey(entry, cluster, key);
      } else if (!hasKey(entry, cluster, key)) {
        // The key pointed at another message (an id reused upstream): it is this one's now.
        addKey(entry, cluster, key);
      }
    }
    return this.orphanIndex.size === 0 ? NO_ORPHANS : this.takeOrphans(cluster, keys, now);
  }

  findByUpstream(cluster: string, keys: readonly string[]): Promise<MessageRecord | undefined> {
    try {
      this.assertOpen();
      return Promise.resolve(this.lookupUpstream(cluster, keys, this.clock()));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  // --- orphan receipts ---

  async holdOrphan(
    cluster: string,
    keys: readonly string[],
    receipt: OrphanReceipt,
    ttlMs: number,
  ): Promise<MessageRecord | undefined> {
    this.assertOpen();
    positive('ttlMs', ttlMs, false);
    if (keys.length === 0) {
      throw new StoreError(StoreErrorCode.INVALID_ARGUMENT, 'an orphan receipt needs at least one key');
    }
    const now = this.clock();
    if (now >= this.nextSweepAt) this.sweep(now);
    // The message may have been indexed since the caller looked: then it is not an orphan.
    const found = this.lookupUpstream(cluster, keys, now);
    if (found !== undefined) return found;
    if (this.orphanCount >= this.maxOrphans) {
      for (let oldest = this.orphanOrder.shift(); oldest !== undefined; oldest = this.orphanOrder.shift()) {
        if (!oldest.live) continue;
        this.removeOrphan(oldest);
        this.orphansEvicted++;
        break;
      }
    }
    const indexKeys: string[] = [];
    for (const key of keys) {
      const indexKey = cluster + SEP + key;
      if (!indexKeys.includes(indexKey)) indexKeys.push(indexKey);
    }
    const hold: OrphanHold = { seq: ++this.orphanSeq, receipt, expiresAt: now + ttlMs, keys: indexKeys, live: true };
    this.orphanCount++;
    enqueue(this.orphanOrder, hold, this.orphanCount);
    for (const indexKey of indexKeys) {
      const held = this.orphanIndex.get(indexKey);
      if (held === undefined) this.orphanIndex.set(indexKey, [hold]);
      else held.push(hold);
    }
    return undefined;
  }

  // --- pending deliveries ---

  async enqueueDelivery(client: string, item: DeliveryItem): Promise<string> {
    this.assertOpen();
    const now = this.clock();
    if (now >= this.nextSweepAt) this.sweep(now);
    if (this.deliveries.size >= this.maxDeliveries) {
      for (let oldest = this.deliveryOrder.shift(); oldest !== undefined; oldest = this.deliveryOrder.shift()) {
        if (!oldest.live) continue;
        this.removeDelivery(oldest);
        this.deliveriesEvicted++;
        break;
      }
    }
    const entry: DeliveryEntry = {
      id: (++this.deliverySeq).toString(36),
      client,
      item,
      expiresAt: now + this.ttlMs,
      leaseUntil: 0,
      attempts: 0,
      live: true,
    };
    this.deliveries.set(entry.id, entry);
    enqueue(this.deliveryOrder, entry, this.deliveries.size);
    const queue = this.queues.get(client);
    if (queue === undefined) this.queues.set(client, new Map([[entry.id, entry]]));
    else queue.set(entry.id, entry);
    if (this.queuedListeners.size > 0) this.notifyQueued(client);
    return entry.id;
  }

  async takeDeliveries(client: string, max: number, leaseMs?: number): Promise<ClaimedDelivery[]> {
    this.assertOpen();
    const lease = leaseMs === undefined ? this.leaseMs : positive('leaseMs', leaseMs, false);
    const claimed: ClaimedDelivery[] = [];
    const queue = this.queues.get(client);
    if (queue === undefined || !(max >= 1)) return claimed;
    const now = this.clock();
    if (now >= this.nextSweepAt) this.sweep(now);
    // Claimed entries keep their place in the queue: when a lease runs out the entry is simply
    // available again, ahead of everything enqueued after it.
    for (const entry of queue.values()) {
      if (entry.expiresAt <= now) {
        this.removeDelivery(entry);
        this.deliveriesExpired++;
        continue;
      }
      if (entry.leaseUntil > now) continue;
      entry.leaseUntil = now + lease;
      entry.attempts++;
      claimed.push({ deliveryId: entry.id, item: entry.item, attempts: entry.attempts });
      if (claimed.length >= max) break;
    }
    return claimed;
  }

  async ackDelivery(client: string, deliveryId: string): Promise<boolean> {
    this.assertOpen();
    const entry = this.liveDelivery(client, deliveryId, this.clock());
    if (entry === undefined) return false;
    this.removeDelivery(entry);
    return true;
  }

  async releaseDelivery(client: string, deliveryId: string): Promise<boolean> {
    this.assertOpen();
    const entry = this.liveDelivery(client, deliveryId, this.clock());
    if (entry === undefined) return false;
    entry.leaseUntil = 0;
    return true;
  }

  async pendingCount(client?: string): Promise<number> {
    this.assertOpen();
    this.sweep(this.clock());
    if (client === undefined) return this.deliveries.size;
    return this.queues.get(client)?.size ?? 0;
  }

  onDeliveryQueued(listener: (client: string) => void): () => void {
    this.assertOpen();
    this.queuedListeners.add(listener);
    return () => {
      this.queuedListeners.delete(listener);
    };
  }

  /** Told after the enqueue returned, like a shared backend's notice from another replica. */
  private notifyQueued(client: string): void {
    queueMicrotask(() => {
      for (const listener of this.queuedListeners) {
        try {
          listener(client);
        } catch {
          // A listener's failure is its own; the others still hear about the delivery.
        }
      }
    });
  }

  // --- housekeeping ---

  healthy(): boolean {
    return !this.closed;
  }

  async stats(): Promise<StoreStats> {
    this.assertOpen();
    this.sweep(this.clock());
    return {
      entries: this.records.size,
      evictions: this.evictions,
      expirations: this.expirations,
      pendingDeliveries: this.deliveries.size,
      deliveriesExpired: this.deliveriesExpired,
      deliveriesEvicted: this.deliveriesEvicted,
      orphans: this.orphanCount,
      orphansExpired: this.orphansExpired,
      orphansEvicted: this.orphansEvicted,
      memory: {
        upstreamKeys: this.upstreamKeyCount,
        approxBytes:
          this.records.size * RECORD_BYTES +
          this.upstreamKeyCount * INDEX_KEY_BYTES +
          this.deliveries.size * DELIVERY_BYTES +
          this.orphanCount * ORPHAN_BYTES,
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queuedListeners.clear();
    this.records.clear();
    this.recordOrder.clear();
    this.upstreamIndex.clear();
    this.upstreamKeyCount = 0;
    this.orphanOrder.clear();
    this.orphanIndex.clear();
    this.orphanCount = 0;
    this.deliveries.clear();
    this.deliveryOrder.clear();
    this.queues.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError(StoreErrorCode.CLOSED, 'message store is closed');
  }

  /** Drop everything whose time has passed, popping each queue from its (oldest) head. */
  private sweep(now: number): void {
    this.nextSweepAt = now + this.sweepIntervalMs;
    for (let entry = this.recordOrder.peek(); entry !== undefined; entry = this.recordOrder.peek()) {
      if (entry.live) {
        if (entry.expiresAt > now) break;
        this.removeRecord(entry);
        this.expirations++;
      }
      this.recordOrder.shift();
    }
    for (let entry = this.deliveryOrder.peek(); entry !== undefined; entry = this.deliveryOrder.peek()) {
      if (entry.live) {
        if (entry.expiresAt > now) break;
        this.removeDelivery(entry);
        this.deliveriesExpired++;
      }
      this.deliveryOrder.shift();
    }
    // Orphans may be held with different ttls, so a long-lived head can shield expired ones behind
    // it until its own turn; takeOrphans skips those, and maxOrphans bounds them meanwhile.
    for (let hold = this.orphanOrder.peek(); hold !== undefined; hold = this.orphanOrder.peek()) {
      if (hold.live) {
        if (hold.expiresAt > now) break;
        this.removeOrphan(hold);
        this.orphansExpired++;
      }
      this.orphanOrder.shift();
    }
  }

  private liveRecord(id: string, now: number): RecordEntry | undefined {
    const entry = this.records.get(this.recordKey(id));
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.removeRecord(entry);
      this.expirations++;
      return undefined;
    }
    return entry;
  }

  /**
   * The records key of an id: ids made of the learned prefix and a canonical base36 counter (what
   * message-id.ts hands out: lowercase, no leading zero) are keyed by the counter, a number, and no
   * id string is kept per message (see Key); any other id is its own key. One-to-one: idOf inverts it.
   */
  private recordKey(id: string): Key {
    let prefix = this.idPrefix;
    if (prefix === undefined) {
      if (id.length <= ID_PREFIX_LENGTH) return id;
      prefix = this.idPrefix = id.slice(0, ID_PREFIX_LENGTH);
    }
    const digits = id.length - ID_PREFIX_LENGTH;
    if (digits < 1 || digits > ID_COUNTER_MAX_DIGITS || !id.startsWith(prefix)) return id;
    let n = 0;
    for (let i = ID_PREFIX_LENGTH; i < id.length; i++) {
      const c = id.charCodeAt(i);
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

  private toRecord(entry: RecordEntry): MessageRecord {
    return {
      id: this.idOf(entry.key),
      client: entry.client,
      cluster: entry.cluster,
      endpoint: entry.endpoint,
      routeName: entry.routeName,
      upstreamId: entry.upstreamId,
      createdAt: entry.createdAt,
      parts: entry.parts,
    };
  }

  private lookupUpstream(cluster: string, keys: readonly string[], now: number): MessageRecord | undefined {
    const index = this.upstreamIndex.get(cluster);
    if (index === undefined) return undefined;
    for (let i = 0; i < keys.length; i++) {
      const entry = index.get(indexKey(keys[i] as string));
      if (entry === undefined || !entry.live) continue;
      if (entry.expiresAt <= now) {
        this.removeRecord(entry);
        this.expirations++;
        continue;
      }
      return this.toRecord(entry);
    }
    return undefined;
  }

  private removeRecord(entry: RecordEntry): void {
    entry.live = false;
    this.records.delete(entry.key);
    const cluster = entry.keyCluster;
    if (cluster === undefined) return;
    this.unindex(entry, cluster, entry.key0 as Key);
    if (entry.key1 !== undefined) this.unindex(entry, cluster, entry.key1);
    const more = entry.moreKeys;
    if (more !== undefined) for (let i = 0; i < more.length; i += 2) this.unindex(entry, more[i] as string, more[i + 1] as Key);
  }

  private unindex(entry: RecordEntry, cluster: string, key: Key): void {
    const index = this.upstreamIndex.get(cluster);
    // A key reused upstream may point at a newer message by now: leave that one.
    if (index === undefined || index.get(key) !== entry) return;
    index.delete(key);
    this.upstreamKeyCount--;
    if (index.size === 0) this.upstreamIndex.delete(cluster);
  }

  /** A re-saved id: its index keys now point at the new entry (those not taken by another message). */
  private repointKeys(entry: RecordEntry, old: RecordEntry): void {
    const cluster = entry.keyCluster;
    if (cluster === undefined) return;
    this.repoint(entry, old, cluster, entry.key0 as Key);
    if (entry.key1 !== undefined) this.repoint(entry, old, cluster, entry.key1);
    const more = entry.moreKeys;
    if (more !== undefined) for (let i = 0; i < more.length; i += 2) this.repoint(entry, old, more[i] as string, more[i + 1] as Key);
  }

  private repoint(entry: RecordEntry, old: RecordEntry, cluster: string, key: Key): void {
    const index = this.upstreamIndex.get(cluster);
    if (index !== undefined && index.get(key) === old) index.set(key, entry);
  }

  private evictOldestRecord(): void {
    for (let oldest = this.recordOrder.shift(); oldest !== undefined; oldest = this.recordOrder.shift()) {
      if (!oldest.live) continue;
      this.removeRecord(oldest);
      this.evictions++;
      return;
    }
  }

  private takeOrphans(cluster: string, keys: readonly string[], now: number): readonly OrphanReceipt[] {
    let taken: OrphanHold[] | undefined;
    for (const key of keys) {
      const held = this.orphanIndex.get(cluster + SEP + key);
      if (held === undefined) continue;
      // A hold is listed under each of its keys: collect it once.
      for (const hold of held) {
        if (taken === undefined) taken = [hold];
        else if (!taken.includes(hold)) taken.push(hold);
      }
    }
    if (taken === undefined) return NO_ORPHANS;
    taken.sort(byOldest);
    const receipts: OrphanReceipt[] = [];
    for (const hold of taken) {
      this.removeOrphan(hold);
      if (hold.expiresAt <= now) this.orphansExpired++;
      else receipts.push(hold.receipt);
    }
    return receipts;
  }

  private removeOrphan(hold: OrphanHold): void {
    if (!hold.live) return;
    hold.live = false;
    this.orphanCount--;
    for (const indexKey of hold.keys) {
      const held = this.orphanIndex.get(indexKey);
      if (held === undefined) continue;
      const at = held.indexOf(hold);
      if (at < 0) continue;
      if (held.length === 1) this.orphanIndex.delete(indexKey);
      else held.splice(at, 1);
    }
  }

  private liveDelivery(client: string, deliveryId: string, now: number): DeliveryEntry | undefined {
    const entry = this.deliveries.get(deliveryId);
    if (entry === undefined || entry.client !== client) return undefined;
    if (entry.expiresAt <= now) {
      this.removeDelivery(entry);
      this.deliveriesExpired++;
      return undefined;
    }
    return entry;
  }

  private removeDelivery(entry: DeliveryEntry): void {
    entry.live = false;
    this.deliveries.delete(entry.id);
    const queue = this.queues.get(entry.client);
    if (queue === undefined) return;
    queue.delete(entry.id);
    // No empty queue left behind per client that once had a delivery.
    if (queue.size === 0) this.queues.delete(entry.client);
  }
}

/** A MessageStore for one replica (SPEC §3 `store.backend: memory`). */
export function createMemoryStore(options: MemoryStoreOptions): MessageStore {
  return new MemoryStore(options);
}
