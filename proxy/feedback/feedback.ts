// Outcome and routing statistics for GET /feedback/stats (SPEC §5): per route, the clusters it chose,
// how its messages ended upstream (after retries) and how long that took from the client's submit,
// and the receipts matched to its messages; per cluster and endpoint, requests, outcomes by status,
// latency and receipt statuses (a cluster's: every receipt it sent; an endpoint's: those matched to
// a message it accepted).
//
// In memory and per replica. Entries are created on first sight of a route/cluster/endpoint name (names
// come from the config, so they are few) and found by Map lookups after that: recording a message costs
// a few Map operations and no allocation. Status and stat names can come from peers (vendor codes, free
// receipt text), so each table keeps at most MAX_NAMES distinct names and counts the rest as `other`.

import { createLatencyHistogram, type LatencyHistogram, type LatencySummary } from './latency-histogram.js';

export const MAX_NAMES = 64;
export const OTHER = 'other';

export interface FeedbackOptions {
  /** Wall clock in ms for the snapshot times; default Date.now. */
  now?: () => number;
}

export interface OutcomeSnapshot {
  requests: number;
  /** Status name (ESME_ROK, ESME_RTHROTTLED, timeout, disconnect, ...) -> count. */
  outcomes: Record<string, number>;
  latencyMs: LatencySummary;
}

export interface EndpointSnapshot extends OutcomeSnapshot {
  /** Receipt stat -> count, of receipts matched to a message this endpoint accepted. */
  receipts: Record<string, number>;
}

export interface ClusterSnapshot extends OutcomeSnapshot {
  /** Messages routed to this cluster (all routes). */
  decisions: number;
  /** Receipt stat (DELIVRD, UNDELIV, EXPIRED, ...) -> count, of every receipt the cluster sent. */
  receipts: Record<string, number>;
  endpoints: Record<string, EndpointSnapshot>;
}

export interface RouteSnapshot {
  decisions: number;
  /** Cluster name -> messages this route sent there. */
  clusters: Record<string, number>;
  /** The upstream's last answer per message (ESME_ROK, or the status it failed with after retries). */
  outcomes: Record<string, number>;
  /** From the client's submit to that answer, ms. */
  latencyMs: LatencySummary;
  /** Receipt stat -> count, of receipts matched to this route's messages. */
  receipts: Record<string, number>;
}

export interface FeedbackSnapshot {
  /** When counting started (ISO 8601). */
  since: string;
  /** When this snapshot was taken (ISO 8601). */
  at: string;
  routes: Record<string, RouteSnapshot>;
  clusters: Record<string, ClusterSnapshot>;
}

export interface Feedback {
  /**
   * A message was routed by `route` to `cluster`; with `status`, that was the upstream's last answer,
   * `latencyMs` after the client's submit (one call per message, so one lookup of the route).
   */
  recordDecision(route: string, cluster: string, status?: string, latencyMs?: number): void;
  /** An upstream request ended with `status`; latencyMs is omitted when there is no meaningful one. */
  recordOutcome(cluster: string, endpoint: string, status: string, latencyMs?: number): void;
  /** A delivery receipt with `stat` came back from `cluster`. */
  recordReceipt(cluster: string, stat: string): void;
  /** That receipt matched a message of `route` that `endpoint` of `cluster` accepted (undefined: not known). */
  recordMatchedReceipt(route: string | undefined, cluster: string, endpoint: string | undefined, stat: string): void;
  snapshot(): FeedbackSnapshot;
}

interface OutcomeEntry {
  requests: number;
  outcomes: Map<string, number>;
  latency: LatencyHistogram;
}

interface EndpointEntry extends OutcomeEntry {
  receipts: Map<string, number>;
}

interface ClusterEntry extends OutcomeEntry {
  decisions: number;
  receipts: Map<string, number>;
  endpoints: Map<string, EndpointEntry>;
}

interface RouteEntry {
  decisions: number;
  clusters: Map<string, number>;
  outcomes: Map<string, number>;
  latency: LatencyHistogram;
  receipts: Map<string, number>;
}

/** Adds one to `name`, or to `other` once the table holds MAX_NAMES names. */
function countName(table: Map<string, number>, name: string): void {
  const n = table.get(name);
  if (n !== undefined) table.set(name, n + 1);
  else if (table.size < MAX_NAMES) table.set(name, 1);
  else table.set(OTHER, (table.get(OTHER) ?? 0) + 1);
}

const newOutcomeEntry = (): OutcomeEntry => ({ requests: 0, outcomes: new Map(), latency: createLatencyHistogram() });
const newEndpointEntry = (): EndpointEntry => ({ ...newOutcomeEntry(), receipts: new Map() });

function outcomeSnapshot(e: OutcomeEntry): OutcomeSnapshot {
  return { requests: e.requests, outcomes: Object.fromEntries(e.outcomes), latencyMs: e.latency.summary() };
}

export function createFeedback(options: FeedbackOptions = {}): Feedback {
  const now = options.now ?? Date.now;
  const since = now();
  const routes = new Map<string, RouteEntry>();
  const clusters = new Map<string, ClusterEntry>();

  function routeEntry(name: string): RouteEntry {
    let e = routes.get(name);
    if (e === undefined) {
      e = { decisions: 0, clusters: new Map(), outcomes: new Map(), latency: createLatencyHistogram(), receipts: new Map() };
      routes.set(name, e);
    }
    return e;
  }

  function endpointEntry(c: ClusterEntry, name: string): EndpointEntry {
    let e = c.endpoints.get(name);
    if (e === undefined) c.endpoints.set(name, (e = newEndpointEntry()));
    return e;
  }

  function clusterEntry(name: string): ClusterEntry {
    let e = clusters.get(name);
    if (e === undefined) {
      e = { ...newOutcomeEntry(), decisions: 0, receipts: new Map(), endpoints: new Map() };
      clusters.set(name, e);
    }
    return e;
  }

  function recordOutcomeIn(e: OutcomeEntry, status: string, latencyMs: number | undefined): void {
    e.requests++;
    countName(e.outcomes, status);
    if (latencyMs !== undefined) e.latency.record(latencyMs);
  }

  return {
    recordDecision(route, cluster, status, latencyMs) {
      const r = routeEntry(route);
      r.decisions++;
      r.clusters.set(cluster, (r.clusters.get(cluster) ?? 0) + 1);
      clusterEntry(cluster).decisions++;
      if (status !== undefined) countName(r.outcomes, status);
      if (latencyMs !== undefined) r.latency.record(latencyMs);
    },
    recordOutcome(cluster, endpoint, status, latencyMs) {
      const c = clusterEntry(cluster);
      recordOutcomeIn(c, status, latencyMs);
      recordOutcomeIn(endpointEntry(c, endpoint), status, latencyMs);
    },
    recordReceipt(cluster, stat) {
      countName(clusterEntry(cluster).receipts, stat);
    },
    recordMatchedReceipt(route, cluster, endpoint, stat) {
      if (route !== undefined) countName(routeEntry(route).receipts, stat);
      if (endpoint !== undefined) countName(endpointEntry(clusterEntry(cluster), endpoint).receipts, stat);
    },
    snapshot() {
      const routeSnap: Record<string, RouteSnapshot> = {};
      for (const [name, r] of routes) {
        routeSnap[name] = {
          decisions: r.decisions,
          clusters: Object.fromEntries(r.clusters),
          outcomes: Object.fromEntries(r.outcomes),
          latencyMs: r.latency.summary(),
          receipts: Object.fromEntries(r.receipts),
        };
      }
      const clusterSnap: Record<string, ClusterSnapshot> = {};
      for (const [name, c] of clusters) {
        const endpoints: Record<string, EndpointSnapshot> = {};
        for (const [ep, e] of c.endpoints) endpoints[ep] = { ...outcomeSnapshot(e), receipts: Object.fromEntries(e.receipts) };
        clusterSnap[name] = {
          decisions: c.decisions,
          ...outcomeSnapshot(c),
          receipts: Object.fromEntries(c.receipts),
          endpoints,
        };
      }
      return {
        since: new Date(since).toISOString(),
        at: new Date(now()).toISOString(),
        routes: routeSnap,
        clusters: clusterSnap,
      };
    },
  };
}
