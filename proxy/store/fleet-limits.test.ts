// Fleet-wide limits on a real redis-server (e2e/helpers/redis-server.ts; REDIS_URL overrides): two
// FleetLimits on one key prefix stand for two replicas.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../e2e/helpers/receipts-proxy.js';
import { useRedis, type TestRedis } from '../../e2e/helpers/redis-server.js';
import {
  SLOT_TTL_MS,
  chunkFor,
  createLocalBindSlots,
  createRedisFleetLimits,
  type FleetLimits,
} from './fleet-limits.js';
import { failFastOptions } from './redis-connection.js';

let redis: TestRedis;
let raw: Redis;
const open: FleetLimits[] = [];

beforeAll(async () => {
  redis = await useRedis();
  raw = new Redis(redis.url);
});
afterAll(async () => {
  await Promise.all(open.map((f) => f.close()));
  raw.disconnect();
  await redis.close();
});

/** Renewal timers the test fires by hand. */
function manualRenewals(): { every: (fn: () => void, ms: number) => { unref(): void }; fire(): void; stopped: Set<unknown> } {
  const fns = new Map<object, () => void>();
  const stopped = new Set<unknown>();
  return {
    every(fn) {
      const handle = { unref() {} };
      fns.set(handle, fn);
      return handle;
    },
    fire() {
      for (const [handle, fn] of fns) if (!stopped.has(handle)) fn();
    },
    stopped,
  };
}

function replica(prefix: string, renewals = manualRenewals()): FleetLimits {
  const limits = createRedisFleetLimits({
    redis: new Redis(redis.url, failFastOptions()),
    keyPrefix: prefix,
    setInterval: renewals.every,
    clearInterval: (t) => renewals.stopped.add(t),
  });
  open.push(limits);
  return limits;
}

describe('chunkFor', () => {
  it('leases 1% of the rate, at least 1, at most the burst', () => {
    expect(chunkFor(500, 25)).toBe(5);
    expect(chunkFor(10, 10)).toBe(1);
    expect(chunkFor(100_000, 50)).toBe(50);
  });
});

describe('token bucket in Redis', () => {
  it('grants at most the burst at once, shared by the replicas, and says when more will be there', async () => {
    const prefix = redis.prefix();
    const [a, b] = [replica(prefix), replica(prefix)];
    const key = `${prefix}rate:test`;
    const first = await a.tokens.lease(key, 100, 10, 6);
    expect(first).toEqual({ granted: 6, retryMs: 0 });
    const second = await b.tokens.lease(key, 100, 10, 6);
    expect(second.granted).toBeGreaterThanOrEqual(4);
    expect(second.granted).toBeLessThan(6); // only what refilled (1 per 10 ms) beyond the 4 left
    expect(second.retryMs).toBeGreaterThan(0);
    expect(second.retryMs).toBeLessThanOrEqual(60);
    // It refills at the rate: a lease later gets tokens again.
    await eventually('the bucket refilled', async () => (await a.tokens.lease(key, 100, 10, 1)).granted === 1);
  });

  it('keeps separate limits apart', async () => {
    const prefix = redis.prefix();
    const a = replica(prefix);
    expect((await a.tokens.lease(`${prefix}rate:x`, 1, 1, 1)).granted).toBe(1);
    expect((await a.tokens.lease(`${prefix}rate:x`, 1, 1, 1)).granted).toBe(0);
    expect((await a.tokens.lease(`${prefix}rate:y`, 1, 1, 1)).granted).toBe(1);
  });
});

describe('bind slots in Redis', () => {
  it('lets at most `max` sessions of all replicas hold a slot; a released slot can be taken again', async () => {
    const prefix = redis.prefix();
    const [a, b] = [replica(prefix), replica(prefix)];
    const key = `${prefix}bind:ep`;
    const l1 = await a.slots.acquire(key, 2, () => {});
    const l2 = await b.slots.acquire(key, 2, () => {});
    expect([l1?.slot, l2?.slot].sort()).toEqual([0, 1]);
    expect(await a.slots.acquire(key, 2, () => {})).toBeUndefined();
    expect(await b.slots.acquire(key, 2, () => {})).toBeUndefined();
    l1!.release();
    await eventually('the slot released', async () => (await raw.exists(`${key}:${l1!.slot}`)) === 0);
    const l3 = await b.slots.acquire(key, 2, () => {});
    expect(l3?.slot).toBe(l1!.slot);
    // A slot expires when its holder stops renewing (a replica that died).
    expect(await raw.pttl(`${key}:${l3!.slot}`)).toBeGreaterThan(SLOT_TTL_MS - 2_000);
  });

  it('renewal takes a slot back that Redis lost, and closes the session when another holds it', async () => {
    const prefix = redis.prefix();
    const renewals = manualRenewals();
    const a = replica(prefix, renewals);
    const key = `${prefix}cbind:acme`;
    let lost = 0;
    const lease = await a.slots.acquire(key, 1, () => lost++);
    const slotKey = `${key}:${lease!.slot}`;
    const token = await raw.get(slotKey);

    await raw.del(slotKey); // Redis restarted without persistence
    renewals.fire();
    await eventually('taken back', async () => (await raw.get(slotKey)) === token);
    expect(lost).toBe(0);

    await raw.set(slotKey, 'someone-else', 'PX', SLOT_TTL_MS);
    renewals.fire();
    await eventually('lost', () => lost === 1);
    expect(await raw.get(slotKey)).toBe('someone-else'); // released without touching theirs
  });

  it('refuses (no slot) while Redis cannot be asked', async () => {
    const client = new Redis(redis.url, failFastOptions());
    const limits = createRedisFleetLimits({ redis: client, keyPrefix: 'x:' });
    open.push(limits);
    expect((await limits.tokens.lease('x:rate', 1, 1, 1)).granted).toBe(1);
    client.disconnect(); // Redis gone (the fail-fast client does not queue)
    expect(await limits.slots.acquire('x:bind:ep', 1, () => {})).toBeUndefined();
    await expect(limits.tokens.lease('x:rate', 1, 1, 1)).rejects.toThrow();
  });
});

describe('local bind slots (memory backend)', () => {
  it('bounds the holders of a key in this process', async () => {
    const slots = createLocalBindSlots();
    const a = await slots.acquire('k', 1, () => {});
    expect(a?.slot).toBe(0);
    expect(await slots.acquire('k', 1, () => {})).toBeUndefined();
    expect((await slots.acquire('other', 1, () => {}))?.slot).toBe(0);
    a!.release();
    a!.release(); // idempotent
    expect((await slots.acquire('k', 1, () => {}))?.slot).toBe(0);
  });
});
