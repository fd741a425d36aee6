// A receipt held before its submit_sm_resp, taken by the replica that saved the message, which then
// died before delivering or keeping it: the Redis store keeps what it handed out until acknowledged,
// and another replica's delivery sweep delivers it after the lease (store/redis-store.ts
// reclaimOrphans; the store side: store/redis-store.test.ts).

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useRedis, type TestRedis } from '../../e2e/helpers/redis-server.js';
import type { ConfigInput } from '../config/schema.js';
import type { DeliverSm } from '../smpp/index.js';
import { createRedisStore, type RedisMessageStore } from '../store/redis-store.js';
import { FakeCluster, FakeSession, deliverSm, harness, receiptText, type Harness } from './testing.js';

const config: ConfigInput = {
  clients: [{ system_id: 'acme', password: 'x' }],
  clusters: [{ name: 'voda', mock: {} }],
  routes: [{ name: 'all', cluster: 'voda' }],
};
const LEASE_MS = 30_000;

let redis: TestRedis;
beforeAll(async () => {
  redis = await useRedis();
});
afterAll(async () => {
  await redis?.close();
});

const stores: RedisMessageStore[] = [];
let h: Harness | undefined;
afterEach(async () => {
  h?.forwarder.close();
  h = undefined;
  for (const s of stores.splice(0)) await s.close();
});

describe('held receipts of a replica that died', () => {
  it('are delivered by another replica after the lease, rewritten to the message they were taken for', async () => {
    let now = Date.UTC(2026, 0, 1);
    const prefix = redis.prefix();
    const open = (): RedisMessageStore => {
      const store = createRedisStore({
        url: redis.url,
        keyPrefix: prefix,
        ttlMs: 3_600_000,
        leaseMs: LEASE_MS,
        clock: () => now,
      });
      stores.push(store);
      return store;
    };
    const [dying, surviving] = [open(), open()];
    // The receipt beats the submit_sm_resp and is held (by either replica: the store is shared).
    const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText('C0FFEE') });
    await surviving.holdOrphan('voda', ['12648430'], { pdu: receipt, receivedAt: now }, 60_000);
    // The dying replica saves the message, takes the receipt, and is gone before it delivers it.
    const message = { id: 'm1', client: 'acme', cluster: 'voda', createdAt: now };
    const taken = await dying.saveAccepted(message, 'voda', 'C0FFEE', ['12648430']);
    expect(taken).toHaveLength(1);

    h = harness({ config, clusters: [new FakeCluster('voda', () => Promise.reject(new Error('unused')))], store: surviving });
    const session = new FakeSession('acme');
    h.registry.bind(session);
    await h.forwarder.sweep();
    expect(session.delivered).toHaveLength(0); // still within the dead replica's lease

    now += LEASE_MS;
    await h.forwarder.sweep();
    expect(session.delivered).toHaveLength(1);
    expect((session.delivered[0] as DeliverSm).short_message.toString('latin1')).toContain('id:m1 ');
    expect((await h.metrics.registry.getSingleMetricAsString('smppd_dlr_orphan_reclaimed_total')).trim().split('\n').at(-1)).toBe(
      'smppd_dlr_orphan_reclaimed_total 1',
    );
    // Acknowledged once delivered: not handed out again.
    now += LEASE_MS;
    await h.forwarder.sweep();
    expect(session.delivered).toHaveLength(1);
  });
});
