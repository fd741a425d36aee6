// Issue 5 acceptance, receipts across replicas: three smppd processes on one private redis-server,
// one simulator that sends each receipt on a random bound session (so on a random replica's
// upstream session). The client submits through replica 1 and receives on replica 2: a receipt that
// arrives on replica 1 or 3 is kept in Redis and reaches replica 2 through the delivery notice.

import { expect, it } from 'vitest';
import { Status } from '../proxy/smpp/index.js';
import type { Simulator } from './sim/index.js';
import { connectClient, destinations, receiptIds, tally, type EsmeClient } from './helpers/receipts-client.js';
import { eventually } from './helpers/receipts-proxy.js';
import { pendingDeliveries, replicaSuite, type Replicas } from './helpers/replicas.js';

const COUNT = 20_000;

const suite = replicaSuite();
const cleanup = suite.cleanup;

function setUp(): Promise<{ sim: Simulator; replicas: Replicas }> {
  return suite.simulatorWithReplicas({ seed: 5, dlrSession: 'random', dlrDelayMs: 5 });
}

/** The id each receipt carries (TLV or text), every one present. */
function receiptIdsOf(client: EsmeClient): string[] {
  return client.deliveries.map((d) => {
    const ids = receiptIds(d);
    const id = ids.tlv ?? ids.text;
    if (id === undefined) throw new Error('a delivery without a receipt id');
    return id;
  });
}

it(
  '20,000 submits through replica 1, receiver on replica 2, receipts on random replicas: every receipt arrives with the id given',
  async () => {
    const { sim, replicas } = await setUp();
    const [r1, r2] = replicas.list;
    const receiver = cleanup.add(await connectClient({ port: r2!.smppPort, bindType: 'receiver' }));
    const transmitter = cleanup.add(await connectClient({ port: r1!.smppPort, bindType: 'transmitter', window: 200 }));
    const bySession = new Map<number, number>();
    sim.on('receipt', (e) => bySession.set(e.sessionId, (bySession.get(e.sessionId) ?? 0) + 1));

    const started = performance.now();
    const responses = await transmitter.submitMany(destinations(COUNT));
    expect(tally(responses.map((r) => r.command_status))).toEqual(new Map([[Status.ESME_ROK, COUNT]]));
    const given = responses.map((r) => r.message_id);
    expect(new Set(given).size).toBe(COUNT);

    await receiver.waitDeliveries(COUNT, 60_000);
    const seconds = (performance.now() - started) / 1000;
    const ids = receiptIdsOf(receiver);
    expect(ids).toHaveLength(COUNT);
    expect(new Set(ids)).toEqual(new Set(given));
    // Receipts really came through all three replicas' upstream sessions.
    expect(bySession.size).toBe(3);
    for (const n of bySession.values()) expect(n).toBeGreaterThan(COUNT / 6);
    console.info(`replicas (a): ${COUNT} submits + receipts in ${seconds.toFixed(1)} s (${Math.round(COUNT / seconds)} msg/s)`);

    // Nothing left behind in Redis: every kept receipt was acknowledged by the client.
    await eventually('no delivery pending in the store', async () => (await pendingDeliveries(r2!)) === 0);
  },
  120_000,
);

it(
  'the receiver binds only after all submits: every receipt was kept and arrives once it binds',
  async () => {
    const { sim, replicas } = await setUp();
    const [r1, r2] = replicas.list;
    const transmitter = cleanup.add(await connectClient({ port: r1!.smppPort, bindType: 'transmitter', window: 200 }));
    const responses = await transmitter.submitMany(destinations(COUNT));
    expect(tally(responses.map((r) => r.command_status))).toEqual(new Map([[Status.ESME_ROK, COUNT]]));
    const given = responses.map((r) => r.message_id);
    // Every receipt was answered ESME_ROK upstream: kept in Redis, no receiver anywhere.
    await eventually('the simulator has every receipt acknowledged', () => sim.stats().receiptsAcked === COUNT, {
      timeoutMs: 60_000,
      describe: () => sim.stats(),
    });

    const bindAt = performance.now();
    const receiver = cleanup.add(await connectClient({ port: r2!.smppPort, bindType: 'receiver' }));
    expect(receiver.deliveries.length).toBeLessThan(COUNT);
    await receiver.waitDeliveries(COUNT, 60_000);
    const seconds = (performance.now() - bindAt) / 1000;
    const ids = receiptIdsOf(receiver);
    expect(ids).toHaveLength(COUNT);
    expect(new Set(ids)).toEqual(new Set(given));
    console.info(`replicas (b): ${COUNT} kept receipts drained in ${seconds.toFixed(1)} s (${Math.round(COUNT / seconds)}/s)`);
  },
  180_000,
);
