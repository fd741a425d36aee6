// GET /stats (SPEC §5): the counters an operator looks at first, as one JSON document. Assembled from
// the proxy's metrics (the same numbers /metrics shows), the listeners, the clusters' health and the
// store, so it never disagrees with Prometheus. All figures are for this replica since it started,
// except the store's, which are the store's own (shared by replicas with Redis).

import type { ListenerStats } from '../listener/index.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { AdminDeps } from './types.js';

export interface AdminStats {
  /** When the figures were read (ISO 8601). */
  at: string;
  sessions: {
    /** Open client TCP connections, all listeners (smppd_connection_active). */
    connections: number;
    /** Bound client sessions, all listeners. */
    bound: number;
    /** Bound client sessions by bind type (transmitter, receiver, transceiver). */
    byBindType: Record<string, number>;
    /** Per listener: open connections, bound sessions, connections refused at accept by reason. */
    listeners: Record<string, ListenerStats>;
    /** Upstream sessions bound, and how many the config asks for (`binds` of every endpoint). */
    upstream: { bound: number; configured: number };
  };
  submits: {
    /** submit_sm, data_sm and submit_multi received from clients (smppd_messages_submitted_total). */
    received: number;
    /** Answered ESME_ROK: accepted upstream (smppd_messages_delivered_total). */
    accepted: number;
    /** Answered with an error status (smppd_messages_failed_total). */
    failed: number;
  };
  /** Submit responses sent to clients, by command_status name (smppd_submit_responses_total). */
  responses: Record<string, number>;
  receipts: {
    /** Delivery receipts received from upstreams (smppd_dlr_received_total). */
    received: number;
    /** By receipt stat (DELIVRD, UNDELIV, EXPIRED, ...). */
    byStatus: Record<string, number>;
    /** By cluster they came from. */
    byCluster: Record<string, number>;
    /** Receipts with no message id to match on, dropped (smppd_dlr_unmatched_total). */
    unmatched: number;
    /** Receipts that arrived before their submit response and were held (smppd_dlr_orphan_held_total). */
    heldBeforeResponse: number;
    /**
     * Held receipts whose message never came within the orphan ttl: unknown receipts
     * (smppd_dlr_orphan_expired_total).
     */
    expiredUnmatched: number;
  };
  /** Mobile-originated messages received from upstreams (smppd_mo_received_total). */
  mo: { received: number };
  retries: {
    /** Upstream submits retried (smppd_retries_total). */
    total: number;
    /** By reason (a status name, timeout, disconnect, ...). */
    byReason: Record<string, number>;
  };
  queues: {
    /** Requests written upstream and not answered yet, all clusters. */
    upstreamInFlight: number;
    /** Requests waiting for an upstream window slot or the cluster's throughput, all clusters. */
    upstreamQueued: number;
    /** Per cluster: in flight and queued. */
    clusters: Record<string, { inFlight: number; queued: number }>;
    /** Receipts and MO kept for clients with no receiver bound (store); null when the store did not answer. */
    pendingDeliveries: number | null;
    /** Receipts held for a submit response that has not come yet (store); null when the store did not answer. */
    orphanReceipts: number | null;
  };
}

type AnyMetric = {
  get(): Promise<{ values: readonly { value: number; labels: Partial<Record<string, string | number>> }[] }>;
};

/** Sum of a counter's values, and the same split by one label. */
async function tally(metric: AnyMetric, label?: string): Promise<{ total: number; by: Record<string, number> }> {
  const { values } = await metric.get();
  let total = 0;
  const by: Record<string, number> = {};
  for (const { value, labels } of values) {
    total += value;
    if (label === undefined) continue;
    const key = String(labels[label] ?? '');
    by[key] = (by[key] ?? 0) + value;
  }
  return { total, by };
}

export async function collectStats(deps: AdminDeps, storeStats: { pendingDeliveries: number; orphans: number } | undefined): Promise<AdminStats> {
  const m: Metrics = deps.metrics;
  const listeners: Record<string, ListenerStats> = {};
  let connections = 0;
  for (const l of deps.listeners()) {
    listeners[l.name] = l.stats;
    connections += l.stats.connections;
  }
  const sessions = deps.sessions();
  const byBindType: Record<string, number> = {};
  for (const s of sessions) byBindType[s.bindType] = (byBindType[s.bindType] ?? 0) + 1;

  let upstreamBound = 0;
  let upstreamConfigured = 0;
  let inFlight = 0;
  let queued = 0;
  const clusterQueues: Record<string, { inFlight: number; queued: number }> = {};
  for (const c of deps.clusters()) {
    const q = { inFlight: 0, queued: 0 };
    for (const ep of c.endpoints) {
      upstreamBound += ep.sessions;
      upstreamConfigured += ep.binds;
      q.inFlight += ep.inFlight;
      q.queued += ep.queued;
    }
    clusterQueues[c.name] = q;
    inFlight += q.inFlight;
    queued += q.queued;
  }

  const [submitted, delivered, failed, responses, dlrByStatus, dlrByCluster, unmatched, held, expiredUnmatched, mo, retries] =
    await Promise.all([
      tally(m.messagesSubmitted),
      tally(m.messagesDelivered),
      tally(m.messagesFailed),
      tally(m.submitResponses, 'status'),
      tally(m.dlrReceived, 'status'),
      tally(m.dlrReceived, 'cluster'),
      tally(m.dlrUnmatched),
      tally(m.dlrOrphanHeld),
      tally(m.dlrOrphanExpired),
      tally(m.moReceived),
      tally(m.retries, 'reason'),
    ]);

  return {
    at: new Date().toISOString(),
    sessions: {
      connections,
      bound: sessions.length,
      byBindType,
      listeners,
      upstream: { bound: upstreamBound, configured: upstreamConfigured },
    },
    submits: { received: submitted.total, accepted: delivered.total, failed: failed.total },
    responses: responses.by,
    receipts: {
      received: dlrByStatus.total,
      byStatus: dlrByStatus.by,
      byCluster: dlrByCluster.by,
      unmatched: unmatched.total,
      heldBeforeResponse: held.total,
      expiredUnmatched: expiredUnmatched.total,
    },
    mo: { received: mo.total },
    retries: { total: retries.total, byReason: retries.by },
    queues: {
      upstreamInFlight: inFlight,
      upstreamQueued: queued,
      clusters: clusterQueues,
      pendingDeliveries: storeStats?.pendingDeliveries ?? null,
      orphanReceipts: storeStats?.orphans ?? null,
    },
  };
}
