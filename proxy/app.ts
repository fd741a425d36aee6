// Builds a running proxy from a config and its dependencies: store, clusters, router, forwarder,
// client registry and listeners, wired together. No env, argv or process handling here (main.ts
// owns those), so tests can build as many proxies in one process as they like.
//
// Hot reload (issue 4, SPEC §3, §6): reload() loads the config source, diffs it against the running
// config (config/diff.ts) and applies the difference in place, one reload at a time:
//   - clusters added start; changed ones update in place (Cluster.update: sessions re-bound only
//     where an endpoint's address or credentials changed); mock <-> endpoints is a new cluster;
//   - the forwarder swaps its route table and policies in one synchronous step, after new clusters
//     are in the map and before removed ones leave it, so no request routes to a missing cluster;
//   - clusters removed retire: no new requests, the ones they hold are answered, then unbind;
//   - clients removed lose their sessions (drained: answers first, then unbind), others stay bound;
//   - listeners removed stop accepting and drain their sessions; added ones open; changed ones
//     update in place (limits, filters; a new address re-opens only the accept socket).
// A config that fails validation changes nothing: the result lists the problems (HTTP 400), a warn
// line is logged and smppd_config_reloads_total{result="failure"} counts it.
//
// Shutdown (stop, SPEC §6): not ready at once; listeners stop accepting; every session is drained
// (requests in flight answered, then unbind) up to shutdown.drain_timeout; upstream sessions unbind;
// the store is closed (pending writes flushed).

import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createCluster, type Cluster } from './cluster/index.js';
import { appliedConfig, diffConfig, sameValue } from './config/diff.js';
import type { LoadResult } from './config/load.js';
import type { ClusterConfig, Config, ListenerConfig, LogLevel } from './config/schema.js';
import { createFeedback, type Feedback } from './feedback/feedback.js';
import { createAuthFailures, createClientThroughput } from './filter/index.js';
import { createForwarder } from './forwarder/index.js';
import { createClientRegistry, createListener, type Listener, type MutableClientRegistry } from './listener/index.js';
import { createRebalancer } from './listener/rebalance.js';
import { compileRoutes } from './router/route-table.js';
import { createMemoryStore } from './store/memory-store.js';
import { createRedisStoreFromConfig } from './store/redis-store.js';
import { createFleet } from './app-fleet.js';
import { createMessageIdGenerator } from './store/message-id.js';
import type { MessageStore } from './store/store.js';
import { systemTimers } from './session/index.js';
import type { Logger } from './telemetry/logger.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';

export interface ProxyDeps {
  logger: Logger;
  /** Re-reads the config source (SIGHUP, POST /config/reload, a changed file). */
  reloadConfig?: () => Promise<LoadResult>;
  /** A metrics instance to share (tests); default a new one on its own registry. */
  metrics?: Metrics;
  /** A store to use instead of the one the config names (tests). */
  store?: MessageStore;
  /** A reload changed log.level (main.ts sets the logger's level unless --log-level fixed it). */
  setLogLevel?: (level: LogLevel) => void;
}

/** The outcome of a reload: the body of POST /config/reload (200 when ok, else 400). */
export interface ReloadResult {
  ok: boolean;
  /** What the new config changed, one line each; empty when nothing did (or ok is false). */
  changes: string[];
  /** Why the config was refused, as `path: message` lines; nothing was changed then. */
  problems: string[];
  /** Applied, but: parts that need a restart, a listener that could not listen, config warnings. */
  warnings: string[];
}

export interface Proxy {
  /** The running config: the last one applied (parts needing a restart keep their running values). */
  readonly config: Config;
  readonly metrics: Metrics;
  readonly feedback: Feedback;
  readonly store: MessageStore;
  readonly registry: MutableClientRegistry;
  /** The clusters in the running config (a reload adds and removes entries). */
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** The listeners in the running config. */
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
  /** Reloads from the config source and applies what changed (see the top of this file). One at a time. */
  reload(): Promise<ReloadResult>;
}

function createStore(config: Config, logger: Logger, metrics: Metrics): MessageStore {
  if (config.store.backend === 'redis') {
    // Shared by the replicas (issue 5). While Redis is away: readiness 503 (store.healthy), submits
    // answered ESME_RMSGQFUL, upstream receipts ESME_RX_T_APPN; it reconnects by itself.
    return createRedisStoreFromConfig(config.store, {
      clock: systemTimers.now,
      onHealthChange: (healthy, err) => {
        if (healthy) logger.info({}, 'store available (redis)');
        // err says why: Redis unreachable, or its key prefix used by another layout or store.ttl.
        else logger.error({ err }, 'store unavailable (redis): not ready, submits answered ESME_RMSGQFUL');
      },
      onCall: (operations, seconds, ok) => metrics.storeCall(operations, seconds, ok),
      onCallbackError: (err) => logger.error({ err }, 'store result handler failed (a bug)'),
    });
  }
  return createMemoryStore({ ttlMs: config.store.ttl, maxEntries: config.store.max_entries, clock: systemTimers.now });
}

const refused = (problems: string[]): ReloadResult => ({ ok: false, changes: [], problems, warnings: [] });

/** How long a reload waits for the clusters it adds to bind before routing to them anyway. */
const NEW_CLUSTER_WAIT_MS = 2_000;
const AVAILABLE_POLL_MS = 10;

/** Resolves when every cluster can take traffic, or after `ms`. Polls: a reload is rare. */
async function untilAvailable(list: readonly Cluster[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (list.some((c) => !c.available()) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, AVAILABLE_POLL_MS));
  }
}

export function buildProxy(initialConfig: Config, deps: ProxyDeps): Proxy {
  const { logger } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const feedback = createFeedback();
  const store = deps.store ?? createStore(initialConfig, logger, metrics);
  // store.backend: redis — throughput and max_binds of clusters and clients hold for the whole fleet.
  const fleet = createFleet(initialConfig.store, logger.child({ component: 'fleet' }));
  const registry = createClientRegistry();
  let config = initialConfig;
  let router = compileRoutes(config.routes);
  // rebalance: moves client binds to replicas that hold fewer (listener/rebalance.ts). Needs the
  // fleet's Redis; whether it acts is read from the running config at each tick.
  const rebalancer =
    fleet === undefined
      ? undefined
      : createRebalancer({
          // Unique even where pods share a hostname (host networking) or every pid is 1.
          replica: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
          fleet: fleet.sessions,
          sessions: () => registry.sessions(),
          config: () => config.rebalance,
          timers: systemTimers,
          logger: logger.child({ component: 'rebalance' }),
          onMove: (s) => metrics.rebalanceUnbinds.inc({ listener: s.listener }),
        });

  // The forwarder looks clusters up in this map per request; the clusters hand upstream deliveries
  // to the forwarder. It is built first and the map filled after (no delivery before start()).
  const clusters = new Map<string, Cluster>();
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
  const makeCluster = (c: ClusterConfig): Cluster =>
    createCluster(c, {
      onDelivery: (d) => fwd.handleUpstreamDelivery(d),
      logger: logger.child({ cluster: c.name }),
      metrics,
      feedback,
      fleet: fleet?.clusters,
    });
  for (const c of config.clusters) clusters.set(c.name, makeCluster(c));
  registry.onReceiverBound((systemId) => fwd.onReceiverBound(systemId));

  const throughput = fleet?.clientThroughput(config.clients) ?? createClientThroughput(config.clients);
  const authFailures = createAuthFailures();
  const makeListener = (l: ListenerConfig, clients: Config['clients']): Listener =>
    createListener(l, {
      clients,
      registry,
      logger,
      metrics,
      handleRequest: fwd.handleRequestWith,
      throughput,
      authFailures,
      clientSlots: fleet?.clientSlots,
    });
  let listeners: Listener[] = config.listeners.map((l) => makeListener(l, config.clients));

  const addresses = new Map<string, AddressInfo>();
  let started = false;
  let draining = false;
  /** Work a reload left running: clusters and endpoints retiring, sessions of removed clients or listeners draining. */
  const background = new Set<Promise<unknown>>();
  /** Clusters that left the config and are finishing their requests (stop() closes them at once). */
  const retiring = new Set<Cluster>();
  /** Reloads run one after the other. */
  let reloads: Promise<unknown> = Promise.resolve();

  function track(what: string, work: Promise<unknown>): void {
    const p = work.catch((err: unknown) => logger.error({ err, what }, 'reload clean-up failed'));
    background.add(p);
    void p.finally(() => background.delete(p));
  }

  function retireCluster(cluster: Cluster): void {
    retiring.add(cluster);
    const done = cluster
      .retire()
      .finally(() => retiring.delete(cluster))
      .then(() => {
        // Its endpoints' series, unless a cluster of that name is back (it shares them).
        if (clusters.has(cluster.name)) return;
        for (const ep of cluster.health().endpoints) metrics.endpointMetrics(cluster.name, ep.name).remove();
      });
    track(`cluster ${cluster.name}`, done);
  }

  async function apply(next: Config, loadWarnings: readonly string[]): Promise<ReloadResult> {
    const diff = diffConfig(config, next);
    let target = appliedConfig(config, next);
    const warnings = [...loadWarnings, ...diff.warnings];
    const clusterConfig = new Map(target.clusters.map((c) => [c.name, c]));

    // Upstream first: the new route table may name the clusters added here. Routes move to them
    // once they are bound (or after a short wait): meanwhile traffic keeps its working routes.
    const fresh: Cluster[] = [];
    for (const name of [...diff.clusters.added, ...diff.clusters.replaced]) {
      const cluster = makeCluster(clusterConfig.get(name)!);
      fresh.push(cluster);
      if (started) cluster.start();
    }
    if (started) {
      await untilAvailable(fresh, NEW_CLUSTER_WAIT_MS);
      for (const c of fresh) {
        if (c.available()) continue;
        // Routed to anyway (the config says so): until it binds, its messages go to the route's
        // fallback clusters, or are answered ESME_RSYSERR.
        warnings.push(`cluster ${c.name}: not bound ${NEW_CLUSTER_WAIT_MS} ms after the reload; its routes use it already`);
      }
    }
    for (const cluster of fresh) {
      const old = clusters.get(cluster.name);
      clusters.set(cluster.name, cluster);
      if (old !== undefined) retireCluster(old);
    }
    for (const change of diff.clusters.changed) {
      const cluster = clusters.get(change.name);
      if (cluster !== undefined) track(`cluster ${change.name}`, cluster.update(clusterConfig.get(change.name)!));
    }
    // One synchronous swap of routes and policies; then the removed clusters leave the map.
    if (diff.routes.changed) router = compileRoutes(target.routes);
    fwd.update({ router, config: target });
    for (const name of diff.clusters.removed) {
      const cluster = clusters.get(name);
      clusters.delete(name);
      if (cluster !== undefined) retireCluster(cluster);
    }

    // Client side.
    const clientsChanged = diff.clients.added.length + diff.clients.removed.length + diff.clients.changed.length > 0;
    if (clientsChanged) {
      for (const l of listeners) track(`listener ${l.name} clients`, l.updateClients(target.clients));
    }
    const removed = new Set(diff.listeners.removed);
    for (const l of listeners.filter((x) => removed.has(x.name))) {
      addresses.delete(l.name);
      track(`listener ${l.name}`, l.close().then(() => l.closeSessions(target.shutdown.drain_timeout)));
    }
    listeners = listeners.filter((x) => !removed.has(x.name));
    const failed = new Set<string>();
    for (const change of diff.listeners.changed) {
      const l = listeners.find((x) => x.name === change.name);
      const cfg = target.listeners.find((x) => x.name === change.name);
      if (l === undefined || cfg === undefined) continue;
      try {
        const address = await l.update(cfg);
        if (address !== undefined) addresses.set(l.name, address);
      } catch (err) {
        warnings.push(`listener ${l.name}: cannot listen on ${cfg.address} (${errorCode(err)}); still on the old address`);
      }
    }
    for (const name of diff.listeners.added) {
      const cfg = target.listeners.find((x) => x.name === name)!;
      const l = makeListener(cfg, target.clients);
      if (started) {
        try {
          addresses.set(name, await l.start());
        } catch (err) {
          failed.add(name);
          warnings.push(`listener ${name}: cannot listen on ${cfg.address} (${errorCode(err)}); not added`);
          continue;
        }
      }
      listeners.push(l);
    }
    // What runs is what the listeners took (a failed re-open keeps its old address), so the next
    // reload tries again what did not work this time.
    target = {
      ...target,
      listeners: target.listeners
        .filter((x) => !failed.has(x.name))
        .map((x) => listeners.find((l) => l.name === x.name)?.config ?? x),
    };
    const position = new Map(target.listeners.map((x, i) => [x.name, i]));
    listeners.sort((a, b) => position.get(a.name)! - position.get(b.name)!);

    if (!sameValue(config.rebalance, target.rebalance)) {
      if (rebalancer !== undefined) rebalancer.reconfigured();
      else if (target.rebalance.enabled) warnings.push('rebalance: needs the Redis store, which a restart brings (store changes wait for one)');
    }
    if (diff.log.level !== undefined) {
      if (deps.setLogLevel !== undefined) deps.setLogLevel(diff.log.level.to);
      else warnings.push('log.level: kept (the command line sets it)');
    }
    config = target;
    metrics.configReloads.inc({ result: 'success' });
    logger.info({ changes: diff.summary, warnings }, diff.empty ? 'config reloaded, nothing changed' : 'config reloaded');
    return { ok: true, changes: diff.summary, problems: [], warnings };
  }

  async function reloadOnce(): Promise<ReloadResult> {
    if (draining) return refused(['the proxy is shutting down']);
    if (deps.reloadConfig === undefined) return refused(['no config source to reload from']);
    let loaded: LoadResult;
    try {
      loaded = await deps.reloadConfig();
    } catch (err) {
      loaded = { ok: false, problems: [`cannot load the config: ${(err as Error).message}`] };
    }
    if (!loaded.ok) {
      metrics.configReloads.inc({ result: 'failure' });
      logger.warn({ problems: loaded.problems }, 'config reload rejected, the running config is kept');
      return refused(loaded.problems);
    }
    if (draining) return refused(['the proxy is shutting down']);
    return apply(loaded.config, loaded.warnings);
  }

  return {
    get config() {
      return config;
    },
    metrics,
    feedback,
    store,
    registry,
    clusters,
    get listeners() {
      return listeners;
    },
    async start() {
      started = true;
      for (const cluster of clusters.values()) cluster.start();
      for (const listener of listeners) {
        const address = await listener.start();
        addresses.set(listener.name, address);
      }
      rebalancer?.start();
    },
    addresses: () => new Map(addresses),
    ready: () => started && !draining && listeners.length === addresses.size,
    async stop() {
      draining = true;
      await rebalancer?.stop();
      // A reload in progress finishes first (it may be opening a listener); later ones are refused.
      await reloads;
      const drainMs = config.shutdown.drain_timeout;
      await Promise.all(listeners.map((l) => l.close()));
      await Promise.all(listeners.map((l) => l.closeSessions(drainMs)));
      fwd.close();
      await Promise.all([...clusters.values(), ...retiring].map((c) => c.close()));
      await Promise.all(background);
      await store.close();
      await fleet?.close();
    },
    reload() {
      const run = reloads.then(reloadOnce);
      reloads = run.catch(() => undefined);
      return run;
    },
  };
}

function errorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}
