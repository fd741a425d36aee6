// The cluster contract the forwarder programs against.
// Both the real cluster (upstream SMSC sessions) and the embedded mock implement `Cluster`.

import type { Duplex } from 'node:stream';
import type { ClusterConfig, EndpointConfig } from '../config/schema.js';
import type { SessionLogger, Timers } from '../session/index.js';
import type { CancelSm, DataSm, DeliverSm, Pdu, QuerySm, ReplaceSm, SubmitMulti, SubmitSm } from '../smpp/index.js';
import type { CircuitState } from './circuit-breaker.js';
import type { EndpointMetrics } from '../telemetry/metrics.js';
import type { ClusterFleet } from './fleet-throttle.js';

/** The requests a cluster forwards upstream. */
export type UpstreamRequest = SubmitSm | DataSm | SubmitMulti | QuerySm | CancelSm | ReplaceSm;

export interface SendOptions {
  /** The budget for this attempt (ms): queueing, throughput wait and the upstream's answer together. */
  timeoutMs: number;
  /** Sends with one key go to the same upstream session while it lives (parts of one concatenated message). */
  affinity?: string | undefined;
  /** Only this endpoint (query/cancel/replace go where the message is). */
  endpoint?: string | undefined;
  /** Endpoints to avoid (a retry after a failure there): another endpoint is taken when one can take
   *  the request, else an excluded one (a one-endpoint cluster still retries). Affinity wins over it. */
  exclude?: ReadonlySet<string> | undefined;
  /** The caller's clock reading just before send() (spares the cluster a clock read per message). */
  now?: number | undefined;
}

/** Hears how one sendWith() ended, as send()'s promise would: `resolved` with any response that came over the wire, or `rejected` with a ClusterError. */
export interface SendWaiter {
  resolved(result: SendResult): void;
  rejected(err: Error): void;
}

export interface SendResult {
  /** The upstream's response, whatever its command_status. A generic_nack or malformed response is
   *  given as the request's response type carrying that status (ESME_RSYSERR if it had none). */
  response: Pdu;
  /** The endpoint's name (its address; `system_id@address` when the address repeats in the cluster). */
  endpoint: string;
  /** From writing the request to its response. */
  latencyMs: number;
}

export interface UpstreamDelivery {
  cluster: string;
  endpoint: string;
  /** Octet strings are views of the received frame: copy what is kept beyond the call. */
  pdu: DeliverSm | DataSm;
}

export type EndpointState = 'connecting' | 'bound' | 'backoff' | 'closed';

export interface EndpointHealth {
  name: string;
  address: string;
  systemId: string;
  /** bound: at least one session bound; connecting: binding, none bound yet; backoff: waiting to
   *  re-bind; closed: not started or closed. */
  state: EndpointState;
  circuit: CircuitState;
  /** Bound sessions, out of `binds`. */
  sessions: number;
  binds: number;
  /** Requests written and not answered, over all its sessions. */
  inFlight: number;
  /** Requests waiting for a window slot. */
  queued: number;
  /** Sending paused after the SMSC answered ESME_RTHROTTLED or ESME_RMSGQFUL (`throttle_pause`). */
  throttled: boolean;
}

export interface ClusterHealth {
  name: string;
  mock: boolean;
  available: boolean;
  endpoints: EndpointHealth[];
}

export interface Cluster {
  readonly name: string;
  /** Binds every endpoint's sessions and keeps them bound. */
  start(): void;
  /**
   * Sends one request upstream. Resolves with any response that came over the wire (including
   * non-zero command_status); rejects with a ClusterError. The PDU's sequence_number and
   * command_status are overwritten when it is written, so do not send one object twice at once.
   */
  send(pdu: UpstreamRequest, opts: SendOptions): Promise<SendResult>;
  /**
   * send() without a promise: `waiter` hears the outcome, exactly once, possibly before this call
   * returns (a request refused at once). For the per-message path (forwarder/submit.ts).
   */
  sendWith(pdu: UpstreamRequest, opts: SendOptions, waiter: SendWaiter): void;
  /** Some endpoint is bound with its circuit letting requests through. */
  available(): boolean;
  health(): ClusterHealth;
  /** Unbinds every session (bounded by the health-check timeout), stops re-binding, clears timers. */
  close(): Promise<void>;
  /**
   * Config reload, same kind of cluster (both mock, or both endpoints): applies `config` in place.
   * Endpoints are matched by address + system_id; one whose password, system_type, tls or the
   * cluster's bind_type changed is re-bound (a new endpoint, the old one retired); the others keep
   * their sessions while weight, window, binds, circuit breaker, health check, load balancer and
   * throughput change. Resolves when the sessions it took out of service have closed.
   */
  update(config: ClusterConfig): Promise<void>;
  /**
   * The cluster left the config: from now on it takes no request (available() is false); what it
   * holds is answered, then every session unbinds. Resolves when closed. Its metric series stay
   * (the owner drops them unless a cluster of the same name took them over).
   */
  retire(): Promise<void>;
}

/** The part of a pino logger the cluster uses; child() (when there) names each endpoint's lines. */
export interface ClusterLogger extends SessionLogger {
  child?(bindings: Record<string, unknown>): ClusterLogger;
}

export interface ClusterDeps {
  /** Upstream-originated deliver_sm/data_sm; resolves with the command_status to answer the upstream. */
  onDelivery(d: UpstreamDelivery): Promise<number>;
  /** Bound to the cluster by the caller (`logger.child({ cluster })`); endpoints add `endpoint`. */
  logger?: ClusterLogger;
  metrics?: { endpointMetrics(cluster: string, endpoint: string): EndpointMetrics };
  feedback?: { recordOutcome(cluster: string, endpoint: string, status: string, latencyMs?: number): void };
  timers?: Timers;
  /** Uniform in [0, 1): balancers, backoff jitter, the mock's error injection. */
  rng?: () => number;
  /** Opens the stream to an endpoint (tests); default net.connect, or tls.connect for `tls` endpoints. */
  connect?(endpoint: EndpointConfig): Duplex | Promise<Duplex>;
  /** How long an upstream session waits for a response before failing it (default 30 s). */
  requestTimeoutMs?: number;
  /** Requests that may wait for a window slot, per upstream session (default 1000). */
  maxQueue?: number;
  /** Re-bind delays after a failed bind or a lost session (default 1 s growing to 30 s, jittered). */
  reconnect?: { initialMs: number; maxMs: number };
  /**
   * The fleet's shared limits (store.backend: redis): `throughput` and `max_binds` then hold across
   * all replicas. Without it both are this replica's own.
   */
  fleet?: ClusterFleet;
}
