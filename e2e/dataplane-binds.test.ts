// SPEC §4 bind outcomes and the client limits (window, throughput) through the whole proxy
// (buildProxy: listener, filters, forwarder, cluster), with node-smpp as the client over real TCP.
// One compact case per outcome; the listener's unit tests cover the details.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmppClient } from '../proxy/listener/testing.js';
import { Status } from '../proxy/smpp/index.js';
import { startProxy, type RunningProxy } from './helpers/receipts-proxy.js';

let proxy: RunningProxy;
let narrowPort: number;
const clients: SmppClient[] = [];

async function connect(port = proxy.port): Promise<SmppClient> {
  const c = await SmppClient.connect(port);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  proxy = await startProxy({
    listeners: [
      { name: 'main', address: '127.0.0.1:0' },
      // A listener whose sessions may have two requests outstanding.
      { name: 'narrow', address: '127.0.0.1:0', limits: { window: 2 } },
    ],
    clients: [
      { system_id: 'acme', password: 'secret' },
      { system_id: 'txonly', password: 'secret', bind_types: ['transmitter'] },
      { system_id: 'tennet', password: 'secret', allowed_ips: ['10.0.0.0/8'] },
      { system_id: 'single', password: 'secret', max_binds: 1 },
      { system_id: 'metered', password: 'secret', throughput: 5 },
      { system_id: 'slowpoke', password: 'secret' },
      { system_id: 'branded', password: 'secret', allowed_sources: [{ exact: 'ACME' }, { prefix: '+25884' }] },
    ],
    clusters: [
      { name: 'fast', mock: { latency: '0ms', dlr: 'none' } },
      // Holds each request long enough for a client to run into its window.
      { name: 'slow', mock: { latency: '300ms', dlr: 'none' } },
    ],
    routes: [
      { name: 'slow', match: { client: 'slowpoke' }, cluster: 'slow', priority: 1 },
      { name: 'all', cluster: 'fast' },
    ],
    shutdown: { drain_timeout: '1s' },
  });
  narrowPort = proxy.proxy.addresses().get('narrow')!.port;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy.stop();
});

describe('binds through smppd (SPEC §4)', () => {
  it('a known client with the right password binds and its submit is accepted', async () => {
    const c = await connect();
    expect(await c.bind('transceiver', 'acme', 'secret')).toBe(Status.ESME_ROK);
    const resp = await c.submit();
    expect(resp.command_status).toBe(Status.ESME_ROK);
    expect(resp.message_id).toMatch(/^\S{1,64}$/);
  });

  it('unknown system_id -> ESME_RINVSYSID', async () => {
    expect(await (await connect()).bind('transceiver', 'nobody', 'secret')).toBe(Status.ESME_RINVSYSID);
  });

  it('wrong password -> ESME_RINVPASWD', async () => {
    expect(await (await connect()).bind('transceiver', 'acme', 'wrong')).toBe(Status.ESME_RINVPASWD);
  });

  it('address outside allowed_ips -> ESME_RBINDFAIL', async () => {
    expect(await (await connect()).bind('transceiver', 'tennet', 'secret')).toBe(Status.ESME_RBINDFAIL);
  });

  it('bind type not in bind_types -> ESME_RBINDFAIL (the allowed type binds)', async () => {
    expect(await (await connect()).bind('receiver', 'txonly', 'secret')).toBe(Status.ESME_RBINDFAIL);
    expect(await (await connect()).bind('transmitter', 'txonly', 'secret')).toBe(Status.ESME_ROK);
  });

  it('max_binds reached -> ESME_RBINDFAIL', async () => {
    expect(await (await connect()).bind('transceiver', 'single', 'secret')).toBe(Status.ESME_ROK);
    expect(await (await connect()).bind('transceiver', 'single', 'secret')).toBe(Status.ESME_RBINDFAIL);
  });

  it('a second bind on one session -> ESME_RALYBND', async () => {
    const c = await connect();
    expect(await c.bind('transceiver', 'acme', 'secret')).toBe(Status.ESME_ROK);
    expect(await c.bind('transceiver', 'acme', 'secret')).toBe(Status.ESME_RALYBND);
  });

  it('a submit before bind -> ESME_RINVBNDSTS', async () => {
    const c = await connect();
    const resp = await c.submit();
    expect(resp.command_status).toBe(Status.ESME_RINVBNDSTS);
  });
});

describe('client limits through smppd (SPEC §4)', () => {
  it('a client over its window gets ESME_RMSGQFUL for the excess, the rest are accepted', async () => {
    const c = await connect(narrowPort);
    expect(await c.bind('transmitter', 'slowpoke', 'secret')).toBe(Status.ESME_ROK);
    // Window 2, each answer ~300 ms away: the third and fourth are over the window.
    const resps = await Promise.all([0, 1, 2, 3].map((i) => c.submit({ short_message: `w${i}` })));
    const statuses = resps.map((r) => r.command_status);
    expect(statuses.filter((s) => s === Status.ESME_ROK)).toHaveLength(2);
    expect(statuses.filter((s) => s === Status.ESME_RMSGQFUL)).toHaveLength(2);
    // The window frees up again once answered.
    expect((await c.submit()).command_status).toBe(Status.ESME_ROK);
  });

  it('a client over its throughput gets ESME_RTHROTTLED for the excess', async () => {
    const c = await connect();
    expect(await c.bind('transmitter', 'metered', 'secret')).toBe(Status.ESME_ROK);
    // throughput 5/s: a burst of 20 in one go cannot all pass.
    const resps = await Promise.all(Array.from({ length: 20 }, (_, i) => c.submit({ short_message: `t${i}` })));
    const statuses = resps.map((r) => r.command_status);
    const ok = statuses.filter((s) => s === Status.ESME_ROK).length;
    const throttled = statuses.filter((s) => s === Status.ESME_RTHROTTLED).length;
    expect(ok + throttled).toBe(20);
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok).toBeLessThanOrEqual(6);
    expect(throttled).toBeGreaterThanOrEqual(14);
  });

  it('a client with allowed_sources submits only from those: another source gets ESME_RINVSRCADR', async () => {
    const c = await connect();
    expect(await c.bind('transmitter', 'branded', 'secret')).toBe(Status.ESME_ROK);
    const from = async (source_addr: string, source_addr_ton: number) => (await c.submit({ source_addr, source_addr_ton })).command_status;
    expect(await from('ACME', 5)).toBe(Status.ESME_ROK);
    expect(await from('258841234567', 1)).toBe(Status.ESME_ROK);
    expect(await from('BANK', 5)).toBe(Status.ESME_RINVSRCADR);
    expect(await from('27821234567', 1)).toBe(Status.ESME_RINVSRCADR);
  });
});
