// A cluster of upstream SMSC endpoints: picks an endpoint with the configured load balancer among
// those that can take the request, then the least loaded of its sessions; keeps multipart affinity;
// applies the cluster's throughput; settles every send exactly once (response, or a ClusterError).
//
// Per message the cluster allocates the PendingSend, its promise and the result, no arrays or
// closures: the balancer reads the reused endpoint array whose `available` flags are set in place,
// deadlines share one timer (DueQueue), and the response wait is an async call.
//
// Endpoints live in a Map keyed by address + system_id (endpointKey) so a config reload (issue 4)
// can keep the sessions of endpoints whose address and credentials did not change: update() changes
// weights, windows, binds and the cluster's settings in place and re-binds only endpoints whose
// address or credentials changed; retire() closes a cluster that left the config once the requests
// it holds are answered.

import { endpointSessionChanged } from '../config/diff.js';
import type { ClusterConfig, EndpointConfig } from '../config/schema.js';
import { silentLogger, isSessionError, systemTimers, type Timers } from '../session/index.js';
import { Status, isSubmission, responseFor, statusName, type Pdu, type RequestPdu } from '../smpp/index.js';
import { createBalancer, type Balancer } from './balancer.js';
import { DueQueue } from './due-queue.js';
import { Endpoint, endpointKey, type Conn } from './endpoint.js';
import { ClusterError, fromSessionError, type ClusterErrorCode } from './errors.js';
import { PendingSend, PromiseWaiter, SendState, UpstreamCall, type CallOwner } from './pending.js';
import { Throttle } from './throttle.js';
import { parseStatus } from '../config/fields.js';
import { FleetThrottle, type ClusterThrottle } from './fleet-throttle.js';
import { createLocalBindSlots, type BindSlots } from '../store/fleet-limits.js';
import type {
  Cluster,
  ClusterDeps,
  ClusterHealth,
  ClusterLogger,
  SendOptions,
  SendResult,
  SendWaiter,
  UpstreamRequest,
} from './types.js';

/** Affinity keys unused this long are forgotten (parts of one message arrive within seconds). */
export const AFFINITY_TTL_MS = 10 * 60_000;
/** At most this many affinity keys; the least recently used go first. */
export const AFFINITY_MAX_KEYS = 100_000;
/** Deadlines are checked in buckets of this many ms (one timer per cluster). */
const DEADLINE_GRANULARITY_MS = 5;

const DEFAULTS = {
  requestTimeoutMs: 30_000,
  maxQueue: 1000,
  reconnect: { initialMs: 1000, maxMs: 30_000 },
};

interface AffinityEntry {
  conn: Conn;
  /** The session the key is bound to: a re-bound slot is a new session, so the key moves on. */
  session: unknown;
  lastUsed: number;
}

/** Endpoint names: the address, or system_id@address where one address is used by several binds. */
export function endpointNames(config: ClusterConfig): string[] {
  const seen = new Map<string, number>();
  for (const e of config.endpoints) seen.set(e.address, (seen.get(e.address) ?? 0) + 1);
  return config.endpoints.map((e) => (seen.get(e.address)! > 1 ? `${e.system_id}@${e.address}` : e.address));
}

class UpstreamCluster implements Cluster, CallOwner {
  readonly name: string;
  private config: ClusterConfig;
  /** config.status_map as numbers; undefined when empty (the common case costs one check). */
  private statusMap: ReadonlyMap<number, number> | undefined;
  private readonly deps: ClusterDeps;
  private readonly timers: Timers;
  private readonly log: ClusterLogger;
  private readonly rng: () => number;
  private balancer: Balancer;
  /** By endpointKey (address + system_id). */
  private readonly endpoints = new Map<string, Endpoint>();
  /** The same endpoints in config order: the balancer's candidate list, reused for every pick. */
  private readonly list: Endpoint[] = [];
  private readonly byName = new Map<string, Endpoint>();
  /** Endpoints an update() took out of the config, until their sessions closed. */
  private readonly retired = new Set<Endpoint>();
  private readonly deadlines: DueQueue<PendingSend>;
  private throttle: ClusterThrottle<PendingSend> | undefined;
  /** Bind slots for `max_binds`: the fleet's (Redis) or this replica's own. */
  private readonly slots: BindSlots;
  private readonly affinity = new Map<string, AffinityEntry>();
  private affinitySweptAt = 0;
  private readonly maxQueue: number;
  private started = false;
  /** Left the config: takes no new requests, finishes what it holds (retire()). */
  private retiring = false;
  private closed = false;
  /** retire() or close(), whichever came first: what close() callers wait for. */
  private closing: Promise<void> | undefined;
  private shuttingDown: Promise<void> | undefined;

  constructor(config: ClusterConfig, deps: ClusterDeps) {
    this.name = config.name;
    this.config = config;
    this.deps = deps;
    this.timers = deps.timers ?? systemTimers;
    this.log = deps.logger ?? silentLogger;
    this.rng = deps.rng ?? Math.random;
    this.maxQueue = deps.maxQueue ?? DEFAULTS.maxQueue;
    this.balancer = createBalancer(config.load_balancer, this.rng);
    this.deadlines = new DueQueue(this.timers, (p) => this.onDeadline(p), DEADLINE_GRANULARITY_MS);
    this.slots = deps.fleet?.slots ?? createLocalBindSlots();
    this.throttle = config.throughput > 0 ? this.createThrottle(config.throughput) : undefined;
    this.statusMap = compileStatusMap(config.status_map);
    const names = endpointNames(config);
    config.endpoints.forEach((e, i) => this.addEndpoint(this.createEndpoint(e, names[i]!)));
  }

  private createThrottle(rate: number): ClusterThrottle<PendingSend> {
    const isWaiting = (p: PendingSend): boolean => p.state === SendState.WAITING;
    const release = (p: PendingSend): void => this.route(p);
    // With a fleet (store.backend: redis) the rate holds across all replicas (fleet-throttle.ts).
    const fleet = this.deps.fleet;
    if (fleet !== undefined) {
      const onError = (err: unknown, what: string): void => fleet.onError?.(err, what);
      return new FleetThrottle<PendingSend>(rate, fleet.rateKey(this.name), fleet.tokens, this.timers, isWaiting, release, onError);
    }
    return new Throttle<PendingSend>(rate, this.timers, isWaiting, release);
  }

  private createEndpoint(e: EndpointConfig, name: string): Endpoint {
    const deps = this.deps;
    return new Endpoint({
      cluster: this.config,
      config: e,
      name,
      timers: this.timers,
      logger: this.log,
      rng: this.rng,
      metrics: deps.metrics?.endpointMetrics(this.name, name),
      connect: deps.connect,
      onDelivery: deps.onDelivery,
      requestTimeoutMs: deps.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      maxQueue: this.maxQueue,
      reconnect: deps.reconnect ?? DEFAULTS.reconnect,
      onLost: (conn) => this.onLost(conn),
      onResume: (ep) => {
        for (const conn of ep.conns) if (conn.queued > 0) this.pumpConn(conn);
      },
      slots: this.slots,
      slotsKey: this.deps.fleet?.endpointSlotsKey(this.name, name) ?? `${this.name}\u0000${name}`,
    });
  }

  private addEndpoint(ep: Endpoint): void {
    this.endpoints.set(ep.key, ep);
    this.list.push(ep);
    this.byName.set(ep.id, ep);
  }

  start(): void {
    if (this.closed || this.retiring) return;
    this.started = true;
    for (const ep of this.list) ep.start();
  }

  send(pdu: UpstreamRequest, opts: SendOptions): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => this.sendWith(pdu, opts, new PromiseWaiter(resolve, reject)));
  }

  sendWith(pdu: UpstreamRequest, opts: SendOptions, waiter: SendWaiter): void {
    const now = opts.now ?? this.timers.now();
    const p = new PendingSend(pdu, opts, now + opts.timeoutMs, waiter);
    if (this.closed || this.retiring) return this.fail(p, 'UNAVAILABLE', 'cluster is closed', false, undefined);
    if (!(opts.timeoutMs > 0)) return this.fail(p, 'TIMEOUT', 'no time left for the request', false, undefined);
    p.dueKey = this.deadlines.add(p, p.deadline);
    if (this.throttle !== undefined && isSubmission(pdu)) {
      const admission = this.throttle.admit(p);
      if (admission === 'wait') return;
      if (admission === 'reject') {
        const message = `cluster throughput of ${this.config.throughput}/s reached`;
        return this.fail(p, 'THROTTLED', message, false, undefined);
      }
    }
    this.route(p, now);
  }


  available(): boolean {
    if (this.closed || this.retiring) return false;
    for (const ep of this.list) if (ep.bound > 0 && ep.circuit.canRequest()) return true;
    return false;
  }

  health(): ClusterHealth {
    return {
      name: this.name,
      mock: false,
      available: this.available(),
      endpoints: this.list.map((ep) => ep.health()),
    };
  }

  close(): Promise<void> {
    // While retiring, closing means: stop waiting for the answers now.
    const shutdown = (this.shuttingDown ??= this.shutdown());
    this.closing ??= shutdown;
    return this.closing;
  }

  update(config: ClusterConfig): Promise<void> {
    if (config.mock !== undefined) throw new RangeError(`cluster ${this.name}: a mock config needs a new cluster`);
    if (this.closed || this.retiring) return Promise.resolve();
    const previous = this.config;
    this.config = config;
    if (config.load_balancer !== previous.load_balancer) this.balancer = createBalancer(config.load_balancer, this.rng);
    this.updateThrottle(config.throughput);
    this.statusMap = compileStatusMap(config.status_map);

    // Match the new endpoints to the old ones by address + system_id, in order (a key may repeat).
    const byKey = new Map<string, Endpoint[]>();
    for (const ep of this.list) {
      const same = byKey.get(ep.key);
      if (same === undefined) byKey.set(ep.key, [ep]);
      else same.push(ep);
    }
    const rebindAll = config.bind_type !== previous.bind_type;
    const names = endpointNames(config);
    const kept: Array<{ ep: Endpoint; config: EndpointConfig }> = [];
    const fresh: Array<{ config: EndpointConfig; name: string }> = [];
    const retired: Endpoint[] = [];
    config.endpoints.forEach((e, i) => {
      const old = byKey.get(endpointKey(e))?.shift();
      if (old !== undefined && !rebindAll && !endpointSessionChanged(old.config, e)) {
        kept.push({ ep: old, config: e });
      } else {
        if (old !== undefined) retired.push(old);
        // A re-bound endpoint keeps its name: messages in the store name the endpoint that holds them.
        fresh.push({ config: e, name: old?.id ?? names[i]! });
      }
    });
    for (const rest of byKey.values()) retired.push(...rest);

    // Out of service first, so nothing picks a retiring endpoint once the new list is in place.
    const retiring = retired.map((ep) => {
      this.retired.add(ep);
      return ep.retire(false).finally(() => this.retired.delete(ep));
    });
    this.list.length = 0;
    this.endpoints.clear();
    this.byName.clear();
    const order = new Map<EndpointConfig, Endpoint>();
    for (const k of kept) {
      k.ep.update(k.config, config);
      order.set(k.config, k.ep);
    }
    const taken = new Set(kept.map((k) => k.ep.id));
    for (const f of fresh) {
      // A kept endpoint keeps its old name; a new one must not take it.
      const name = taken.has(f.name) ? `${f.config.system_id}@${f.config.address}` : f.name;
      taken.add(name);
      order.set(f.config, this.createEndpoint(f.config, name));
    }
    for (const e of config.endpoints) this.addEndpoint(order.get(e)!);
    if (this.started) for (const ep of this.list) ep.start();
    // A larger window has room for requests waiting in the slots' queues.
    for (const ep of this.list) for (const conn of ep.conns) if (conn.queued > 0) this.pumpConn(conn);

    const done = retired.map((ep, i) =>
      retiring[i]!.then(() => {
        // Its series belong to an endpoint of the same name, if there is one now.
        if (!this.byName.has(ep.id)) ep.metrics?.remove();
      }),
    );
    return Promise.all([...done, ...kept.map((k) => k.ep.settled())]).then(() => undefined);
  }

  retire(): Promise<void> {
    if (this.closed || this.retiring) return this.close();
    this.retiring = true;
    this.closing = (async () => {
      if (this.throttle !== undefined) {
        for (const p of this.throttle.drain()) this.fail(p, 'UNAVAILABLE', 'cluster left the config', false, undefined);
      }
      await Promise.all(this.list.map((ep) => ep.retire(true)));
      await (this.shuttingDown ??= this.shutdown());
    })();
    return this.closing;
  }

  private updateThrottle(rate: number): void {
    if (rate > 0) {
      if (this.throttle === undefined) this.throttle = this.createThrottle(rate);
      else this.throttle.setRate(rate);
      return;
    }
    const throttle = this.throttle;
    this.throttle = undefined;
    // Unlimited now: whoever waited for a token goes at once.
    if (throttle !== undefined) for (const p of throttle.drain()) this.route(p);
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.retiring = false;
    if (this.throttle !== undefined) {
      for (const p of this.throttle.drain()) this.fail(p, 'UNAVAILABLE', 'cluster closed', false, undefined);
    }
    // Queued requests are re-routed when their session goes; with the cluster closed that fails them.
    // Endpoints still retiring after an update() stop waiting for their answers too.
    await Promise.all([...this.list, ...this.retired].map((ep) => ep.close()));
    for (const p of this.deadlines.drain()) {
      this.fail(p, 'DISCONNECT', 'cluster closed', p.state === SendState.IN_FLIGHT, p.conn?.endpoint.id);
    }
    this.affinity.clear();
  }

  // ---- picking --------------------------------------------------------------------------------

  /** Gives `p` to a session: written now, or queued for a window slot; or fails it. `now`: send()
   *  has just read the clock (one read per message fewer; bench: `npm run bench`). */
  private route(p: PendingSend, now?: number): void {
    if (this.closed) return this.fail(p, 'UNAVAILABLE', 'cluster is closed', false, undefined);
    const conn = this.pick(p);
    if (conn === undefined) {
      return this.fail(p, 'UNAVAILABLE', 'no endpoint of the cluster can take the request', false, undefined);
    }
    const ep = conn.endpoint;
    ep.circuit.allowRequest(); // takes the half-open probe slot, if that is the state
    ep.addPending(1);
    if (conn.ready) {
      this.transmit(p, conn, now ?? this.timers.now());
    } else if (conn.queued < this.maxQueue) {
      conn.push(p);
    } else {
      ep.addPending(-1);
      this.fail(p, 'QUEUE_FULL', 'upstream window and queue are full', false, ep.id);
    }
  }

  /** Can take `p`: bound, room in some window or queue, circuit letting it through, (unless
   *  `throttledToo`) not paused by throttling, and (when `exclude` is given) not one the caller
   *  asked to avoid. */
  private eligible(ep: Endpoint, exclude: ReadonlySet<string> | undefined, throttledToo: boolean): boolean {
    return (
      ep.bound > 0 &&
      ep.hasCapacity &&
      (throttledToo || !ep.throttled) &&
      ep.circuit.canRequest() &&
      (exclude === undefined || !exclude.has(ep.id))
    );
  }

  /** Balancer pick among the endpoints eligible for `exclude` and `throttledToo`. */
  private balance(exclude: ReadonlySet<string> | undefined, throttledToo: boolean): Endpoint | undefined {
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i]!.available = this.eligible(list[i]!, exclude, throttledToo);
    return this.balancer.pick(list);
  }

  private pick(p: PendingSend): Conn | undefined {
    const key = p.opts.affinity;
    let entry: AffinityEntry | undefined;
    if (key !== undefined) {
      entry = this.affinity.get(key);
      if (entry !== undefined) {
        const conn = entry.conn;
        const ep = conn.endpoint;
        // The parts of one message stay on their session even on a retry (exclude does not apply).
        if (
          conn.state === 'bound' &&
          conn.session === entry.session &&
          (p.opts.endpoint === undefined || p.opts.endpoint === ep.id) &&
          conn.queued < this.maxQueue &&
          ep.circuit.canRequest()
        ) {
          this.touchAffinity(key, entry);
          return conn;
        }
      }
    }

    let ep: Endpoint | undefined;
    if (p.opts.endpoint !== undefined) {
      const named = this.byName.get(p.opts.endpoint);
      ep = named !== undefined && this.eligible(named, undefined, true) ? named : undefined;
    } else {
      // SPEC §4: retries go "to another endpoint where one is available": exclude is a preference,
      // so a one-endpoint cluster still retries on its endpoint rather than failing UNAVAILABLE.
      // So is an endpoint that is not paused by throttling: when every one is, the request waits
      // in a paused one's queue for the pause to end.
      const exclude = p.opts.exclude;
      const avoid = exclude !== undefined && exclude.size > 0;
      ep = this.balance(avoid ? exclude : undefined, false);
      if (ep === undefined && avoid) ep = this.balance(undefined, false);
      if (ep === undefined) ep = this.balance(undefined, true);
    }
    const conn = ep?.pickConn();
    if (key !== undefined && conn !== undefined) {
      if (entry === undefined) {
        entry = { conn, session: conn.session, lastUsed: 0 };
      } else {
        entry.conn = conn;
        entry.session = conn.session;
      }
      this.touchAffinity(key, entry);
    }
    return conn;
  }

  /** Marks the key used now. Re-inserting keeps the Map in least-recently-used order, so expiry
   *  (at most once a second, or when over the cap) looks only at its oldest entries; no sweep timer. */
  private touchAffinity(key: string, entry: AffinityEntry): void {
    const now = this.timers.now();
    entry.lastUsed = now;
    const map = this.affinity;
    map.delete(key);
    map.set(key, entry);
    if (now - this.affinitySweptAt < 1000 && map.size <= AFFINITY_MAX_KEYS) return;
    this.affinitySweptAt = now;
    for (const [k, e] of map) {
      if (now - e.lastUsed < AFFINITY_TTL_MS && map.size <= AFFINITY_MAX_KEYS) break;
      map.delete(k);
    }
  }

  // ---- the request on the wire --------------------------------------------------------------

  private transmit(p: PendingSend, conn: Conn, now: number): void {
    const session = conn.session!;
    p.state = SendState.IN_FLIGHT;
    p.conn = conn;
    p.sentAt = now;
    conn.endpoint.metrics?.requests.inc();
    // answered() follows, exactly once (inside this call when the session refuses at once).
    session.requestWith(new UpstreamCall(this, p, conn, session, now));
  }

  /** The session settled a request written by transmit() (CallOwner). */
  answered(call: UpstreamCall, response: Pdu | undefined, failure: Error | undefined): void {
    const { send: p, conn, session } = call;
    const ep = conn.endpoint;
    ep.addPending(-1);
    if (conn.session === session) {
      if (conn.queued > 0) this.pumpConn(conn);
      else if (conn.state === 'retiring') conn.maybeUnbind();
    }
    // Settled already: the deadline passed (a late answer proves nothing about the endpoint's health).
    if (p.state === SendState.DONE) return;
    const latencyMs = this.timers.now() - p.sentAt;
    if (response === undefined) {
      response = this.failedTransmit(p, ep, failure, latencyMs);
      if (response === undefined) return;
    }
    ep.circuit.onSuccess();
    const mapped = this.statusMap?.get(response.command_status);
    if (mapped !== undefined) response.command_status = mapped;
    const status = response.command_status;
    // ESME_RTHROTTLED only: some SMSCs answer ESME_RMSGQFUL for one handset's full queue, and one
    // such destination retried must not stall all traffic (status_map can make a code count).
    if (status === Status.ESME_RTHROTTLED && isSubmission(p.pdu)) {
      ep.pauseSending(this.config.throttle_pause);
    }
    ep.metrics?.latency.observe(latencyMs / 1000);
    this.deps.feedback?.recordOutcome(this.name, ep.id, statusName(response.command_status), latencyMs);
    this.settle(p);
    p.waiter.resolved({ response, endpoint: ep.id, latencyMs });
  }

  /** Fails `p` for a session error, or returns the response that error stands for. */
  private failedTransmit(p: PendingSend, ep: Endpoint, err: unknown, latencyMs: number): Pdu | undefined {
    if (!isSessionError(err)) {
      this.log.error({ err, command: p.pdu.command }, 'upstream request failed unexpectedly');
      this.fail(p, 'DISCONNECT', 'upstream request failed', true, ep.id, err);
      return undefined;
    }
    const mapped = fromSessionError(err, ep.id);
    if (mapped === undefined) {
      // An answer, just not a well-formed one (generic_nack, malformed response): pass its status on.
      // ENCODE_FAILED/INVALID_COMMAND never left smppd: a request it cannot write gets ESME_RSYSERR.
      if (err.code === 'ENCODE_FAILED' || err.code === 'INVALID_COMMAND') {
        this.log.error({ err, command: p.pdu.command }, 'request cannot be sent upstream');
      }
      const status = err.status !== undefined && err.status !== Status.ESME_ROK ? err.status : Status.ESME_RSYSERR;
      return responseFor(p.pdu as RequestPdu, status);
    }
    if (mapped.code === 'TIMEOUT') {
      ep.circuit.onFailure();
      this.deps.feedback?.recordOutcome(this.name, ep.id, 'timeout', latencyMs);
    } else if (mapped.code === 'DISCONNECT') {
      // The lost session counted once against the circuit; its requests do not count again.
      this.deps.feedback?.recordOutcome(this.name, ep.id, 'disconnect');
    }
    this.settle(p);
    p.waiter.rejected(mapped);
    return undefined;
  }

  /** Writes queued requests while the slot's window has room. */
  private pumpConn(conn: Conn): void {
    const session = conn.session;
    if (session === undefined) return;
    // A retiring slot still writes what waits in its queue (retire(true)).
    let now = -1;
    const ep = conn.endpoint;
    while (conn.queued > 0 && !session.windowFull && !ep.throttled && (conn.state === 'bound' || conn.state === 'retiring')) {
      const p = conn.shift();
      if (p === undefined) break;
      if (now < 0) now = this.timers.now();
      this.transmit(p, conn, now);
    }
  }

  /** A slot lost its session: its queued requests were never written, so they may go elsewhere. */
  private onLost(conn: Conn): void {
    if (conn.queued === 0) return;
    const moved = conn.takeAll();
    const ep = conn.endpoint;
    ep.addPending(-moved.length);
    for (const p of moved) {
      p.state = SendState.WAITING;
      p.conn = undefined;
      this.route(p);
    }
  }

  private onDeadline(p: PendingSend): void {
    p.dueKey = -1; // already out of the deadline queue
    switch (p.state) {
      case SendState.WAITING:
        this.throttle?.forget();
        this.fail(p, 'THROTTLED', 'no throughput token before the deadline', false, undefined);
        return;
      case SendState.QUEUED: {
        const conn = p.conn!;
        conn.forget();
        conn.endpoint.addPending(-1);
        conn.maybeUnbind();
        this.fail(p, 'QUEUE_FULL', 'no upstream window slot before the deadline', false, conn.endpoint.id);
        return;
      }
      case SendState.IN_FLIGHT: {
        // The session keeps the window slot until its own timeout: the upstream may still answer.
        const ep = p.conn!.endpoint;
        ep.circuit.onFailure();
        this.deps.feedback?.recordOutcome(this.name, ep.id, 'timeout', this.timers.now() - p.sentAt);
        this.fail(p, 'TIMEOUT', `no response within ${p.opts.timeoutMs} ms`, true, ep.id);
        return;
      }
      case SendState.DONE:
        return;
    }
  }

  private settle(p: PendingSend): void {
    p.state = SendState.DONE;
    if (p.dueKey >= 0) this.deadlines.delete(p, p.dueKey);
  }

  private fail(
    p: PendingSend,
    code: ClusterErrorCode,
    message: string,
    sent: boolean,
    endpoint: string | undefined,
    cause?: unknown,
  ): void {
    if (p.state === SendState.DONE) return;
    this.settle(p);
    p.waiter.rejected(new ClusterError(code, message, { sent, endpoint, cause }));
  }
}

/** status_map (keys as written: 0x45, "69", a name) as numbers; undefined when empty. */
function compileStatusMap(map: Readonly<Record<string, number>>): ReadonlyMap<number, number> | undefined {
  const entries = Object.entries(map);
  if (entries.length === 0) return undefined;
  return new Map(entries.map(([from, to]) => [parseStatus(from)!, to]));
}

export function createUpstreamCluster(config: ClusterConfig, deps: ClusterDeps): Cluster {
  return new UpstreamCluster(config, deps);
}
