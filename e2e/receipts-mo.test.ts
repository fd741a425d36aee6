// SPEC §4 MO: a deliver_sm from the upstream that is not a receipt goes to the client whose
// `mo_addresses` match its destination, with the same keep-until-bound rule as receipts.

import { afterEach, expect, it } from 'vitest';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator } from './sim/index.js';
import { connectClient, receiptIds, type Delivery } from './helpers/receipts-client.js';
import { cleanupList, eventually, simProxyConfig, startProxy } from './helpers/receipts-proxy.js';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

const CLIENTS = [
  { system_id: 'acme', password: 'secret', mo_addresses: ['+258840001'] },
  { system_id: 'beta', password: 'secret', mo_addresses: ['258849999'] },
];

function text(d: Delivery): string {
  return d.command === 'deliver_sm' ? d.short_message.toString('latin1') : '';
}

it('MO reaches the client whose mo_addresses match, as is; kept for a client not bound until it binds', async () => {
  const sim = cleanup.add(await startSimulator({ seed: 11 }));
  const { proxy, port } = cleanup.add(await startProxy(simProxyConfig(sim.port, { clients: CLIENTS })));
  await eventually('smppd is bound to the simulator', () => sim.stats().bound === 2);

  const acme = cleanup.add(await connectClient({ port, bindType: 'receiver' }));
  // A transmitter cannot take deliveries: beta's MO has to wait.
  const betaTx = cleanup.add(await connectClient({ port, bindType: 'transmitter', systemId: 'beta' }));

  // '+258840001' is written with a '+' in the config; the SMSC sends it without.
  expect(await sim.sendMo({ source: '258841234567', destination: '258840001', text: 'hello acme' })).toBe(Status.ESME_ROK);
  await acme.waitDeliveries(1);
  expect(acme.deliveries[0]).toMatchObject({
    command: 'deliver_sm',
    source_addr: '258841234567',
    destination_addr: '258840001',
    esm_class: 0,
  });
  expect(text(acme.deliveries[0]!)).toBe('hello acme');
  expect(receiptIds(acme.deliveries[0]!)).toEqual({ text: undefined, tlv: undefined });

  // beta has no receiver-capable session: the MO is kept (the SMSC is answered ESME_ROK) ...
  expect(await sim.sendMo({ source: '258841111111', destination: '258849999', text: 'hello beta' })).toBe(Status.ESME_ROK);
  expect(await proxy.store.pendingCount('beta')).toBe(1);
  expect(betaTx.deliveries).toHaveLength(0);
  // ... and handed over when beta binds a receiver.
  const beta = cleanup.add(await connectClient({ port, bindType: 'transceiver', systemId: 'beta' }));
  await beta.waitDeliveries(1);
  expect(beta.deliveries[0]).toMatchObject({ source_addr: '258841111111', destination_addr: '258849999' });
  expect(text(beta.deliveries[0]!)).toBe('hello beta');
  await eventually('beta has nothing pending', async () => (await proxy.store.pendingCount('beta')) === 0);

  // An address no client claims is refused, not silently accepted; nobody gets it.
  expect(await sim.sendMo({ source: '258841111111', destination: '258840002', text: 'nobody' })).toBe(Status.ESME_RINVDSTADR);
  expect(acme.deliveries).toHaveLength(1);
  expect(beta.deliveries).toHaveLength(1);
});
