// The forwarder with the real embedded mock cluster and the real client registry: receipts made by
// the mock come back to the client carrying the ids the client was given.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCluster, type Cluster } from '../cluster/index.js';
import { ConfigSchema } from '../config/schema.js';
import { createClientRegistry } from '../listener/index.js';
import { compileRoutes } from '../router/route-table.js';
import { silentLogger } from '../session/index.js';
import type { DeliverSm, QuerySmResp, SubmitSmResp } from '../smpp/index.js';
import { createMemoryStore } from '../store/memory-store.js';
import { createMessageIdGenerator } from '../store/message-id.js';
import { createForwarder, type Forwarder } from './forwarder.js';
import { FakeSession, submitSm } from './testing.js';

let forwarder: Forwarder | undefined;
let cluster: Cluster | undefined;
afterEach(async () => {
  forwarder?.close();
  await cluster?.close();
  vi.useRealTimers();
});

describe('forwarder with the mock cluster', () => {
  it('delivers every receipt, with its smppd id, to a receiver that binds after the submits', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const config = ConfigSchema.parse({
      clients: [{ system_id: 'acme', password: 'x' }],
      clusters: [{ name: 'test', mock: { latency: '5ms', dlr: 'delivered', dlr_delay: '1s' } }],
      routes: [{ name: 'all', cluster: 'test' }],
    });
    const clusters = new Map<string, Cluster>();
    const registry = createClientRegistry();
    const store = createMemoryStore({ ttlMs: config.store.ttl });
    const f = createForwarder({
      router: compileRoutes(config.routes),
      clusters,
      store,
      registry,
      config,
      logger: silentLogger,
      ids: createMessageIdGenerator(),
    });
    forwarder = f;
    registry.onReceiverBound((systemId) => f.onReceiverBound(systemId));
    const c = createCluster(config.clusters[0]!, { onDelivery: (d) => f.handleUpstreamDelivery(d) });
    cluster = c;
    clusters.set('test', c);
    c.start();

    const n = 200;
    const answers = Array.from({ length: n }, (_, i) =>
      f.handleRequest({ systemId: 'acme' }, submitSm({ sequence_number: i + 1 }), { deadline: Date.now() + 30_000 }),
    );
    await vi.advanceTimersByTimeAsync(10);
    const ids = ((await Promise.all(answers)) as SubmitSmResp[]).map((r) => {
      expect(r.command_status).toBe(0);
      return r.message_id;
    });

    const queried = f.handleRequest(
      { systemId: 'acme' },
      { command: 'query_sm', command_status: 0, sequence_number: 900, message_id: ids[0]!, source_addr_ton: 1, source_addr_npi: 1, source_addr: '258840000001' },
      { deadline: Date.now() + 30_000 },
    );
    await vi.advanceTimersByTimeAsync(10);
    expect((await queried) as QuerySmResp).toMatchObject({ command_status: 0, message_id: ids[0], message_state: 1 });

    // Receipts arrive while nobody can receive them: kept.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await store.pendingCount('acme')).toBe(n);

    const session = new FakeSession('acme');
    registry.add(session);
    await session.waitFor(n);
    const receipted = session.delivered.map((p) => p.tlvs?.receipted_message_id);
    expect(new Set(receipted)).toEqual(new Set(ids));
    for (const p of session.delivered) {
      expect((p as DeliverSm).short_message.toString('latin1')).toContain(`id:${p.tlvs?.receipted_message_id} `);
    }
  });
});
