// The forwarder (SPEC §4 Submit .. MO): the part of smppd between the client sessions (listener) and
// the upstream clusters. createForwarder(deps) returns three callbacks for the wiring in app.ts:
//   handleRequest           listener → forwarder: a client's submit/query/cancel/replace, resolved with
//                           the response to send (exactly once; it never rejects);
//                           handleRequestWith: the same, answered through a RequestReply, no promise;
//   handleUpstreamDelivery  cluster → forwarder: an SMSC's deliver_sm/data_sm, resolved with the status
//                           to answer it with;
//   onReceiverBound         registry → forwarder: a receiver-capable session bound, drain what was kept.

import type { Rng } from '../cluster/backoff.js';
import type { ClusterDeps } from '../cluster/index.js';
import type { ClientConfig, ClusterConfig } from '../config/schema.js';
import type { Feedback } from '../feedback/feedback.js';
import { replyWhenSettled, type HandleRequest, type HandleRequestWith, type RequestReply } from '../listener/index.js';
import type { RouteTable } from '../router/route-table.js';
import { systemTimers, type SessionLogger, type Timers } from '../session/index.js';
import { Status } from '../smpp/index.js';
import type { Pdu } from '../smpp/index.js';
import type { MessageIdGenerator } from '../store/message-id.js';
import type { MessageStore } from '../store/store.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { ForwarderContext, ForwarderOptions } from './context.js';
import { Deliveries } from './deliveries.js';
import { followDeliveryNotices } from './delivery-notices.js';
import { Inbound } from './inbound.js';
import { forwardMessageOp } from './message-ops.js';
import { compilePolicy, defaultPolicy, type ClusterPolicy } from './policy.js';
import type { ClientRegistryPort, ClientRequest, ClusterPort, UpstreamDelivery } from './ports.js';
import { moAddressKey } from './receipts.js';
import { Submitter } from './submit.js';

/** The config the forwarder reads: retry policy and id format per cluster, mo_addresses per client. */
export interface ForwarderConfig {
  readonly clusters: readonly ClusterConfig[];
  readonly clients: readonly Pick<ClientConfig, 'system_id' | 'mo_addresses'>[];
}

export interface ForwarderDeps {
  router: RouteTable;
  /** Clusters by name; looked up per request. */
  clusters: ReadonlyMap<string, ClusterPort>;
  store: MessageStore;
  registry: ClientRegistryPort;
  config: ForwarderConfig;
  logger: SessionLogger;
  metrics?: Metrics;
  feedback?: Feedback;
  ids: MessageIdGenerator;
  /** Clock and timers for deadlines, backoff and the delivery sweep; default the system's (unref'd). */
  timers?: Timers;
  /** Backoff jitter; default Math.random. */
  rng?: Rng;
  options?: ForwarderOptions;
}

/** The client as the forwarder needs it: whose message this is. */
export interface RequestClient {
  readonly systemId: string;
}

export interface Forwarder {
  handleRequest(client: RequestClient, pdu: ClientRequest, ctx: { deadline: number; receivedAt?: number }): Promise<Pdu>;
  /** handleRequest answered through `reply` (exactly once, possibly before it returns): what the listener calls. */
  handleRequestWith(client: RequestClient, pdu: ClientRequest, ctx: { deadline: number; receivedAt?: number }, reply: RequestReply): void;
  handleUpstreamDelivery(d: UpstreamDelivery): Promise<number>;
  onReceiverBound(systemId: string): void;
  /**
   * Config reload: the new route table is used by every request from now on (one swap: a request
   * never sees half of it); retry policies, id formats, MO addresses and the clients known to the
   * delivery sweep follow `config`. Requests in flight finish as they started. The clusters map is
   * the caller's: it adds and removes clusters in it.
   */
  update(update: { router: RouteTable; config: ForwarderConfig }): void;
  /** Run one delivery sweep now (tests, admin). */
  sweep(): Promise<void>;
  /** Stop the periodic sweep. Requests in flight still get their responses. */
  close(): void;
}

/** Shortest default lease of claimed deliveries (see resolveOptions). */
const MIN_DRAIN_LEASE_MS = 10_000;

const DEFAULTS = {
  deliveryTimeoutMs: 5_000,
  orphanTtlMs: 60_000,
  drainBatch: 100,
  drainConcurrency: 10,
  sweepIntervalMs: 5_000,
  maxDeliveryAttempts: 10,
} as const;

function resolveOptions(o: ForwarderOptions = {}): Required<ForwarderOptions> {
  const deliveryTimeoutMs = o.deliveryTimeoutMs ?? DEFAULTS.deliveryTimeoutMs;
  const drainBatch = Math.max(1, o.drainBatch ?? DEFAULTS.drainBatch);
  const drainConcurrency = Math.max(1, o.drainConcurrency ?? DEFAULTS.drainConcurrency);
  return {
    deliveryTimeoutMs,
    orphanTtlMs: o.orphanTtlMs ?? DEFAULTS.orphanTtlMs,
    drainBatch,
    drainConcurrency,
    // Short enough that what a replica claimed before it died goes out again soon (issue 5); a
    // drain starts no delivery its lease would not cover (deliveries.ts), so a live replica's
    // claims never run out under it.
    drainLeaseMs: o.drainLeaseMs ?? Math.max(MIN_DRAIN_LEASE_MS, 3 * deliveryTimeoutMs),
    sweepIntervalMs: o.sweepIntervalMs ?? DEFAULTS.sweepIntervalMs,
    maxDeliveryAttempts: Math.max(1, o.maxDeliveryAttempts ?? DEFAULTS.maxDeliveryAttempts),
  };
}

function moClientMap(clients: ForwarderConfig['clients'], logger: SessionLogger): Map<string, string> {
  const map = new Map<string, string>();
  for (const c of clients) {
    for (const address of c.mo_addresses) {
      const key = moAddressKey(address);
      const owner = map.get(key);
      if (owner === undefined) map.set(key, c.system_id);
      else if (owner !== c.system_id) {
        logger.warn({ address, client: c.system_id, owner }, 'MO address claimed by two clients; the first keeps it');
      }
    }
  }
  return map;
}

export function createForwarder(deps: ForwarderDeps): Forwarder {
  const policies = new Map<string, ClusterPolicy>();
  for (const c of deps.config.clusters) policies.set(c.name, compilePolicy(c));
  const ctx: ForwarderContext = {
    router: deps.router,
    clusters: deps.clusters,
    store: deps.store,
    registry: deps.registry,
    logger: deps.logger,
    metrics: deps.metrics,
    feedback: deps.feedback,
    ids: deps.ids,
    timers: deps.timers ?? systemTimers,
    rng: deps.rng ?? Math.random,
    options: resolveOptions(deps.options),
    policy(name) {
      let p = policies.get(name);
      if (p === undefined) policies.set(name, (p = defaultPolicy(name)));
      return p;
    },
  };
  const deliveries = new Deliveries(
    ctx,
    deps.config.clients.map((c) => c.system_id),
  );
  const inbound = new Inbound(ctx, deliveries, moClientMap(deps.config.clients, deps.logger));
  deliveries.onSweep = () => inbound.sweep();
  const submitter = new Submitter(ctx, (owner, orphans) => inbound.deliverOrphansLater(owner, orphans));
  deliveries.start();
  // A delivery kept by any replica for a client whose receiver is bound here: drain it now.
  const stopNotices = followDeliveryNotices(deps.store, deps.registry, (client) => void deliveries.drain(client, false));

  async function handle(client: string, pdu: ClientRequest, deadline: number): Promise<Pdu> {
    switch (pdu.command) {
      case 'submit_sm':
      case 'data_sm':
        return submitter.single(client, pdu, deadline);
      case 'submit_multi':
        return submitter.multi(client, pdu, deadline);
      case 'query_sm':
      case 'cancel_sm':
      case 'replace_sm':
        return forwardMessageOp(ctx, client, pdu, deadline);
    }
  }

  async function guarded(client: string, pdu: ClientRequest, deadline: number): Promise<Pdu> {
    // The request's own sequence number, read before anything else may touch the PDU.
    const seq = pdu.sequence_number;
    try {
      return await handle(client, pdu, deadline);
    } catch (err) {
      // Every request gets exactly one response, a bug below included.
      ctx.logger.error({ err, command: pdu.command }, 'request failed unexpectedly; answered ESME_RSYSERR');
      return errorResponse(pdu, seq);
    }
  }

  return {
    handleRequest(client, pdu, { deadline, receivedAt }) {
      // submit_sm/data_sm: single() answers every failure itself (no guarded() around it).
      if (pdu.command === 'submit_sm' || pdu.command === 'data_sm') {
        return submitter.single(client.systemId, pdu, deadline, receivedAt);
      }
      return guarded(client.systemId, pdu, deadline);
    },
    handleRequestWith(client, pdu, { deadline, receivedAt }, reply) {
      // submit_sm/data_sm: no promise at all on the way (submit.ts, SubmitJob).
      if (pdu.command === 'submit_sm' || pdu.command === 'data_sm') {
        submitter.singleWith(client.systemId, pdu, deadline, receivedAt, reply);
        return;
      }
      replyWhenSettled(guarded(client.systemId, pdu, deadline), reply);
    },
    handleUpstreamDelivery: (d) => inbound.handle(d),
    update({ router, config }) {
      ctx.router = router;
      // A cluster that left the config keeps its policy until it is gone: retries in flight use it.
      for (const c of config.clusters) policies.set(c.name, compilePolicy(c));
      for (const name of policies.keys()) {
        if (!deps.clusters.has(name) && !config.clusters.some((c) => c.name === name)) policies.delete(name);
      }
      deliveries.knownClients = config.clients.map((c) => c.system_id);
      inbound.moClients = moClientMap(config.clients, deps.logger);
    },
    onReceiverBound: (systemId) => void deliveries.drain(systemId, true),
    sweep: () => deliveries.sweep(),
    close() {
      stopNotices();
      inbound.close();
      deliveries.close();
    },
  };
}

function errorResponse(pdu: ClientRequest, seq: number): Pdu {
  const base = { command_status: Status.ESME_RSYSERR, sequence_number: seq };
  switch (pdu.command) {
    case 'submit_sm':
      return { ...base, command: 'submit_sm_resp', message_id: '' };
    case 'data_sm':
      return { ...base, command: 'data_sm_resp', message_id: '' };
    case 'submit_multi':
      return { ...base, command: 'submit_multi_resp', message_id: '', unsuccess_smes: [] };
    case 'query_sm':
      return { ...base, command: 'query_sm_resp', message_id: pdu.message_id, final_date: '', message_state: 0, error_code: 0 };
    case 'cancel_sm':
      return { ...base, command: 'cancel_sm_resp' };
    case 'replace_sm':
      return { ...base, command: 'replace_sm_resp' };
  }
}

// The callbacks must fit the listener's and the cluster's slots as they are declared there.
const _fitsListener = (f: Forwarder): HandleRequest => f.handleRequest;
const _fitsListenerWith = (f: Forwarder): HandleRequestWith => f.handleRequestWith;
const _fitsCluster = (f: Forwarder): ClusterDeps['onDelivery'] => f.handleUpstreamDelivery;
void _fitsListener;
void _fitsListenerWith;
void _fitsCluster;
