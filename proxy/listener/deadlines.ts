// The backstop behind "every request gets exactly one response" (SPEC §4): each request handed to the
// forwarder is held here until it is answered; one the forwarder has not answered by its deadline is
// expired (answered ESME_RSYSERR by the owner).
//
// One timer per listener, not per request (as session/window.ts): every request gets the same
// request_timeout, so deadlines grow in insertion order and the head of the queue is always the next
// to expire.
//
// A ring in insertion order, not a Map: a long-lived Map with one set and one delete per message is
// rehashed every few hundred operations, and a promoted dead table keeps pointing at its replacement,
// so scavenges kept (and promoted) every request in flight: 30-50 ms pauses at 10,000 msg/s (bench:
// `npm run bench`, p99). Answering a request overwrites its slot with undefined instead, so nothing
// dead points at a live request.

import type { Timers } from '../session/index.js';

const INITIAL_CAPACITY = 16;

export class DeadlineQueue<T> {
  /** Slot `ticket & mask` holds the item of that ticket until it is answered or expired. */
  private items: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  private deadlines = new Float64Array(INITIAL_CAPACITY);
  private mask = INITIAL_CAPACITY - 1;
  /**
   * Tickets are positions counted from the start, never reused, so a stale ticket cannot name a later
   * item. `head` is the oldest live ticket (or `tail` when empty). `&` keeps the low 32 bits of any
   * safe integer, so the slot stays right past 2^31 messages.
   */
  private head = 0;
  private tail = 0;
  private live = 0;
  private timer: unknown;
  private readonly onTimerFn = (): void => this.onTimer();

  constructor(
    private readonly timers: Timers,
    private readonly onExpire: (item: T) => void,
  ) {}

  /** Items held (not answered, not expired). */
  get size(): number {
    return this.live;
  }

  /** Holds `item` until `deadline`, which is no earlier than any held before; returns its ticket for delete(). */
  add(item: T, deadline: number): number {
    if (this.tail - this.head > this.mask) this.grow();
    const ticket = this.tail++;
    const slot = ticket & this.mask;
    this.items[slot] = item;
    this.deadlines[slot] = deadline;
    this.live++;
    if (this.timer === undefined) this.arm(deadline);
    return ticket;
  }

  /** The item was answered in time; false if it was not held (already expired, or a stale ticket). */
  delete(ticket: number, item: T): boolean {
    if (ticket < this.head || ticket >= this.tail) return false;
    const slot = ticket & this.mask;
    if (this.items[slot] !== item) return false;
    this.items[slot] = undefined;
    this.live--;
    if (ticket === this.head) this.skipCleared();
    return true;
  }

  /** Drops everything and the timer (listener shutdown). */
  clear(): void {
    this.items.fill(undefined);
    this.head = this.tail;
    this.live = 0;
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Moves head past answered slots, so the ring spans only from the oldest one still held. */
  private skipCleared(): void {
    while (this.head < this.tail && this.items[this.head & this.mask] === undefined) this.head++;
  }

  /** Doubles the ring (it is full), placing every ticket at `ticket & mask` of the new size. */
  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const mask = capacity - 1;
    const items = new Array<T | undefined>(capacity).fill(undefined);
    const deadlines = new Float64Array(capacity);
    for (let t = this.head; t < this.tail; t++) {
      items[t & mask] = this.items[t & this.mask];
      deadlines[t & mask] = this.deadlines[t & this.mask];
    }
    this.items = items;
    this.deadlines = deadlines;
    this.mask = mask;
  }

  private arm(deadline: number): void {
    this.timer = this.timers.setTimeout(this.onTimerFn, Math.max(0, deadline - this.timers.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    const now = this.timers.now();
    // head is live whenever head < tail (delete and expiry skip cleared slots).
    while (this.head < this.tail) {
      const slot = this.head & this.mask;
      const deadline = this.deadlines[slot];
      if (deadline > now) {
        // onExpire may have added an item, arming the timer for its (later) deadline.
        if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
        this.arm(deadline);
        return;
      }
      const item = this.items[slot] as T;
      this.items[slot] = undefined;
      this.live--;
      this.head++;
      this.skipCleared();
      this.onExpire(item);
    }
  }
}
