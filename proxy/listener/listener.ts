// A listener (SPEC §3 `listeners`): the TCP or TLS accept loop, one SMSC-role session per
// connection, and the client-side limits.
//
//   accept        firewall filters, then max_connections: refused connections are closed at once
//                 and counted, before a byte is read or a TLS handshake is spent on them
//   bind          filter/auth.ts against `clients` (SPEC §4 outcomes); credential failures are
//                 answered late, more so the more an address fails (filter/auth-failures.ts)
//   requests      over `window` unanswered -> ESME_RMSGQFUL (the session's incomingWindow);
//                 rate_limit filters and the client's throughput -> ESME_RTHROTTLED; then the
//                 forwarder (deps.handleRequest) with a deadline of now + request_timeout
//   idle_timeout  the session unbinds, then closes
//
// Every request gets exactly one response: the forwarder's, or ESME_RSYSERR when it throws or has
// not answered shortly after the deadline (deadlines.ts).
//
// Draining a session (shutdown, its client removed by a reload, its listener removed): from that
// moment its new requests are answered ESME_RSYSERR at once (transient: the client resubmits it,
// e.g. to another replica); the requests already with the forwarder are answered as usual; when the
// last of them is answered the session unbinds. So a client always gets its submit_sm_resp before
// the unbind (SPEC §6) — sending unbind first would lose it, as the client's unbind_resp closes the
// session.
//
// Config reload (update): limits apply at once, to the live sessions too (window, idle timeout);
// filters are recompiled (rate-limit buckets start full); a new address or TLS turned on/off
// re-opens the accept socket (bound sessions stay on the old socket); new TLS files apply to new
// connections. After a shorter request_timeout the deadline backstop may fire up to the old
// timeout late for requests sent right after the reload (the forwarder still answers at the new one).

import { randomBytes } from 'node:crypto';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { ClientConfig, ListenerConfig } from '../config/schema.js';
import { sameValue } from '../config/diff.js';
import { parseHostPort } from '../config/net.js';
import {
  BindOutcome,
  ConnectionRefusal,
  compileClients,
  compileFilters,
  createAuthFailures,
  createClientThroughput,
  isCredentialFailure,
  normaliseIp,
  parseIp,
  type BindDecision,
} from '../filter/index.js';
import { PasswordChecksBusy } from '../filter/password-hash.js';
import {
  createSession,
  systemTimers,
  type AnyIncomingRequest,
  type BindPdu,
  type BindType,
  type CloseInfo,
  type Session,
  type SessionLogger,
} from '../session/index.js';
import { Status, isSubmission, responseNameOf, statusName, type Pdu } from '../smpp/index.js';
import { sessionLogger, type Logger } from '../telemetry/logger.js';
import { BoundClient } from './client-session.js';
import { SessionSlot } from './client-slots.js';
import { DeadlineQueue } from './deadlines.js';
import { loadTlsOptions } from './tls.js';
import type { Listener, ListenerDeps, ListenerStats, RequestReply } from './types.js';

/**
 * How long after the deadline the backstop answers ESME_RSYSERR. The forwarder answers at its
 * deadline with the status that explains the failure; the grace keeps the backstop from racing it.
 */
export const DEADLINE_GRACE_MS = 50;

/** TLS handshake limit when idle_timeout is 0 (Node's default). */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 120_000;

/** Recent credential failures of an address (auth-failures.ts score) above which its binds to a
 *  password_hash client get no scrypt check. */
const HASH_CHECK_FAILURE_LIMIT = 3;

const BIND_TYPE_OF: Readonly<Record<BindPdu['command'], BindType>> = {
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
  bind_transceiver: 'transceiver',
};

/** The session engine keeps the logger it was created with; this lets us add system_id after bind. */
class SessionLog implements SessionLogger {
  constructor(public target: Logger) {}
  debug(obj: object, msg: string): void {
    this.target.debug(obj, msg);
  }
  info(obj: object, msg: string): void {
    this.target.info(obj, msg);
  }
  warn(obj: object, msg: string): void {
    this.target.warn(obj, msg);
  }
  error(obj: object, msg: string): void {
    this.target.error(obj, msg);
  }
}

/** A connection's session and what draining it needs to know. */
interface SessionEntry {
  readonly session: Session;
  readonly socket: Socket | TLSSocket;
  client: BoundClient | undefined;
  /** Requests handed to the forwarder and not answered yet. */
  inFlight: number;
  /** Taking no new requests; unbinds when inFlight reaches 0. */
  draining: boolean;
}

/** What the listener does with the forwarder's answer (createListener's answered and failed). */
interface ReplyHandler {
  answered(p: PendingRequest, resp: Pdu): void;
  failed(p: PendingRequest, err: unknown): void;
}

/** A client request with the forwarder, and the RequestReply it answers through. */
class PendingRequest implements RequestReply {
  /** Its place in the deadline queue, for deadlines.delete(). */
  ticket = 0;

  constructor(
    readonly req: AnyIncomingRequest,
    readonly log: SessionLog,
    readonly entry: SessionEntry,
    private readonly handler: ReplyHandler,
  ) {}

  answered(resp: Pdu): void {
    this.handler.answered(this, resp);
  }

  failed(err: unknown): void {
    this.handler.failed(this, err);
  }
}

export function createListener(initial: ListenerConfig, deps: ListenerDeps): Listener {
  const name = initial.name;
  let config = initial;
  let limits = config.limits;
  const timers = deps.timers ?? systemTimers;
  const registry = deps.registry;
  const metrics = deps.metrics;
  const log = deps.logger.child({ listener: name });
  const delay =
    deps.delay ?? ((ms: number) => new Promise<void>((resolve) => void timers.setTimeout(resolve, ms)));
  const throughput = deps.throughput ?? createClientThroughput(deps.clients);
  let filters = compileFilters(config.filters, { throughput });
  const authFailures = deps.authFailures ?? createAuthFailures();
  let clients = compileClients(deps.clients);

  const connectionGauge = metrics?.connectionActive.labels({ listener: name });
  const refused = { firewall: 0, max_connections: 0 };
  const sessionTag = randomBytes(3).toString('hex');
  let sessionCounter = 0;
  let active = 0;
  let boundSessions = 0;
  let capacityWarned = false;
  const connections = new Set<Socket>();
  const sessions = new Map<Session, SessionEntry>();
  let server: Server | undefined;
  let closing = false;

  const deadlines = new DeadlineQueue<PendingRequest>(timers, (p) => {
    if (p.req.respond(Status.ESME_RSYSERR)) {
      p.log.warn({ command: p.req.command, seq: p.req.pdu.sequence_number }, 'request not answered by its deadline');
    }
    settled(p.entry);
  });

  /** One request of the session was answered (or expired). */
  function settled(entry: SessionEntry): void {
    entry.inFlight--;
    if (entry.draining && entry.inFlight === 0) void entry.session.unbind();
  }

  /** Stop taking requests on the session and unbind it once those in flight are answered. */
  function drain(entry: SessionEntry): Promise<CloseInfo> {
    if (!entry.draining) {
      entry.draining = true;
      if (entry.inFlight === 0) void entry.session.unbind();
    }
    return entry.session.closed;
  }

  // ---- accept -------------------------------------------------------------------------------

  function refuse(socket: Socket, reason: ConnectionRefusal): void {
    refused[reason]++;
    metrics?.connectionsRefused?.inc({ listener: name, reason });
    if (reason === ConnectionRefusal.MAX_CONNECTIONS && !capacityWarned) {
      capacityWarned = true;
      log.warn({ maxConnections: limits.max_connections }, 'max_connections reached, refusing connections');
    } else {
      log.debug({ remote: socket.remoteAddress, reason }, 'connection refused');
    }
    socket.destroy();
  }

  function onConnection(socket: Socket): void {
    const refusal =
      filters.checkConnection(socket.remoteAddress) ??
      (active >= limits.max_connections ? ConnectionRefusal.MAX_CONNECTIONS : undefined);
    if (refusal !== undefined) {
      refuse(socket, refusal);
      return;
    }
    active++;
    connectionGauge?.inc();
    connections.add(socket);
    socket.once('close', () => {
      active--;
      connectionGauge?.dec();
      connections.delete(socket);
      if (active < limits.max_connections) capacityWarned = false;
    });
    // SMPP is request/response with small PDUs: Nagle would add up to 40 ms per response.
    socket.setNoDelay(true);
    if (config.tls === undefined) startSession(socket);
    // TLS: the session starts on 'secureConnection', over the TLSSocket wrapping this one.
  }

  // ---- sessions -----------------------------------------------------------------------------

  function startSession(socket: Socket | TLSSocket): void {
    const id = `${name}-${sessionTag}-${++sessionCounter}`;
    const remoteAddress = socket.remoteAddress ?? '';
    const ip = normaliseIp(remoteAddress);
    const remote = `${ip.includes(':') ? `[${ip}]` : ip}:${socket.remotePort ?? 0}`;
    const slog = new SessionLog(sessionLogger(deps.logger, { sessionId: id, listener: name, remote }));
    let client: BoundClient | undefined;
    /** The client's fleet bind slot (max_binds across replicas, client-slots.ts). */
    const slot = new SessionSlot();

    const session = createSession({
      socket,
      role: 'smsc',
      systemId: deps.systemId ?? 'smppd',
      timers,
      logger: slog,
      authenticate: (bind) => authenticate(bind, remoteAddress, slog, slot, () => void session.unbind()),
      // Outgoing (deliver_sm to the client): a burst of receipts waits for a window slot.
      window: limits.window,
      windowMode: 'wait',
      requestTimeoutMs: limits.request_timeout,
      // SPEC §4: a client over its window gets ESME_RMSGQFUL; the session answers it itself.
      incomingWindow: limits.window,
      // Our own enquire_links would be answered and reset the idle timer: idle_timeout would never
      // fire. Clients keep their link alive; we answer (the session always does).
      enquireLinkIntervalMs: 0,
      idleTimeoutMs: limits.idle_timeout,
      // The forwarder sends a client's submit_sm upstream as it came (forwarder/submit.ts): the
      // upstream session then copies these bytes rather than encoding the PDU again.
      keepSubmitFrames: true,
    });
    const entry: SessionEntry = { session, socket, client: undefined, inFlight: 0, draining: false };
    sessions.set(session, entry);
    slog.debug({}, 'client connected');

    session.on('bound', (info) => {
      slog.target = sessionLogger(deps.logger, { sessionId: id, listener: name, systemId: info.systemId, remote });
      client = new BoundClient(id, info.systemId, info.bindType, name, ip, session, timers, Date.now(), () => {
        if (!entry.draining) slog.info({}, 'unbinding the client session (admin)');
        void drain(entry);
      });
      entry.client = client;
      boundSessions++;
      metrics?.clientSessions.inc({ listener: name, bind_type: info.bindType });
      slog.info({ bindType: info.bindType }, 'client bound');
      registry.add(client);
      // Bound while being drained (a bind that was in flight): unbind it now.
      if (entry.draining && entry.inFlight === 0) void session.unbind();
    });

    session.on('request', (req) => {
      if (client === undefined) req.respond(Status.ESME_RINVBNDSTS); // the session only delivers when bound
      else if (entry.draining) req.respond(Status.ESME_RSYSERR); // going away: see the top of the file
      else onRequest(entry, client, slog, req);
    });

    session.on('close', (info: CloseInfo) => {
      sessions.delete(session);
      slot.release();
      if (client !== undefined) {
        registry.remove(client);
        boundSessions--;
        metrics?.clientSessions.dec({ listener: name, bind_type: client.bindType });
        slog.info(info.error === undefined ? { reason: info.reason } : { reason: info.reason, err: info.error }, 'client session closed');
      } else {
        slog.debug({ reason: info.reason }, 'connection closed before bind');
      }
    });
  }

  function authenticate(
    bind: BindPdu,
    remoteAddress: string,
    slog: SessionLog,
    slot: SessionSlot,
    unbind: () => void,
  ): number | Promise<number> {
    const bindType = BIND_TYPE_OF[bind.command];
    const table = clients;
    const request = { systemId: bind.system_id, password: bind.password, bindType, remote: parseIp(remoteAddress) };
    const decide = (): BindDecision => table.decide(request, (systemId) => registry.bindCount(systemId));
    const d = decide();
    // A client with password_hash: scrypt on a pool thread, then the same decision again (the
    // password is remembered now), in the callback that delivers the answer to the session.
    if (d.needsVerify) {
      // An address with several recent failures gets no scrypt check: a loop of wrong passwords must
      // not keep the pool busy. Its bind fails as a wrong password does (and is slowed down the same).
      if (authFailures.score(remoteAddress) >= HASH_CHECK_FAILURE_LIMIT) return settleBind(bind, bindType, remoteAddress, slog, slot, unbind, d);
      return table.verify(bind.system_id, bind.password).then(
        (ok) => {
          // A reload while scrypt ran: decide against the clients as they are now (disabled, removed).
          if (clients !== table) return authenticate(bind, remoteAddress, slog, slot, unbind);
          return settleBind(bind, bindType, remoteAddress, slog, slot, unbind, ok ? decide() : d);
        },
        (err: unknown) => {
          // Too many checks waiting, or scrypt itself failed: not the client's fault, but no way in.
          if (err instanceof PasswordChecksBusy) slog.warn({ systemId: bind.system_id, reason: err.message }, 'password checks busy; bind refused');
          else slog.error({ err, systemId: bind.system_id }, 'password hash check failed');
          metrics?.bindAttempts.inc({ listener: name, result: 'check_failed' });
          return Status.ESME_RBINDFAIL;
        },
      );
    }
    return settleBind(bind, bindType, remoteAddress, slog, slot, unbind, d);
  }

  /**
   * Answers a bind as `d` decided. Synchronous on success: the 'bound' event (which adds the session
   * to the registry) follows in the same tick, so two binds cannot both pass the max_binds check.
   * With fleet slots (store.backend: redis) the bind also takes one of the client's slots in Redis,
   * atomically: that bounds the binds of all replicas together.
   */
  function settleBind(
    bind: BindPdu,
    bindType: BindType,
    remoteAddress: string,
    slog: SessionLog,
    slot: SessionSlot,
    unbind: () => void,
    d: BindDecision,
  ): number | Promise<number> {
    const max = d.client?.max_binds ?? 0;
    const fleet = deps.clientSlots;
    if (d.status === Status.ESME_ROK && max > 0 && fleet !== undefined) {
      return slot.take(fleet, bind.system_id, max, unbind).then((ok) => {
        const outcome = ok ? BindOutcome.OK : BindOutcome.MAX_BINDS;
        metrics?.bindAttempts.inc({ listener: name, result: outcome });
        if (ok) return Status.ESME_ROK;
        slog.info({ systemId: bind.system_id, bindType, outcome, status: statusName(Status.ESME_RBINDFAIL) }, 'bind refused');
        return Status.ESME_RBINDFAIL;
      });
    }
    metrics?.bindAttempts.inc({ listener: name, result: d.outcome });
    if (d.status === Status.ESME_ROK) return d.status;
    slog.info({ systemId: bind.system_id, bindType, outcome: d.outcome, status: statusName(d.status) }, 'bind refused');
    if (!isCredentialFailure(d.outcome)) return d.status;
    const wait = authFailures.record(remoteAddress);
    return wait > 0 ? delay(wait).then(() => d.status) : d.status;
  }

  // ---- requests -----------------------------------------------------------------------------

  function onRequest(entry: SessionEntry, client: BoundClient, slog: SessionLog, req: AnyIncomingRequest): void {
    const pdu = req.pdu;
    // SMPP 3.4 §2.3: an ESME never sends deliver_sm; the session's bind rules refuse it already.
    if (pdu.command === 'deliver_sm') {
      req.respond(Status.ESME_RINVCMDID);
      return;
    }
    // allowed_sources, before the rate and throughput filters: a refused submit takes no token.
    if (isSubmission(pdu) && !clients.allowsSource(client.systemId, pdu.source_addr)) {
      req.respond(Status.ESME_RINVSRCADR);
      return;
    }
    const refusal = filters.checkRequest(client.systemId, pdu);
    if (refusal !== Status.ESME_ROK) {
      req.respond(refusal);
      return;
    }
    const receivedAt = timers.now();
    const deadline = receivedAt + limits.request_timeout;
    const pending = new PendingRequest(req, slog, entry, replies);
    entry.inFlight++;
    pending.ticket = deadlines.add(pending, deadline + DEADLINE_GRACE_MS);
    try {
      deps.handleRequest(client, pdu, { deadline, receivedAt }, pending);
    } catch (err) {
      failed(pending, err);
    }
  }

  const replies: ReplyHandler = { answered, failed };

  function answered(p: PendingRequest, resp: Pdu): void {
    if (!deadlines.delete(p.ticket, p)) {
      p.log.debug({ command: p.req.command }, 'late answer dropped (deadline passed)');
      return;
    }
    respondWith(p, resp);
    settled(p.entry);
  }

  function respondWith(p: PendingRequest, resp: Pdu): void {
    const req = p.req;
    if (resp.command !== responseNameOf(req.command) && resp.command !== 'generic_nack') {
      p.log.error({ command: req.command, response: resp.command }, 'forwarder answered with the wrong response');
      req.respond(Status.ESME_RSYSERR);
      return;
    }
    // Sent as the forwarder built it (no body copied, bench: `npm run bench`), with the client's
    // sequence_number: the request's, never the upstream's.
    try {
      req.respondWith(resp as never);
    } catch (err) {
      // Not encodable: the session already answered ESME_RSYSERR in its place.
      p.log.error({ err, command: req.command }, 'response could not be encoded');
    }
  }

  function failed(p: PendingRequest, err: unknown): void {
    if (!deadlines.delete(p.ticket, p)) return;
    p.log.error({ err, command: p.req.command }, 'request handler failed');
    p.req.respond(Status.ESME_RSYSERR);
    settled(p.entry);
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  async function start(): Promise<AddressInfo> {
    if (server !== undefined) throw new Error(`listener ${name} already started`);
    server = await listen(config);
    return server.address() as AddressInfo;
  }

  const handshakeTimeout = (l: ListenerConfig['limits']): number =>
    l.idle_timeout > 0 ? l.idle_timeout : DEFAULT_HANDSHAKE_TIMEOUT_MS;

  /** A server accepting on `cfg.address` (TCP or TLS), listening when it resolves. */
  async function listen(cfg: ListenerConfig): Promise<Server> {
    const hostPort = parseHostPort(cfg.address);
    if (hostPort === undefined) throw new RangeError(`listener ${name}: bad address ${cfg.address}`);
    let srv: Server;
    if (cfg.tls === undefined) {
      srv = createNetServer();
    } else {
      const tlsServer = createTlsServer(await loadTlsOptions(cfg.tls, handshakeTimeout(cfg.limits)));
      tlsServer.on('secureConnection', (socket) => {
        if (closing) socket.destroy();
        else startSession(socket);
      });
      tlsServer.on('tlsClientError', (err, socket) => {
        log.debug({ err, remote: socket.remoteAddress }, 'TLS handshake failed');
      });
      srv = tlsServer;
    }
    // Before the TLS server's own listener: refused connections never start a handshake.
    srv.prependListener('connection', onConnection);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      srv.once('error', onError);
      srv.listen({ host: hostPort.host, port: hostPort.port }, () => {
        srv.off('error', onError);
        resolve();
      });
    });
    // Accept errors (EMFILE...) must not take the process down.
    srv.on('error', (err) => log.error({ err }, 'listener error'));
    const address = srv.address() as AddressInfo;
    log.info({ address: address.address, port: address.port, tls: cfg.tls !== undefined }, 'listening');
    return srv;
  }

  async function close(): Promise<void> {
    if (closing) return;
    closing = true;
    // Stops accepting now; the callback would wait for every connection, which the owner decides.
    server?.close();
  }

  async function closeSessions(timeoutMs: number): Promise<void> {
    const closedAll = Promise.all([...sessions.values()].map(drain));
    let timer: unknown;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = timers.setTimeout(() => resolve(true), timeoutMs);
    });
    const late = await Promise.race([closedAll.then(() => false), timedOut]);
    timers.clearTimeout(timer);
    if (late) {
      log.warn({ open: sessions.size }, 'sessions still open after the drain timeout, closing them');
      for (const [s, entry] of sessions) {
        void s.close();
        entry.socket.destroy();
      }
      await closedAll;
    }
    // Connections still in their TLS handshake have no session yet.
    for (const socket of connections) socket.destroy();
  }

  function updateClients(list: readonly ClientConfig[]): Promise<void> {
    clients = compileClients(list);
    throughput.update(list);
    // A client no longer in the config, or disabled, loses its sessions (SPEC §6); the others stay bound.
    const enabled = new Map(list.map((c) => [c.system_id, c.enabled]));
    const gone: Promise<CloseInfo>[] = [];
    for (const entry of sessions.values()) {
      if (entry.client === undefined) continue;
      const state = enabled.get(entry.client.systemId);
      if (state === true) continue;
      const why = state === undefined ? 'client removed from the config, unbinding' : 'client disabled in the config, unbinding';
      log.info({ sessionId: entry.client.id, systemId: entry.client.systemId }, why);
      gone.push(drain(entry));
    }
    return Promise.all(gone).then(() => undefined);
  }

  async function update(next: ListenerConfig): Promise<AddressInfo | undefined> {
    if (next.name !== name) throw new RangeError(`listener ${name}: update with the config of ${next.name}`);
    const previous = config;
    config = next;
    if (!sameValue(previous.limits, next.limits)) {
      limits = next.limits;
      const sessionLimits = { window: limits.window, incomingWindow: limits.window, idleTimeoutMs: limits.idle_timeout };
      for (const s of sessions.keys()) s.setLimits(sessionLimits);
      if (active < limits.max_connections) capacityWarned = false;
    }
    if (!sameValue(previous.filters, next.filters)) filters = compileFilters(next.filters, { throughput });
    if (server === undefined || closing) return undefined;

    const reopen = previous.address !== next.address || (previous.tls === undefined) !== (next.tls === undefined);
    if (!reopen) {
      if (next.tls !== undefined && !sameValue(previous.tls, next.tls)) {
        // New certificate for new connections; those open keep theirs.
        (server as TlsServer).setSecureContext(await loadTlsOptions(next.tls, handshakeTimeout(limits)));
      }
      return server.address() as AddressInfo;
    }
    // Stop accepting on the old socket first (the new one may be the same address), then listen;
    // if that fails, listen as before again and report the failure to the caller.
    const old = server;
    const was = old.address() as AddressInfo;
    old.close();
    try {
      server = await listen(next);
    } catch (err) {
      config = { ...next, address: previous.address, tls: previous.tls };
      // The port it had, even when the config says 0: clients know that one.
      const host = was.family === 'IPv6' ? `[${was.address}]` : was.address;
      server = await listen({ ...config, address: `${host}:${was.port}` });
      throw err;
    }
    return server.address() as AddressInfo;
  }

  function stats(): ListenerStats {
    return { connections: active, boundSessions, refused: { ...refused } };
  }

  return {
    name,
    get config() {
      return config;
    },
    start,
    close,
    closeSessions,
    updateClients,
    update,
    stats,
  };
}
