// Issue 3 acceptance: "A TLS listener and a TLS upstream endpoint carry traffic (certificates made at
// test time)". Client --TLS--> smppd --TLS--> smppd-sim, certificates from the openssl CLI.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { makeTestCertificates, SmppClient, type TestCertificates } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator, type Simulator } from './sim/index.js';
import { connectClient, destinations, receiptIds } from './helpers/receipts-client.js';
import { cleanupList, eventually, simProxyConfig, startProxy, type RunningProxy } from './helpers/receipts-proxy.js';

let dir: string;
let certs: TestCertificates;
let ca: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smppd-e2e-tls-'));
  certs = await makeTestCertificates(dir);
  ca = await readFile(certs.caCert);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cleanup = cleanupList();
afterEach(() => cleanup.run());

/** smppd with a TLS listener, its one upstream a simulator that only speaks TLS. */
async function tlsSetUp(): Promise<{ sim: Simulator; proxy: RunningProxy }> {
  const sim = cleanup.add(
    await startSimulator({
      seed: 17,
      receipts: 'both',
      dlrDelayMs: 5,
      tls: { cert: await readFile(certs.serverCert), key: await readFile(certs.serverKey) },
    }),
  );
  const proxy = cleanup.add(
    await startProxy(
      simProxyConfig(sim.port, {
        listener: { tls: { cert: certs.serverCert, key: certs.serverKey } },
        endpoint: { tls: { ca: certs.caCert } },
      }),
    ),
  );
  await eventually('smppd is bound to the TLS simulator', () => sim.stats().bound === 2, {
    describe: () => proxy.proxy.clusters.get('sim')?.health(),
  });
  return { sim, proxy };
}

it('our session engine over TLS: 500 submits answered ESME_ROK, 500 receipts with smppd ids', async () => {
  const { sim, proxy } = await tlsSetUp();
  const client = cleanup.add(await connectClient({ port: proxy.port, bindType: 'transceiver', tls: { ca }, window: 100 }));
  const responses = await client.submitMany(destinations(500));
  expect(responses.every((r) => r.command_status === Status.ESME_ROK)).toBe(true);
  await client.waitDeliveries(500);
  const ids = client.deliveries.map((d) => {
    const { text, tlv } = receiptIds(d);
    expect(text).toBe(tlv);
    return tlv;
  });
  expect(new Set(ids)).toEqual(new Set(responses.map((r) => r.message_id)));
  expect(sim.stats()).toMatchObject({ accepted: 500, connections: 2 });
});

it('node-smpp over TLS: bind, submit, ESME_ROK and the receipt with the same id', async () => {
  const { proxy } = await tlsSetUp();
  const client = cleanup.add(await SmppClient.connect(proxy.port, { ca }));
  expect(await client.bind('transceiver')).toBe(Status.ESME_ROK);
  const resp = await client.submit({ destination_addr: '258841000001' });
  expect(resp.command_status).toBe(Status.ESME_ROK);
  await client.waitDelivered(1);
  const receipt = client.delivered[0]!;
  expect(receipt.receipted_message_id).toBe(resp.message_id);
  expect(String((receipt.short_message as { message?: string }).message ?? receipt.short_message)).toContain(`id:${resp.message_id} `);
});

it('a client that does not trust the certificate cannot connect to the TLS listener', async () => {
  const { proxy } = await tlsSetUp();
  await expect(connectClient({ port: proxy.port, bindType: 'transceiver', tls: {} })).rejects.toThrow(/certificate/);
});
