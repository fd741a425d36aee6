// Routing through the whole proxy (SPEC §3 `routes`, §4 Submit): three clusters, each one simulator;
// every message is traced to the simulator that accepted it. Fallback: the route's cluster has no
// SMSC (never started, or killed while smppd runs) and its messages succeed via the fallback.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmppClient } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { startSimulator, type Simulator } from './sim/index.js';
import { SimTally } from './helpers/dataplane-load.js';
import { eventually, startProxy, type RunningProxy } from './helpers/receipts-proxy.js';

let prefixSim: Simulator;
let regexSim: Simulator;
let clientSim: Simulator;
let doomedSim: Simulator;
let tallies: { prefix: SimTally; regex: SimTally; client: SimTally; doomed: SimTally };
let deadPort: number;
let proxy: RunningProxy;
const clients: SmppClient[] = [];

function cluster(name: string, port: number): object {
  return {
    name,
    endpoints: [{ address: `127.0.0.1:${port}`, system_id: 'smppd', password: 'pw' }],
    // Reconnect attempts to a dead endpoint must not hold the tests up; nothing here is slow.
    retry: { max_attempts: 2, initial_backoff: '10ms', max_backoff: '50ms' },
  };
}

async function bound(systemId: string): Promise<SmppClient> {
  const c = await SmppClient.connect(proxy.port);
  clients.push(c);
  expect(await c.bind('transceiver', systemId, 'secret')).toBe(Status.ESME_ROK);
  return c;
}

/** Which simulators accepted the message whose text is `text`. */
function receivedBy(text: string): string[] {
  return Object.entries(tallies)
    .filter(([, t]) => t.texts.has(text))
    .map(([name]) => name);
}

beforeAll(async () => {
  [prefixSim, regexSim, clientSim, doomedSim] = await Promise.all([
    startSimulator(),
    startSimulator(),
    startSimulator(),
    startSimulator(),
  ]);
  tallies = {
    prefix: new SimTally(prefixSim),
    regex: new SimTally(regexSim),
    client: new SimTally(clientSim),
    doomed: new SimTally(doomedSim),
  };
  // A port nothing listens on: an SMSC that was never started.
  const gone = await startSimulator();
  deadPort = gone.port;
  await gone.close();

  proxy = await startProxy({
    listeners: [{ name: 'main', address: '127.0.0.1:0' }],
    clients: [
      { system_id: 'acme', password: 'secret' },
      { system_id: 'vip', password: 'secret' },
    ],
    clusters: [
      cluster('by-prefix', prefixSim.port),
      cluster('by-regex', regexSim.port),
      cluster('by-client', clientSim.port),
      cluster('never-up', deadPort),
      cluster('doomed', doomedSim.port),
    ],
    routes: [
      // The client route outranks the address routes: everything vip sends goes to its cluster.
      { name: 'vip', match: { client: 'vip' }, cluster: 'by-client', priority: 1 },
      { name: 'moz-vodacom', match: { destination: { prefix: '25884' } }, cluster: 'by-prefix', priority: 10 },
      { name: 'moz-other', match: { destination: { regex: '^2588[27]\\d{7}$' } }, cluster: 'by-regex', priority: 10 },
      { name: 'dead', match: { destination: { prefix: '999' } }, cluster: 'never-up', fallback: ['by-prefix'], priority: 10 },
      { name: 'dies', match: { destination: { prefix: '777' } }, cluster: 'doomed', fallback: ['by-regex'], priority: 10 },
    ],
    shutdown: { drain_timeout: '1s' },
  });
  await eventually('every live endpoint is bound', () =>
    ['by-prefix', 'by-regex', 'by-client', 'doomed'].every((n) => proxy.proxy.clusters.get(n)!.available()),
  );
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy.stop();
  await Promise.all([prefixSim, regexSim, clientSim, doomedSim].map((s) => s.close()));
});

describe('routing through smppd', () => {
  it('reaches the cluster chosen by destination prefix, by destination regex and by client', async () => {
    const acme = await bound('acme');
    const vip = await bound('vip');
    const cases = [
      { client: acme, destination: '258841234567', text: 'acme-prefix', expected: 'prefix' },
      { client: acme, destination: '258821234567', text: 'acme-regex-82', expected: 'regex' },
      { client: acme, destination: '258871234567', text: 'acme-regex-87', expected: 'regex' },
      { client: vip, destination: '258841234567', text: 'vip-prefix-dest', expected: 'client' },
      { client: vip, destination: '258821234567', text: 'vip-regex-dest', expected: 'client' },
    ];
    for (const c of cases) {
      const resp = await c.client.submit({ destination_addr: c.destination, short_message: c.text });
      expect(resp.command_status, c.text).toBe(Status.ESME_ROK);
      expect(receivedBy(c.text), c.text).toEqual([c.expected]);
    }
    // A destination no route matches is refused by smppd and reaches no simulator.
    const none = await acme.submit({ destination_addr: '4915112345678', short_message: 'acme-unrouted' });
    expect(none.command_status).toBe(Status.ESME_RINVDSTADR);
    expect(receivedBy('acme-unrouted')).toEqual([]);
  });

  it('falls back when the route cluster never came up: the messages succeed via the fallback', async () => {
    const acme = await bound('acme');
    expect(proxy.proxy.clusters.get('never-up')!.available()).toBe(false);
    for (let i = 0; i < 5; i++) {
      const resp = await acme.submit({ destination_addr: `99912345${i}`, short_message: `dead-${i}` });
      expect(resp.command_status).toBe(Status.ESME_ROK);
      expect(receivedBy(`dead-${i}`)).toEqual(['prefix']);
    }
  });

  it('falls back when the route cluster dies while smppd runs', async () => {
    const acme = await bound('acme');
    const before = await acme.submit({ destination_addr: '777000001', short_message: 'doomed-before' });
    expect(before.command_status).toBe(Status.ESME_ROK);
    expect(receivedBy('doomed-before')).toEqual(['doomed']);

    doomedSim.dropConnections(); // an SMSC crash: no unbind
    await doomedSim.close();
    await eventually('the doomed cluster is unavailable', () => !proxy.proxy.clusters.get('doomed')!.available());
    for (let i = 0; i < 5; i++) {
      const resp = await acme.submit({ destination_addr: `77700001${i}`, short_message: `doomed-after-${i}` });
      expect(resp.command_status).toBe(Status.ESME_ROK);
      expect(receivedBy(`doomed-after-${i}`)).toEqual(['regex']);
    }
  });
});
