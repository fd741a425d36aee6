// Clients' throughput shared by the fleet, over a fake shared bucket answered by hand (the Redis one
// is tested in store/fleet-limits.test.ts).

import { describe, expect, it } from 'vitest';
import type { ClientConfig } from '../config/schema.js';
import { ConfigSchema } from '../config/schema.js';
import type { TokenSource } from '../store/fleet-limits.js';
import { createFleetClientThroughput } from './fleet-throughput.js';

class HandBucket implements TokenSource {
  readonly asks: Array<{ key: string; want: number; burst: number; answer(granted: number, retryMs?: number): Promise<void>; fail(): Promise<void> }> = [];

  lease(key: string, _rate: number, burst: number, want: number): Promise<{ granted: number; retryMs: number }> {
    return new Promise((resolve, reject) => {
      this.asks.push({
        key,
        want,
        burst,
        async answer(granted, retryMs = 0) {
          resolve({ granted, retryMs });
          await new Promise((r) => setImmediate(r));
        },
        async fail() {
          reject(new Error('redis unreachable'));
          await new Promise((r) => setImmediate(r));
        },
      });
    });
  }

  last() {
    return this.asks[this.asks.length - 1]!;
  }
}

function clients(throughput: number): ClientConfig[] {
  return ConfigSchema.parse({
    listeners: [],
    clients: [
      { system_id: 'acme', password: 'x', throughput },
      { system_id: 'free', password: 'x' },
    ],
  }).clients;
}

function setup(throughput = 500) {
  let now = 0;
  const bucket = new HandBucket();
  const limiter = createFleetClientThroughput(clients(throughput), { tokens: bucket, keyOf: (id) => `rate:${id}`, now: () => now });
  return { bucket, limiter, advance: (ms: number) => (now += ms) };
}

describe('fleet client throughput', () => {
  it('never throttles a client below its limit: an empty pool borrows one chunk while the lease is on its way', async () => {
    const { bucket, limiter } = setup(500); // chunk 5, burst 500
    expect(limiter.take('acme')).toBe(true); // borrowed
    expect(bucket.asks).toHaveLength(1);
    expect(bucket.last()).toMatchObject({ key: 'rate:acme', want: 6, burst: 500 }); // the debt and a chunk
    for (let i = 0; i < 4; i++) expect(limiter.take('acme')).toBe(true); // up to one chunk of debt
    expect(limiter.take('acme')).toBe(false);
    await bucket.last().answer(6); // pays the first take's debt, a chunk in hand... minus what was taken since
    expect(limiter.take('acme')).toBe(true);
  });

  it('refuses once the fleet bucket came back short, until a lease brings tokens again', async () => {
    const { bucket, limiter, advance } = setup(500);
    expect(limiter.take('acme')).toBe(true);
    await bucket.last().answer(0, 40); // the fleet is at its limit
    expect(limiter.take('acme')).toBe(false);
    expect(bucket.asks).toHaveLength(1); // not before the 40 ms the bucket named
    advance(40);
    expect(limiter.take('acme')).toBe(false);
    expect(bucket.asks).toHaveLength(2);
    await bucket.last().answer(6);
    expect(limiter.take('acme')).toBe(true);
  });

  it('fails closed while Redis cannot be asked', async () => {
    const { bucket, limiter, advance } = setup(500);
    expect(limiter.take('acme')).toBe(true);
    await bucket.last().fail();
    expect(limiter.take('acme')).toBe(false);
    advance(500);
    limiter.take('acme');
    expect(bucket.asks).toHaveLength(2);
  });

  it('asks for a submit_multi bigger than a chunk in one lease; unlimited clients never ask', async () => {
    const { bucket, limiter } = setup(100); // chunk 1, burst 100
    expect(limiter.take('free', 1_000)).toBe(true);
    expect(bucket.asks).toHaveLength(0);
    expect(limiter.take('acme', 1)).toBe(true);
    await bucket.last().answer(2);
    expect(limiter.take('acme', 20)).toBe(false);
    expect(bucket.last().want).toBe(20);
    await bucket.last().answer(20);
    expect(limiter.take('acme', 20)).toBe(true);
  });

  it('follows a config reload: new limits, removed clients unlimited', async () => {
    const { bucket, limiter } = setup(500);
    limiter.update(clients(0));
    expect(limiter.take('acme', 10_000)).toBe(true);
    expect(bucket.asks).toHaveLength(0);
  });
});
