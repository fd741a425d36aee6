// A cluster's `throughput` for the whole fleet (issue 5, with `store.backend: redis`): the same
// contract as Throttle (throttle.ts: 'go' / 'wait' then release() / 'reject'), but the tokens come
// from a bucket all replicas share (store/fleet-limits.ts), leased a small chunk at a time into a
// local pool, so the replicas together send at most the cluster's rate.
//
// The shared bucket holds at most BURST_SHARE of a second's tokens: the limit is an upstream's
// contract (an SMSC answers ESME_RTHROTTLED beyond it), so a fleet must not burst far above it. The
// precision bound is in store/fleet-limits.ts. While the bucket cannot be asked (Redis unreachable)
// no token is handed out: requests wait until their deadline and fail THROTTLED (fail closed; the
// store is down then too, so submits fail before they get here anyway).
//
// A request that could not get its token before its deadline even if this replica had the whole
// fleet's rate is refused at once, as the local throttle does.

import type { Timers } from '../session/index.js';
import { chunkFor, type BindSlots, type TokenSource } from '../store/fleet-limits.js';
import type { Admission } from './throttle.js';
import { WaiterQueue } from './waiter-queue.js';

/** What a cluster needs of a throughput limiter: throttle.ts's Throttle and FleetThrottle. */
export interface ClusterThrottle<T> {
  readonly waiting: number;
  admit(item: T): Admission;
  setRate(rate: number): void;
  forget(): void;
  drain(): T[];
}

/** The fleet as the clusters see it (ClusterDeps.fleet): shared throughput buckets and bind slots. */
export interface ClusterFleet {
  readonly tokens: TokenSource;
  readonly slots: BindSlots;
  /** Bucket key of the cluster's throughput. */
  rateKey(cluster: string): string;
  /** Slot family key of an endpoint's sessions (max_binds). */
  endpointSlotsKey(cluster: string, endpoint: string): string;
  /** Why a lease or slot request failed (logged by the owner). */
  onError?(err: unknown, what: string): void;
}

/** Share of a second's tokens the shared bucket holds (its burst). */
export const BURST_SHARE = 0.05;
/** Pause before asking again after the bucket could not be asked. */
const ERROR_RETRY_MS = 250;

export class FleetThrottle<T extends { readonly deadline: number }> implements ClusterThrottle<T> {
  /** Tokens leased and not spent yet. */
  private tokens = 0;
  private burst = 1;
  private chunk = 1;
  private readonly waiters: WaiterQueue<T>;
  private fetching = false;
  private timer: unknown;
  private readonly retry = (): void => {
    this.timer = undefined;
    this.fetch();
  };

  constructor(
    private rate: number,
    private readonly key: string,
    private readonly source: TokenSource,
    private readonly timers: Timers,
    isWaiting: (item: T) => boolean,
    private readonly release: (item: T) => void,
    private readonly onError: (err: unknown, what: string) => void = () => {},
  ) {
    this.waiters = new WaiterQueue(isWaiting);
    this.setRate(rate);
  }

  get waiting(): number {
    return this.waiters.live;
  }

  admit(item: T): Admission {
    const live = this.waiters.live;
    if (live === 0 && this.tokens >= 1) {
      this.tokens--;
      // Refill ahead of need: below the limit a message never waits for a round trip to Redis.
      if (this.tokens < 1) this.fetch();
      return 'go';
    }
    const waitMs = ((live + 1 - this.tokens) * 1000) / this.rate;
    if (this.timers.now() + waitMs > item.deadline) return 'reject';
    this.waiters.push(item);
    this.fetch();
    return 'wait';
  }

  setRate(rate: number): void {
    if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
    this.rate = rate;
    this.burst = Math.max(1, Math.ceil(rate * BURST_SHARE));
    this.chunk = chunkFor(rate, this.burst);
  }

  forget(): void {
    this.waiters.forget();
  }

  drain(): T[] {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    return this.waiters.drain();
  }

  /** One lease at a time; while the bucket is empty, the next one waits for its refill. */
  private fetch(): void {
    if (this.fetching || this.timer !== undefined) return;
    this.fetching = true;
    const want = this.chunk;
    this.source.lease(this.key, this.rate, this.burst, want).then(
      ({ granted, retryMs }) => {
        this.fetching = false;
        this.tokens += granted;
        this.hand();
        if (this.waiters.live === 0) return;
        if (granted < want) this.timer = this.timers.setTimeout(this.retry, Math.max(1, retryMs));
        else this.fetch();
      },
      (err: unknown) => {
        this.fetching = false;
        this.onError(err, 'cluster throughput tokens not leased');
        if (this.waiters.live > 0) this.timer = this.timers.setTimeout(this.retry, ERROR_RETRY_MS);
      },
    );
  }

  /** Gives the tokens in hand to the waiters, oldest first. */
  private hand(): void {
    while (this.tokens >= 1) {
      const w = this.waiters.peek();
      if (w === undefined) break;
      this.waiters.take();
      this.tokens--;
      this.release(w);
    }
  }
}
