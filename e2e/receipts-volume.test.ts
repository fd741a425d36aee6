// Issue 3 acceptance: "10,000 messages → 10,000 receipts at the client, each carrying the id that
// client was given: once with text receipts and hex ids, once with TLV-only receipts and decimal ids".
// Whole system over real sockets: a windowed ESME client (our session engine) → smppd → smppd-sim.

import { afterEach, describe, expect, it } from 'vitest';
import type { MessageIdMode } from '../proxy/smpp/dlr.js';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator, type IdFormat, type ReceiptForm, type Simulator } from './sim/index.js';
import { connectClient, destinations, receiptIds, tally, type EsmeClient } from './helpers/receipts-client.js';
import { cleanupList, eventually, simProxyConfig, startProxy, type RunningProxy } from './helpers/receipts-proxy.js';

const COUNT = 10_000;

const cleanup = cleanupList();
afterEach(() => cleanup.run());

interface Scenario {
  ids: IdFormat;
  receipts: ReceiptForm;
  messageId: MessageIdMode;
}

async function setUp(s: Scenario): Promise<{ sim: Simulator; client: EsmeClient; proxy: RunningProxy }> {
  const sim = cleanup.add(await startSimulator({ seed: 3, ids: s.ids, receipts: s.receipts, dlrDelayMs: 5 }));
  const proxy = cleanup.add(await startProxy(simProxyConfig(sim.port, { messageId: s.messageId })));
  const client = cleanup.add(await connectClient({ port: proxy.port, bindType: 'transceiver', window: 200 }));
  return { sim, client, proxy };
}

/** Submits COUNT messages, waits for COUNT receipts, checks every id both ways. */
async function run(s: Scenario): Promise<void> {
  const { sim, client, proxy } = await setUp(s);
  const upstreamIds = new Set<string>();
  sim.on('submit', (e) => upstreamIds.add(e.messageId));

  const responses = await client.submitMany(destinations(COUNT));
  expect(tally(responses.map((r) => r.command_status))).toEqual(new Map([[Status.ESME_ROK, COUNT]]));
  const given = responses.map((r) => r.message_id);
  expect(new Set(given).size).toBe(COUNT); // smppd's ids are unique

  await client.waitDeliveries(COUNT);
  const receipts = client.deliveries;
  expect(receipts).toHaveLength(COUNT);
  expect(receipts.every((r) => r.command === 'deliver_sm' && (r.esm_class & 0x3c) === 0x04)).toBe(true);

  const ids = receipts.map(receiptIds);
  // The form the simulator sent survives, rewritten to smppd's id wherever the upstream's id was.
  if (s.receipts !== 'tlv') expect(ids.every((i) => i.text !== undefined)).toBe(true);
  if (s.receipts !== 'text') expect(ids.every((i) => i.tlv !== undefined)).toBe(true);
  if (s.receipts === 'both') expect(ids.filter((i) => i.text !== i.tlv)).toEqual([]);
  const receiptId = ids.map((i) => (i.tlv ?? i.text) as string);

  const counts = tally(receiptId);
  const duplicates = [...counts.values()].filter((n) => n > 1).length;
  expect(duplicates).toBe(0);
  expect(new Set(receiptId)).toEqual(new Set(given));
  // Each receipt came after its submit_sm_resp, so the client could match it.
  expect(client.receiptsBeforeResponse()).toEqual([]);
  // Not the upstream's ids: the simulator's never reach the client.
  expect(receiptId.filter((id) => upstreamIds.has(id))).toEqual([]);
  expect(upstreamIds.size).toBe(COUNT);

  // Nothing left behind: every receipt was acknowledged upstream, none kept in the store.
  // (the last deliver_sm_resp to the simulator may still be on its way when the client has them all)
  await eventually('the simulator has every receipt acknowledged', () => sim.stats().receiptsAcked === COUNT, {
    describe: () => sim.stats(),
  });
  expect(sim.stats()).toMatchObject({ receiptsSent: COUNT, receiptsFailed: 0, receiptsDropped: 0 });
  expect(await proxy.proxy.store.pendingCount('acme')).toBe(0);
}

describe('10,000 messages → 10,000 receipts carrying smppd ids', () => {
  it('text receipts, hex ids, message_id auto', async () => {
    await run({ ids: 'hex', receipts: 'text', messageId: 'auto' });
  });

  it('TLV-only receipts, decimal ids, message_id auto', async () => {
    await run({ ids: 'decimal', receipts: 'tlv', messageId: 'auto' });
  });

  it('text and TLV receipts, hex ids, explicit message_id hex', async () => {
    await run({ ids: 'hex', receipts: 'both', messageId: 'hex' });
  });
});
