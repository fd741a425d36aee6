// Gauges that describe a state rather than count events are set from that state right before
// /metrics is rendered: store figures (which the store keeps, possibly in Redis for all replicas), and
// the client-side gauges, which the listeners also move as connections come and go but which a
// listener removed by a reload would otherwise leave behind.

import { BIND_TYPES } from '../config/schema.js';
import type { StoreStats } from '../store/store.js';
import type { AdminDeps } from './types.js';

/** `store`: its stats, undefined when it did not answer; `storeUp`: reachable and answering. */
export type RefreshSnapshots = (store: StoreStats | undefined, storeUp: boolean) => Promise<void>;

export function createSnapshotRefresher(deps: AdminDeps): RefreshSnapshots {
  // The store counts evictions itself; smppd_store_evictions_total follows it by the difference.
  let lastEvictions = 0;

  return async (store, storeUp) => {
    const m = deps.metrics;
    m.storeUp.set(storeUp ? 1 : 0);
    if (store !== undefined) {
      m.storeEntries.set(store.entries);
      m.pendingDeliveries.set(store.pendingDeliveries);
      if (store.evictions > lastEvictions) m.storeEvictions.inc(store.evictions - lastEvictions);
      lastEvictions = store.evictions;
    }

    const listeners = deps.listeners();
    const names = new Set(listeners.map((l) => l.name));
    for (const l of listeners) m.connectionActive.set({ listener: l.name }, l.stats.connections);

    const bound = new Map<string, number>();
    for (const s of deps.sessions()) {
      const key = `${s.listener}\u0000${s.bindType}`;
      bound.set(key, (bound.get(key) ?? 0) + 1);
    }
    for (const listener of names) {
      for (const bindType of BIND_TYPES) {
        m.clientSessions.set({ listener, bind_type: bindType }, bound.get(`${listener}\u0000${bindType}`) ?? 0);
      }
    }

    // Series of listeners that are gone (removed by a reload).
    for (const { labels } of (await m.connectionActive.get()).values) {
      const listener = String(labels.listener);
      if (!names.has(listener)) m.connectionActive.remove({ listener });
    }
    for (const { labels } of (await m.clientSessions.get()).values) {
      const listener = String(labels.listener);
      if (!names.has(listener)) m.clientSessions.remove({ listener, bind_type: String(labels.bind_type) });
    }
  };
}
