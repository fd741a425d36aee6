// Cross-replica delivery: two forwarders (two replicas) share one store. The memory store tells its
// listeners of every queued delivery as the Redis store tells every replica, so it stands in here
// (the Redis notices themselves: store/redis-store.test.ts; whole system: e2e/replicas-*.test.ts).

import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../config/schema.js';
import type { DeliverSm } from '../smpp/index.js';
import { createMemoryStore } from '../store/memory-store.js';
import type { MessageStore } from '../store/store.js';
import type { SendResult } from './ports.js';
import { FakeCluster, FakeSession, deliverSm, harness, receiptText, respond, submitSm, type Harness } from './testing.js';

const config: ConfigInput = {
  clients: [{ system_id: 'acme', password: 'x' }],
  clusters: [{ name: 'voda', mock: {} }],
  routes: [{ name: 'all', cluster: 'voda' }],
};

function upstream(id: string): FakeCluster {
  return new FakeCluster('voda', (pdu): SendResult => ({ response: respond(pdu, 0, id), endpoint: 'ep1', latencyMs: 1 }));
}

const open: Harness[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.forwarder.close();
});

/** Two replicas on one store; the periodic sweep is an hour away, so only notices and binds drain. */
function replicas(store: MessageStore, upstreamId: string): [Harness, Harness] {
  const a = harness({ config, clusters: [upstream(upstreamId)], store });
  const b = harness({ config, clusters: [upstream(upstreamId)], store });
  open.push(a, b);
  return [a, b];
}

async function submitAndReceipt(on: Harness, upstreamId: string): Promise<string> {
  const resp = await on.forwarder.handleRequest({ systemId: 'acme' }, submitSm(), { deadline: Date.now() + 30_000 });
  const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText(upstreamId) });
  expect(await on.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(0);
  return (resp as { message_id: string }).message_id;
}

describe('delivery notices', () => {
  it('a receipt kept by a replica without a receiver reaches the receiver bound on another one at once', async () => {
    const store = createMemoryStore({ ttlMs: 60_000 });
    const [a, b] = replicas(store, 'AA01');
    const session = new FakeSession('acme');
    b.registry.bind(session); // the client's receiver is on replica b (bound before: no bind drain)
    const id = await submitAndReceipt(a, 'AA01');
    await session.waitFor(1);
    expect((session.delivered[0] as DeliverSm).short_message.toString('latin1')).toContain(`id:${id} `);
    await expect.poll(() => store.pendingCount('acme')).toBe(0);
  });

  it('what a replica that died had claimed goes out again after its lease, counted as redelivered', async () => {
    let now = 1_000_000;
    const store = createMemoryStore({ ttlMs: 60_000, clock: () => now });
    const [a, b] = replicas(store, 'AB01');
    await submitAndReceipt(a, 'AB01');
    // A replica claims it and dies before the client's answer: nothing acks it.
    expect(await store.takeDeliveries('acme', 10, 15_000)).toHaveLength(1);
    const session = new FakeSession('acme');
    b.registry.bind(session);
    b.forwarder.onReceiverBound('acme');
    await b.forwarder.sweep();
    expect(session.delivered).toHaveLength(0); // still leased to the dead replica
    now += 15_000;
    await b.forwarder.sweep();
    await session.waitFor(1);
    await expect.poll(() => store.pendingCount('acme')).toBe(0);
    expect((await b.metrics.deliveriesRedelivered.get()).values[0]?.value).toBe(1);
  });
});
