// Shared types of the session engine: roles, states, injectable dependencies, close reasons.

import type { PduOf, RequestName } from '../smpp/index.js';

export type Role = 'esme' | 'smsc';
export type BindType = 'transmitter' | 'receiver' | 'transceiver';

/** SMPP 3.4 §2.2 session states, plus `unbinding` (unbind sent or received) and `closed`. */
export type SessionState = 'open' | 'bound_tx' | 'bound_rx' | 'bound_trx' | 'unbinding' | 'closed';

export const BIND_STATE: Readonly<Record<BindType, SessionState>> = {
  transmitter: 'bound_tx',
  receiver: 'bound_rx',
  transceiver: 'bound_trx',
};

/** Requests the session handles itself (bind, unbind, keepalive, outbind, alerts). */
export type SessionControlName =
  | 'bind_transmitter'
  | 'bind_receiver'
  | 'bind_transceiver'
  | 'unbind'
  | 'enquire_link'
  | 'outbind'
  | 'alert_notification';

/** Requests that carry traffic: sent with request(), delivered to the owner as 'request' events. */
export type DataRequestName = Exclude<RequestName, SessionControlName>;
export type DataRequestPdu = PduOf<DataRequestName>;

/** Opaque timer handle (NodeJS.Timeout for the system timers). */
export type TimerHandle = unknown;

/** Injectable clock and timers: vitest fake timers or a test clock drive keepalive and timeouts. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

// The clock reading held while a session handles what one read brought (holdNow), or -1.
let heldNow = -1;

/**
 * Makes systemTimers.now() answer `now` until restoreNow(returned value): a session reads the clock
 * once per socket read, and everything the frames of that read lead to in the same synchronous run
 * (the listener's arrival time, the cluster's latency, the forwarder's, the store's record times)
 * shares that reading. Four clock reads per message were ~3% of smppd's CPU (bench: `npm run bench`,
 * through smppd); a run lasts far under a millisecond but under load, so what it measures stays
 * exact to about that. Nests: a session fed synchronously by another (in-memory streams) holds its
 * own reading and gives the outer one back.
 */
export function holdNow(now: number): number {
  const outer = heldNow;
  heldNow = now;
  return outer;
}

export function restoreNow(outer: number): void {
  heldNow = outer;
}

/** Looks globals up at call time so vitest fake timers installed after import still apply.
 *  Timers are unref'd: a session's socket, not its timers, keeps the process alive. */
export const systemTimers: Timers = {
  now: () => (heldNow >= 0 ? heldNow : Date.now()),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The part of a pino logger the session uses (pass a child logger bound to the session). */
export interface SessionLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: SessionLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** Why a session closed; stable strings for logs, metrics and reconnect policy. */
export const CloseReason = {
  /** close() was called. */
  LOCAL: 'local',
  /** We unbound (unbind_resp received, or it timed out). */
  UNBIND: 'unbind',
  /** The peer sent unbind; we answered and closed. */
  PEER_UNBIND: 'peer_unbind',
  /** The peer closed the connection. */
  PEER_CLOSED: 'peer_closed',
  /** The socket failed (see `error`). */
  SOCKET_ERROR: 'socket_error',
  /** Our enquire_link was not answered within enquireLinkTimeoutMs. */
  ENQUIRE_LINK_TIMEOUT: 'enquire_link_timeout',
  /** Nothing received for idleTimeoutMs: we unbound and closed. */
  IDLE_TIMEOUT: 'idle_timeout',
  /** SMPP 3.4 §3.2: command_length < 16 or > the maximum; the stream cannot be re-synchronised. */
  INVALID_LENGTH: 'invalid_length',
  /** A bug in the session engine surfaced while handling input (see `error`). */
  INTERNAL_ERROR: 'internal_error',
} as const;

export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

export interface CloseInfo {
  reason: CloseReason;
  /** The socket error for `socket_error`; a SessionError ENQUIRE_LINK_TIMEOUT for
   *  `enquire_link_timeout`; the exception for `internal_error`. */
  error?: Error | undefined;
}

export interface SessionStats {
  /** Requests we sent that await a response (the outgoing window). */
  outstanding: number;
  /** Requests waiting for a window slot (wait mode). */
  queued: number;
  /** Peer requests delivered to the owner and not yet answered (the incoming window). */
  incomingPending: number;
  requestsSent: number;
  responsesReceived: number;
  requestsReceived: number;
  /** Requests that timed out waiting for their response. */
  timeouts: number;
  /** Responses that matched no outstanding request (late after a timeout, or bogus): dropped. */
  droppedResponses: number;
  /** Bytes received but not yet decoded (paused reader or partial PDU). */
  readBuffered: number;
  /** Bytes written but not yet flushed to the socket. */
  writeBuffered: number;
}
