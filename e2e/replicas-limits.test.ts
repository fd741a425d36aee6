// Issue 5 acceptance, fleet-wide limits: three smppd processes on one private redis-server hold a
// cluster's `throughput` and `max_binds` together, not each on its own.

import { expect, it } from 'vitest';
import type { Session } from '../proxy/session/index.js';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator, type Simulator } from './sim/index.js';
import { connectClient, submitSm } from './helpers/receipts-client.js';
import { eventually } from './helpers/receipts-proxy.js';
import { admin, everyReplicaReady, replicaSuite, startReplicas, type Replica } from './helpers/replicas.js';
import { SLOT_RETRY_MS } from '../proxy/cluster/endpoint-slots.js';
import { BURST_SHARE } from '../proxy/cluster/fleet-throttle.js';
import { CHUNK_SHARE } from '../proxy/store/fleet-limits.js';

const suite = replicaSuite();
const cleanup = suite.cleanup;

/** Keeps `window` submit_sm in flight on the session until `until` (ms, performance.now); their statuses. */
/** Submits the simulator accepted in each second, counted from the first one it accepted. */
function acceptedPerSecond(sim: Simulator): number[] {
  const perSecond: number[] = [];
  let t0: number | undefined;
  sim.on('submit', (e) => {
    if (e.status !== Status.ESME_ROK) return;
    const now = performance.now();
    t0 ??= now;
    const s = Math.floor((now - t0) / 1000);
    perSecond[s] = (perSecond[s] ?? 0) + 1;
  });
  return perSecond;
}

async function hammer(session: Session, window: number, until: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let n = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      const resp = await session.request(submitSm(`2588${String(n++).padStart(8, '0')}`, { registered_delivery: 0 }));
      statuses.set(resp.command_status, (statuses.get(resp.command_status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return statuses;
}

it(
  'a cluster throughput of 500/s holds within 10% across three replicas submitting as fast as they can',
  async () => {
    const RATE = 500;
    const SECONDS = 5;
    const sim = cleanup.add(await startSimulator({ seed: 11 }));
    const replicas = cleanup.add(await startReplicas({ redisUrl: suite.redis().url, simPorts: [sim.port], cluster: { throughput: RATE } }));
    await eventually('every replica bound upstream', () => sim.stats().bound === 3);
    await everyReplicaReady(replicas);
    const clients = await Promise.all(replicas.list.map((r) => connectClient({ port: r.smppPort, bindType: 'transmitter', window: 50 })));
    for (const c of clients) cleanup.add(c);

    const perSecond = acceptedPerSecond(sim);
    const until = performance.now() + SECONDS * 1000;
    const statuses = await Promise.all(clients.map((c) => hammer(c.session, 50, until)));

    const full = perSecond.slice(0, SECONDS - 1).map((n) => n ?? 0); // whole seconds while all three pushed
    console.info(`replicas (d): accepted per second ${JSON.stringify(perSecond)}; client statuses ${JSON.stringify(statuses.map((m) => [...m]))}`);
    expect(full).toHaveLength(SECONDS - 1);
    for (const n of full) expect(n).toBeGreaterThanOrEqual(RATE * 0.9);
    // Within 10% above, except that the first second may also hold what the design lets through at
    // the start: the fleet bucket starts full with its burst (BURST_SHARE of the rate), and each of
    // the three replicas may hold a leased chunk (CHUNK_SHARE). Measured alone: first seconds of
    // 523-534, then 496-504 msg/s; a first second of 556 in a full parallel run.
    for (const n of full.slice(1)) expect(n).toBeLessThanOrEqual(RATE * 1.1);
    expect(full[0]).toBeLessThanOrEqual(RATE * (1.1 + BURST_SHARE + 3 * CHUNK_SHARE));
    // Each replica got a share: the limit is shared, not taken by one.
    for (const s of statuses) expect(s.get(Status.ESME_ROK) ?? 0).toBeGreaterThan(RATE * 0.5);
  },
  60_000,
);

/** Upstream sessions bound per replica, from each one's /healthz. */
async function boundPerReplica(list: readonly Replica[]): Promise<number[]> {
  return Promise.all(
    list.map(async (r) => {
      const { status, text } = await admin(r, '/healthz');
      if (status === 0) return 0;
      const body = JSON.parse(text) as { clusters: { endpoints: { sessions: number }[] }[] };
      return body.clusters.reduce((n, c) => n + c.endpoints.reduce((m, e) => m + e.sessions, 0), 0);
    }),
  );
}

it(
  'max_binds 2 holds across three replicas that each want 2 sessions; when one stops, another takes its slot',
  async () => {
    const sim = cleanup.add(await startSimulator({ seed: 13 }));
    const bound = new Set<number>();
    let maxBound = 0;
    sim.on('bind', (info) => {
      bound.add(info.sessionId);
      maxBound = Math.max(maxBound, bound.size);
    });
    sim.on('session_close', (info) => bound.delete(info.sessionId));
    const replicas = cleanup.add(
      await startReplicas({ redisUrl: suite.redis().url, simPorts: [sim.port], cluster: { max_binds: 2 }, endpoint: { binds: 2 } }),
    );
    await eventually('two sessions bound', () => bound.size === 2);
    // The replicas without a slot ask again every SLOT_RETRY_MS (+ jitter): give them three rounds to
    // (wrongly) bind more. A limit is a "never": it takes a span of time to observe.
    const deadline = performance.now() + 3 * SLOT_RETRY_MS * 1.5;
    await eventually('three slot retry rounds passed', () => performance.now() > deadline, { intervalMs: 50 });
    expect(maxBound).toBe(2);
    const perReplica = await boundPerReplica(replicas.list);
    expect(perReplica.reduce((a, b) => a + b, 0)).toBe(2);

    // Stop a replica that holds a slot: it unbinds and gives its slots back; the others take them.
    const holder = replicas.list[perReplica.findIndex((n) => n > 0)]!;
    const others = replicas.list.filter((r) => r !== holder);
    await holder.process.stop();
    await eventually('the freed slots taken by the other replicas', async () => {
      const n = await boundPerReplica(others);
      return n.reduce((a, b) => a + b, 0) === 2 && bound.size === 2;
    });
    console.info(`replicas (d): sessions per replica ${JSON.stringify(perReplica)} -> ${JSON.stringify(await boundPerReplica(others))}`);
    expect(maxBound).toBe(2);
  },
  60_000,
);

it(
  "a client's max_binds and throughput hold across three replicas",
  async () => {
    const RATE = 300;
    const SECONDS = 4;
    const sim = cleanup.add(await startSimulator({ seed: 19 }));
    const replicas = cleanup.add(
      await startReplicas({ redisUrl: suite.redis().url, simPorts: [sim.port], client: { max_binds: 3, throughput: RATE } }),
    );
    await eventually('every replica bound upstream', () => sim.stats().bound === 3);
    await everyReplicaReady(replicas);
    const clients = [];
    for (const r of replicas.list) clients.push(cleanup.add(await connectClient({ port: r.smppPort, bindType: 'transmitter', window: 20 })));
    // A fourth bind anywhere is one too many for the fleet (each replica has only one of its own).
    for (const r of replicas.list) {
      await expect(connectClient({ port: r.smppPort, bindType: 'receiver' })).rejects.toMatchObject({ status: Status.ESME_RBINDFAIL });
    }

    const accepted = acceptedPerSecond(sim);
    const until = performance.now() + SECONDS * 1000;
    const statuses = await Promise.all(clients.map((c) => hammer(c.session, 20, until)));
    console.info(`replicas (d, client): accepted per second ${JSON.stringify(accepted)}; statuses ${JSON.stringify(statuses.map((m) => [...m]))}`);
    // The first second may use the bucket's burst (one second's worth, as the local limit allows).
    for (const n of accepted.slice(1, SECONDS - 1)) {
      expect(n).toBeGreaterThanOrEqual(RATE * 0.9);
      expect(n).toBeLessThanOrEqual(RATE * 1.1);
    }
    for (const s of statuses) expect(s.get(Status.ESME_RTHROTTLED) ?? 0).toBeGreaterThan(0);
  },
  60_000,
);
