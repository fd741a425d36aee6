// Forwarder.update (config reload): the next request uses the new routes, retry policies and MO
// addresses; a request already in flight finishes on what it started with.

import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema, type ConfigInput } from '../config/schema.js';
import { compileRoutes } from '../router/route-table.js';
import { Status, type SubmitSmResp } from '../smpp/index.js';
import { FakeCluster, FakeSession, deferred, deliverSm, harness, submitSm, type Harness } from './testing.js';
import type { SendResult } from './ports.js';

const acme = { systemId: 'acme' };
const far = () => Date.now() + 30_000;

const before: ConfigInput = {
  clients: [{ system_id: 'acme', password: 'x', mo_addresses: ['258840001'] }],
  clusters: [
    { name: 'voda', mock: {}, retry: { max_attempts: 1 } },
    { name: 'mcel', mock: {} },
  ],
  routes: [{ name: 'all', cluster: 'voda' }],
};

let h: Harness | undefined;
afterEach(() => {
  h?.forwarder.close();
  h = undefined;
});

function apply(hh: Harness, input: ConfigInput): void {
  const config = ConfigSchema.parse(input);
  hh.forwarder.update({ router: compileRoutes(config.routes), config });
}

describe('Forwarder.update', () => {
  it('routes the next request on the new table while the one in flight finishes where it went', async () => {
    const held = deferred<SendResult>();
    const voda: FakeCluster = new FakeCluster('voda', () => held.promise);
    const mcel: FakeCluster = new FakeCluster('mcel');
    h = harness({ config: before, clusters: [voda, mcel] });

    const first = h.forwarder.handleRequest(acme, submitSm(), { deadline: far() });
    apply(h, { ...before, routes: [{ name: 'all', cluster: 'mcel' }] });
    const second = (await h.forwarder.handleRequest(acme, submitSm(), { deadline: far() })) as SubmitSmResp;
    expect(second.command_status).toBe(Status.ESME_ROK);
    expect(mcel.calls).toHaveLength(1);

    held.resolve(voda.accept(voda.calls[0]!.pdu));
    expect(((await first) as SubmitSmResp).command_status).toBe(Status.ESME_ROK);
    expect(voda.calls).toHaveLength(1);
  });

  it('a changed retry policy applies to the next request', async () => {
    const voda: FakeCluster = new FakeCluster('voda', (pdu) => voda.refuse(pdu, Status.ESME_RTHROTTLED));
    h = harness({ config: before, clusters: [voda, new FakeCluster('mcel')] });
    await h.forwarder.handleRequest(acme, submitSm(), { deadline: far() });
    expect(voda.calls).toHaveLength(1);
    apply(h, { ...before, clusters: [{ name: 'voda', mock: {}, retry: { max_attempts: 3, initial_backoff: '0ms' } }, { name: 'mcel', mock: {} }] });
    await h.forwarder.handleRequest(acme, submitSm(), { deadline: far() });
    expect(voda.calls).toHaveLength(4);
  });

  it('MO addresses follow the clients of the new config', async () => {
    h = harness({ config: before, clusters: [new FakeCluster('voda'), new FakeCluster('mcel')] });
    const beta = new FakeSession('beta');
    h.registry.bind(beta);
    const mo = () => deliverSm({ destination_addr: '258840001', short_message: Buffer.from('hi') });
    apply(h, { ...before, clients: [{ system_id: 'beta', password: 'y', mo_addresses: ['+258840001'] }] });
    expect(await h.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: mo() })).toBe(Status.ESME_ROK);
    expect(beta.delivered).toHaveLength(1);
  });
});
