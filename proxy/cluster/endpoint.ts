// One upstream endpoint: `binds` ESME sessions (Conn slots), kept bound.
//
// Re-binding: one jittered exponential backoff per endpoint (decorrelated, never below its initial
// delay). After a failed bind or a lost session the endpoint is `failing`: it waits a backoff delay
// and then probes with ONE connection at a time; the first successful bind resets the backoff and
// fills every other slot at once. So a dead SMSC sees one connection attempt per delay from each
// replica, never a storm of `binds` parallel re-binds, and never more than `binds` sessions.
//
// Health: the sessions' own keepalive (enquire_link after health_check.interval without traffic,
// closed when unanswered within health_check.timeout) over the existing sessions; no extra binds.
// The circuit breaker hears only what says the endpoint itself is unwell: failed binds, lost
// sessions and timeouts (the cluster reports those); per-message rejections count as answers.
//
// Each slot's wait queue lives here, not in the session (the session runs in reject mode): a request
// that reaches its deadline while waiting must leave the queue, or it would be written later, after
// the forwarder retried it elsewhere.

import { readFile } from 'node:fs/promises';
import { connect as netConnect, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { ClusterConfig, EndpointConfig } from '../config/schema.js';
import { parseHostPort, type HostPort } from '../config/net.js';
import {
  CloseReason,
  createSession,
  type AnyIncomingRequest,
  type CloseInfo,
  type IncomingRequest,
  type Session,
  type Timers,
} from '../session/index.js';
import { Status, type DataSm, type DeliverSm } from '../smpp/index.js';
import type { EndpointMetrics } from '../telemetry/metrics.js';
import { createBackoff, type Backoff } from './backoff.js';
import type { Candidate } from './balancer.js';
import { createCircuitBreaker, type CircuitBreaker } from './circuit-breaker.js';
import { SendState, type PendingSend } from './pending.js';
import type { ClusterDeps, ClusterLogger, EndpointHealth, EndpointState } from './types.js';
import type { BindSlots } from '../store/fleet-limits.js';
import { EndpointSlots } from './endpoint-slots.js';

/** `retiring`: taken out of service by a reload; unbinds once its requests are answered. */
export type ConnState = 'idle' | 'connecting' | 'bound' | 'retiring';

/** One of an endpoint's `binds` session slots; keeps its identity across re-binds. */
export class Conn {
  session: Session | undefined = undefined;
  state: ConnState = 'idle';
  /** No longer one of the endpoint's slots (fewer binds, or the endpoint left the config). */
  removed = false;
  /** Live entries of `queue`. */
  queued = 0;
  private readonly queue: Array<PendingSend | undefined> = [];
  private head = 0;

  constructor(
    readonly endpoint: Endpoint,
    readonly index: number,
  ) {}

  /** Outstanding plus queued: what the slot still has to get through. */
  get load(): number {
    return (this.session === undefined ? 0 : this.session.outstanding) + this.queued;
  }

  /** A request given now would be written now. */
  get ready(): boolean {
    return this.state === 'bound' && this.queued === 0 && !this.endpoint.throttled && !this.session!.windowFull;
  }

  push(p: PendingSend): void {
    p.state = SendState.QUEUED;
    p.conn = this;
    this.queue.push(p);
    this.queued++;
  }

  /** The next live queued request, removed; undefined when none. */
  shift(): PendingSend | undefined {
    while (this.head < this.queue.length) {
      const p = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      if (p.state === SendState.QUEUED && p.conn === this) {
        this.queued--;
        this.resetIfEmpty();
        return p;
      }
    }
    this.resetIfEmpty();
    return undefined;
  }

  /** A queued request left by itself (deadline); it stays in the array until passed over. */
  forget(): void {
    this.queued--;
    const held = this.queue.length - this.head;
    if (held > 64 && held > 2 * this.queued) {
      let j = 0;
      for (let i = this.head; i < this.queue.length; i++) {
        const p = this.queue[i];
        if (p !== undefined && p.state === SendState.QUEUED && p.conn === this) this.queue[j++] = p;
      }
      this.queue.length = j;
      this.head = 0;
    }
  }

  /** A retiring slot with nothing on the wire and nothing queued unbinds now. */
  maybeUnbind(): void {
    const s = this.session;
    if (this.state === 'retiring' && s !== undefined && s.outstanding === 0 && this.queued === 0) void s.unbind();
  }

  /** Removes and returns every live queued request. */
  takeAll(): PendingSend[] {
    const out: PendingSend[] = [];
    for (let p = this.shift(); p !== undefined; p = this.shift()) out.push(p);
    return out;
  }

  private resetIfEmpty(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
  }
}

export interface EndpointOptions {
  cluster: ClusterConfig;
  config: EndpointConfig;
  /** Label for metrics, feedback, logs and SendOptions.endpoint. */
  name: string;
  timers: Timers;
  logger: ClusterLogger;
  rng: () => number;
  metrics: EndpointMetrics | undefined;
  connect: ClusterDeps['connect'];
  onDelivery: ClusterDeps['onDelivery'];
  requestTimeoutMs: number;
  maxQueue: number;
  reconnect: { initialMs: number; maxMs: number };
  /** `conn` lost its session: its queued requests need another home. */
  onLost(conn: Conn): void;
  /** A throttle pause ended (pauseSending): what waits in the slots' queues may go now. */
  onResume(endpoint: Endpoint): void;
  /** Bind slots for the cluster's `max_binds` (endpoint-slots.ts), and this endpoint's key among them. */
  slots?: BindSlots;
  slotsKey?: string;
}

/** The smppd_window_used gauge is set at least every this many pending changes (addPending). */
const GAUGE_EVERY = 256;

/** Identity of an endpoint across config reloads: a session stays valid while these do not change. */
export function endpointKey(e: EndpointConfig): string {
  return `${e.address}\u0000${e.system_id}`;
}

/** Ask a retiring slot that still has requests out to unbind after this long anyway (its session's
 *  own response timeout settles them before; this only guards against a request that never settles). */
const RETIRE_GRACE_MS = 1000;

export class Endpoint implements Candidate {
  /** The endpoint's name (Candidate.id: the weighted balancer keys its state by it). */
  readonly id: string;
  readonly key: string;
  /** Changed in place by a reload. */
  weight: number;
  /** Set by the cluster right before each balancer pick (eligibility depends on the request). */
  available = false;
  /** Requests given to this endpoint's slots (queued or in flight) and not yet settled by a session. */
  pending = 0;
  /** addPending calls since the gauge was last set. */
  private gaugeSkipped = 0;
  /** Slots bound / binding now. */
  bound = 0;
  connecting = 0;
  readonly conns: Conn[];
  readonly circuit: CircuitBreaker;
  readonly metrics: EndpointMetrics | undefined;

  private readonly opts: EndpointOptions;
  /** As last applied (update() replaces it). */
  config: EndpointConfig;
  private readonly timers: Timers;
  private readonly log: ClusterLogger;
  private readonly backoff: Backoff;
  private readonly hostPort: HostPort;
  private perConnCapacity: number;
  private ca: Promise<Buffer> | undefined;
  private started = false;
  private closed = false;
  /** Left the config (reload): its gauges belong to whatever endpoint has its name now. */
  private retired = false;
  /** Slots taken out of service by a reload, until their sessions closed. */
  private readonly retiring = new Map<Conn, Promise<void>>();
  private failing = false;
  private retryTimer: unknown;
  private rr = 0;
  /** The slot this tick's requests go to while it has room (pickConn); cleared at the end of the tick. */
  private burstConn: Conn | undefined = undefined;
  /** Requests burstConn may still take this tick. */
  private burstLeft = 0;
  private readonly endBurst = (): void => {
    this.burstConn = undefined;
  };
  private readonly attempts = new Set<Promise<void>>();
  /** max_binds: a bind slot per bound session (endpoint-slots.ts); undefined without slots. */
  private readonly slots: EndpointSlots<Conn> | undefined;
  private readonly onRetry = (): void => {
    this.retryTimer = undefined;
    this.pump();
  };
  /** Paused by pauseSending: nothing new is written until throttledUntil. */
  throttled = false;
  private throttledUntil = 0;
  private throttleTimer: unknown;
  private readonly onThrottleTimer = (): void => {
    this.throttleTimer = undefined;
    const left = this.throttledUntil - this.timers.now();
    if (left > 0) {
      // Extended while it ran (another throttle answer): wait for the rest.
      this.throttleTimer = this.timers.setTimeout(this.onThrottleTimer, left);
      return;
    }
    this.endThrottle();
    this.opts.onResume(this);
  };

  constructor(opts: EndpointOptions) {
    this.opts = opts;
    this.config = opts.config;
    this.id = opts.name;
    this.key = endpointKey(opts.config);
    this.weight = opts.config.weight;
    this.timers = opts.timers;
    this.metrics = opts.metrics;
    this.log = opts.logger.child?.({ endpoint: opts.name }) ?? opts.logger;
    const hp = parseHostPort(opts.config.address);
    if (hp === undefined) throw new RangeError(`endpoint address must be host:port, got ${opts.config.address}`);
    this.hostPort = hp;
    this.perConnCapacity = opts.config.window + opts.maxQueue;
    this.backoff = createBackoff({ ...opts.reconnect, rng: opts.rng });
    const timers = opts.timers;
    this.circuit = createCircuitBreaker({
      threshold: opts.cluster.circuit_breaker.threshold,
      timeoutMs: opts.cluster.circuit_breaker.timeout,
      now: () => timers.now(),
      onStateChange: (to, from) => {
        if (!this.retired) this.metrics?.circuit(to);
        const level = to === 'open' ? 'warn' : 'info';
        this.log[level]({ from, to }, 'circuit breaker state changed');
      },
    });
    this.conns = [];
    for (let i = 0; i < opts.config.binds; i++) this.conns.push(new Conn(this, i));
    this.slots =
      opts.slots === undefined ? undefined : new EndpointSlots(opts.slots, opts.slotsKey ?? opts.name, timers, opts.rng, () => this.pump());
  }

  /** Balancer load: pending requests per bound session, so endpoints with more binds take more. */
  get inFlight(): number {
    return this.bound > 1 ? this.pending / this.bound : this.pending;
  }

  /** Some bound slot still has window or queue room. */
  get hasCapacity(): boolean {
    return this.pending < this.bound * this.perConnCapacity;
  }

  /**
   * Counts requests given to / settled by this endpoint's slots. The smppd_window_used gauge follows
   * every GAUGE_EVERY changes while busy (a prom-client child still hashes its labels on every set,
   * and this runs twice per message; counting instead of reading the clock spares two clock reads
   * per message, bench: `npm run bench`), and at once when the endpoint drains to 0, so it never
   * stays stale.
   */
  addPending(delta: number): void {
    const pending = (this.pending += delta);
    const m = this.metrics;
    if (m === undefined || this.retired) return;
    if (pending !== 0 && ++this.gaugeSkipped < GAUGE_EVERY) return;
    this.gaugeSkipped = 0;
    m.windowUsed.set(pending);
  }

  get state(): EndpointState {
    if (this.closed || !this.started) return 'closed';
    if (this.bound > 0) return 'bound';
    if (this.connecting > 0 || this.retryTimer === undefined) return 'connecting';
    return 'backoff';
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.pump();
  }

  /**
   * The bound slot with the least load; equals take turns. O(binds). Within one tick (the requests
   * decoded from one client read, say) the slot picked keeps taking requests, up to half its window,
   * while it has room and nothing waits in its queue: a burst leaves in one write instead of one per
   * slot, and the SMSC reads it in one go (bench: `npm run bench`, through smppd: ~1 µs less per
   * message in smppd and in the simulator). Larger bursts still spread over the slots, and from the
   * next tick on the least loaded slot is chosen again.
   */
  pickConn(): Conn | undefined {
    const burst = this.burstConn;
    if (
      burst !== undefined &&
      this.burstLeft > 0 &&
      burst.state === 'bound' &&
      burst.queued === 0 &&
      !burst.session!.windowFull
    ) {
      this.burstLeft--;
      return burst;
    }
    const conn = this.leastLoadedConn();
    if (conn !== undefined) {
      if (burst === undefined) process.nextTick(this.endBurst);
      this.burstConn = conn;
      this.burstLeft = Math.ceil(this.config.window / 2) - 1;
    }
    return conn;
  }

  private leastLoadedConn(): Conn | undefined {
    const conns = this.conns;
    const n = conns.length;
    let best: Conn | undefined;
    let bestIdx = 0;
    let bestLoad = Infinity;
    for (let k = 0; k < n; k++) {
      const idx = (this.rr + k) % n;
      const c = conns[idx]!;
      if (c.state !== 'bound') continue;
      const load = c.load;
      if (load < bestLoad) {
        best = c;
        bestIdx = idx;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    if (best !== undefined) this.rr = (bestIdx + 1) % n;
    return best;
  }

  health(): EndpointHealth {
    let inFlight = 0;
    let queued = 0;
    for (const c of this.conns) {
      if (c.session !== undefined) inFlight += c.session.outstanding;
      queued += c.queued;
    }
    return {
      name: this.id,
      address: this.config.address,
      systemId: this.config.system_id,
      state: this.state,
      circuit: this.circuit.state,
      sessions: this.bound,
      binds: this.conns.length,
      inFlight,
      queued,
      throttled: this.throttled,
    };
  }

  /**
   * The SMSC said "slow down": ESME_RTHROTTLED to a submission (the cluster's `throttle_pause`;
   * status_map can make another code read as it). For `ms` from now nothing new is written to this endpoint: requests given to
   * it wait in its slots' queues, in order, until the pause ends or their deadline passes, and the
   * balancer prefers endpoints that are not paused. Sending on regardless is what gets binds
   * refused or cut by providers (FIELD-NOTES §3.3: Kannel stops sending for a while, Vumi pauses
   * its transport). Another such answer during the pause extends it to `ms` from then.
   */
  pauseSending(ms: number): void {
    if (!(ms > 0) || this.closed) return;
    const until = this.timers.now() + ms;
    if (until <= this.throttledUntil) return;
    this.throttledUntil = until;
    if (this.throttled) return; // the running timer looks at throttledUntil when it fires
    this.throttled = true;
    this.metrics?.throttlePause();
    this.log.debug({ pauseMs: ms }, 'upstream throttling: sending paused');
    this.throttleTimer = this.timers.setTimeout(this.onThrottleTimer, ms);
  }

  private endThrottle(): void {
    if (this.throttleTimer !== undefined) this.timers.clearTimeout(this.throttleTimer);
    this.throttleTimer = undefined;
    this.throttled = false;
    this.throttledUntil = 0;
  }

  /** Unbinds bound sessions (unbind, then close after at most the health-check timeout), closes the
   *  rest, and stops re-binding. */
  async close(): Promise<void> {
    const wasClosed = this.closed;
    this.closed = true;
    this.endThrottle();
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.slots?.close();
    const waits: Promise<unknown>[] = [...this.attempts];
    // Slots a reload is retiring: no more waiting for their answers.
    for (const [conn, done] of this.retiring) {
      void conn.session?.unbind();
      waits.push(done);
    }
    if (!wasClosed) {
      for (const conn of this.conns) {
        const s = conn.session;
        if (s !== undefined) waits.push(conn.state === 'bound' ? s.unbind() : s.close());
      }
    }
    await Promise.all(waits);
    if (!wasClosed) this.report();
  }

  // ---- config reload (issue 4) ----------------------------------------------------------------

  /**
   * The endpoint left the config, or its address or credentials changed (SPEC §6: then, and only
   * then, its sessions are re-bound). Stops re-binding and takes every slot out of service at once;
   * each session unbinds when the requests it has on the wire are answered. `keepQueue`: requests
   * waiting for a window slot are still written on it (the whole cluster is going: there is nowhere
   * else); otherwise they go back to the cluster to be routed elsewhere.
   */
  async retire(keepQueue: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retired = true;
    // What a retiring slot still writes (keepQueue) is not held back any longer.
    const wasThrottled = this.throttled;
    this.endThrottle();
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.slots?.close();
    const waits: Promise<unknown>[] = [...this.attempts];
    // Out of service first (bound drops to 0), so re-routed requests cannot land on a sibling slot.
    const bound = this.conns.filter((c) => c.state === 'bound');
    for (const conn of bound) this.takeOutOfService(conn);
    for (const conn of this.conns) {
      conn.removed = true;
      if (conn.state === 'retiring') waits.push(this.finishRetiring(conn, keepQueue));
      else if (conn.session !== undefined) waits.push(conn.session.close());
    }
    if (wasThrottled && keepQueue) this.opts.onResume(this);
    await Promise.all(waits);
  }

  /**
   * A changed config whose address and credentials are the same (the cluster checked): weight,
   * window, binds, circuit breaker and health-check settings change on the live sessions, which stay
   * bound. A smaller window lets the requests in flight finish; fewer binds retire the extra slots
   * (not-yet-bound ones first) once their requests are answered; more binds open new slots.
   * Bind, unbind and close timeouts (health_check.timeout) apply to sessions bound from now on.
   */
  update(config: EndpointConfig, cluster: ClusterConfig): void {
    this.config = config;
    this.opts.cluster = cluster;
    this.weight = config.weight;
    this.perConnCapacity = config.window + this.opts.maxQueue;
    this.circuit.update({ threshold: cluster.circuit_breaker.threshold, timeoutMs: cluster.circuit_breaker.timeout });
    const hc = cluster.health_check;
    const limits = { window: config.window, enquireLinkIntervalMs: hc.interval, enquireLinkTimeoutMs: hc.timeout };
    for (const conn of this.conns) conn.session?.setLimits(limits);
    if (config.binds > this.conns.length) {
      for (let i = this.conns.length; i < config.binds; i++) this.conns.push(new Conn(this, i));
      this.pump();
    } else if (config.binds < this.conns.length) {
      // Keep the bound slots where possible: drop idle ones, then binding ones, then bound ones.
      const rank: Record<ConnState, number> = { idle: 0, connecting: 1, bound: 2, retiring: 3 };
      const drop = [...this.conns]
        .reverse()
        .sort((a, b) => rank[a.state] - rank[b.state])
        .slice(0, this.conns.length - config.binds);
      const keep = this.conns.filter((c) => !drop.includes(c));
      this.conns.length = 0;
      this.conns.push(...keep);
      for (const conn of drop) {
        conn.removed = true;
        if (conn.state === 'bound') {
          this.takeOutOfService(conn);
          void this.finishRetiring(conn, false);
        }
        // A binding slot unbinds when its bind completes (connect() checks `removed`).
      }
    }
    this.report();
  }

  /** The slot takes no new requests from now on (pickConn and the cluster look for 'bound'). */
  private takeOutOfService(conn: Conn): void {
    conn.state = 'retiring';
    this.bound--;
  }

  /** Unbinds a retiring slot once nothing of it is on the wire; resolves when its session closed. */
  private finishRetiring(conn: Conn, keepQueue: boolean): Promise<void> {
    const session = conn.session!;
    if (!keepQueue && conn.queued > 0) this.opts.onLost(conn);
    conn.maybeUnbind();
    // The cluster calls maybeUnbind() after each answer; this covers a request that leaves the
    // queue by its deadline, and a peer that never answers.
    const grace = this.opts.requestTimeoutMs + RETIRE_GRACE_MS;
    const timer = this.timers.setTimeout(() => void session.unbind(), grace);
    const done = session.closed.then(() => {
      this.timers.clearTimeout(timer);
      this.retiring.delete(conn);
      if (conn.session === session) conn.session = undefined;
      conn.state = 'idle';
      if (keepQueue && conn.queued > 0) this.opts.onLost(conn); // fails them: the cluster is closed
      this.report();
    });
    this.retiring.set(conn, done);
    return done;
  }

  /** Resolves when every slot a reload took out of service has closed its session. */
  settled(): Promise<void> {
    return Promise.all(this.retiring.values()).then(() => undefined);
  }

  // ---- binding ------------------------------------------------------------------------------

  private pump(): void {
    if (this.closed || !this.started || this.retryTimer !== undefined) return;
    for (const conn of this.conns) {
      if (conn.state !== 'idle') continue;
      if (this.failing && this.connecting > 0) return;
      const attempt = this.connect(conn);
      this.attempts.add(attempt);
      void attempt.finally(() => this.attempts.delete(attempt));
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const delayMs = this.backoff.next();
    this.log.debug({ delayMs, attempt: this.backoff.attempts }, 're-bind scheduled');
    this.retryTimer = this.timers.setTimeout(this.onRetry, delayMs);
  }

  private async connect(conn: Conn): Promise<void> {
    // Synchronous up to the first await: pump() sees `connecting` at once.
    conn.state = 'connecting';
    this.connecting++;
    this.report();
    // max_binds: no bind without a bind slot; endpoint-slots.ts wakes pump() to ask again.
    if (this.slots !== undefined && !(await this.slots.hold(conn, this.opts.cluster.max_binds))) {
      this.connecting--;
      conn.state = 'idle';
      this.report();
      return;
    }
    let session: Session | undefined;
    try {
      const socket = await this.openSocket();
      if (this.closed) {
        socket.destroy();
        throw new Error('endpoint closed while connecting');
      }
      session = this.createSession(socket, conn);
      conn.session = session;
      await session.bind({
        type: this.opts.cluster.bind_type,
        system_id: this.config.system_id,
        password: this.config.password,
        system_type: this.config.system_type,
      });
      if (session.state === 'closed') throw new Error('session closed right after binding');
    } catch (err) {
      this.connecting--;
      conn.state = 'idle';
      if (conn.session === session) conn.session = undefined;
      if (session !== undefined) void session.close();
      this.slots?.release(conn);
      if (!this.closed && !conn.removed) {
        this.log.warn({ err, address: this.config.address }, 'upstream bind failed');
        this.circuit.onFailure();
        this.failing = true;
        this.scheduleRetry();
      }
      this.report();
      return;
    }
    this.connecting--;
    if (this.closed || conn.removed) {
      // close() ran while binding (it saw a connecting slot and closed it, or will not see this
      // one), or a reload removed the slot.
      conn.state = 'idle';
      await session.unbind();
      if (conn.session === session) conn.session = undefined;
      this.report();
      return;
    }
    conn.state = 'bound';
    this.bound++;
    this.failing = false;
    this.backoff.reset();
    // A fresh bind is an answer from the endpoint: it closes a half-open circuit.
    this.circuit.onSuccess();
    if (this.retryTimer !== undefined) {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.log.info({ session: conn.index, peer: session.peerSystemId }, 'upstream session bound');
    this.report();
    this.pump();
  }

  private createSession(socket: Duplex, conn: Conn): Session {
    const hc = this.opts.cluster.health_check;
    const session = createSession({
      socket,
      role: 'esme',
      timers: this.timers,
      logger: this.log.child?.({ session: conn.index }) ?? this.log,
      window: this.config.window,
      // The slot's queue (Conn) does the waiting; see the top of this file.
      windowMode: 'reject',
      requestTimeoutMs: this.opts.requestTimeoutMs,
      bindTimeoutMs: hc.timeout,
      unbindTimeoutMs: hc.timeout,
      closeTimeoutMs: hc.timeout,
      enquireLinkIntervalMs: hc.interval,
      enquireLinkTimeoutMs: hc.timeout,
    });
    session.on('request', (req) => this.onRequest(req));
    session.once('close', (info) => this.onClose(conn, session, info));
    this.slots?.attach(conn, session);
    return session;
  }

  private async openSocket(): Promise<Duplex> {
    if (this.opts.connect !== undefined) return await this.opts.connect(this.config);
    const { host, port } = this.hostPort;
    const tls = this.config.tls;
    if (tls === false) return netConnect({ host, port, noDelay: true, keepAlive: true });
    let ca: Buffer | undefined;
    if (tls.ca !== undefined) {
      this.ca ??= readFile(tls.ca);
      try {
        ca = await this.ca;
      } catch (err) {
        this.ca = undefined; // read again on the next attempt (a Secret may be mounted late)
        throw err;
      }
    }
    const socket = tlsConnect({
      host,
      port,
      ca,
      // SNI must not be an IP address (RFC 6066 §3).
      servername: tls.servername ?? (isIP(host) === 0 ? host : undefined),
    });
    socket.setNoDelay(true);
    return socket;
  }

  private onClose(conn: Conn, session: Session, info: CloseInfo): void {
    // Sessions that never bound are handled by connect().
    if (conn.session !== session || conn.state !== 'bound') return;
    conn.session = undefined;
    conn.state = 'idle';
    this.bound--;
    this.opts.onLost(conn);
    if (this.closed) {
      this.report();
      return;
    }
    this.log.warn({ session: conn.index, reason: info.reason, err: info.error }, 'upstream session lost');
    if (info.reason !== CloseReason.LOCAL && info.reason !== CloseReason.UNBIND) this.circuit.onFailure();
    this.failing = true;
    this.scheduleRetry();
    this.report();
  }

  // ---- upstream-originated requests -----------------------------------------------------------

  private onRequest(req: AnyIncomingRequest): void {
    if (req.command === 'deliver_sm' || req.command === 'data_sm') {
      void this.answerDelivery(req);
      return;
    }
    req.respond(Status.ESME_RINVCMDID);
  }

  /** The forwarder decides the status (ESME_ROK once the receipt is delivered or stored); a failure
   *  there asks the upstream to try again later rather than lose the receipt. */
  private async answerDelivery(req: IncomingRequest<DeliverSm> | IncomingRequest<DataSm>): Promise<void> {
    let status: number;
    try {
      status = await this.opts.onDelivery({ cluster: this.opts.cluster.name, endpoint: this.id, pdu: req.pdu });
      if (!Number.isInteger(status) || status < 0) status = Status.ESME_RSYSERR;
    } catch (err) {
      this.log.error({ err, command: req.command }, 'delivery handler failed');
      status = Status.ESME_RX_T_APPN;
    }
    req.respond(status);
  }

  private report(): void {
    const m = this.metrics;
    if (m === undefined || this.retired) return;
    m.sessions('bound', this.bound);
    m.sessions('connecting', this.connecting);
    m.windowUsed.set(this.pending);
  }
}
