// Issue 5 acceptance, Redis trouble: three smppd processes on one private redis-server under a steady
// load with receipts; redis-server is killed, stays away 5 s and starts again on the same port.
// No smppd process crashes; while Redis is away readiness is 503, submits get a retriable status and
// receipts a temporary error (the simulator retries them); no message is acknowledged without its
// record (every ESME_ROK id gets its receipt); traffic resumes by itself within 5 s of Redis returning.
//
// The redis-server is durable (append-only file, fsync per write): smppd's records must outlive a
// Redis restart, as in production (store/redis-connection.ts, "Durability").

import { expect, it } from 'vitest';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator } from './sim/index.js';
import { connectClient, receiptIds, submitSm, type EsmeClient } from './helpers/receipts-client.js';
import { eventually } from './helpers/receipts-proxy.js';
import { admin, metric, replicaSuite, startReplicas, type Replica } from './helpers/replicas.js';

const OUTAGE_MS = 5_000;
/** Submits per 10 ms tick: 200/s. */
const PER_TICK = 2;

const suite = replicaSuite({ durable: true });
const cleanup = suite.cleanup;

interface Answer {
  status: number;
  id: string;
  sentAt: number;
  at: number;
}

/** Paced submits (200/s) until stop(); every answer with when it was sent and received. */
function pacedLoad(client: EsmeClient): { answers: Answer[]; stop(): Promise<void> } {
  const answers: Answer[] = [];
  const pending = new Set<Promise<unknown>>();
  let n = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < PER_TICK; i++) {
      const sentAt = performance.now();
      const p = client.session.request(submitSm(`2588${String(n++).padStart(8, '0')}`)).then(
        (r) => answers.push({ status: r.command_status, id: r.message_id, sentAt, at: performance.now() }),
        () => answers.push({ status: -1, id: '', sentAt, at: performance.now() }),
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
  }, 10);
  return {
    answers,
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

async function readiness(list: readonly Replica[]): Promise<number[]> {
  return Promise.all(list.map(async (r) => (await admin(r, '/readyz')).status));
}

it(
  'redis-server killed for 5 s and started again: no crash, 503 meanwhile, nothing acknowledged unrecorded, traffic back within 5 s',
  async () => {
    // An SMSC retries a receipt answered with a temporary error for a long time; so does this one.
    // Receipts come 500 ms after their submit: at 200/s about 100 are on their way when Redis goes,
    // so some always arrive during the outage (with a few ms, often none did).
    const sim = cleanup.add(await startSimulator({ seed: 17, dlrSession: 'random', dlrDelayMs: 500, receiptAttempts: 100 }));
    const replicas = cleanup.add(await startReplicas({ redisUrl: suite.redis().url, simPorts: [sim.port] }));
    const [r1, r2] = replicas.list as [Replica, Replica];
    await eventually('every replica bound upstream and ready', async () => sim.stats().bound === 3 && (await readiness(replicas.list)).every((s) => s === 200));
    const receiver = cleanup.add(await connectClient({ port: r2.smppPort, bindType: 'receiver' }));
    const transmitter = cleanup.add(await connectClient({ port: r1.smppPort, bindType: 'transmitter', window: 200 }));

    const load = pacedLoad(transmitter);
    await eventually('load flowing', () => load.answers.filter((a) => a.status === Status.ESME_ROK).length >= 300);
    const receiptsAtKill = receiver.deliveries.length;
    await suite.redis().kill();
    await eventually('every replica not ready', async () => (await readiness(replicas.list)).every((s) => s === 503));
    expect(await metric(r1, 'smppd_store_up')).toBe(0);
    // The outage itself: Redis stays away this long while the load goes on.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    expect(receiver.deliveries.length - receiptsAtKill).toBeLessThan(200); // (only what was in flight)
    await suite.redis().start();
    const back = performance.now();

    await eventually('a submit accepted again', () => load.answers.some((a) => a.sentAt >= back && a.status === Status.ESME_ROK), {
      timeoutMs: 10_000,
    });
    const resumedAfter = Math.min(...load.answers.filter((a) => a.sentAt >= back && a.status === Status.ESME_ROK).map((a) => a.at)) - back;
    await eventually('every replica ready again', async () => (await readiness(replicas.list)).every((s) => s === 200), { timeoutMs: 10_000 });
    // A little traffic after the return, then stop.
    const upTo = load.answers.length + 400;
    await eventually('traffic after the return', () => load.answers.length >= upTo, { timeoutMs: 10_000 });
    await load.stop();

    for (const r of replicas.list) expect(r.process.alive()).toBe(true);
    // What an operator sees on /metrics: the store up again, and the round trips of its Redis calls.
    expect(await metric(r1, 'smppd_store_up')).toBe(1);
    expect(await metric(r1, 'smppd_store_call_seconds_count')).toBeGreaterThan(0);
    const byStatus = new Map<number, number>();
    for (const a of load.answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
    console.info(
      `replicas (e): answers by status ${JSON.stringify([...byStatus])}; first accepted submit ${Math.round(resumedAfter)} ms after Redis returned`,
    );
    // Only: accepted, retriable "cannot take it now" while Redis was away, ESME_RSYSERR for what was
    // in flight when it went (the SMSC had it, the record of its id could not be written).
    const expected: readonly number[] = [Status.ESME_ROK, Status.ESME_RMSGQFUL, Status.ESME_RSYSERR];
    expect([...byStatus.keys()].filter((s) => !expected.includes(s))).toEqual([]);
    expect(byStatus.get(Status.ESME_RMSGQFUL) ?? 0).toBeGreaterThan(0);
    expect(byStatus.get(Status.ESME_RSYSERR) ?? 0).toBeLessThan(100);
    expect(resumedAfter).toBeLessThanOrEqual(5_000);
    // Receipts that came while Redis was away were refused (ESME_RX_T_APPN), not taken and lost.
    expect(sim.stats().receiptsFailed).toBeGreaterThan(0);

    // Every acknowledged message has its record: its receipt reaches the client.
    const accepted = new Set(load.answers.filter((a) => a.status === Status.ESME_ROK).map((a) => a.id));
    await eventually(
      'a receipt for every accepted message',
      () => {
        const seen = new Set(receiver.deliveries.map((d) => receiptIds(d).tlv ?? receiptIds(d).text));
        for (const id of accepted) if (!seen.has(id)) return false;
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100, describe: () => ({ accepted: accepted.size, receipts: receiver.deliveries.length, sim: sim.stats() }) },
    );
    expect(sim.stats().receiptsDropped).toBe(0);
  },
  120_000,
);
