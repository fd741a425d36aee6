// An array-backed queue with O(1) amortised push and shift, for the memory store's expiry and
// eviction order. A Map iterated from its head is not a queue in V8: deleted slots stay in the
// table until it is rehashed, and every fresh iterator walks over them, which made evicting at
// max_entries cost O(entries) per save (bench/store.ts: 13k messages/s instead of 150k).
// Items removed elsewhere stay in the queue until they reach the head or `compact` drops them.

export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    // Drop the consumed front once it is half the array: each item is copied O(1) times on average.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Keep only the items for which keep() is true, in order. */
  compact(keep: (item: T) => boolean): void {
    const kept: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      if (keep(item)) kept.push(item);
    }
    this.items = kept;
    this.head = 0;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
