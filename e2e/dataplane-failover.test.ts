// Upstream failures through the whole proxy (SPEC §3 clusters, §4 Submit and Keepalive):
// - an SMSC killed and restarted on its port while a client submits continuously: every submit gets
//   exactly one response, smppd re-binds after a backoff, the endpoint's circuit opens and closes
//   again, and traffic flows to the restarted SMSC;
// - an SMSC answering ESME_RTHROTTLED to part of the traffic: smppd retries and every message succeeds;
// - an SMSC with a TPS limit: after its first ESME_RTHROTTLED smppd stops sending to it for
//   `throttle_pause`, so it refuses a few messages per second, not every retry smppd can make.

import { afterEach, describe, expect, it } from 'vitest';
import type { CircuitState } from '../proxy/cluster/index.js';
import { SmppClient } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator, type Simulator } from './sim/index.js';
import { SimTally, responseProblems, submitWindowed } from './helpers/dataplane-load.js';
import { eventually, startProxy, type RunningProxy } from './helpers/receipts-proxy.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sim(options: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const s = await startSimulator(options);
  cleanups.push(() => s.close());
  return s;
}

async function proxyFor(config: object): Promise<RunningProxy> {
  const p = await startProxy({
    listeners: [{ name: 'main', address: '127.0.0.1:0', limits: { request_timeout: '10s' } }],
    clients: [{ system_id: 'acme', password: 'secret' }],
    routes: [{ name: 'all', cluster: 'up' }],
    shutdown: { drain_timeout: '1s' },
    ...config,
  });
  cleanups.push(() => p.stop());
  return p;
}

async function boundClient(port: number): Promise<SmppClient> {
  const c = await SmppClient.connect(port);
  cleanups.push(() => c.close());
  expect(await c.bind('transmitter')).toBe(Status.ESME_ROK);
  return c;
}

describe('an upstream killed and restarted under load', () => {
  it('answers every submit exactly once, re-binds with backoff, opens and closes the circuit', async () => {
    const a = await sim({ latencyMs: 2 });
    const b = await sim({ latencyMs: 2 });
    const portA = a.port;
    const endpointA = `127.0.0.1:${portA}`;
    const proxy = await proxyFor({
      clusters: [
        {
          name: 'up',
          endpoints: [a, b].map((s) => ({ address: `127.0.0.1:${s.port}`, system_id: 'smppd', password: 'pw', window: 10 })),
          circuit_breaker: { threshold: 1, timeout: '300ms' },
          retry: { max_attempts: 5, initial_backoff: '10ms', max_backoff: '100ms' },
        },
      ],
    });
    const up = proxy.proxy.clusters.get('up')!;
    await eventually('both endpoints are bound', () => up.health().endpoints.every((e) => e.state === 'bound'));
    const circuitOfA = (): CircuitState => up.health().endpoints.find((e) => e.name === endpointA)!.circuit;

    // The circuit of A, sampled by a watcher that runs for the whole test.
    const seenCircuits: CircuitState[] = [];
    const watch = setInterval(() => {
      const c = circuitOfA();
      if (seenCircuits.at(-1) !== c) seenCircuits.push(c);
    }, 2);
    cleanups.push(async () => clearInterval(watch));

    // What the closures below see of the SMSC restarted on A's port.
    const after: { tally?: SimTally; reboundAt?: number } = {};
    let answered = 0;
    let phase: 'warm' | 'killed' | 'flowing' = 'warm';

    const client = await boundClient(proxy.port);
    const load = submitWindowed(client, {
      count: 2000,
      window: 20,
      max: 60_000,
      // Keep going until the restarted SMSC has taken traffic again (the circuit closed on it).
      until: () => phase === 'flowing' && after.tally !== undefined && after.tally.count >= 50,
      onResponse: () => void answered++,
    });

    await eventually('some traffic went through', () => answered >= 300);
    expect(a.stats().accepted).toBeGreaterThan(0);
    a.dropConnections(); // crash: no unbind, requests in flight are lost
    await a.close();
    const killedAt = performance.now();
    phase = 'killed';

    await eventually("A's circuit opens", () => seenCircuits.includes('open'), { timeoutMs: 5000 });
    const restarted = await sim({ port: portA, latencyMs: 2 });
    const restartedTally = (after.tally = new SimTally(restarted));
    restarted.once('bind', () => void (after.reboundAt = performance.now()));
    await eventually('smppd binds to the restarted SMSC', () => after.reboundAt !== undefined, { timeoutMs: 10_000 });
    await eventually("A's circuit closes again", () => circuitOfA() === 'closed', { timeoutMs: 10_000 });
    phase = 'flowing';

    const run = await load;
    expect(run.sent).toBeGreaterThanOrEqual(2000);
    // Every submit got exactly one response, and all were accepted (retried on B where A failed).
    expect(responseProblems(run)).toEqual({ duplicated: [], unanswered: 0 });
    expect(run.responsesBySeq.size).toBe(run.sent);
    expect(Object.fromEntries(run.statuses)).toEqual({ [Status.ESME_ROK]: run.sent });
    // Re-bound after a backoff (at least the 1 s initial re-bind delay), not in a tight loop.
    expect(after.reboundAt! - killedAt).toBeGreaterThanOrEqual(900);
    // The circuit went closed -> open -> ... -> closed, and the restarted SMSC took traffic again.
    expect(seenCircuits[0]).toBe('closed');
    expect(seenCircuits).toContain('open');
    expect(seenCircuits.at(-1)).toBe('closed');
    expect(restartedTally.count).toBeGreaterThanOrEqual(50);
    expect(up.health().endpoints.every((e) => e.state === 'bound' && e.circuit === 'closed')).toBe(true);
  });
});

describe('the only upstream killed and restarted under load', () => {
  it('answers every submit exactly once, errors while it is down, and recovers once it is back', async () => {
    const first = await sim({ latencyMs: 2 });
    const port = first.port;
    const proxy = await proxyFor({
      clusters: [
        {
          name: 'up',
          endpoints: [{ address: `127.0.0.1:${port}`, system_id: 'smppd', password: 'pw', window: 10 }],
          circuit_breaker: { threshold: 2, timeout: '300ms' },
          retry: { max_attempts: 3, initial_backoff: '10ms', max_backoff: '50ms' },
        },
      ],
    });
    const up = proxy.proxy.clusters.get('up')!;
    await eventually('the endpoint is bound', () => up.available());

    let phase: 'before' | 'down' | 'back' = 'before';
    const byPhase = { before: new Map<number, number>(), down: new Map<number, number>(), back: new Map<number, number>() };
    const after: { tally?: SimTally } = {};
    const client = await boundClient(proxy.port);
    const load = submitWindowed(client, {
      count: 500,
      window: 5,
      max: 60_000,
      // Errors come back at once while the SMSC is down: without a pause the load could use up
      // `max` before smppd re-binds (it did once in a full run).
      errorDelayMs: 5,
      until: () => phase === 'back' && after.tally !== undefined && after.tally.count >= 100,
      onResponse: (resp) => {
        const m = byPhase[phase];
        m.set(resp.command_status, (m.get(resp.command_status) ?? 0) + 1);
      },
    });

    await eventually('some traffic went through', () => (byPhase.before.get(Status.ESME_ROK) ?? 0) >= 200);
    first.dropConnections();
    await first.close();
    phase = 'down';
    await eventually('smppd answers with errors while the SMSC is down', () => byPhase.down.size > 0 && !up.available());
    const restarted = await sim({ port, latencyMs: 2 });
    after.tally = new SimTally(restarted);
    await eventually('smppd binds to the restarted SMSC', () => restarted.stats().binds > 0, { timeoutMs: 10_000 });
    phase = 'back';

    const run = await load;
    expect(responseProblems(run)).toEqual({ duplicated: [], unanswered: 0 });
    expect(run.responsesBySeq.size).toBe(run.sent);
    // Nothing was acknowledged that no SMSC accepted: every ESME_ROK is a message a simulator took.
    expect(run.statuses.get(Status.ESME_ROK)).toBeLessThanOrEqual(first.stats().accepted + restarted.stats().accepted);
    // While down: transient errors, not silence; back up: accepted again.
    expect([...byPhase.down.keys()].some((s) => s !== Status.ESME_ROK)).toBe(true);
    expect(after.tally.count).toBeGreaterThanOrEqual(100);
    expect(byPhase.back.get(Status.ESME_ROK)).toBeGreaterThan(0);
    expect(up.health().endpoints[0]).toMatchObject({ state: 'bound', circuit: 'closed' });
  });
});

describe('an upstream throttling part of the traffic', () => {
  it('retries the ESME_RTHROTTLED answers and every message succeeds', async () => {
    const s = await sim({ throttleRate: 0.2, seed: 20240601 });
    const proxy = await proxyFor({
      clusters: [
        {
          name: 'up',
          endpoints: [{ address: `127.0.0.1:${s.port}`, system_id: 'smppd', password: 'pw', window: 20 }],
          // 0.2^12: no message runs out of attempts.
          retry: { max_attempts: 12, initial_backoff: '5ms', max_backoff: '20ms', on: ['ESME_RTHROTTLED'] },
          // It throttles at random, not by rate: a pause would only slow the run (tested below).
          throttle_pause: '0s',
        },
      ],
    });
    await eventually('the endpoint is bound', () => proxy.proxy.clusters.get('up')!.available());
    const client = await boundClient(proxy.port);
    const run = await submitWindowed(client, { count: 1000, window: 20 });

    expect(Object.fromEntries(run.statuses)).toEqual({ [Status.ESME_ROK]: 1000 });
    expect(new Set(run.messageIds).size).toBe(1000);
    const stats = s.stats();
    expect(stats.throttled).toBeGreaterThan(100); // ~20% of the attempts
    expect(stats.accepted).toBe(1000); // each message accepted once upstream
    expect(stats.submits).toBe(1000 + stats.throttled); // the simulator saw more submits than the client sent
  });
});

describe('an upstream with a TPS limit', () => {
  it('pauses sending after ESME_RTHROTTLED: a few refusals per second, not one per retry, and every message succeeds', async () => {
    const s = await sim({ maxRate: 200 });
    const proxy = await proxyFor({
      clusters: [
        {
          name: 'up',
          endpoints: [{ address: `127.0.0.1:${s.port}`, system_id: 'smppd', password: 'pw', window: 20 }],
          // Retries quick enough to hammer the SMSC (~20 a second per waiting message) without the pause.
          retry: { max_attempts: 100, initial_backoff: '10ms', max_backoff: '100ms', on: ['ESME_RTHROTTLED'] },
          // throttle_pause: its default, 1s.
        },
      ],
    });
    await eventually('the endpoint is bound', () => proxy.proxy.clusters.get('up')!.available());
    const client = await boundClient(proxy.port);
    const run = await submitWindowed(client, { count: 600, window: 20 });

    expect(Object.fromEntries(run.statuses)).toEqual({ [Status.ESME_ROK]: 600 });
    const stats = s.stats();
    expect(stats.accepted).toBe(600);
    // 600 messages at 200/s: the SMSC's limit is reached twice, and each time only what smppd had
    // on the wire comes back throttled. With throttle_pause 0s this run saw 848 refusals.
    expect(stats.throttled).toBeGreaterThan(0);
    expect(stats.throttled).toBeLessThanOrEqual(3 * 20);
    const metrics = await proxy.proxy.metrics.registry.metrics();
    const pauses = /^smppd_endpoint_throttle_pauses_total\{[^}]*cluster="up"[^}]*\} (\d+)$/m.exec(metrics);
    expect(Number(pauses?.[1])).toBeGreaterThanOrEqual(2);
  });
});
