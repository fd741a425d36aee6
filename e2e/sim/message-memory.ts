// The simulator's memory of its last messages, for query_sm, cancel_sm and replace_sm.
//
// Hex and decimal ids are a counter written out (message-ids.ts), so a message is found by its
// number: it sits in ring slot number % capacity, where the message `capacity` ids later replaces
// it. No Map: one `set` and one `delete` per message on a long-lived Map makes V8 keep what is in
// flight alive through scavenges (bench/README.md, "No per-message Map/Set churn"); with a Map here the
// simulator stopped 5-10 ms per scavenge at 10,000 msg/s, promoting ~2 MB each time, and those
// pauses were the largest part of smppd's measured p99 (`npm run bench`, scenario d). UUIDs have no
// number: they keep a Map, with a ring of ids saying which to forget.

import type { IdFormat } from './message-ids.js';

export class MessageMemory<T extends { readonly id: string }> {
  private ring: (T | undefined)[];
  private readonly byUuid = new Map<string, T>();
  private uuidOrder: string[] = [];
  private uuidHead = 0;
  /** Messages remembered. */
  size = 0;

  constructor(
    private capacity: number,
    private format: IdFormat,
  ) {
    this.ring = new Array<T | undefined>(capacity).fill(undefined);
  }

  add(rec: T): void {
    const n = this.numberOf(rec.id);
    if (n === undefined) {
      this.addUuid(rec);
      return;
    }
    const slot = n % this.capacity;
    if (this.ring[slot] === undefined) this.size++;
    this.ring[slot] = rec;
  }

  get(id: string): T | undefined {
    const n = this.numberOf(id);
    if (n === undefined) return this.byUuid.get(id);
    const rec = this.ring[n % this.capacity];
    return rec !== undefined && rec.id === id ? rec : undefined;
  }

  /** New settings (the simulator's setOptions): what is remembered is forgotten. */
  reset(capacity: number, format: IdFormat): void {
    this.capacity = capacity;
    this.format = format;
    this.ring = new Array<T | undefined>(capacity).fill(undefined);
    this.byUuid.clear();
    this.uuidOrder = [];
    this.uuidHead = 0;
    this.size = 0;
  }

  /** The counter an id of the current format was written from; undefined for other ids. */
  private numberOf(id: string): number | undefined {
    if (this.format === 'uuid' || id.length === 0 || id.length > 13) return undefined;
    const n = this.format === 'hex' ? parseInt(id, 16) : Number(id);
    if (!Number.isSafeInteger(n) || n < 0) return undefined;
    // Only the id's own spelling: parseInt stops at the first non-hex character.
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      const digit = c >= 0x30 && c <= 0x39;
      const hexLetter = this.format === 'hex' && ((c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
      if (!digit && !hexLetter) return undefined;
    }
    return n;
  }

  private addUuid(rec: T): void {
    this.byUuid.set(rec.id, rec);
    const order = this.uuidOrder;
    if (order.length < this.capacity) {
      order.push(rec.id);
      this.size++;
      return;
    }
    this.byUuid.delete(order[this.uuidHead]!);
    order[this.uuidHead] = rec.id;
    this.uuidHead = (this.uuidHead + 1) % order.length;
  }
}
