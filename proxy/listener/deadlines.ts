// The backstop behind "every request gets exactly one response" (SPEC §4): each request handed to the
// forwarder is held here until it is answered; one the forwarder has not answered by its deadline is
// expired (answered ESME_RSYSERR by the owner).
//
// One timer per listener, not per request (as session/window.ts): every request gets the same
// request_timeout, so deadlines grow in insertion order and the head of the insertion-ordered Map is
// always the next to expire. An answer costs one Map delete.

import type { Timers } from '../session/index.js';

export class DeadlineQueue<T> {
  private readonly items = new Map<T, number>();
  private timer: unknown;
  private readonly onTimerFn = (): void => this.onTimer();

  constructor(
    private readonly timers: Timers,
    private readonly onExpire: (item: T) => void,
  ) {}

  get size(): number {
    return this.items.size;
  }

  add(item: T, deadline: number): void {
    this.items.set(item, deadline);
    if (this.timer === undefined) this.arm(deadline);
  }

  /** The item was answered in time; false if it was not held (already expired). */
  delete(item: T): boolean {
    return this.items.delete(item);
  }

  /** Drops everything and the timer (listener shutdown). */
  clear(): void {
    this.items.clear();
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private arm(deadline: number): void {
    this.timer = this.timers.setTimeout(this.onTimerFn, Math.max(0, deadline - this.timers.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    const now = this.timers.now();
    for (const [item, deadline] of this.items) {
      if (deadline > now) {
        this.arm(deadline);
        return;
      }
      this.items.delete(item);
      this.onExpire(item);
    }
  }
}
