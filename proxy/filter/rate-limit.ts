// Token buckets keyed by client system_id: the `rate_limit` filter (SPEC §3, `requests_per_second`
// and `burst`, per listener) and the clients' own `throughput` (submit_sm per second, all binds of
// the client together). Over the limit the request is answered ESME_RTHROTTLED (SPEC §4).
//
// Keys are system_ids of bound clients, i.e. names from the config, so the maps stay as small as
// the `clients` list. Buckets refill lazily from the clock (cluster/token-bucket.ts): no timers.

import type { ClientConfig, RateLimitFilterConfig } from '../config/schema.js';
import { createTokenBucket, type TokenBucket } from '../cluster/token-bucket.js';

export interface KeyedLimiter {
  /** Takes `n` tokens from the key's bucket; false (and none taken) when there are not enough. */
  take(key: string, n?: number): boolean;
}

/** The `rate_limit` filter: one bucket per system_id, the same limits for all. */
export function createRateLimit(config: RateLimitFilterConfig, now?: () => number): KeyedLimiter {
  const buckets = new Map<string, TokenBucket>();
  const limits = { rate: config.requests_per_second, burst: config.burst };
  return {
    take(key, n = 1) {
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        bucket = createTokenBucket(now === undefined ? limits : { ...limits, now });
        buckets.set(key, bucket);
      }
      return bucket.take(Math.min(n, limits.burst));
    },
  };
}

export interface ClientThroughput extends KeyedLimiter {
  /** New `clients` list (config reload): limits change, current fills are kept. */
  update(clients: readonly ClientConfig[]): void;
}

/**
 * Clients' `throughput` (0 = unlimited). Share one instance among all listeners: the limit is per
 * client, however many listeners and binds it uses.
 */
export function createClientThroughput(clients: readonly ClientConfig[], now?: () => number): ClientThroughput {
  const buckets = new Map<string, { bucket: TokenBucket; burst: number }>();

  function update(list: readonly ClientConfig[]): void {
    const seen = new Set<string>();
    for (const c of list) {
      if (c.throughput <= 0) continue;
      seen.add(c.system_id);
      // One second's worth of burst, as the token bucket's default.
      const limits = { rate: c.throughput, burst: Math.max(1, c.throughput) };
      const held = buckets.get(c.system_id);
      if (held === undefined) {
        buckets.set(c.system_id, {
          bucket: createTokenBucket(now === undefined ? limits : { ...limits, now }),
          burst: limits.burst,
        });
      } else {
        held.bucket.update(limits);
        held.burst = limits.burst;
      }
    }
    for (const key of buckets.keys()) if (!seen.has(key)) buckets.delete(key);
  }

  update(clients);
  return {
    update,
    take(key, n = 1) {
      const held = buckets.get(key);
      // A submit_multi to more destinations than the burst could never pass: it takes the whole burst.
      return held === undefined || held.bucket.take(Math.min(n, held.burst));
    },
  };
}
