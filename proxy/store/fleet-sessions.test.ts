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
    expect(sorted(await fleet.report('pod-b', 2, 30_000))).toEqual([2, 10]);
    now += 20_000;
    // pod-a again: its new count replaces its old one.
    expect(sorted(await fleet.report('pod-a', 8, 30_000))).toEqual([2, 8]);
    now += 15_000;
    // pod-b last reported 35 s ago, valid for 30 s: gone.
    expect(await fleet.report('pod-a', 8, 30_000)).toEqual([8]);
    expect(await client.hkeys(fleetSessionsKey(prefix))).toEqual(['pod-a']);
    // The hash goes by itself when nobody reports any more.
    const ttl = await client.pttl(fleetSessionsKey(prefix));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("judges each report by its writer's own validity: replicas on different intervals keep counting each other", async () => {
    const prefix = redis.prefix();
    let now = 1_800_000_000_000;
    const fleet = createRedisFleetSessions(client, prefix, () => now);
    await fleet.report('slow', 12, 90_000); // a 30 s interval
    now += 20_000;
    // A replica on a 5 s interval (valid 15 s) still counts the 20-second-old report.
    expect(sorted(await fleet.report('fast', 4, 15_000))).toEqual([4, 12]);
  });

  it("uses Redis's clock by default, and a replica that leaves is no longer counted", async () => {
    const prefix = redis.prefix();
    const fleet = createRedisFleetSessions(client, prefix);
    await fleet.report('pod-a', 3, 30_000);
    expect(sorted(await fleet.report('pod-b', 5, 30_000))).toEqual([3, 5]);
    await fleet.leave('pod-a');
    expect(await fleet.report('pod-b', 5, 30_000)).toEqual([5]);
  });
});

function sorted(counts: number[]): number[] {
  return [...counts].sort((x, y) => x - y);
}
