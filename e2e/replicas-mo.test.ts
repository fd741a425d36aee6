// Issue 5, cross-replica MO: a mobile-originated message (deliver_sm that is not a receipt) that
// arrives on any replica's upstream session reaches the client's receiver on whichever replica it
// is bound; while the client has none bound anywhere, it is kept in Redis and handed over when one
// binds, on any replica. Three smppd processes on one private redis-server, one upstream session
// each, so an MO sent on each of the simulator's three sessions comes in through each replica.

import { expect, it } from 'vitest';
import { Status } from '../proxy/smpp/index.js';
import { connectClient, receiptIds, type EsmeClient } from './helpers/receipts-client.js';
import { eventually } from './helpers/receipts-proxy.js';
import { pendingDeliveries, replicaSuite, type Replica } from './helpers/replicas.js';

/** The client acme's MO address (mo_addresses). */
const MO_ADDRESS = '258840001';

const suite = replicaSuite();
const cleanup = suite.cleanup;

/** The texts of the MOs a client got, sorted; a receipt among them fails the test. */
function moTexts(client: EsmeClient): string[] {
  return client.deliveries
    .map((d) => {
      if (d.command !== 'deliver_sm' || d.esm_class !== 0) throw new Error(`not an MO: ${d.command} esm_class ${String(d.esm_class)}`);
      expect(receiptIds(d)).toEqual({ text: undefined, tlv: undefined });
      expect(d.destination_addr).toBe(MO_ADDRESS);
      return d.short_message.toString('latin1');
    })
    .sort();
}

it('an MO on each replica reaches the receiver bound on one of them; with none bound, kept and delivered on another', async () => {
  const { sim, replicas } = await suite.simulatorWithReplicas({ seed: 13 }, { client: { mo_addresses: [MO_ADDRESS] } });
  const [, r2, r3] = replicas.list as [Replica, Replica, Replica];
  const sessions = sim.sessions().map((s) => s.sessionId);
  expect(sessions).toHaveLength(3); // one upstream session per replica

  const first = cleanup.add(await connectClient({ port: r2.smppPort, bindType: 'receiver' }));
  const sent: string[] = [];
  for (const sessionId of sessions) {
    const text = `mo ${sent.length + 1} on session ${sessionId}`;
    expect(await sim.sendMo({ sessionId, source: '258841234567', destination: MO_ADDRESS, text })).toBe(Status.ESME_ROK);
    sent.push(text);
  }
  await first.waitDeliveries(3, 20_000);
  expect(moTexts(first)).toEqual([...sent].sort());
  await first.close();

  // No receiver anywhere: each replica answers the SMSC ESME_ROK and keeps the MO in Redis.
  const kept: string[] = [];
  for (const sessionId of sessions) {
    const text = `kept ${kept.length + 1} on session ${sessionId}`;
    expect(await sim.sendMo({ sessionId, source: '258841234567', destination: MO_ADDRESS, text })).toBe(Status.ESME_ROK);
    kept.push(text);
  }
  await eventually('three MOs kept in the store', async () => (await pendingDeliveries(r3)) === 3);

  const second = cleanup.add(await connectClient({ port: r3.smppPort, bindType: 'transceiver' }));
  await second.waitDeliveries(3, 20_000);
  expect(moTexts(second)).toEqual([...kept].sort());
  await eventually('nothing pending once the client acknowledged them', async () => (await pendingDeliveries(r3)) === 0);
  expect(first.deliveries).toHaveLength(3);
}, 60_000);
