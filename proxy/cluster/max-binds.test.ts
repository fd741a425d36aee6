// A cluster's max_binds (SPEC §3: sessions per endpoint across all replicas) over real TCP: on one
// replica (memory backend: its own slots), and across two clusters sharing a fleet's slots (in
// production Redis, store/fleet-limits.ts; here the in-process slots, same contract).

import { afterEach, describe, expect, it } from 'vitest';
import { ClusterSchema } from '../config/cluster-schema.js';
import type { ClusterConfig, ClusterConfigInput } from '../config/schema.js';
import { createLocalBindSlots, type BindSlots } from '../store/fleet-limits.js';
import type { ClusterFleet } from './fleet-throttle.js';
import { createCluster, type Cluster } from './index.js';
import { startTestSmsc, type TestSmsc } from './testing.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function config(s: TestSmsc, input: Partial<ClusterConfigInput>, binds: number): ClusterConfig {
  return ClusterSchema.parse({
    name: 'up',
    endpoints: [{ address: s.address, system_id: 'smppd', password: 'pw', binds }],
    ...input,
  });
}

function start(cfg: ClusterConfig, fleet?: ClusterFleet): Cluster {
  const cluster = createCluster(cfg, { onDelivery: async () => 0, fleet });
  cluster.start();
  cleanups.push(() => cluster.close());
  return cluster;
}

function fleetOf(slots: BindSlots): ClusterFleet {
  return {
    slots,
    tokens: { lease: () => Promise.reject(new Error('no throughput in this test')) },
    rateKey: (c) => c,
    endpointSlotsKey: (c, e) => `${c}|${e}`,
  };
}

describe('cluster max_binds', () => {
  it('binds at most max_binds of the endpoint binds (one replica)', async () => {
    const smsc = await startTestSmsc();
    cleanups.push(() => smsc.close());
    const cluster = start(config(smsc, { max_binds: 2 }, 3));
    await expect.poll(() => cluster.health().endpoints[0]!.sessions).toBe(2);
    expect(cluster.health().endpoints[0]).toMatchObject({ sessions: 2, binds: 3 });
    expect(smsc.counts.bindAttempts).toBe(2);
    expect(smsc.bound()).toBe(2);
  });

  it('holds across replicas sharing the slots; the slots a replica gives back are taken by another', async () => {
    const smsc = await startTestSmsc();
    cleanups.push(() => smsc.close());
    const fleet = fleetOf(createLocalBindSlots());
    const a = start(config(smsc, { max_binds: 2 }, 2), fleet);
    await expect.poll(() => a.health().endpoints[0]!.sessions).toBe(2);
    const b = start(config(smsc, { max_binds: 2 }, 2), fleet);
    expect(b.health().endpoints[0]!.sessions).toBe(0);
    let most = 0;
    const timer = setInterval(() => (most = Math.max(most, smsc.bound())), 5);
    cleanups.push(() => clearInterval(timer));
    await a.close(); // unbinds: its slots go back when its sessions close
    // b asks again every SLOT_RETRY_MS (+ jitter).
    await expect.poll(() => b.health().endpoints[0]!.sessions, { timeout: 5_000 }).toBe(2);
    expect(most).toBeLessThanOrEqual(2);
    expect(smsc.counts.binds).toBe(4);
  });
});
