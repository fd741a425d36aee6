// Issue 3 / SPEC §4: "A receipt that arrives before the submit response is held and matched, not
// dropped." The simulator writes each receipt before its submit_sm_resp (receiptFirst), so smppd reads
// the receipt while it does not yet know the upstream's id.

import { afterEach, describe, expect, it } from 'vitest';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator, type SimulatorOptions } from './sim/index.js';
import { connectClient, destinations, receiptIds, tally } from './helpers/receipts-client.js';
import { cleanupList, eventually, simProxyConfig, startProxy } from './helpers/receipts-proxy.js';

const N = 2_000;

const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function raceRun(sim: Partial<SimulatorOptions>): Promise<void> {
  const simulator = cleanup.add(await startSimulator({ seed: 9, receiptFirst: true, ...sim }));
  const { proxy, port } = cleanup.add(await startProxy(simProxyConfig(simulator.port)));
  const client = cleanup.add(await connectClient({ port, bindType: 'transceiver', window: 200 }));

  const responses = await client.submitMany(destinations(N));
  expect(responses.every((r) => r.command_status === Status.ESME_ROK)).toBe(true);
  const given = responses.map((r) => r.message_id);

  await client.waitDeliveries(N);
  const ids = client.deliveries.map((d) => {
    const { text, tlv } = receiptIds(d);
    if (text !== undefined && tlv !== undefined) expect(text).toBe(tlv);
    return (tlv ?? text) as string;
  });
  expect([...tally(ids).values()].filter((n) => n > 1)).toEqual([]);
  expect(new Set(ids)).toEqual(new Set(given));
  // smppd holds the early receipt until the client has its submit_sm_resp.
  expect(client.receiptsBeforeResponse()).toEqual([]);

  // The race really happened: receipts were held as orphans, and none is left unmatched.
  const held = (await proxy.metrics.dlrOrphanHeld.get()).values.reduce((sum, v) => sum + v.value, 0);
  expect(held).toBeGreaterThan(0);
  const stats = await proxy.store.stats();
  expect(stats).toMatchObject({ orphans: 0, orphansExpired: 0, orphansEvicted: 0 });
  await eventually('every receipt acknowledged upstream', () => simulator.stats().receiptsAcked === N);
}

describe('receipt before its submit_sm_resp', () => {
  it('text receipts with hex ids: every receipt matched and delivered with smppd id', async () => {
    await raceRun({ ids: 'hex', receipts: 'text' });
  });

  it('TLV receipts with decimal ids, and hex ids written in decimal in the receipt', async () => {
    await raceRun({ ids: 'decimal', receipts: 'tlv' });
    await cleanup.run();
    await raceRun({ ids: 'hex', receiptIds: 'decimal', receipts: 'both' });
  });
});
