// Metric definitions (SPEC §5 `GET /metrics`), registered in a Registry of their own: never prom-client's
// default one (STYLE rule 9), so two instances in one process (tests, a reload) never clash.
//
// Label values are bounded sets: names from the config (listener, cluster, endpoint, route), states and
// results from our own code, and status/stat names that arrive from peers but pass through a cap
// (boundedChildren below). Never a message id, phone number, system_id or address: each distinct value
// is a time series kept forever by Prometheus.
//
// Per-message cost: endpointMetrics() and clusterMetrics() hand out series bound to labels known at
// setup, and the per-message counters and latency histograms are batched (batched.ts): the submit
// and receipt paths are an addition per update, no label hashing, nothing allocated.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CircuitState } from '../cluster/circuit-breaker.js';
import { BatchedSeries, LatencyHistogram, type BatchedCounter, type HistogramSeries } from './batched.js';

/** Seconds; from 1 ms (an SMSC on the same host) to 30 s (beyond any sane response timeout). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Seconds, for the store's Redis calls: from 0.1 ms (Redis on the same host) to 2.5 s. */
export const STORE_CALL_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** smppd_circuit_state values. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, half_open: 1, open: 2 };

/** Distinct peer-supplied values (command_status names, receipt stats) kept per series family;
 *  the rest are counted as `other`. ~55 SMPP 3.4 status names fit, with room for vendor codes. */
export const MAX_PEER_LABEL_VALUES = 100;
export const OTHER_LABEL = 'other';

export interface MetricsOptions {
  /** Node process metrics (CPU, heap, event loop lag, GC); default true. */
  defaultMetrics?: boolean;
}

/** Children for one upstream endpoint, bound at setup (see the top of this file). */
export interface EndpointMetrics {
  /** smppd_endpoint_requests_total: one per request sent to the endpoint. */
  readonly requests: BatchedCounter;
  /** smppd_endpoint_latency_seconds: observe(seconds) per response received. */
  readonly latency: HistogramSeries;
  /** smppd_window_used: outstanding requests over all the endpoint's sessions. */
  readonly windowUsed: Gauge.Internal<string>;
  /** smppd_upstream_sessions: how many of the endpoint's sessions are in `state` (e.g. bound, connecting). */
  sessions(state: string, count: number): void;
  /** Circuit moved to `to`: sets smppd_circuit_state and counts smppd_circuit_transitions_total. */
  circuit(to: CircuitState): void;
  /** smppd_endpoint_throttle_pauses_total: sending paused after the SMSC answered "throttled" (throttle_pause). */
  throttlePause(): void;
  /** The endpoint left the config: drop its series so stale gauges do not linger. */
  remove(): void;
}

/** Children for one cluster, bound at setup. */
export interface ClusterMetrics {
  /** smppd_dlr_received_total{cluster,status}: one receipt with its `stat` value (DELIVRD, UNDELIV, ...). */
  receipt(stat: string): void;
  /** smppd_dlr_unmatched_total: a receipt with no message id to match on. */
  readonly dlrUnmatched: BatchedCounter;
}

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(options: MetricsOptions = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  /** The batched series of each counter, flushed by its collect() (batched.ts). */
  const batchedOf = new Map<Counter<string>, BatchedSeries>();

  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) => {
    const series = new BatchedSeries();
    const c = new Counter<L>({
      name,
      help,
      labelNames,
      registers,
      collect() {
        series.flush();
      },
    });
    batchedOf.set(c as Counter<string>, series);
    return c;
  };
  const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers });
  const latencyHistogram = (name: string, help: string, labelNames: readonly string[] = [], buckets = LATENCY_BUCKETS) =>
    new LatencyHistogram(name, help, labelNames, buckets, registry);
  /** A batched series of `c` (its child for `labels`, or the counter itself), counted on its next collect. */
  const batched = <L extends string>(c: Counter<L>, labels?: Partial<Record<L, string>>): BatchedCounter =>
    batchedOf.get(c as Counter<string>)!.add(labels === undefined ? c : c.labels(labels));

  const m = {
    // Messages (SPEC §5).
    messagesSubmitted: counter('smppd_messages_submitted_total', 'submit_sm accepted from clients'),
    messagesDelivered: counter('smppd_messages_delivered_total', 'Messages accepted by an upstream SMSC (ESME_ROK)'),
    messagesFailed: counter('smppd_messages_failed_total', 'Messages answered to the client with an error status'),
    submitResponses: counter('smppd_submit_responses_total', 'submit_sm_resp sent to clients, by command_status name', ['status']),
    requestLatency: latencyHistogram('smppd_request_latency_seconds', 'Client submit_sm to submit_sm_resp, end to end').labels(),
    retries: counter('smppd_retries_total', 'Submits retried, by reason', ['cluster', 'reason']),
    routingDecisions: counter('smppd_routing_decisions_total', 'Messages routed, by route and chosen cluster', ['route', 'cluster']),
    moReceived: counter('smppd_mo_received_total', 'Mobile-originated deliver_sm received from upstream'),

    // Receipts.
    dlrReceived: counter('smppd_dlr_received_total', 'Delivery receipts received, by cluster and stat', ['cluster', 'status']),
    dlrUnmatched: counter('smppd_dlr_unmatched_total', 'Receipts with no message id to match on, dropped', ['cluster']),
    dlrOrphanHeld: counter('smppd_dlr_orphan_held_total', 'Receipts that matched no message yet (before its submit response) and were held'),
    dlrOrphanExpired: counter(
      'smppd_dlr_orphan_expired_total',
      'Held receipts whose message never came within the orphan ttl: unknown receipts (with a shared store, each counted by one replica)',
    ),
    dlrOrphanReclaimed: counter(
      'smppd_dlr_orphan_reclaimed_total',
      'Held receipts another replica took for its message and did not acknowledge in time (it died), delivered here: possible duplicates',
    ),
    pendingDeliveries: gauge('smppd_pending_deliveries', 'Receipts and MO waiting for a client to bind'),
    deliveriesRedelivered: counter(
      'smppd_deliveries_redelivered_total',
      'Kept receipts and MO sent to a client after an earlier claim (lease run out, replica died, failed attempt): possible duplicates',
    ),

    // Client side.
    connectionActive: gauge('smppd_connection_active', 'Open client TCP connections', ['listener']),
    clientSessions: gauge('smppd_client_sessions', 'Bound client sessions', ['listener', 'bind_type']),
    bindAttempts: counter('smppd_bind_attempts_total', 'Client bind attempts, by result', ['listener', 'result']),
    rebalanceUnbinds: counter(
      'smppd_rebalance_unbinds_total',
      'Client sessions unbound to move them to a replica holding fewer (config rebalance)',
      ['listener'],
    ),
    connectionsRefused: counter('smppd_connections_refused_total', 'Client connections refused at accept, by reason (firewall, max_connections)', [
      'listener',
      'reason',
    ]),

    // Upstream side.
    endpointRequests: counter('smppd_endpoint_requests_total', 'Requests sent to an upstream endpoint', ['cluster', 'endpoint']),
    endpointLatency: latencyHistogram('smppd_endpoint_latency_seconds', 'Upstream request to response', ['cluster', 'endpoint']),
    upstreamSessions: gauge('smppd_upstream_sessions', 'Upstream sessions, by state', ['cluster', 'endpoint', 'state']),
    windowUsed: gauge('smppd_window_used', 'Outstanding upstream requests', ['cluster', 'endpoint']),
    throttlePauses: counter(
      'smppd_endpoint_throttle_pauses_total',
      'Times sending to an endpoint was paused because it answered ESME_RTHROTTLED (cluster throttle_pause)',
      ['cluster', 'endpoint'],
    ),
    circuitState: gauge('smppd_circuit_state', 'Circuit breaker: 0 closed, 1 half-open, 2 open', ['cluster', 'endpoint']),
    circuitTransitions: counter('smppd_circuit_transitions_total', 'Circuit breaker transitions', [
      'cluster',
      'endpoint',
      'to',
    ]),

    // Store and config.
    storeEntries: gauge('smppd_store_entries', 'Message records in the store'),
    storeEvictions: counter('smppd_store_evictions_total', 'Records evicted before their ttl because the store was full'),
    storeUp: gauge('smppd_store_up', '1 while the message store is usable, 0 while not (store.backend redis: Redis unreachable)'),
    storeCallLatency: latencyHistogram(
      'smppd_store_call_seconds',
      'Round trip of each call to Redis (store.backend redis); one call carries the store operations of one event-loop turn',
      [],
      STORE_CALL_BUCKETS,
    ).labels(),
    storeOperations: counter('smppd_store_operations_total', 'Store operations sent to Redis, by result (ok, error)', ['result']),
    configReloads: counter('smppd_config_reloads_total', 'Config reloads, by result', ['result']),
  };

  const submitResponseChild = boundedChildren((status) => batched(m.submitResponses, { status }));
  const endpoints = new Map<string, EndpointMetrics>();
  const clusters = new Map<string, ClusterMetrics>();
  const decisions = new Map<string, BatchedCounter>();

  function endpointMetrics(cluster: string, endpoint: string): EndpointMetrics {
    const key = `${cluster}\u0000${endpoint}`;
    const cached = endpoints.get(key);
    if (cached) return cached;
    const labels = { cluster, endpoint };
    const circuitState = m.circuitState.labels(labels);
    circuitState.set(CIRCUIT_STATE_VALUE.closed);
    const sessionStates = new Set<string>();
    const requests = batched(m.endpointRequests, labels);
    const em: EndpointMetrics = {
      requests,
      latency: m.endpointLatency.labels(cluster, endpoint),
      windowUsed: m.windowUsed.labels(labels),
      sessions(state, count) {
        sessionStates.add(state);
        m.upstreamSessions.set({ cluster, endpoint, state }, count);
      },
      circuit(to) {
        circuitState.set(CIRCUIT_STATE_VALUE[to]);
        m.circuitTransitions.inc({ cluster, endpoint, to });
      },
      throttlePause() {
        m.throttlePauses.inc(labels);
      },
      remove() {
        endpoints.delete(key);
        batchedOf.get(m.endpointRequests)!.drop(requests);
        m.endpointRequests.remove(labels);
        m.endpointLatency.remove(cluster, endpoint);
        m.windowUsed.remove(labels);
        m.circuitState.remove(labels);
        m.throttlePauses.remove(labels);
        for (const to of Object.keys(CIRCUIT_STATE_VALUE)) m.circuitTransitions.remove({ cluster, endpoint, to });
        for (const state of sessionStates) m.upstreamSessions.remove({ cluster, endpoint, state });
      },
    };
    endpoints.set(key, em);
    return em;
  }

  function clusterMetrics(cluster: string): ClusterMetrics {
    const cached = clusters.get(cluster);
    if (cached) return cached;
    const receiptChild = boundedChildren((status) => batched(m.dlrReceived, { cluster, status }));
    const cm: ClusterMetrics = {
      receipt: (stat) => receiptChild(stat).inc(),
      dlrUnmatched: batched(m.dlrUnmatched, { cluster }),
    };
    clusters.set(cluster, cm);
    return cm;
  }

  const storeOperationsOk = batched(m.storeOperations, { result: 'ok' });
  const storeOperationsFailed = batched(m.storeOperations, { result: 'error' });

  return {
    registry,
    ...m,
    /** One call to Redis (RedisStoreOptions.onCall): smppd_store_call_seconds and smppd_store_operations_total. */
    storeCall(operations: number, seconds: number, ok: boolean): void {
      m.storeCallLatency.observe(seconds);
      (ok ? storeOperationsOk : storeOperationsFailed).inc(operations);
    },
    /** Batched per-message increments of messagesSubmitted, messagesDelivered and messagesFailed. */
    submitted: batched(m.messagesSubmitted),
    delivered: batched(m.messagesDelivered),
    failed: batched(m.messagesFailed),
    /** smppd_submit_responses_total for one response; `status` is a statusName() (peer codes are capped). */
    submitResponse(status: string): void {
      submitResponseChild(status).inc();
    },
    /** The smppd_routing_decisions_total series of a route and the cluster it chose (cache it: built from two strings). */
    routingDecision(route: string, cluster: string): BatchedCounter {
      const key = `${route}\u0000${cluster}`;
      let c = decisions.get(key);
      if (c === undefined) decisions.set(key, (c = batched(m.routingDecisions, { route, cluster })));
      return c;
    },
    endpointMetrics,
    clusterMetrics,
  };
}

/** Children of a counter by one peer-supplied label value: at most MAX_PEER_LABEL_VALUES distinct
 *  values, later ones share the `other` child. Caching the children also spares the label hashing. */
function boundedChildren(make: (value: string) => BatchedCounter): (value: string) => BatchedCounter {
  const children = new Map<string, BatchedCounter>();
  let other: BatchedCounter | undefined;
  return (value) => {
    const child = children.get(value);
    if (child) return child;
    if (children.size >= MAX_PEER_LABEL_VALUES) return (other ??= make(OTHER_LABEL));
    const made = make(value);
    children.set(value, made);
    return made;
  };
}
