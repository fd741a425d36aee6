// submit_multi through smppd to an SMSC that does not take it (cluster `submit_multi: auto`, the
// default; FIELD-NOTES §3.8): the simulator answers submit_multi ESME_RINVCMDID, smppd sends one
// submit_sm per destination instead, and the client (node-smpp) gets one submit_multi_resp with
// smppd's id and then one receipt per destination, each carrying that id.

import { afterEach, describe, expect, it } from 'vitest';
import { SmppClient } from '../proxy/listener/testing.js';
import { parseReceiptText } from '../proxy/smpp/dlr.js';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator } from './sim/index.js';
import { eventually, startProxy } from './helpers/receipts-proxy.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('submit_multi to an SMSC without it', () => {
  it('goes out as one submit_sm per destination; the client gets one response and every receipt with smppd\'s id', async () => {
    const sim = await startSimulator({ submitMulti: false, dlrDelayMs: 20 });
    cleanups.push(() => sim.close());
    const proxy = await startProxy({
      listeners: [{ name: 'main', address: '127.0.0.1:0' }],
      clients: [{ system_id: 'acme', password: 'secret' }],
      clusters: [{ name: 'up', endpoints: [{ address: `127.0.0.1:${sim.port}`, system_id: 'smppd', password: 'pw' }] }],
      routes: [{ name: 'all', cluster: 'up' }],
      shutdown: { drain_timeout: '1s' },
    });
    cleanups.push(() => proxy.stop());
    await eventually('the endpoint is bound', () => proxy.proxy.clusters.get('up')!.available());
    const client = await SmppClient.connect(proxy.port);
    cleanups.push(() => client.close());
    expect(await client.bind('transceiver')).toBe(Status.ESME_ROK);

    const destinations = ['258840000001', '258840000002', '258840000003'];
    const resp = await client.request('submit_multi', {
      source_addr: '12345',
      dest_address: destinations.map((destination_addr) => ({ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr })),
      short_message: 'to three',
      registered_delivery: 1,
    });
    expect(resp.command_status).toBe(Status.ESME_ROK);
    expect(resp.unsuccess_sme ?? []).toEqual([]);
    const smppdId = resp.message_id as string;
    expect(smppdId).not.toBe('');

    await client.waitDelivered(3);
    const receipts = client.delivered.map((d) => {
      const parsed = parseReceiptText((d.short_message as { message?: string }).message ?? '');
      // A receipt comes from the handset the message went to.
      return { from: d.source_addr, id: parsed.ok ? parsed.receipt.id : undefined, stat: parsed.ok ? parsed.receipt.stat : undefined };
    });
    expect(receipts.map((r) => r.from).sort()).toEqual(destinations);
    for (const r of receipts) expect(r).toMatchObject({ id: smppdId, stat: 'DELIVRD' });
    const stats = sim.stats();
    expect(stats.submits).toBe(1 + 3); // the refused submit_multi, then a submit_sm per destination
    expect(stats.accepted).toBe(3);
  });
});
