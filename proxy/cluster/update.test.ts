// Cluster.update() and retire() (config reload, SPEC §6): sessions are re-bound only when an
// endpoint's address or credentials changed; everything else changes on the live sessions; what is
// taken out of service unbinds only once the requests it has on the wire are answered.

import { afterEach, describe, expect, it } from 'vitest';
import { ClusterSchema } from '../config/cluster-schema.js';
import type { ClusterConfig, ClusterConfigInput } from '../config/schema.js';
import { submitSm } from '../session/testing.js';
import { Status, type SubmitSm } from '../smpp/index.js';
import { sameValue } from '../config/diff.js';
import { createMetrics, type EndpointMetrics } from '../telemetry/metrics.js';
import { createCluster, type Cluster } from './index.js';
import { startTestSmsc, type TestSmsc } from './testing.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function smsc(opts: Parameters<typeof startTestSmsc>[0] = {}): Promise<TestSmsc> {
  const s = await startTestSmsc(opts);
  cleanups.push(() => s.close());
  return s;
}

function config(input: Omit<ClusterConfigInput, 'name'>): ClusterConfig {
  return ClusterSchema.parse({ name: 'up', ...input });
}

function endpoint(s: TestSmsc, extra: Record<string, unknown> = {}) {
  return { address: s.address, system_id: 'smppd', password: 'pw', ...extra };
}

function sm(): SubmitSm {
  return { ...submitSm(), sequence_number: 0, command_status: 0 };
}

interface Started {
  cluster: Cluster;
  metrics: ReturnType<typeof createMetrics>;
  /** Resolves once the cluster's endpoints have these bound sessions (woken by session-count reports). */
  sessions(binds: number[]): Promise<void>;
}

function start(cfg: ClusterConfig): Started {
  const metrics = createMetrics({ defaultMetrics: false });
  const waiters: Array<{ check: () => boolean; resolve: () => void }> = [];
  const changed = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]!.check()) waiters.splice(i, 1)[0]!.resolve();
  };
  const observed = {
    endpointMetrics(cluster: string, name: string): EndpointMetrics {
      const real = metrics.endpointMetrics(cluster, name);
      return {
        ...real,
        sessions(state, count) {
          real.sessions(state, count);
          queueMicrotask(changed);
        },
      };
    },
  };
  const cluster = createCluster(cfg, { onDelivery: async () => Status.ESME_ROK, metrics: observed });
  cluster.start();
  cleanups.push(() => cluster.close());
  return {
    cluster,
    metrics,
    sessions(binds) {
      const check = (): boolean => sameValue(cluster.health().endpoints.map((e) => e.sessions), binds);
      if (check()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ check, resolve }));
    },
  };
}

const send = (cluster: Cluster) => cluster.send(sm(), { timeoutMs: 5000 });

describe('Cluster.update', () => {
  it('weight, window, circuit breaker, health check and load balancer change without a new bind', async () => {
    const up = await smsc({ latencyMs: 30 });
    const { cluster, sessions } = start(config({ endpoints: [endpoint(up, { window: 2 })] }));
    await sessions([1]);
    await Promise.all(Array.from({ length: 10 }, () => send(cluster)));
    expect(up.maxOutstanding(0)).toBe(2);

    await cluster.update(
      config({
        load_balancer: 'least_connections',
        circuit_breaker: { threshold: 2, timeout: '5s' },
        health_check: { interval: '10s', timeout: '1s' },
        endpoints: [endpoint(up, { window: 8, weight: 3 })],
      }),
    );
    const results = await Promise.all(Array.from({ length: 40 }, () => send(cluster)));
    expect(results.every((r) => r.response.command_status === Status.ESME_ROK)).toBe(true);
    expect(up.maxOutstanding(0)).toBe(8);
    expect(up.counts).toMatchObject({ connections: 1, binds: 1, unbinds: 0 });
  });

  it('a changed password re-binds that endpoint; a request on the wire is still answered', async () => {
    const up = await smsc({ latencyMs: 100 });
    const { cluster, sessions } = start(config({ endpoints: [endpoint(up)] }));
    await sessions([1]);
    const inFlight = send(cluster);
    await up.waitFor(() => up.received.length === 1);

    const updated = cluster.update(config({ endpoints: [endpoint(up, { password: 'new' })] }));
    expect((await inFlight).response.command_status).toBe(Status.ESME_ROK);
    await updated;
    expect(up.counts).toMatchObject({ binds: 2, unbinds: 1 });
    await sessions([1]);
    // The endpoint keeps its name (the store names it for query_sm) and serves on the new session.
    const after = await send(cluster);
    expect(after.endpoint).toBe(up.address);
    expect(after.response.command_status).toBe(Status.ESME_ROK);
  });

  it('a changed bind_type re-binds every endpoint', async () => {
    const binds: string[] = [];
    const up = await smsc({ authenticate: (b) => (binds.push(b.command), Status.ESME_ROK) });
    const { cluster, sessions } = start(config({ endpoints: [endpoint(up)] }));
    await sessions([1]);
    await cluster.update(config({ bind_type: 'transmitter', endpoints: [endpoint(up)] }));
    await sessions([1]);
    await up.waitFor(() => binds.length === 2);
    expect(binds).toEqual(['bind_transceiver', 'bind_transmitter']);
  });

  it('more binds open new slots, fewer unbind the extra ones once their requests are answered', async () => {
    const up = await smsc({ latencyMs: 50 });
    const { cluster, sessions } = start(config({ endpoints: [endpoint(up, { binds: 1 })] }));
    await sessions([1]);

    await cluster.update(config({ endpoints: [endpoint(up, { binds: 3 })] }));
    await sessions([3]);
    expect(up.counts).toMatchObject({ binds: 3, unbinds: 0 });

    const inFlight = Array.from({ length: 30 }, () => send(cluster));
    await up.waitFor(() => up.received.length === 30);
    const shrunk = cluster.update(config({ endpoints: [endpoint(up, { binds: 1 })] }));
    const results = await Promise.all(inFlight);
    expect(results.every((r) => r.response.command_status === Status.ESME_ROK)).toBe(true);
    await shrunk;
    expect(up.counts).toMatchObject({ binds: 3, unbinds: 2 });
    await sessions([1]);
    expect(cluster.health().endpoints[0]).toMatchObject({ binds: 1, sessions: 1 });
  });

  it('endpoints added bind, endpoints removed unbind after their requests; the others are untouched', async () => {
    const a = await smsc({ latencyMs: 50 });
    const b = await smsc();
    const c = await smsc();
    const { cluster, metrics, sessions } = start(config({ endpoints: [endpoint(a), endpoint(b)] }));
    await sessions([1, 1]);
    const onA = Array.from({ length: 4 }, () => send(cluster));
    await a.waitFor(() => a.received.length >= 1);

    const updated = cluster.update(config({ endpoints: [endpoint(b), endpoint(c)] }));
    expect(cluster.health().endpoints.map((e) => e.name)).toEqual([b.address, c.address]);
    const results = await Promise.all(onA);
    expect(results.every((r) => r.response.command_status === Status.ESME_ROK)).toBe(true);
    await updated;
    expect(a.counts.unbinds).toBe(1);
    expect(b.counts).toMatchObject({ binds: 1, unbinds: 0 });
    await sessions([1, 1]);
    // The removed endpoint's series are gone; the others stay.
    const text = await metrics.registry.metrics();
    expect(text).not.toContain(`endpoint="${a.address}"`);
    expect(text).toContain(`endpoint="${b.address}"`);
  });

  it('throughput set, changed and removed in place', async () => {
    const up = await smsc();
    const { cluster, sessions } = start(config({ endpoints: [endpoint(up)] }));
    await sessions([1]);
    await cluster.update(config({ throughput: 1, endpoints: [endpoint(up)] }));
    await send(cluster); // the one token of a full bucket
    const refused = await cluster.send(sm(), { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'THROTTLED', sent: false });
    await cluster.update(config({ endpoints: [endpoint(up)] }));
    await Promise.all(Array.from({ length: 20 }, () => send(cluster)));
    expect(up.counts.binds).toBe(1);
  });
});

describe('Cluster.retire', () => {
  it('takes no new request at once and unbinds after the requests it holds are answered', async () => {
    const up = await smsc({ latencyMs: 100 });
    const { cluster, sessions } = start(config({ endpoints: [endpoint(up, { window: 1 })] }));
    await sessions([1]);
    const held = [send(cluster), send(cluster)]; // one on the wire, one queued for the window
    await up.waitFor(() => up.received.length === 1);

    const retired = cluster.retire();
    expect(cluster.available()).toBe(false);
    await expect(send(cluster)).rejects.toMatchObject({ code: 'UNAVAILABLE', sent: false });
    const results = await Promise.all(held);
    expect(results.map((r) => r.response.command_status)).toEqual([Status.ESME_ROK, Status.ESME_ROK]);
    await retired;
    expect(up.counts.unbinds).toBe(1);
    expect(cluster.health().endpoints[0]!.state).toBe('closed');
  });

  it('close() while retiring stops waiting for the answers (shutdown during a reload)', async () => {
    const up = await smsc({ latencyMs: 1000 });
    const { cluster, sessions } = start(config({ endpoints: [endpoint(up)] }));
    await sessions([1]);
    const held = send(cluster).catch((e: unknown) => e);
    await up.waitFor(() => up.received.length === 1);
    const retired = cluster.retire();
    const started = Date.now();
    await cluster.close();
    await retired;
    expect(Date.now() - started).toBeLessThan(500);
    expect(await held).toMatchObject({ code: 'DISCONNECT', sent: true });
    expect(up.counts.unbinds).toBe(1);
  });

  it('a mock cluster changes its behaviour in place', async () => {
    const { cluster } = start(config({ mock: { response: 'success', latency: '0ms' } }));
    expect((await send(cluster)).response.command_status).toBe(Status.ESME_ROK);
    await cluster.update(config({ mock: { response: 'ESME_RSYSERR' } }));
    expect((await send(cluster)).response.command_status).toBe(Status.ESME_RSYSERR);
    await cluster.retire();
    expect(cluster.available()).toBe(false);
  });
});
