import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { duplexPair } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClusterSchema } from '../config/cluster-schema.js';
import type { ClusterConfig, ClusterConfigInput } from '../config/schema.js';
import { RawPeer, deliverSm, submitSm } from '../session/testing.js';
import { Status, type PduOf, type SubmitSm } from '../smpp/index.js';
import { createMetrics, type EndpointMetrics } from '../telemetry/metrics.js';
import type { CircuitState } from './circuit-breaker.js';
import { ClusterError } from './errors.js';
import { createCluster, endpointNames, type Cluster, type ClusterDeps, type SendResult } from './index.js';
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

/** Endpoint metrics that also record session counts and circuit transitions, waking waiters. */
function observed() {
  const metrics = createMetrics({ defaultMetrics: false });
  const circuits: Array<{ endpoint: string; to: CircuitState }> = [];
  const waiters: Array<{ predicate: () => boolean; resolve: () => void }> = [];
  const changed = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]!.predicate()) waiters.splice(i, 1)[0]!.resolve();
  };
  return {
    metrics,
    circuits,
    deps: {
      endpointMetrics(cluster: string, name: string): EndpointMetrics {
        const real = metrics.endpointMetrics(cluster, name);
        return {
          ...real,
          sessions(state, count) {
            real.sessions(state, count);
            queueMicrotask(changed);
          },
          circuit(to) {
            real.circuit(to);
            circuits.push({ endpoint: name, to });
            queueMicrotask(changed);
          },
        };
      },
    },
    until(predicate: () => boolean): Promise<void> {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
}

function start(cfg: ClusterConfig, deps: Partial<ClusterDeps> = {}) {
  const obs = observed();
  const cluster = createCluster(cfg, { onDelivery: async () => Status.ESME_ROK, metrics: obs.deps, ...deps });
  cluster.start();
  cleanups.push(() => cluster.close());
  const allBound = () =>
    obs.until(() => cluster.health().endpoints.every((e) => e.sessions === e.binds));
  return { cluster, obs, allBound };
}

function sm(text = 'hello', fields: Partial<SubmitSm> = {}): SubmitSm {
  return { ...submitSm({ short_message: Buffer.from(text), ...fields }), sequence_number: 0, command_status: 0 };
}

function countBy(results: SendResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) out[r.endpoint] = (out[r.endpoint] ?? 0) + 1;
  return out;
}

/** `workers` loops each sending one message at a time until `total` were sent. */
async function pool(cluster: Cluster, total: number, workers: number): Promise<SendResult[]> {
  const results: SendResult[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (sent < total) {
        sent++;
        results.push(await cluster.send(sm(), { timeoutMs: 5000 }));
      }
    }),
  );
  return results;
}

describe('endpointNames', () => {
  it('names endpoints by address, with the system_id where an address repeats', () => {
    const cfg = config({
      endpoints: [
        { address: 'smsc.example:2775', system_id: 'one' },
        { address: 'smsc.example:2775', system_id: 'two' },
        { address: '10.0.0.1:2775', system_id: 'one' },
      ],
    });
    expect(endpointNames(cfg)).toEqual(['one@smsc.example:2775', 'two@smsc.example:2775', '10.0.0.1:2775']);
  });
});

describe('upstream cluster over real TCP', () => {
  it('binds `binds` sessions per endpoint and keeps each session\'s window full (no stop-and-wait)', async () => {
    const up = await smsc({ latencyMs: 50 });
    const { cluster, allBound } = start(config({ endpoints: [endpoint(up, { binds: 2, window: 10 })] }));
    await allBound();
    expect(up.counts).toMatchObject({ connections: 2, binds: 2 });
    const bind = up.received.length; // nothing yet
    expect(bind).toBe(0);

    const results = await Promise.all(Array.from({ length: 100 }, () => cluster.send(sm(), { timeoutMs: 5000 })));

    expect(results.every((r) => r.response.command === 'submit_sm_resp' && r.response.command_status === 0)).toBe(true);
    expect(new Set(results.map((r) => (r.response as PduOf<'submit_sm_resp'>).message_id)).size).toBe(100);
    // Each session had its whole window outstanding at the SMSC, and never more.
    expect(up.maxOutstanding(0)).toBe(10);
    expect(up.maxOutstanding(1)).toBe(10);
    expect(up.maxOutstanding()).toBe(20);
    expect(cluster.health()).toMatchObject({
      mock: false,
      available: true,
      endpoints: [{ name: up.address, state: 'bound', circuit: 'closed', sessions: 2, binds: 2, inFlight: 0, queued: 0 }],
    });
  });

  it('uses the bind type and credentials of the config', async () => {
    const binds: unknown[] = [];
    const up = await smsc({
      authenticate: (b) => {
        binds.push(b);
        return Status.ESME_ROK;
      },
    });
    const { allBound } = start(
      config({ bind_type: 'transmitter', endpoints: [endpoint(up, { system_id: 'acct', password: 'secret', system_type: 'VMA' })] }),
    );
    await allBound();
    expect(binds).toEqual([
      expect.objectContaining({ command: 'bind_transmitter', system_id: 'acct', password: 'secret', system_type: 'VMA' }),
    ]);
  });

  it('weighted 2:1 holds within 10% over 3,000 sends', async () => {
    const a = await smsc();
    const b = await smsc();
    const { cluster, allBound } = start(
      config({ load_balancer: 'weighted', endpoints: [endpoint(a, { weight: 2 }), endpoint(b, { weight: 1 })] }),
    );
    await allBound();
    const results: SendResult[] = [];
    for (let batch = 0; batch < 100; batch++) {
      results.push(...(await Promise.all(Array.from({ length: 30 }, () => cluster.send(sm(), { timeoutMs: 5000 })))));
    }
    const counts = countBy(results);
    expect(counts[a.address]! / 2000).toBeGreaterThan(0.9);
    expect(counts[a.address]! / 2000).toBeLessThan(1.1);
    expect(counts[b.address]! / 1000).toBeGreaterThan(0.9);
    expect(counts[b.address]! / 1000).toBeLessThan(1.1);
  });

  it.each(['least_connections', 'p2c'] as const)('%s sends most traffic away from an endpoint 50 ms slower', async (lb) => {
    const slow = await smsc({ latencyMs: 50 });
    const fast = await smsc();
    const { cluster, allBound } = start(config({ load_balancer: lb, endpoints: [endpoint(slow), endpoint(fast)] }));
    await allBound();
    const counts = countBy(await pool(cluster, 500, 10));
    // Round robin would give each 250.
    expect(counts[fast.address]).toBeGreaterThan(375);
    expect((counts[slow.address] ?? 0) + counts[fast.address]!).toBe(500);
  });

  it('an endpoint killed: circuit opens, traffic moves over, re-binds with growing backoff, circuit closes on return', async () => {
    const a = await smsc();
    const b = await smsc();
    const attempts: Array<{ address: string; at: number }> = [];
    const { cluster, obs, allBound } = start(
      config({
        endpoints: [endpoint(a, { binds: 2 }), endpoint(b)],
        circuit_breaker: { threshold: 2, timeout: '100ms' },
      }),
      {
        rng: () => 0.999, // backoff at the top of its range: delays 60, 180, 200, 200 ms
        reconnect: { initialMs: 20, maxMs: 200 },
        connect: (e) => {
          attempts.push({ address: e.address, at: performance.now() });
          const [host, port] = e.address.split(':');
          return connect({ host: host!, port: Number(port) });
        },
      },
    );
    await allBound();
    const before = countBy(await Promise.all(Array.from({ length: 9 }, () => cluster.send(sm(), { timeoutMs: 2000 }))));
    expect(before[a.address]).toBeGreaterThan(0);

    const killedAt = performance.now();
    await a.kill();
    await obs.until(() => obs.circuits.some((c) => c.endpoint === a.address && c.to === 'open'));
    expect(cluster.available()).toBe(true);
    const during = await Promise.all(Array.from({ length: 20 }, () => cluster.send(sm(), { timeoutMs: 2000 })));
    expect(countBy(during)).toEqual({ [b.address]: 20 });
    expect(cluster.health().endpoints[0]).toMatchObject({ sessions: 0, circuit: 'open' });

    // Re-binding: one attempt at a time (no storm from the 2 slots), each wait longer than the last.
    const afterKill = () => attempts.filter((x) => x.address === a.address && x.at > killedAt);
    await obs.until(() => cluster.health().endpoints[0]!.state === 'backoff' && afterKill().length >= 3);
    // Lower bounds only (a busy machine may add delay, never remove it): 60, then 180, then 200 ms.
    const times = afterKill().map((x) => x.at);
    expect(times[0]! - killedAt).toBeGreaterThanOrEqual(55);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(175);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(195);

    const restarted = await smsc({ port: a.port });
    await obs.until(() => obs.circuits.filter((c) => c.endpoint === a.address).at(-1)?.to === 'closed');
    await allBound();
    const transitions = obs.circuits.filter((c) => c.endpoint === a.address).map((c) => c.to);
    expect(transitions[0]).toBe('open');
    expect(transitions.slice(-2)).toEqual(['half_open', 'closed']);
    const after = countBy(await Promise.all(Array.from({ length: 9 }, () => cluster.send(sm(), { timeoutMs: 2000 }))));
    expect(after[a.address]).toBeGreaterThan(0);
    expect(restarted.counts.binds).toBe(2);
  });

  it('close() unbinds every session before closing, and stops re-binding', async () => {
    const up = await smsc();
    const { cluster, allBound } = start(config({ endpoints: [endpoint(up, { binds: 3 })] }));
    await allBound();
    await cluster.close();
    expect(up.counts.unbinds).toBe(3);
    await up.waitFor(() => up.bound() === 0);
    expect(cluster.health().endpoints[0]).toMatchObject({ state: 'closed', sessions: 0 });
    expect(cluster.available()).toBe(false);
    await expect(cluster.send(sm(), { timeoutMs: 100 })).rejects.toMatchObject({ code: 'UNAVAILABLE', sent: false });
    expect(up.counts.connections).toBe(3);
  });

  it('affinity keeps one key on one upstream session; other traffic spreads over the sessions', async () => {
    const up = await smsc({ latencyMs: 5 });
    const { cluster, allBound } = start(config({ endpoints: [endpoint(up, { binds: 3 })] }));
    await allBound();
    await Promise.all(Array.from({ length: 12 }, () => cluster.send(sm('other'), { timeoutMs: 2000 })));
    await Promise.all(Array.from({ length: 12 }, () => cluster.send(sm('part'), { timeoutMs: 2000, affinity: 'concat-1' })));
    await Promise.all(Array.from({ length: 12 }, () => cluster.send(sm('part'), { timeoutMs: 2000, affinity: 'concat-1' })));
    const connsOf = (text: string) =>
      new Set(up.received.filter((r) => (r.pdu as SubmitSm).short_message.toString() === text).map((r) => r.conn));
    expect(connsOf('part').size).toBe(1);
    expect(connsOf('other').size).toBe(3);
  });

  it('a small burst goes out on one session (one write); a large one still spreads over the sessions', async () => {
    const up = await smsc({ latencyMs: 5 });
    const { cluster, allBound } = start(config({ endpoints: [endpoint(up, { binds: 3, window: 10 })] }));
    await allBound();
    const connsOf = (text: string) =>
      new Set(up.received.filter((r) => (r.pdu as SubmitSm).short_message.toString() === text).map((r) => r.conn));
    await Promise.all(Array.from({ length: 4 }, () => cluster.send(sm('small'), { timeoutMs: 2000 })));
    expect(connsOf('small').size).toBe(1);
    // Up to half a window per session and tick: 15 requests take all three sessions.
    await Promise.all(Array.from({ length: 15 }, () => cluster.send(sm('large'), { timeoutMs: 2000 })));
    expect(connsOf('large').size).toBe(3);
  });

  it('throughput: waits for a token up to the deadline, else THROTTLED (never sent)', async () => {
    const up = await smsc();
    const { cluster, allBound } = start(config({ throughput: 5, endpoints: [endpoint(up)] }));
    await allBound();
    const outcomes = await Promise.allSettled(Array.from({ length: 15 }, () => cluster.send(sm(), { timeoutMs: 300 })));
    const ok = outcomes.filter((o) => o.status === 'fulfilled');
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    // A burst of 5, then the 6th waits ~200 ms for its token; the 7th would need ~400 ms.
    expect(ok).toHaveLength(6);
    expect(rejected.map((r) => (r.reason as ClusterError).code)).toEqual(Array(9).fill('THROTTLED'));
    expect(rejected.every((r) => (r.reason as ClusterError).sent === false)).toBe(true);
    expect(up.received).toHaveLength(6);
    // query_sm is not a submission: the throughput limit does not hold it back.
    const q = await cluster.send(
      { command: 'query_sm', command_status: 0, sequence_number: 0, message_id: '1', source_addr_ton: 0, source_addr_npi: 0, source_addr: '' },
      { timeoutMs: 300 },
    );
    expect(q.response.command).toBe('query_sm_resp');
  });

  it('deliver_sm from the upstream reaches onDelivery; the upstream gets the status it resolves to', async () => {
    const up = await smsc();
    const onDelivery = vi.fn(async (): Promise<number> => Status.ESME_ROK);
    const { allBound } = start(config({ endpoints: [endpoint(up)] }), { onDelivery });
    await allBound();
    const receipt = { ...deliverSm({ esm_class: 0x04, short_message: Buffer.from('id:1 stat:DELIVRD') }) };
    expect(await up.deliver(receipt)).toBe(Status.ESME_ROK);
    expect(onDelivery).toHaveBeenCalledWith({
      cluster: 'up',
      endpoint: up.address,
      pdu: expect.objectContaining({ command: 'deliver_sm', esm_class: 0x04 }),
    });

    onDelivery.mockImplementationOnce(async () => Status.ESME_RMSGQFUL);
    expect(await up.deliver(receipt)).toBe(Status.ESME_RMSGQFUL);
    onDelivery.mockImplementationOnce(async () => {
      throw new Error('store down');
    });
    expect(await up.deliver(receipt)).toBe(Status.ESME_RX_T_APPN);
    onDelivery.mockImplementationOnce(() => {
      throw new Error('sync throw');
    });
    expect(await up.deliver(receipt)).toBe(Status.ESME_RX_T_APPN);
  });

  it('passes any wire status through as a response; per-message rejections leave the circuit closed', async () => {
    const up = await smsc({ status: (p) => ((p as SubmitSm).short_message.toString() === 'bad' ? Status.ESME_RINVDSTADR : 0) });
    const { cluster, obs, allBound } = start(
      config({ endpoints: [endpoint(up)], circuit_breaker: { threshold: 1, timeout: '1m' } }),
    );
    await allBound();
    for (let i = 0; i < 3; i++) {
      const r = await cluster.send(sm('bad'), { timeoutMs: 1000 });
      expect(r.response).toMatchObject({ command: 'submit_sm_resp', command_status: Status.ESME_RINVDSTADR });
    }
    expect(obs.circuits).toEqual([]);
    expect(cluster.available()).toBe(true);
  });

  it('a generic_nack answer resolves as the request\'s response carrying its status', async () => {
    let connected!: (peer: RawPeer) => void;
    const peerReady = new Promise<RawPeer>((resolve) => (connected = resolve));
    const { cluster, allBound } = start(
      config({
        endpoints: [{ address: '127.0.0.1:2775', system_id: 'x', password: 'y' }],
        health_check: { interval: '30s', timeout: '50ms' }, // the scripted peer never answers unbind
      }),
      {
      connect: () => {
        const [ours, theirs] = duplexPair();
        connected(new RawPeer(theirs));
        return ours;
      },
    });
    const peer = await peerReady;
    const bind = await peer.expect('bind_transceiver');
    peer.send({ command: 'bind_transceiver_resp', sequence_number: bind.sequence_number, system_id: 'SMSC' });
    await allBound();
    const sending = cluster.send(sm(), { timeoutMs: 1000 });
    const submit = await peer.expect('submit_sm');
    peer.send({ command: 'generic_nack', sequence_number: submit.sequence_number, command_status: Status.ESME_RINVCMDID });
    const r = await sending;
    expect(r.response).toMatchObject({ command: 'submit_sm_resp', command_status: Status.ESME_RINVCMDID });
  });

  it('deadline: TIMEOUT (sent) in flight, QUEUE_FULL (never sent) while waiting for a window slot', async () => {
    const up = await smsc({ latencyMs: 300 });
    const { cluster, obs, allBound } = start(
      config({ endpoints: [endpoint(up, { window: 1 })], circuit_breaker: { threshold: 2, timeout: '1m' } }),
    );
    await allBound();
    const [first, second] = await Promise.allSettled([
      cluster.send(sm('first'), { timeoutMs: 100 }),
      cluster.send(sm('second'), { timeoutMs: 100 }),
    ]);
    expect(first).toMatchObject({ status: 'rejected', reason: { code: 'TIMEOUT', sent: true, endpoint: up.address } });
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'QUEUE_FULL', sent: false } });
    expect(obs.circuits).toEqual([]); // one timeout, threshold 2
    // The late answer frees the slot; the abandoned request was never written, the next one is.
    await cluster.send(sm('third'), { timeoutMs: 2000 });
    expect(up.received.map((r) => (r.pdu as SubmitSm).short_message.toString())).toEqual(['first', 'third']);
  });

  it('UNAVAILABLE when nothing is bound; honours opts.endpoint and prefers endpoints not in opts.exclude', async () => {
    const a = await smsc();
    const b = await smsc();
    const { cluster, allBound } = start(config({ endpoints: [endpoint(a), endpoint(b)] }));
    await allBound();
    for (let i = 0; i < 4; i++) {
      expect((await cluster.send(sm(), { timeoutMs: 1000, endpoint: b.address })).endpoint).toBe(b.address);
      expect((await cluster.send(sm(), { timeoutMs: 1000, exclude: new Set([b.address]) })).endpoint).toBe(a.address);
    }
    // Exclude is a preference: with every endpoint excluded the request still goes somewhere.
    expect((await cluster.send(sm(), { timeoutMs: 1000, exclude: new Set([a.address, b.address]) })).response.command_status).toBe(0);
    await expect(cluster.send(sm(), { timeoutMs: 1000, endpoint: 'nowhere:1' })).rejects.toBeInstanceOf(ClusterError);

    const dead = await smsc();
    await dead.close();
    const { cluster: lonely, obs } = start(config({ endpoints: [endpoint(dead)] }), { reconnect: { initialMs: 5000, maxMs: 5000 } });
    await obs.until(() => lonely.health().endpoints[0]!.state === 'backoff');
    expect(lonely.available()).toBe(false);
    await expect(lonely.send(sm(), { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'UNAVAILABLE', sent: false });
  });

  describe('throttle_pause', () => {
    /** An SMSC answering ESME_RTHROTTLED to texts starting with "slow", recording when each submit came. */
    async function throttling() {
      const seen: Array<{ text: string; at: number }> = [];
      const up = await smsc({
        status: (p) => {
          const text = (p as SubmitSm).short_message.toString();
          seen.push({ text, at: Date.now() });
          return text.startsWith('slow') ? Status.ESME_RTHROTTLED : Status.ESME_ROK;
        },
      });
      return { up, seen };
    }

    it('after ESME_RTHROTTLED the endpoint gets nothing new until the pause ends; what waited then goes, in order', async () => {
      const { up, seen } = await throttling();
      const { cluster, obs, allBound } = start(config({ endpoints: [endpoint(up, { window: 10 })], throttle_pause: '300ms' }));
      await allBound();
      // Three refusals from one burst make one pause.
      const refused = await Promise.all(['slow1', 'slow2', 'slow3'].map((t) => cluster.send(sm(t), { timeoutMs: 5000 })));
      expect(refused.map((r) => r.response.command_status)).toEqual([0x58, 0x58, 0x58]);
      expect(cluster.health().endpoints[0]).toMatchObject({ throttled: true });
      expect(cluster.available()).toBe(true); // paused is not down: requests wait for it

      const later = await Promise.all(['a', 'b', 'c'].map((t) => cluster.send(sm(t), { timeoutMs: 5000 })));
      expect(later.map((r) => r.response.command_status)).toEqual([0, 0, 0]);
      expect(seen.map((s) => s.text)).toEqual(['slow1', 'slow2', 'slow3', 'a', 'b', 'c']);
      const lastRefusal = seen[2]!.at;
      expect(seen[3]!.at - lastRefusal).toBeGreaterThanOrEqual(300 - 15); // clock granularity
      expect(cluster.health().endpoints[0]).toMatchObject({ throttled: false });
      expect(await obs.metrics.registry.metrics()).toMatch(/^smppd_endpoint_throttle_pauses_total\{cluster="up",endpoint="[^"]+"\} 1$/m);
    });

    it('while one endpoint is paused the others take the traffic', async () => {
      const { up: a } = await throttling();
      const b = await smsc();
      const { cluster, allBound } = start(config({ endpoints: [endpoint(a), endpoint(b)], throttle_pause: '10s' }));
      await allBound();
      let refusal: SendResult | undefined;
      for (let i = 0; refusal === undefined && i < 4; i++) {
        const r = await cluster.send(sm('slow'), { timeoutMs: 1000 });
        if (r.response.command_status === Status.ESME_RTHROTTLED) refusal = r;
      }
      expect(refusal?.endpoint).toBe(a.address);
      const results = await pool(cluster, 20, 4);
      expect(countBy(results)).toEqual({ [b.address]: 20 });
    });

    it('status_map: an SMSC saying "throttled" its own way (0x45) is read as ESME_RTHROTTLED, and paused', async () => {
      const up = await smsc({ status: (p) => ((p as SubmitSm).short_message.toString() === 'slow' ? 0x45 : Status.ESME_ROK) });
      const { cluster, allBound } = start(
        config({ endpoints: [endpoint(up)], throttle_pause: '10s', status_map: { '0x45': 'ESME_RTHROTTLED', ESME_RINVDSTADR: 0x0b } }),
      );
      await allBound();
      expect((await cluster.send(sm('slow'), { timeoutMs: 1000 })).response.command_status).toBe(Status.ESME_RTHROTTLED);
      expect(cluster.health().endpoints[0]).toMatchObject({ throttled: true });
    });

    it('ESME_RMSGQFUL does not pause (one handset\'s full queue must not stall the rest)', async () => {
      const up = await smsc({ status: (p) => ((p as SubmitSm).short_message.toString() === 'full' ? Status.ESME_RMSGQFUL : Status.ESME_ROK) });
      const { cluster, allBound } = start(config({ endpoints: [endpoint(up)], throttle_pause: '10s' }));
      await allBound();
      expect((await cluster.send(sm('full'), { timeoutMs: 1000 })).response.command_status).toBe(Status.ESME_RMSGQFUL);
      expect(cluster.health().endpoints[0]).toMatchObject({ throttled: false });
    });

    it('0s never pauses', async () => {
      const { up, seen } = await throttling();
      const { cluster, allBound } = start(config({ endpoints: [endpoint(up)], throttle_pause: '0s' }));
      await allBound();
      expect((await cluster.send(sm('slow'), { timeoutMs: 1000 })).response.command_status).toBe(0x58);
      expect(cluster.health().endpoints[0]).toMatchObject({ throttled: false });
      expect((await cluster.send(sm('next'), { timeoutMs: 1000 })).response.command_status).toBe(0);
      expect(seen.map((s) => s.text)).toEqual(['slow', 'next']);
    });
  });

  it('a refused bind counts against the circuit and is retried after a backoff', async () => {
    let refuse = true;
    const up = await smsc({ authenticate: () => (refuse ? Status.ESME_RINVPASWD : Status.ESME_ROK) });
    const { cluster, obs, allBound } = start(config({ endpoints: [endpoint(up)], circuit_breaker: { threshold: 2, timeout: '10ms' } }), {
      reconnect: { initialMs: 10, maxMs: 20 },
    });
    await up.waitFor(() => up.counts.bindAttempts >= 2);
    await obs.until(() => obs.circuits.some((c) => c.to === 'open'));
    expect(cluster.health().endpoints[0]!.sessions).toBe(0);
    refuse = false;
    await allBound();
    expect(cluster.available()).toBe(true);
    expect((await cluster.send(sm(), { timeoutMs: 1000 })).response.command_status).toBe(0);
  });

  it('carries traffic to a TLS endpoint verified with the configured CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smppd-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=smsc.test', '-addext', 'subjectAltName=DNS:smsc.test', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    const up = await smsc({ tls: { cert: readFileSync(cert), key: readFileSync(key) } });
    const { cluster, allBound } = start(config({ endpoints: [endpoint(up, { tls: { ca: cert, servername: 'smsc.test' } })] }));
    await allBound();
    const r = await cluster.send(sm(), { timeoutMs: 2000 });
    expect(r.response.command_status).toBe(0);
  });

  it('health: enquire_link over the existing session; an unanswered one closes it and re-binds', async () => {
    vi.useFakeTimers();
    cleanups.push(() => void vi.useRealTimers());
    const peers: RawPeer[] = [];
    const waiting: Array<() => void> = [];
    const { cluster, obs, allBound } = start(
      config({
        endpoints: [{ address: '127.0.0.1:2775', system_id: 'x', password: 'y' }],
        health_check: { interval: '1s', timeout: '500ms' },
      }),
      {
        reconnect: { initialMs: 100, maxMs: 100 },
        connect: () => {
          const [ours, theirs] = duplexPair();
          peers.push(new RawPeer(theirs));
          waiting.splice(0).forEach((w) => w());
          return ours;
        },
      },
    );
    const nextPeer = async (n: number): Promise<RawPeer> => {
      while (peers.length < n) await new Promise<void>((r) => waiting.push(r));
      return peers[n - 1]!;
    };
    const bindWith = async (peer: RawPeer) => {
      const bind = await peer.expect('bind_transceiver');
      peer.send({ command: 'bind_transceiver_resp', sequence_number: bind.sequence_number, system_id: 'SMSC' });
    };
    const first = await nextPeer(1);
    await bindWith(first);
    await allBound();

    // Idle for the interval: one enquire_link on the bound session, answered: nothing else happens.
    await vi.advanceTimersByTimeAsync(1000);
    const el = await first.expect('enquire_link');
    first.send({ command: 'enquire_link_resp', sequence_number: el.sequence_number });
    await vi.advanceTimersByTimeAsync(900);
    expect(first.received).toEqual([]);
    expect(peers).toHaveLength(1);

    // The next one goes unanswered: the session is closed after the timeout and re-bound.
    await vi.advanceTimersByTimeAsync(100);
    await first.expect('enquire_link');
    await vi.advanceTimersByTimeAsync(500);
    await obs.until(() => cluster.health().endpoints[0]!.sessions === 0);
    expect(cluster.health().endpoints[0]!.state).toBe('backoff');
    await vi.advanceTimersByTimeAsync(100);
    const second = await nextPeer(2);
    await bindWith(second);
    await allBound();
    expect(peers).toHaveLength(2);

    const closing = cluster.close();
    const unbind = await second.expect('unbind');
    second.send({ command: 'unbind_resp', sequence_number: unbind.sequence_number });
    await closing;
  });
});
