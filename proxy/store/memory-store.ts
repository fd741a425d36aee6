// The memory backend of MessageStore: one replica's messages in memory, nothing shared.
//
// Message records and their upstream index live in record-table.ts (column-wise pages, built for the
// hundreds of thousands of records a busy proxy holds); receipts held before their message's
// response (orphans) and deliveries waiting for a client are here.
//
// Expiry without timers: each kind of entry is also queued in insertion order (fifo.ts; the record
// table numbers its slots in save order), and with one ttl per kind insertion order is expiry order,
// so a sweep pops each queue from its head and stops at the first entry still alive. Entries removed
// out of order (ack, lookup of an expired entry, re-save) are marked dead and skipped when they reach
// the head; a queue is compacted when dead entries outnumber live ones.
// The sweep runs inside calls, at most once per `sweepIntervalMs` (a comparison per call otherwise),
// and always before stats()/pendingCount() so their counts are exact. Lookups also check the entry
// they found, so an expired entry is never returned between sweeps. Bounds (max entries, deliveries,
// orphans) evict from the head: the oldest first.
// bench/store.ts measures the per-message path (save + setUpstreamId + findByUpstream) and the heap
// cost per record that the approxBytes estimate below uses.

import { Fifo } from './fifo.js';
import { RecordTable } from './record-table.js';
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
  type FindDone,
  type MessageRecord,
  type MessageStore,
  type OrphanReceipt,
  type SaveAcceptedDone,
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
// measured with record-table.ts (heap and array buffers after GC, 500,000 smppd ids: ~135 bytes per
// record, ~250 with two upstream keys and its upstream id); the other two assume a deliver_sm with
// a 160-byte short_message.
const RECORD_BYTES = 140;
const INDEX_KEY_BYTES = 60;
const DELIVERY_BYTES = 700;
const ORPHAN_BYTES = 800;

/** Separates cluster and key in orphan index keys; config cluster names are printable, so never contain it. */
const SEP = '\u0000';

interface Queued {
  /** False once removed from the store; it may still sit in a Fifo. */
  live: boolean;
}

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
// The per-message calls (save, setUpstreamId, saveAccepted, findByUpstream) are not `async`: the memory backend
// answers synchronously and returns the shared settled promises of store.ts (STORE_DONE,
// STORE_NO_ORPHANS) rather than a new one per call; saveAcceptedWith calls back before it returns.
// Errors still come as rejections (or notStored), never throws.

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

  /** Message records and their (cluster, upstream key) index: record-table.ts. */
  private readonly records: RecordTable;
  private readonly orphanOrder = new Fifo<OrphanHold>();
  private readonly orphanIndex = new Map<string, OrphanHold[]>();
  private orphanCount = 0;
  private orphanSeq = 0;
  /** All deliveries by id, in enqueue order (expiry and eviction), and per client (FIFO). */
  private readonly deliveries = new Map<string, DeliveryEntry>();
  private readonly deliveryOrder = new Fifo<DeliveryEntry>();
  private readonly queues = new Map<string, Map<string, DeliveryEntry>>();
  private deliverySeq = 0;

  private deliveriesExpired = 0;
  private deliveriesEvicted = 0;
  private orphansExpired = 0;
  /** orphansExpired when takeOrphansExpired last ran. */
  private orphansExpiredTaken = 0;
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
    this.records = new RecordTable(this.maxEntries);
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

  /** Returns the time it saved at. */
  private saveNow(record: MessageRecord): number {
    const now = this.checkedNow(record);
    this.records.save(record, now + this.ttlMs);
    return now;
  }

  /** The clock for a save of `record`, after checking its id and sweeping when due. */
  private checkedNow(record: MessageRecord): number {
    this.assertOpen();
    const id = record.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_MESSAGE_ID_LENGTH) {
      throw new StoreError(StoreErrorCode.INVALID_ARGUMENT, `message id must be 1..${MAX_MESSAGE_ID_LENGTH} characters`);
    }
    const now = this.clock();
    if (now >= this.nextSweepAt) this.sweep(now);
    return now;
  }

  saveAccepted(
    record: MessageRecord,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint?: string,
  ): Promise<readonly OrphanReceipt[]> {
    try {
      const orphans = this.saveAcceptedNow(record, cluster, upstreamId, keys, endpoint);
      return orphans === NO_ORPHANS ? STORE_NO_ORPHANS : Promise.resolve(orphans);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  saveAcceptedWith(
    record: MessageRecord,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint: string | undefined,
    done: SaveAcceptedDone,
  ): void {
    let orphans: readonly OrphanReceipt[];
    try {
      orphans = this.saveAcceptedNow(record, cluster, upstreamId, keys, endpoint);
    } catch (err) {
      done.notStored(err);
      return;
    }
    done.stored(orphans);
  }

  private saveAcceptedNow(
    record: MessageRecord,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint: string | undefined,
  ): readonly OrphanReceipt[] {
    const now = this.checkedNow(record);
    this.records.saveIndexed(record, now + this.ttlMs, cluster, upstreamId, keys, endpoint);
    return this.orphanIndex.size === 0 ? NO_ORPHANS : this.takeOrphans(cluster, keys, now);
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    this.assertOpen();
    return this.records.get(id, this.clock());
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
    return this.index(id, cluster, upstreamId, keys, endpoint, now);
  }

  /** setUpstreamId's work, the store open and swept. */
  private index(
    id: string,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint: string | undefined,
    now: number,
  ): readonly OrphanReceipt[] {
    if (!this.records.setUpstreamId(id, cluster, upstreamId, keys, endpoint, now)) {
      throw new StoreError(StoreErrorCode.NOT_FOUND, 'no stored message with this id');
    }
    return this.orphanIndex.size === 0 ? NO_ORPHANS : this.takeOrphans(cluster, keys, now);
  }

  findByUpstream(cluster: string, keys: readonly string[]): Promise<MessageRecord | undefined> {
    try {
      return Promise.resolve(this.findNow(cluster, keys));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  findByUpstreamWith(cluster: string, keys: readonly string[], done: FindDone): void {
    let record: MessageRecord | undefined;
    try {
      record = this.findNow(cluster, keys);
    } catch (err) {
      done.findFailed(err);
      return;
    }
    done.found(record);
  }

  private findNow(cluster: string, keys: readonly string[]): MessageRecord | undefined {
    this.assertOpen();
    return this.records.findByUpstream(cluster, keys, this.clock());
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
    const found = this.records.findByUpstream(cluster, keys, now);
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

  async takeOrphansExpired(): Promise<number> {
    this.assertOpen();
    this.sweep(this.clock());
    const taken = this.orphansExpired - this.orphansExpiredTaken;
    this.orphansExpiredTaken = this.orphansExpired;
    return taken;
  }

  async stats(): Promise<StoreStats> {
    this.assertOpen();
    this.sweep(this.clock());
    return {
      entries: this.records.size,
      evictions: this.records.evictions,
      expirations: this.records.expirations,
      pendingDeliveries: this.deliveries.size,
      deliveriesExpired: this.deliveriesExpired,
      deliveriesEvicted: this.deliveriesEvicted,
      orphans: this.orphanCount,
      orphansExpired: this.orphansExpired,
      orphansEvicted: this.orphansEvicted,
      memory: {
        upstreamKeys: this.records.upstreamKeyCount,
        approxBytes:
          this.records.size * RECORD_BYTES +
          this.records.upstreamKeyCount * INDEX_KEY_BYTES +
          this.deliveries.size * DELIVERY_BYTES +
          this.orphanCount * ORPHAN_BYTES,
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queuedListeners.clear();
    this.records.clear();
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
    this.records.sweep(now);
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
