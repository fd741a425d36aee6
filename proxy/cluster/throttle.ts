// A cluster's `throughput` (SPEC §3: max submit_sm/s to the cluster, 0 = unlimited): a token bucket
// plus a FIFO of requests waiting for their token, with one timer for the head of the queue.
// A request that would only get its token after its deadline is refused at once (the caller answers
// THROTTLED and the forwarder may try another cluster) instead of waiting to fail.

import type { Timers } from '../session/index.js';
import { createTokenBucket, type TokenBucket } from './token-bucket.js';
import { WaiterQueue } from './waiter-queue.js';

export type Admission = 'go' | 'wait' | 'reject';

export class Throttle<T extends { readonly deadline: number }> {
  private readonly bucket: TokenBucket;
  private readonly waiters: WaiterQueue<T>;
  private timer: unknown;
  private readonly fire = (): void => this.onTimer();

  /**
   * @param isWaiting false once a queued item left by itself (its deadline passed, its cluster closed)
   * @param release called with each waiting item when its token is there
   */
  constructor(
    private rate: number,
    private readonly timers: Timers,
    isWaiting: (item: T) => boolean,
    private readonly release: (item: T) => void,
  ) {
    if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
    this.bucket = createTokenBucket({ rate, now: () => timers.now() });
    this.waiters = new WaiterQueue(isWaiting);
  }

  get waiting(): number {
    return this.waiters.live;
  }

  /** 'go': a token was taken, send now; 'wait': queued, release() follows; 'reject': its turn is past its deadline. */
  admit(item: T): Admission {
    const live = this.waiters.live;
    if (live === 0 && this.bucket.take()) return 'go';
    // Everyone queued goes first: this item's token is the (live + 1)-th from now.
    const waitMs = ((live + 1 - this.bucket.tokens) * 1000) / this.rate;
    if (this.timers.now() + waitMs > item.deadline) return 'reject';
    this.waiters.push(item);
    if (this.timer === undefined) this.arm();
    return 'wait';
  }

  /** A new rate (config reload), keeping the tokens left; waiters are released at the new pace. */
  setRate(rate: number): void {
    if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
    this.rate = rate;
    this.bucket.update({ rate });
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
      this.arm();
    }
  }

  /** A queued item left by itself (isWaiting is now false for it). */
  forget(): void {
    this.waiters.forget();
  }

  /** Removes and returns every waiting item; stops the timer. */
  drain(): T[] {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    return this.waiters.drain();
  }

  private arm(): void {
    this.timer = this.timers.setTimeout(this.fire, Math.max(1, this.bucket.timeUntil(1)));
  }

  private onTimer(): void {
    this.timer = undefined;
    for (let w = this.waiters.peek(); w !== undefined; w = this.waiters.peek()) {
      if (!this.bucket.take()) break;
      this.waiters.take();
      this.release(w);
    }
    if (this.waiters.live > 0 && this.timer === undefined) this.arm();
  }
}
