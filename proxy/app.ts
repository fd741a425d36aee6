// Builds a running proxy from a config and its dependencies: store, clusters, router, forwarder,
// client registry and listeners, wired together. No env, argv or process handling here (main.ts
// owns those), so tests can build as many proxies in one process as they like.

import type { AddressInfo } from 'node:net';
import { createCluster, type Cluster } from './cluster/index.js';
import type { LoadResult } from './config/load.js';
import type { Config } from './config/schema.js';
import { createFeedback, type Feedback } from './feedback/feedback.js';
import { createAuthFailures, createClientThroughput } from './filter/index.js';
import { createForwarder, type Forwarder } from './forwarder/index.js';
import { createClientRegistry, createListener, type Listener, type MutableClientRegistry } from './listener/index.js';
import { compileRoutes } from './router/route-table.js';
import { createMemoryStore } from './store/memory-store.js';
import { createMessageIdGenerator } from './store/message-id.js';
import type { MessageStore } from './store/store.js';
import type { Logger } from './telemetry/logger.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';

export interface ProxyDeps {
  logger: Logger;
  /** Re-reads the config source (SIGHUP, POST /config/reload). */
  reloadConfig?: () => Promise<LoadResult>;
  /** A metrics instance to share (tests); default a new one on its own registry. */
  metrics?: Metrics;
  /** A store to use instead of the one the config names (tests). */
  store?: MessageStore;
}

export interface Proxy {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly feedback: Feedback;
  readonly store: MessageStore;
  readonly registry: MutableClientRegistry;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly listeners: readonly Listener[];
  /** Binds upstream sessions and opens the listeners. */
  start(): Promise<void>;
  /** Where each listener listens, by name (after start). */
  addresses(): Map<string, AddressInfo>;
  /** Ready: started, not draining. */
  ready(): boolean;
  /**
   * SPEC §6 drain: stop accepting, let in-flight requests finish and unbind clients (up to
   * shutdown.drain_timeout), unbind upstreams, close the store.
   */
  stop(): Promise<void>;
  /** Reload from the config source (hot reload comes with the admin/operations work). */
  reload(): Promise<{ ok: boolean; problems?: string[] }>;
}

function createStore(config: Config): MessageStore {
  if (config.store.backend !== 'memory') {
    // The Redis backend is a separate piece of work; refusing loudly beats silently running on memory.
    throw new Error(`store.backend "${config.store.backend}" is not available in this build`);
  }
  return createMemoryStore({ ttlMs: config.store.ttl, maxEntries: config.store.max_entries });
}

export function buildProxy(config: Config, deps: ProxyDeps): Proxy {
  const { logger } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const feedback = createFeedback();
  const store = deps.store ?? createStore(config);
  const registry = createClientRegistry();
  const router = compileRoutes(config.routes);

  // The forwarder needs the clusters and the clusters hand upstream deliveries to the forwarder:
  // the late-bound reference breaks the cycle (no delivery can arrive before start()).
  const late: { forwarder?: Forwarder } = {};
  const clusters = new Map<string, Cluster>();
  for (const c of config.clusters) {
    clusters.set(
      c.name,
      createCluster(c, {
        onDelivery: (d) => late.forwarder!.handleUpstreamDelivery(d),
        logger: logger.child({ cluster: c.name }),
        metrics,
        feedback,
      }),
    );
  }
  const fwd = createForwarder({
    router,
    clusters,
    store,
    registry,
    config,
    logger: logger.child({ component: 'forwarder' }),
    metrics,
    feedback,
    ids: createMessageIdGenerator(),
  });
  late.forwarder = fwd;
  registry.onReceiverBound((systemId) => fwd.onReceiverBound(systemId));

  const throughput = createClientThroughput(config.clients);
  const authFailures = createAuthFailures();
  const listeners = config.listeners.map((l) =>
    createListener(l, {
      clients: config.clients,
      registry,
      logger,
      metrics,
      handleRequest: fwd.handleRequest,
      throughput,
      authFailures,
    }),
  );

  const addresses = new Map<string, AddressInfo>();
  let started = false;
  let draining = false;

  return {
    config,
    metrics,
    feedback,
    store,
    registry,
    clusters,
    listeners,
    async start() {
      for (const cluster of clusters.values()) cluster.start();
      for (const listener of listeners) {
        const address = await listener.start();
        addresses.set(listener.name, address);
      }
      started = true;
    },
    addresses: () => new Map(addresses),
    ready: () => started && !draining,
    async stop() {
      draining = true;
      await Promise.all(listeners.map((l) => l.close()));
      await Promise.all(listeners.map((l) => l.closeSessions(config.shutdown.drain_timeout)));
      fwd.close();
      await Promise.all([...clusters.values()].map((c) => c.close()));
      await store.close();
    },
    async reload() {
      if (deps.reloadConfig === undefined) return { ok: false, problems: ['no config source to reload from'] };
      const loaded = await deps.reloadConfig();
      if (!loaded.ok) {
        logger.warn({ problems: loaded.problems }, 'config reload rejected');
        return { ok: false, problems: loaded.problems };
      }
      logger.warn({}, 'config reload is not applied yet: restart to use the new config');
      return { ok: false, problems: ['hot reload is not implemented yet'] };
    },
  };
}
