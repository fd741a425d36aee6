// Clients' `throughput` for the whole fleet (issue 5, with `store.backend: redis`): the same
// ClientThroughput as rate-limit.ts (a synchronous take() per request, ESME_RTHROTTLED when it says
// no), but the tokens come from one bucket per client that all replicas share (store/fleet-limits.ts).
//
// take() never waits for Redis: each replica keeps a local pool of tokens leased a chunk at a time.
// Below the limit a client must never be throttled because its pool happened to be empty, so when the
// pool runs dry and the fleet bucket had room at the last lease, take() borrows: the pool may go down
// to minus one chunk, and the next lease (asked for at once) pays the debt first. When the last lease
// came back short (the fleet is at the limit), take() says no until a lease brings tokens again.
// Precision (see store/fleet-limits.ts): at most one chunk of debt plus one chunk in hand per
// replica above rate × T + burst; the burst is one second's worth, as the local buckets have.
// While Redis is unreachable no lease succeeds: the pool is spent, then requests are refused
// (fail closed; the store is down too, so submits would fail anyway).

import type { ClientConfig } from '../config/schema.js';
import { chunkFor, type TokenSource } from '../store/fleet-limits.js';
import type { ClientThroughput } from './rate-limit.js';

/** Pause before asking again after a lease failed (Redis unreachable). */
const ERROR_RETRY_MS = 500;

interface Pool {
  key: string;
  rate: number;
  burst: number;
  chunk: number;
  /** Tokens in hand; negative = borrowed. */
  tokens: number;
  /** The last lease came back short: do not borrow. */
  saturated: boolean;
  leasing: boolean;
  /** No lease before this time (ms, `now()`): the bucket said when it would have tokens again. */
  notBefore: number;
}

export interface FleetThroughputOptions {
  tokens: TokenSource;
  /** Bucket key of a client's throughput. */
  keyOf(systemId: string): string;
  /** Clock in ms (default performance.now). */
  now?: () => number;
  onError?(err: unknown, what: string): void;
}

export function createFleetClientThroughput(clients: readonly ClientConfig[], options: FleetThroughputOptions): ClientThroughput {
  const pools = new Map<string, Pool>();
  const now = options.now ?? (() => performance.now());
  const onError = options.onError ?? (() => {});

  function update(list: readonly ClientConfig[]): void {
    const seen = new Set<string>();
    for (const c of list) {
      if (c.throughput <= 0) continue;
      seen.add(c.system_id);
      const rate = c.throughput;
      const burst = Math.max(1, rate);
      const pool = pools.get(c.system_id);
      if (pool === undefined) {
        pools.set(c.system_id, {
          key: options.keyOf(c.system_id),
          rate,
          burst,
          chunk: chunkFor(rate, burst),
          tokens: 0,
          saturated: false,
          leasing: false,
          notBefore: 0,
        });
      } else {
        pool.rate = rate;
        pool.burst = burst;
        pool.chunk = chunkFor(rate, burst);
      }
    }
    for (const key of pools.keys()) if (!seen.has(key)) pools.delete(key);
  }

  /** Ask the fleet for tokens: the debt, plus a chunk (or `need`, when more) in hand. */
  function lease(pool: Pool, need = 0): void {
    if (pool.leasing || now() < pool.notBefore) return;
    pool.leasing = true;
    const want = Math.min(pool.burst, Math.max(pool.chunk, need) + Math.max(0, Math.ceil(-pool.tokens)));
    options.tokens.lease(pool.key, pool.rate, pool.burst, want).then(
      ({ granted, retryMs }) => {
        pool.leasing = false;
        pool.tokens += granted;
        pool.saturated = granted < want;
        if (pool.saturated) pool.notBefore = now() + retryMs;
      },
      (err: unknown) => {
        pool.leasing = false;
        pool.saturated = true;
        pool.notBefore = now() + ERROR_RETRY_MS;
        onError(err, 'client throughput tokens not leased');
      },
    );
  }

  update(clients);
  return {
    update,
    take(key, n = 1) {
      const pool = pools.get(key);
      if (pool === undefined) return true;
      // A submit_multi to more destinations than the burst could never pass: it takes the whole burst.
      const need = Math.min(n, pool.burst);
      if (pool.tokens >= need) {
        pool.tokens -= need;
        if (pool.tokens < pool.chunk / 2) lease(pool);
        return true;
      }
      if (!pool.saturated && pool.tokens - need >= -pool.chunk) {
        pool.tokens -= need;
        lease(pool);
        return true;
      }
      lease(pool, need);
      return false;
    },
  };
}
