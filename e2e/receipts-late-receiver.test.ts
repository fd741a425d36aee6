// Issue 3 acceptance: "Receipts for a client whose receiver binds 5 s after its transmitter submitted
// are all delivered" (SPEC §4: a receipt for a client with no receiver-capable session is kept until
// one binds). Client → smppd → smppd-sim over real sockets.

import { afterEach, expect, it } from 'vitest';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator } from './sim/index.js';
import { connectClient, destinations, receiptIds, tally } from './helpers/receipts-client.js';
import { cleanupList, eventually, simProxyConfig, startProxy } from './helpers/receipts-proxy.js';

const N = 500;
/** The "5 s": the one deliberate wall-clock wait in these tests (not used to synchronise). */
const RECEIVER_LATE_MS = 5_000;

const cleanup = cleanupList();
afterEach(() => cleanup.run());

it('receipts for a transmitter-only client are kept, then all delivered to the receiver that binds 5 s later', async () => {
  const sim = cleanup.add(await startSimulator({ seed: 5, ids: 'hex', receipts: 'text', dlrDelayMs: 20 }));
  const { proxy, port } = cleanup.add(await startProxy(simProxyConfig(sim.port)));

  const tx = cleanup.add(await connectClient({ port, bindType: 'transmitter', window: 100 }));
  const responses = await tx.submitMany(destinations(N));
  const submittedAt = Date.now();
  expect(responses.every((r) => r.command_status === Status.ESME_ROK)).toBe(true);
  const given = new Set(responses.map((r) => r.message_id));
  expect(given.size).toBe(N);

  // Every receipt reached smppd and is kept for acme (no receiver-capable session to take it);
  // the upstream had each one acknowledged, so none will come again from there.
  await eventually(`the store keeps ${N} deliveries for acme`, async () => (await proxy.store.pendingCount('acme')) === N, {
    describe: () => sim.stats(),
  });
  await eventually('the simulator has every receipt acknowledged', () => sim.stats().receiptsAcked === N);
  expect(sim.stats()).toMatchObject({ receiptsPending: 0, receiptsFailed: 0 });
  expect(tx.deliveries).toHaveLength(0); // a transmitter is never sent deliver_sm

  const wait = RECEIVER_LATE_MS - (Date.now() - submittedAt);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  expect(await proxy.store.pendingCount('acme')).toBe(N);

  const rx = cleanup.add(await connectClient({ port, bindType: 'receiver' }));
  await rx.waitDeliveries(N);
  const ids = rx.deliveries.map((d) => receiptIds(d).text as string);
  expect([...tally(ids).values()].filter((n) => n > 1)).toEqual([]);
  expect(new Set(ids)).toEqual(given);
  await eventually('the store has nothing left for acme', async () => (await proxy.store.pendingCount('acme')) === 0);
}, 30_000);

it('a second receiver bound later gets nothing twice; kept receipts go to whichever receiver is bound', async () => {
  const sim = cleanup.add(await startSimulator({ seed: 6, ids: 'decimal', receipts: 'tlv', dlrDelayMs: 5 }));
  const { proxy, port } = cleanup.add(await startProxy(simProxyConfig(sim.port)));

  const tx = cleanup.add(await connectClient({ port, bindType: 'transmitter' }));
  const first = await tx.submitMany(destinations(50));
  await eventually('50 receipts kept', async () => (await proxy.store.pendingCount('acme')) === 50);

  const rx1 = cleanup.add(await connectClient({ port, bindType: 'receiver' }));
  await rx1.waitDeliveries(50);
  await eventually('the store is drained', async () => (await proxy.store.pendingCount('acme')) === 0);

  // Now with a receiver bound, new receipts go straight to it, and a late second receiver sees none of the old ones.
  const second = await tx.submitMany(destinations(50, '25885'));
  await rx1.waitDeliveries(100);
  const rx2 = cleanup.add(await connectClient({ port, bindType: 'receiver' }));
  const ids = rx1.deliveries.map((d) => receiptIds(d).tlv as string);
  expect(new Set(ids)).toEqual(new Set([...first, ...second].map((r) => r.message_id)));
  expect(ids).toHaveLength(100);
  expect(await proxy.store.pendingCount('acme')).toBe(0);
  expect(rx2.deliveries).toHaveLength(0);
});
