// Token bucket rate limiter: client throughput (SPEC §3 `clients[].throughput`), the `rate_limit`
// filter (`requests_per_second`, `burst`) and cluster throughput (`clusters[].throughput`).
//
// Refilled lazily from the injected clock on each call, so a bucket owns no timer and costs nothing
// while idle; take() is per message and allocates nothing. Rate 0 means unlimited, as the config's
// `throughput: 0` does, so callers need no special case.

export interface TokenBucketLimits {
  /** Tokens added per second. 0 (or Infinity) = unlimited. */
  rate: number;
  /** Most tokens the bucket holds: how far above `rate` a quiet client may burst. Default max(1, rate). */
  burst?: number;
}

export interface TokenBucketOptions extends TokenBucketLimits {
  /** Clock in ms; defaults to performance.now (monotonic: a wall-clock jump must not grant a burst). */
  now?: () => number;
}

export interface TokenBucket {
  /** Take n tokens if all are there; otherwise take none and return false. */
  take(n?: number): boolean;
  /** Ms until n tokens will be there (0 = now); Infinity if n exceeds the burst and never can be. */
  timeUntil(n?: number): number;
  /** Tokens available now (fractional). */
  readonly tokens: number;
  /** Change limits on config reload, keeping the current fill (clamped), so a reload grants no burst. */
  update(limits: TokenBucketLimits): void;
}

// Float refills (e.g. rate 3/s) land a hair below whole numbers; this tolerance keeps take(1) from
// failing at 0.9999999999 tokens when the caller waited exactly timeUntil(1).
const EPSILON = 1e-9;

export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const now = options.now ?? (() => performance.now());
  let unlimited = false;
  let perMs = 0;
  let burst = 0;
  let tokens = 0;
  let last = now();

  function configure({ rate, burst: b }: TokenBucketLimits): void {
    if (!(rate >= 0)) throw new RangeError(`rate must be >= 0, got ${rate}`);
    unlimited = rate === 0 || rate === Infinity;
    perMs = rate / 1000;
    burst = b ?? Math.max(1, rate);
    if (!(burst > 0)) throw new RangeError(`burst must be > 0, got ${b}`);
  }

  function refill(): void {
    const t = now();
    // A clock that steps back adds nothing; keeping `last` at the later time avoids counting twice.
    if (t > last) {
      tokens = Math.min(burst, tokens + (t - last) * perMs);
      last = t;
    }
  }

  configure(options);
  tokens = burst; // a new client may use its burst straight away

  return {
    take(n = 1) {
      if (unlimited) return true;
      refill();
      if (tokens + EPSILON < n) return false;
      tokens = Math.max(0, tokens - n);
      return true;
    },
    timeUntil(n = 1) {
      if (unlimited) return 0;
      if (n > burst + EPSILON) return Infinity;
      refill();
      const missing = n - tokens;
      // Round up: waking a fraction of a ms early would find the bucket still short.
      return missing <= EPSILON ? 0 : Math.ceil(missing / perMs);
    },
    get tokens() {
      if (unlimited) return Infinity;
      refill();
      return tokens;
    },
    update(limits) {
      const wasUnlimited = unlimited;
      if (wasUnlimited) last = now();
      else refill();
      configure(limits);
      // Newly limited: start full, as a new bucket would; otherwise keep what the client has used.
      tokens = wasUnlimited ? burst : Math.min(tokens, burst);
    },
  };
}
