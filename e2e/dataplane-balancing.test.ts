// Load balancing through the whole proxy (SPEC §3 `load_balancer`): one cluster of two simulator
// endpoints, windowed traffic from a node-smpp client, submits counted per simulator.

import { afterEach, describe, expect, it } from 'vitest';
import { SmppClient } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator, type Simulator } from './sim/index.js';
import { SimTally, responseProblems, submitWindowed } from './helpers/dataplane-load.js';
import { eventually, startProxy, type RunningProxy } from './helpers/receipts-proxy.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  proxy: RunningProxy;
  client: SmppClient;
  tallies: [SimTally, SimTally];
}

/** Two simulators (latencies as given) behind one cluster with `balancer`; a bound client. */
async function setup(
  balancer: string,
  sims: Array<{ latencyMs: number; weight?: number }>,
): Promise<Setup> {
  const started: Simulator[] = await Promise.all(sims.map((s) => startSimulator({ latencyMs: s.latencyMs })));
  cleanups.push(async () => void (await Promise.all(started.map((s) => s.close()))));
  const proxy = await startProxy({
    listeners: [{ name: 'main', address: '127.0.0.1:0' }],
    clients: [{ system_id: 'acme', password: 'secret' }],
    clusters: [
      {
        name: 'pool',
        load_balancer: balancer,
        endpoints: started.map((s, i) => ({
          address: `127.0.0.1:${s.port}`,
          system_id: 'smppd',
          password: 'pw',
          weight: sims[i]!.weight ?? 1,
          window: 50,
        })),
      },
    ],
    routes: [{ name: 'all', cluster: 'pool' }],
    shutdown: { drain_timeout: '1s' },
  });
  cleanups.push(() => proxy.stop());
  const pool = proxy.proxy.clusters.get('pool')!;
  await eventually('both endpoints are bound', () => pool.health().endpoints.every((e) => e.state === 'bound'));
  const client = await SmppClient.connect(proxy.port);
  cleanups.push(() => client.close());
  expect(await client.bind('transmitter')).toBe(Status.ESME_ROK);
  return { proxy, client, tallies: [new SimTally(started[0]!), new SimTally(started[1]!)] };
}

describe('load balancing through smppd', () => {
  it('weighted 2:1 holds within ±10% over 3,000 messages', async () => {
    const { client, tallies } = await setup('weighted', [
      { latencyMs: 0, weight: 2 },
      { latencyMs: 0, weight: 1 },
    ]);
    const run = await submitWindowed(client, { count: 3000, window: 50 });
    expect(run.statuses.get(Status.ESME_ROK)).toBe(3000);
    expect(responseProblems(run)).toEqual({ duplicated: [], unanswered: 0 });
    const [heavy, light] = tallies.map((t) => t.count) as [number, number];
    expect(heavy + light).toBe(3000);
    const ratio = heavy / light;
    expect(ratio).toBeGreaterThanOrEqual(1.8);
    expect(ratio).toBeLessThanOrEqual(2.2);
  });

  for (const balancer of ['least_connections', 'p2c']) {
    it(`${balancer} sends most traffic away from an endpoint that answers 50 ms slower`, async () => {
      const { client, tallies } = await setup(balancer, [{ latencyMs: 5 }, { latencyMs: 55 }]);
      const run = await submitWindowed(client, { count: 600, window: 20 });
      expect(run.statuses.get(Status.ESME_ROK)).toBe(600);
      const [fast, slow] = tallies.map((t) => t.count) as [number, number];
      expect(fast + slow).toBe(600);
      expect(slow / 600).toBeLessThan(0.35);
      // Still an endpoint in rotation, not one that was dropped.
      expect(slow).toBeGreaterThan(0);
    });
  }
});
