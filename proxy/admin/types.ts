// What the admin API needs from the rest of smppd (STYLE rule 9: built from its dependencies).
// Every getter is called per request, so after a reload the admin API shows the new config, the new
// listeners and the new clusters without being rebuilt. `adminDepsFromProxy` (from-proxy.ts) makes
// these from a running Proxy; tests may replace any of them.

import type { ClusterHealth } from '../cluster/index.js';
import type { Config } from '../config/schema.js';
import type { FeedbackSnapshot } from '../feedback/feedback.js';
import type { ListenerStats } from '../listener/index.js';
import type { StoreStats } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';

export interface AdminListenerView {
  name: string;
  /** `host:port` it listens on (after start). */
  address?: string | undefined;
  stats: ListenerStats;
}

export interface AdminSessionView {
  id: string;
  systemId: string;
  listener: string;
  bindType: string;
  remoteAddress: string;
  /** Epoch ms. */
  boundAt: number;
  /** Drains the session, then unbinds it (POST /sessions/:id/unbind). */
  unbind(): void;
}

/** The store as the admin API sees it. `healthy` is optional: a backend without one counts as
 *  reachable (the memory store always is). */
export interface AdminStore {
  stats(): Promise<StoreStats>;
  healthy?(): boolean | Promise<boolean>;
  /** Why the store is not healthy, for /readyz and /healthz (never a secret). */
  problem?(): string | undefined;
}

/** The outcome of a reload (SIGHUP, POST /config/reload, a changed file). */
export interface ReloadOutcome {
  ok: boolean;
  /** What the new config changed (shape owned by the reload code; shown as given). */
  changes?: unknown;
  /** Why the config was refused, as `path: message` lines. */
  problems?: readonly string[];
  warnings?: readonly string[];
}

export interface AdminDeps {
  /** Started, listeners accepting, not draining (SPEC §6: false from the first moment of a drain). */
  ready(): boolean;
  /** The running config (the new one after a successful reload). */
  config(): Config;
  /** Re-reads the config source and applies it, or reports why not (nothing changed then). */
  reload(): Promise<ReloadOutcome>;
  listeners(): readonly AdminListenerView[];
  clusters(): readonly ClusterHealth[];
  /** Bound client sessions (this replica). */
  sessions(): readonly AdminSessionView[];
  /** The proxy's own metrics (its own Registry). */
  metrics: Metrics;
  store: AdminStore;
  feedback: { snapshot(): FeedbackSnapshot };
  logger: Logger;
  /** How long /readyz and /healthz wait for the store's answer (default 2 s). */
  storeTimeoutMs?: number;
}
