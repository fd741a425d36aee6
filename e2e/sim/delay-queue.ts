// Items released after a delay, in batches, with one timer for the whole queue: the simulator delays
// every response (latency) and every receipt (dlr_delay) this way, so 50,000 messages a second cost a
// few hundred timer callbacks, not 50,000 timers.
//
// Items with the same delay are due in insertion order, so each distinct delay gets its own FIFO and
// only the FIFO heads compete for the timer. Delays change only on setOptions, so there are few FIFOs.

interface Fifo<T> {
  dues: number[];
  items: T[];
  head: number;
}

export class DelayQueue<T> {
  private readonly fifos = new Map<number, Fifo<T>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private count = 0;
  private closed = false;

  /** `flush` receives every item that is due, oldest delay group first, in insertion order within a group. */
  constructor(
    private readonly flush: (items: T[]) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.count;
  }

  push(item: T, delayMs: number): void {
    if (this.closed) return;
    const delay = Math.max(0, delayMs);
    let fifo = this.fifos.get(delay);
    if (fifo === undefined) {
      fifo = { dues: [], items: [], head: 0 };
      this.fifos.set(delay, fifo);
    }
    const due = this.now() + delay;
    fifo.dues.push(due);
    fifo.items.push(item);
    this.count++;
    if (due < this.timerAt) this.arm(due);
  }

  /** Removes and returns everything still queued; the queue stays usable unless `close` is true. */
  drain(close = false): T[] {
    this.closed = close;
    this.disarm();
    const out: T[] = [];
    for (const fifo of this.fifos.values()) {
      for (let i = fifo.head; i < fifo.items.length; i++) out.push(fifo.items[i]);
    }
    this.fifos.clear();
    this.count = 0;
    return out;
  }

  private arm(due: number): void {
    this.disarm();
    this.timerAt = due;
    this.timer = setTimeout(this.onTimer, Math.max(0, due - this.now()));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    const batch: T[] = [];
    let next = Infinity;
    for (const [delay, fifo] of this.fifos) {
      const { dues, items } = fifo;
      let h = fifo.head;
      while (h < items.length && dues[h] <= now) batch.push(items[h++]);
      if (h === items.length) {
        this.fifos.delete(delay);
        continue;
      }
      // Drop the consumed prefix once it is large, so the arrays do not grow without bound.
      if (h > 4096 && h * 2 > items.length) {
        fifo.dues = dues.slice(h);
        fifo.items = items.slice(h);
        h = 0;
      }
      fifo.head = h;
      if (fifo.dues[h] < next) next = fifo.dues[h];
    }
    this.count -= batch.length;
    if (next !== Infinity) this.arm(next);
    if (batch.length > 0) this.flush(batch);
  };
}
