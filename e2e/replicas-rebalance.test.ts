// Config `rebalance` (beyond SPEC §3; proxy/listener/rebalance.ts): after a scale-out, a replica
// that holds more than its share of client binds unbinds some, and they bind again elsewhere. Two
// real smppd processes on one redis-server; the independent node-smpp package is the client, and
// the test plays the Kubernetes Service: a client that was unbound connects to the other replica.

import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { SmppClient } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { fleetSessionsKey } from '../proxy/store/fleet-sessions.js';
import { startSimulator } from './sim/index.js';
import { eventually } from './helpers/receipts-proxy.js';
import { admin, everyReplicaReady, metric, replicaSuite, startReplicas, type Replica } from './helpers/replicas.js';

const suite = replicaSuite();
const cleanup = suite.cleanup;

/** Client sessions bound on the replica, from its /metrics. */
function boundOn(r: Replica): Promise<number> {
  return metric(r, 'smppd_client_sessions');
}

it(
  'a replica holding six of six binds unbinds some (each after answering what it had in flight) until both are within the tolerance, and then stops',
  async () => {
    // The SMSC answers after 1.5 s: the submits below are still in flight when the unbinds come.
    const sim = cleanup.add(await startSimulator({ seed: 5, latencyMs: 1_500 }));
    const replicas = cleanup.add(
      await startReplicas({
        redisUrl: suite.redis().url,
        simPorts: [sim.port],
        count: 2,
        // Every 400 ms, one session at most, none bound less than 1 s ago (so all six bind and
        // submit first); tolerance 0: one above the average is allowed.
        rebalance: { enabled: true, interval: '400ms', tolerance: 0, max_unbinds: 1, min_session_age: '1s' },
      }),
    );
    const [a, b] = replicas.list as [Replica, Replica];
    await eventually('both replicas bound upstream', () => sim.stats().bound === 2);
    await everyReplicaReady(replicas);

    // Six clients, all on replica a (the only replica when they bound, say), each with a submit in
    // flight: a session being moved answers it before it unbinds.
    const onA: SmppClient[] = [];
    const answers: Promise<{ command_status: number }>[] = [];
    for (let i = 0; i < 6; i++) {
      const c = cleanup.add(await SmppClient.connect(a.smppPort));
      expect(await c.bind('transceiver')).toBe(Status.ESME_ROK);
      onA.push(c);
      answers.push(c.submit());
    }

    // The Service: whoever is unbound connects again, and lands on b.
    const moved: SmppClient[] = [];
    for (const c of onA) {
      void c.closed.then(async () => {
        if (c.unbinds.length === 0) return;
        const again = cleanup.add(await SmppClient.connect(b.smppPort));
        expect(await again.bind('transceiver')).toBe(Status.ESME_ROK);
        moved.push(again);
      });
    }

    // 6 of 6 on two replicas: the average is 3 and 4 are allowed, so two move, one per interval (a
    // third may, if b had not reported the first one yet when a compared: 3 and 3).
    const counts = async (): Promise<[number, number]> => [await boundOn(a), await boundOn(b)];
    await eventually('sessions moved to b until within the tolerance', async () => {
      const [onAnow, onBnow] = await counts();
      return onAnow + onBnow === 6 && onBnow >= 2 && onAnow - onBnow <= 2;
    }, { timeoutMs: 15_000 });
    expect((await Promise.all(answers)).map((r) => r.command_status)).toEqual([0, 0, 0, 0, 0, 0]);

    // Then nothing more moves. Both replicas report to Redis at each of their ticks, with its time
    // (store/fleet-sessions.ts): once both have ticked three times more, every rebind is in the
    // counts a compares; three ticks after that, the sessions are where they were.
    const redis = new Redis(suite.redis().url);
    cleanup.add({ close: () => redis.quit() });
    const threeMoreTicks = async (): Promise<void> => {
      const since = Date.now() + 3 * 400;
      await eventually('three more rebalance ticks on both replicas', async () => {
        const reports: string[] = Object.values(await redis.hgetall(fleetSessionsKey(replicas.keyPrefix)));
        return reports.length === 2 && reports.every((v) => Number(v.split('|')[1]) > since);
      });
    };
    await threeMoreTicks();
    const settled = await counts();
    await threeMoreTicks();
    expect(await counts()).toEqual(settled);
    // Each session b holds is one a unbound to move it.
    const unbound = onA.filter((c) => c.unbinds.length > 0).length;
    // The unbound ones had their submit answered first (ESME_ROK above) and only then got unbind:
    // none was cut off mid-request.
    expect(unbound).toBe(settled[1]);
    expect(await metric(a, 'smppd_rebalance_unbinds_total')).toBe(unbound);
    expect(await metric(b, 'smppd_rebalance_unbinds_total')).toBe(0);
    expect(moved).toHaveLength(unbound);
    expect((await admin(b, '/readyz')).status).toBe(200);
  },
  60_000,
);
