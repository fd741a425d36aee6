// Fleet-wide limits (issue 5, SPEC §3 `clusters[].throughput`, `clusters[].max_binds`,
// `clients[].throughput`, `clients[].max_binds`): with `store.backend: redis` every replica takes
// its share of a limit from Redis, so the limit holds for the whole fleet and not per pod. With the
// memory backend there is no fleet: the limits stay local (createLocalBindSlots here, the token
// buckets of cluster/throttle.ts and filter/rate-limit.ts).
//
// Two primitives, each one Lua script per call (atomic in Redis, one round trip):
//
// 1. Rate: a token bucket per limit in Redis (`<p>rate:...` hash: v tokens, t last refill in ms by
//    Redis's own clock, TIME, so the replicas' clocks never matter). A replica never asks per
//    message: it leases a small chunk of tokens (CHUNK_SHARE of the rate, at least 1) into a local
//    pool and spends them locally (cluster/fleet-throttle.ts, filter/fleet-throughput.ts). So a
//    fleet at its limit costs about 1 / CHUNK_SHARE = 100 Redis calls per second per limit,
//    whatever the rate.
//    Precision: over any interval T the fleet sends at most rate × T + burst + (tokens leased but
//    not yet spent, at most one chunk per replica) [+ one chunk of debt per replica for client
//    throughput, see fleet-throughput.ts]. The bucket starts full. With the cluster's burst of 5% of
//    the rate and 1% chunks, three replicas stay within 8% of the rate over any second; the client
//    bucket keeps the local semantics (a quiet client may burst one second's worth).
//
// 2. Bind slots: `max` numbered slot keys per limit (`<p>bind:...:<slot>` for an endpoint's
//    sessions, `<p>cbind:<system_id>:<slot>` for a client's), each taken with SET NX PX by one
//    session (a unique token per lease), renewed every SLOT_TTL_MS / 3 while the session lives and
//    deleted (if still ours) when it closes. A replica that dies leaves its slots for SLOT_TTL_MS at
//    most. Precision: exact while Redis keeps the keys; if Redis loses them (restart without
//    persistence, failover), a holder takes its slot back on its next renewal when it is free, and
//    when another replica took it meanwhile the holder's session is closed (onLost): over the limit
//    for at most one renewal period. While Redis is unreachable no slot can be taken (no new binds
//    beyond the limit anywhere) and sessions already holding one keep it.

import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** Share of the rate one lease takes from the fleet bucket (see the top of this file). */
export const CHUNK_SHARE = 0.01;
/** A slot held by a replica that stopped renewing is free after this long. */
export const SLOT_TTL_MS = 15_000;
/** How long calls made before the first connection wait for it. */
const FIRST_CONNECT_WAIT_MS = 5_000;

/** Tokens per lease for a rate: CHUNK_SHARE of it, at least 1, at most the burst. */
export function chunkFor(rate: number, burst: number): number {
  return Math.max(1, Math.min(Math.ceil(rate * CHUNK_SHARE), Math.floor(burst)));
}

/** A fleet-wide token bucket, leased in chunks. */
export interface TokenSource {
  /**
   * Take up to `want` tokens from bucket `key` (refilled at `rate`/s, holding at most `burst`).
   * Resolves with the tokens granted (0..want) and, when fewer than wanted, the ms until `want`
   * more could be there. Rejects when the backend is unreachable.
   */
  lease(key: string, rate: number, burst: number, want: number): Promise<{ granted: number; retryMs: number }>;
}

/** One slot of a bind limit, held until released (or lost). */
export interface SlotLease {
  /** The slot number, 0 .. max-1. */
  readonly slot: number;
  /** Give the slot back (idempotent; best effort: a failed delete frees it after SLOT_TTL_MS). */
  release(): void;
}

/** Numbered bind slots: at most `max` holders of `key` at once. */
export interface BindSlots {
  /**
   * Take a free slot of `key` (0 .. max-1); undefined when all are held or the backend cannot be
   * asked (refuse or retry later). `onLost` runs if the slot turns out to be held by someone else
   * (the backend lost it and another took it): close what the slot allowed.
   */
  acquire(key: string, max: number, onLost: () => void): Promise<SlotLease | undefined>;
}

/** The limits of one replica's share of the fleet. */
export interface FleetLimits {
  readonly tokens: TokenSource;
  readonly slots: BindSlots;
  /** Stop renewing leases (held slots are released) and close the connection if owned. */
  close(): Promise<void>;
}

// ---- keys -------------------------------------------------------------------------------------------

/** Bucket of a cluster's `throughput`. Names carry their length: they may contain ':'. */
export function clusterRateKey(prefix: string, cluster: string): string {
  return `${prefix}rate:cluster:${cluster.length}:${cluster}`;
}

/** Bucket of a client's `throughput`. */
export function clientRateKey(prefix: string, systemId: string): string {
  return `${prefix}rate:client:${systemId}`;
}

/** Slot family of an endpoint's sessions (`max_binds` of its cluster); the slot number is appended. */
export function endpointSlotsKey(prefix: string, cluster: string, endpoint: string): string {
  return `${prefix}bind:${cluster.length}:${cluster}:${endpoint}`;
}

/** Slot family of a client's sessions (`max_binds` of the client). */
export function clientSlotsKey(prefix: string, systemId: string): string {
  return `${prefix}cbind:${systemId}`;
}

// ---- scripts ----------------------------------------------------------------------------------------

const LEASE_TOKENS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 'v', 't')
local tokens, at = tonumber(h[1]), tonumber(h[2])
if tokens == nil or at == nil then tokens, at = burst, now end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local granted = math.min(want, math.floor(tokens + 1e-9))
if granted < 0 then granted = 0 end
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'v', tostring(tokens), 't', at)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
local retry = 0
if granted < want then
  local need = math.min(want - granted, burst)
  retry = math.max(1, math.ceil((need - tokens) * 1000 / rate))
end
return {granted, retry}
`;

/** KEYS: the slot keys 0..max-1. ARGV: token, ttl ms. The slot taken, or -1. */
const ACQUIRE_SLOT = `
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then return i - 1 end
end
return -1
`;

/** KEYS: the slot key. ARGV: token, ttl ms. 1 still ours (or free and taken back), 0 held by another. */
const RENEW_SLOT = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

/** KEYS: the slot key. ARGV: token. Deletes it when it is still ours. */
const RELEASE_SLOT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type ScriptCall = (numberOfKeys: number, ...args: (string | number)[]) => Promise<unknown>;

const SCRIPTS = {
  smppdLeaseTokens: LEASE_TOKENS,
  smppdAcquireSlot: ACQUIRE_SLOT,
  smppdRenewSlot: RENEW_SLOT,
  smppdReleaseSlot: RELEASE_SLOT,
} as const;

export interface RedisFleetLimitsOptions {
  /**
   * The connection (make it with createRedisClient: calls must fail fast while Redis is away).
   * Its own connection, not the store's: a slot renewal never waits behind a batch of messages.
   */
  readonly redis: Redis | Cluster;
  /** Closed by close() (default true). */
  readonly ownsClient?: boolean;
  /** `store.redis.key_prefix`: the limits live beside the store's keys. */
  readonly keyPrefix: string;
  /** Renewal timers; default setInterval (unref'd). */
  readonly setInterval?: (fn: () => void, ms: number) => { unref?(): void };
  readonly clearInterval?: (timer: unknown) => void;
  /** Renewal failures and lost slots (default: silent). */
  readonly onError?: (err: unknown, what: string) => void;
}

/** Fleet limits kept in Redis (see the top of this file). */
export function createRedisFleetLimits(options: RedisFleetLimitsOptions): FleetLimits & { readonly prefix: string } {
  const client = options.redis;
  const prefix = options.keyPrefix;
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua });
  const script = (name: keyof typeof SCRIPTS): ScriptCall => {
    const fn = (client as unknown as Record<string, ScriptCall>)[name] as ScriptCall;
    return (...args) => fn.apply(client, args);
  };
  // A replica starting up asks before its connection is ready: those first calls wait for it (up to
  // FIRST_CONNECT_WAIT_MS); later ones fail at once while Redis is away (fail-fast client).
  let firstReady: Promise<void> | undefined =
    client.status === 'ready'
      ? undefined
      : new Promise<void>((resolve) => {
          const timer = setTimeout(done, FIRST_CONNECT_WAIT_MS);
          timer.unref();
          client.once('ready', done);
          function done(): void {
            clearTimeout(timer);
            client.off('ready', done);
            firstReady = undefined;
            resolve();
          }
        });
  const ready = (call: ScriptCall): ScriptCall => async (...args) => {
    if (firstReady !== undefined) await firstReady;
    return call(...args);
  };
  const leaseTokens = ready(script('smppdLeaseTokens'));
  const acquireSlot = ready(script('smppdAcquireSlot'));
  const renewSlot = script('smppdRenewSlot');
  const releaseSlot = script('smppdReleaseSlot');
  const every = options.setInterval ?? ((fn: () => void, ms: number) => setInterval(fn, ms));
  const stopEvery = options.clearInterval ?? ((t: unknown) => clearInterval(t as NodeJS.Timeout));
  const onError = options.onError ?? (() => {});
  /** Unique per process: lease tokens are `<owner>:<n>`. */
  const owner = randomBytes(8).toString('hex');
  let leaseCounter = 0;
  const held = new Set<{ release(): void }>();
  let closed = false;

  const tokens: TokenSource = {
    async lease(key, rate, burst, want) {
      const reply = (await leaseTokens(1, key, rate, burst, want)) as [number, number];
      return { granted: Number(reply[0]), retryMs: Number(reply[1]) };
    },
  };

  const slots: BindSlots = {
    async acquire(key, max, onLost) {
      if (closed || !(max >= 1)) return undefined;
      const keys = Array.from({ length: max }, (_, i) => `${key}:${i}`);
      const token = `${owner}:${++leaseCounter}`;
      let slot: number;
      try {
        slot = Number(await acquireSlot(keys.length, ...keys, token, SLOT_TTL_MS));
      } catch (err) {
        onError(err, 'bind slot not taken: redis unreachable');
        return undefined;
      }
      if (slot < 0) return undefined;
      const slotKey = keys[slot] as string;
      let released = false;
      const renew = async (): Promise<void> => {
        let ours: boolean;
        try {
          ours = Number(await renewSlot(1, slotKey, token, SLOT_TTL_MS)) === 1;
        } catch (err) {
          // Kept: nobody can take it while Redis is away; renewed again next period.
          onError(err, 'bind slot not renewed');
          return;
        }
        if (ours || released) return;
        lease.release();
        onError(new Error(`bind slot ${slotKey} is held by another replica`), 'bind slot lost');
        onLost();
      };
      const timer = every(() => void renew(), Math.floor(SLOT_TTL_MS / 3));
      timer.unref?.();
      const lease: SlotLease = {
        slot,
        release() {
          if (released) return;
          released = true;
          stopEvery(timer);
          held.delete(lease);
          releaseSlot(1, slotKey, token).catch(() => {
            // It expires after SLOT_TTL_MS.
          });
        },
      };
      held.add(lease);
      if (closed) lease.release();
      return lease;
    },
  };

  return {
    prefix,
    tokens,
    slots,
    async close() {
      if (closed) return;
      closed = true;
      for (const lease of [...held]) lease.release();
      if (options.ownsClient !== false) await client.quit().catch(() => client.disconnect());
    },
  };
}

/**
 * Bind slots within this process (the memory backend: one replica is the whole fleet). Slot state
 * changes synchronously inside acquire, so two binds cannot take the same slot.
 */
export function createLocalBindSlots(): BindSlots {
  const taken = new Map<string, Set<number>>();
  return {
    acquire(key, max) {
      let set = taken.get(key);
      if (set === undefined) taken.set(key, (set = new Set()));
      for (let slot = 0; slot < max; slot++) {
        if (set.has(slot)) continue;
        set.add(slot);
        const holder = set;
        let released = false;
        return Promise.resolve({
          slot,
          release() {
            if (released) return;
            released = true;
            holder.delete(slot);
            if (holder.size === 0 && taken.get(key) === holder) taken.delete(key);
          },
        });
      }
      return Promise.resolve(undefined);
    },
  };
}
