// The public surface of a session: options, events and the Session interface (session.ts
// implements it).

import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { CommandName, PduOf } from '../smpp/index.js';
import type { BindPdu } from './dispatcher.js';
import type { AnyIncomingRequest } from './incoming.js';
import type {
  BindType,
  CloseInfo,
  DataRequestName,
  DataRequestPdu,
  Role,
  SessionLogger,
  SessionState,
  SessionStats,
  Timers,
} from './types.js';
import type { PendingRequest as OutgoingCall, WindowMode } from './window.js';

export type BindRespPdu = PduOf<'bind_transmitter_resp' | 'bind_receiver_resp' | 'bind_transceiver_resp'>;

/** SMSC role: decides a bind. Return ESME_ROK to bind, any other status to refuse with it. */
export type Authenticate = (bind: BindPdu, session: Session) => number | Promise<number>;

export interface SessionOptions {
  socket: Duplex;
  /** 'smsc': peers bind to us (client sessions); 'esme': we bind to the peer (upstream sessions). */
  role: Role;
  timers?: Timers;
  /** A pino(-compatible) logger, ideally a child bound to this connection. */
  logger?: SessionLogger;
  /** SMSC role: without it every bind is refused with ESME_RBINDFAIL. */
  authenticate?: Authenticate;
  /** SMSC role: system_id in our bind responses. */
  systemId?: string;
  /** Outstanding requests we may have sent (default 10). */
  window?: number;
  /** When the window is full: 'reject' (default) fails with WINDOW_FULL; 'wait' queues. */
  windowMode?: WindowMode;
  /** Wait mode: maximum queued requests (default 1000). */
  maxQueue?: number;
  /** Wait mode: longest wait for a slot (default requestTimeoutMs). */
  queueTimeoutMs?: number;
  /** Response timeout for request() (default 30 s). */
  requestTimeoutMs?: number;
  /** Unanswered peer requests allowed; beyond it the session answers ESME_RMSGQFUL itself. 0 = no limit (default). */
  incomingWindow?: number;
  bindTimeoutMs?: number;
  unbindTimeoutMs?: number;
  /** Send enquire_link after this long without receiving anything while bound (default 30 s; 0 = never). */
  enquireLinkIntervalMs?: number;
  /** Close the session when our enquire_link is not answered within this (default 10 s). */
  enquireLinkTimeoutMs?: number;
  /** Unbind and close after this long without receiving anything (default 0 = never). */
  idleTimeoutMs?: number;
  /** After end(), destroy the socket if it has not finished within this (default 5 s). */
  closeTimeoutMs?: number;
  maxPduLength?: number;
  /** First sequence number to use (tests exercise the wrap near 0x7FFFFFFF). */
  firstSequence?: number;
  /**
   * Incoming submit_sm PDUs keep the bytes they were decoded from (SubmitSm.frame), so that a proxy
   * forwarding them unchanged sends those bytes (default false).
   */
  keepSubmitFrames?: boolean;
}

/** What setLimits() can change on a live session (config reload); omitted fields stay as they are. */
export interface SessionLimits {
  /** Outstanding requests we may have sent; a smaller window lets those in flight finish. */
  window?: number;
  /** Unanswered peer requests allowed (0 = no limit). */
  incomingWindow?: number;
  /** Counted from the last PDU received, as before the change. */
  idleTimeoutMs?: number;
  enquireLinkIntervalMs?: number;
  /** For enquire_links sent from now on. */
  enquireLinkTimeoutMs?: number;
}

export interface BindParams {
  type: BindType;
  system_id: string;
  password: string;
  system_type?: string;
  /** Default 0x34 (SMPP 3.4). */
  interface_version?: number;
  addr_ton?: number;
  addr_npi?: number;
  address_range?: string;
}

export interface BoundInfo {
  bindType: BindType;
  /** The peer's system_id: from its bind (SMSC role) or its bind response (ESME role). */
  systemId: string;
}

export type SessionEvents = {
  /** The session became bound. */
  bound: [info: BoundInfo];
  /** A traffic request from the peer; answer it with `req.respond(status, body)`. Without a
   *  listener the session answers ESME_RSYSERR. */
  request: [req: AnyIncomingRequest];
  /** ESME role: the SMSC asks us to bind (SMPP 3.4 §2.2.1); call bind({ type: 'receiver', ... }). */
  outbind: [pdu: PduOf<'outbind'>];
  /** ESME role: SMPP 3.4 §4.12 (no response is sent). */
  alert_notification: [pdu: PduOf<'alert_notification'>];
  /** The peer sent unbind; the session answers and closes right after this event. */
  unbind: [];
  /** The socket is closed, every request settled and every timer cleared. */
  close: [info: CloseInfo];
  /** Socket errors and exceptions thrown by listeners; only emitted when someone listens
   *  (the close event carries socket errors too). */
  error: [err: Error];
};

/** An outgoing request that settles itself (Session.requestWith); the window's entry type. */
export type { OutgoingCall };

/** A request to send: the PDU without header fields (request() assigns them, in place). */
export type OutgoingRequest = DataRequestPdu extends infer P
  ? P extends DataRequestPdu
    ? Omit<P, 'sequence_number' | 'command_status'> & { sequence_number?: number; command_status?: number }
    : never
  : never;

export type ResponseTo<P extends { command: DataRequestName }> = PduOf<Extract<CommandName, `${P['command']}_resp`>>;

export interface Session extends EventEmitter<SessionEvents> {
  readonly role: Role;
  readonly state: SessionState;
  readonly bindType: BindType | undefined;
  /** The peer's system_id once bound. */
  readonly peerSystemId: string | undefined;
  /** Resolves once the session is closed (never rejects). */
  readonly closed: Promise<CloseInfo>;
  /** Outgoing requests awaiting a response. */
  readonly outstanding: number;
  /** Outgoing requests waiting for a window slot. */
  readonly queued: number;
  readonly windowFull: boolean;
  /** Peer requests delivered and not yet answered. */
  readonly incomingPending: number;
  readonly readingPaused: boolean;

  /** ESME role: binds; resolves with the bind response, rejects with BIND_FAILED (status), TIMEOUT
   *  (the session is then closed), GENERIC_NACK, INVALID_STATE, CLOSED. */
  bind(params: BindParams): Promise<BindRespPdu>;
  /** SMSC role, open state: asks the ESME to bind to us (SMPP 3.4 §2.2.1). Throws INVALID_STATE. */
  outbind(params: { system_id: string; password: string }): void;
  /**
   * Sends a traffic request and resolves with its response, whatever its command_status. Assigns
   * `pdu.sequence_number` in place (do not send one object twice at once). Rejects with WINDOW_FULL,
   * QUEUE_TIMEOUT, TIMEOUT, GENERIC_NACK, BAD_RESPONSE, INVALID_STATE, UNBOUND, CLOSED.
   */
  request<P extends OutgoingRequest>(pdu: P): Promise<ResponseTo<P>>;
  /**
   * request() without a promise, for the per-message path (bench: `npm run bench`, through smppd):
   * `call` is the window's own entry, so a request costs no promise, closure or entry object.
   * The session fills seq/responseId/deadline, drops `call.pdu` once written, and calls
   * `call.resolve(response)` or `call.reject(err)` exactly once with what request() would resolve
   * or reject with. A refusal (state, WINDOW_FULL, ENCODE_FAILED) calls reject inside this call.
   */
  requestWith(call: OutgoingCall): void;
  /** One enquire_link outside the window (health checks); rejects with TIMEOUT etc. */
  enquireLink(): Promise<PduOf<'enquire_link_resp'>>;
  /** Sends unbind, waits for unbind_resp (or unbindTimeoutMs), then closes. Unbound: just closes. */
  unbind(): Promise<CloseInfo>;
  /** Closes now (flushing what was written); pending requests fail with CLOSED. */
  close(): Promise<CloseInfo>;
  /** Changes limits of the live session (config reload: `limits` and `window` apply at once). */
  setLimits(limits: SessionLimits): void;
  /** Stop/resume handing PDUs to the session (e.g. while the owner's limits are exceeded). */
  pauseReading(): void;
  resumeReading(): void;
  stats(): SessionStats;
}
