// A client's max_binds across replicas: two listeners with registries of their own (two replicas)
// share the client's bind slots (in production Redis, store/fleet-limits.ts; here the in-process
// slots, which keep the same contract).

import { afterEach, describe, expect, it } from 'vitest';
import { createLocalBindSlots, type BindSlots } from '../store/fleet-limits.js';
import { Status } from '../smpp/index.js';
import { createMetrics } from '../telemetry/metrics.js';
import type { ClientSlots } from './client-slots.js';
import { startListener, type Harness } from './testing.js';

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.stop()));
});

async function replica(slots: ClientSlots, maxBinds = 2, metrics = createMetrics({ defaultMetrics: false })): Promise<Harness> {
  const h = await startListener({ clients: [{ system_id: 'acme', password: 'secret', max_binds: maxBinds }], deps: { clientSlots: slots, metrics } });
  open.push(h);
  return h;
}

describe('max_binds across replicas (fleet bind slots)', () => {
  it('refuses with ESME_RBINDFAIL a bind over max_binds counted over both replicas; a closed session frees its slot', async () => {
    const slots: ClientSlots = { slots: createLocalBindSlots(), keyOf: (id) => `cbind:${id}` };
    const metrics = createMetrics({ defaultMetrics: false });
    const [a, b] = [await replica(slots, 2, metrics), await replica(slots)];
    const first = await a.bound('transmitter');
    await b.bound('receiver');
    // Each replica alone has room (1 of 2); the fleet has none.
    expect(await (await a.client()).bind('transceiver')).toBe(Status.ESME_RBINDFAIL);
    expect(await (await b.client()).bind('transceiver')).toBe(Status.ESME_RBINDFAIL);
    expect(await metrics.registry.metrics()).toContain('smppd_bind_attempts_total{listener="test",result="max_binds"} 1');

    await first.request('unbind');
    await first.closed;
    await expect.poll(async () => (await (await b.client()).bind('transceiver')) === Status.ESME_ROK).toBe(true);
  });

  it('concurrent binds on both replicas cannot overshoot', async () => {
    const slots: ClientSlots = { slots: createLocalBindSlots(), keyOf: (id) => `cbind:${id}` };
    const [a, b] = [await replica(slots, 3), await replica(slots, 3)];
    const clients = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).client()));
    const statuses = await Promise.all(clients.map((c) => c.bind('transceiver')));
    expect(statuses.filter((s) => s === Status.ESME_ROK)).toHaveLength(3);
    expect(a.registry.bindCount('acme') + b.registry.bindCount('acme')).toBe(3);
  });

  it('refuses the bind when no slot can be had (Redis unreachable), and closes a session whose slot is lost', async () => {
    let lose: (() => void) | undefined;
    let reachable = false;
    const flaky: BindSlots = {
      async acquire(_key, _max, onLost) {
        if (!reachable) return undefined;
        lose = onLost;
        return { slot: 0, release() {} };
      },
    };
    const h = await replica({ slots: flaky, keyOf: (id) => id });
    expect(await (await h.client()).bind('transceiver')).toBe(Status.ESME_RBINDFAIL);
    reachable = true;
    const c = await h.bound('transceiver');
    lose!();
    await c.closed; // unbound by smppd: another replica holds that slot now
    expect(c.unbinds).toHaveLength(1);
  });
});
