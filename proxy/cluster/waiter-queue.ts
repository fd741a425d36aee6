// The FIFO of requests waiting for a throughput token, shared by the local and the fleet-wide
// throttles (throttle.ts, fleet-throttle.ts). An item can leave by itself (its deadline passed, its
// cluster closed): the owner says so with forget(), and the entry stays in the array until the head
// passes it, so leaving costs no search. The array is compacted when dead entries outnumber live.

export class WaiterQueue<T> {
  private items: Array<T | undefined> = [];
  private head = 0;
  /** Items still waiting. */
  private liveCount = 0;

  /** @param isWaiting false once a queued item left by itself */
  constructor(private readonly isWaiting: (item: T) => boolean) {}

  get live(): number {
    return this.liveCount;
  }

  push(item: T): void {
    this.items.push(item);
    this.liveCount++;
  }

  /** A queued item left by itself (isWaiting is now false for it). */
  forget(): void {
    this.liveCount--;
    const held = this.items.length - this.head;
    if (held > 64 && held > 2 * this.liveCount) this.compact();
  }

  /** The oldest item still waiting, left in place (undefined when none); entries that left are dropped. */
  peek(): T | undefined {
    while (this.head < this.items.length) {
      const w = this.items[this.head]!;
      if (this.isWaiting(w)) return w;
      this.items[this.head++] = undefined;
    }
    this.reset();
    return undefined;
  }

  /** Removes the item peek() returned: it got its token. */
  take(): void {
    this.items[this.head++] = undefined;
    this.liveCount--;
    if (this.head === this.items.length) this.reset();
  }

  /** Removes and returns every item still waiting. */
  drain(): T[] {
    const out: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const w = this.items[i];
      if (w !== undefined && this.isWaiting(w)) out.push(w);
    }
    this.reset();
    this.liveCount = 0;
    return out;
  }

  private reset(): void {
    this.items.length = 0;
    this.head = 0;
  }

  private compact(): void {
    let j = 0;
    for (let i = this.head; i < this.items.length; i++) {
      const w = this.items[i];
      if (w !== undefined && this.isWaiting(w)) this.items[j++] = w;
    }
    this.items.length = j;
    this.head = 0;
  }
}
