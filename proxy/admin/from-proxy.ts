// AdminDeps from a running Proxy (app.ts). Every getter reads the proxy's current state, so a reload
// that replaces the config, the listeners or the clusters shows through without rebuilding the API.

import type { AddressInfo } from 'node:net';
import type { Proxy } from '../app.js';
import type { MessageStore } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import type { AdminDeps, AdminStore } from './types.js';

const formatAddress = (a: AddressInfo): string => (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);

export function adminDepsFromProxy(proxy: Proxy, logger: Logger): AdminDeps {
  return {
    ready: () => proxy.ready(),
    config: () => proxy.config,
    reload: () => proxy.reload(),
    listeners: () => {
      const addresses = proxy.addresses();
      return proxy.listeners.map((l) => {
        const address = addresses.get(l.name);
        return { name: l.name, address: address === undefined ? undefined : formatAddress(address), stats: l.stats() };
      });
    },
    clusters: () => [...proxy.clusters.values()].map((c) => c.health()),
    sessions: () => proxy.registry.sessions(),
    metrics: proxy.metrics,
    // Read through the proxy each time: a reload may swap the store (memory <-> redis).
    store: {
      stats: () => proxy.store.stats(),
      healthy: () => {
        const s = proxy.store as MessageStore & Partial<Pick<AdminStore, 'healthy'>>;
        return s.healthy === undefined ? true : s.healthy();
      },
      problem: () => {
        const s = proxy.store as MessageStore & Partial<Pick<AdminStore, 'problem'>>;
        return s.problem?.();
      },
    },
    feedback: { snapshot: () => proxy.feedback.snapshot() },
    logger,
  };
}
