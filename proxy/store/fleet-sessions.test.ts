import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis, type TestRedis } from '../../e2e/helpers/redis-server.js';
import { createRedisFleetSessions, fleetSessionsKey } from './fleet-sessions.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await useRedis();
  client = new Redis(redis.url);
});

afterAll(async () => {
  await client?.quit();
  await redis?.close();
});

describe('fleet session counts in Redis', () => {
  it("gives each replica every replica's latest count, leaving out (and deleting) the ones that stopped reporting", async () => {
    const prefix = redis.prefix();
    let now = 1_800_000_000_000;
    const fleet = createRedisFleetSessions(client, prefix, () => now);
    expect(await fleet.report('pod-a', 10, 30_000)).toEqual([10]);
    expect((await fleet.report('pod-b', 2, 30_000)).sort()).toEqual([10, 2].sort());
    now += 20_000;
    // pod-a again: its new count replaces its old one.
    expect((await fleet.report('pod-a', 8, 30_000)).sort()).toEqual([2, 8].sort());
    now += 15_000;
    // pod-b last reported 35 s ago: gone.
    expect(await fleet.report('pod-a', 8, 30_000)).toEqual([8]);
    expect(await client.hkeys(fleetSessionsKey(prefix))).toEqual(['pod-a']);
    // The hash goes by itself when nobody reports any more.
    const ttl = await client.pttl(fleetSessionsKey(prefix));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
