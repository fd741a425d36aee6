// One SMPP session over a Duplex stream (net.Socket, tls.TLSSocket, or an in-memory pair), for
// either role. This file only wires the parts together: frames in -> decode -> dispatcher ->
// handlers; requests out through the window (data) or the control track (bind, unbind,
// enquire_link); keepalive; backpressure; and a close path that settles everything.

import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import {
  CommandId,
  FrameDecoder,
  MAX_PDU_LENGTH,
  Status,
  decodeFailure,
  decodePduAt,
  commandOf,
  encodePdu,
  encodedLengthWith,
  genericNack,
  responseFor,
  statusName,
  writePduWith,
  type AnsweredRequestName,
  type Pdu,
  type PduOf,
  type RequestName,
  type RequestPdu,
  type SubmitSm,
} from '../smpp/index.js';
import { isAllowed, isBoundState, otherRole } from './bind-rules.js';
import { ControlRequests } from './control.js';
import { dispatch, dispatchMalformed, type BindPdu, type SessionCore } from './dispatcher.js';
import { SessionError } from './errors.js';
import { IncomingRequest, type AnyIncomingRequest, type Responder } from './incoming.js';
import { Keepalive } from './keepalive.js';
import { OutBuffer } from './out-buffer.js';
import { createSequence, type Sequence } from './sequence.js';
import {
  BIND_STATE,
  CloseReason,
  holdNow,
  restoreNow,
  silentLogger,
  systemTimers,
  type BindType,
  type CloseInfo,
  type DataRequestName,
  type DataRequestPdu,
  type Role,
  type SessionLogger,
  type SessionState,
  type SessionStats,
  type TimerHandle,
  type Timers,
} from './types.js';
import { RequestWindow, type PendingRequest } from './window.js';
import type {
  Authenticate,
  BindParams,
  BindRespPdu,
  OutgoingRequest,
  ResponseTo,
  Session,
  SessionEvents,
  SessionLimits,
  SessionOptions,
} from './session-api.js';

const PAUSE_OWNER = 1;
const PAUSE_BACKPRESSURE = 2;
const PAUSE_AUTH = 4;

const BIND_COMMAND = {
  transmitter: 'bind_transmitter',
  receiver: 'bind_receiver',
  transceiver: 'bind_transceiver',
} as const satisfies Record<BindType, RequestName>;

const BIND_TYPE_OF: Readonly<Record<BindPdu['command'], BindType>> = {
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
  bind_transceiver: 'transceiver',
};

const DATA_REQUESTS: ReadonlySet<string> = new Set<DataRequestName>([
  'submit_sm',
  'submit_multi',
  'deliver_sm',
  'data_sm',
  'query_sm',
  'cancel_sm',
  'replace_sm',
]);

/** Close reasons where what was written still goes out before the socket closes. */
const GRACEFUL: ReadonlySet<CloseReason> = new Set<CloseReason>([
  CloseReason.LOCAL,
  CloseReason.UNBIND,
  CloseReason.PEER_UNBIND,
  CloseReason.PEER_CLOSED,
  CloseReason.IDLE_TIMEOUT,
]);

/**
 * A decoded request's frame with command_status 0 and sequence number `seq`: the request exactly as
 * its sender wrote it (its fields are unchanged: SubmitSm.frame), for a fraction of the cost of
 * encoding it again (bench: \`npm run bench\`, through smppd: re-encoding submit_sm was ~8% of
 * smppd's CPU). Rewritten in place, a view of the read buffer it came in: writeFrame copies it
 * into the session's OutBuffer at once, so a retry that rewrites it again changes no bytes already
 * on their way.
 */
function reframe(frame: Buffer, seq: number): Buffer {
  frame.writeUInt32BE(0, 8);
  frame.writeUInt32BE(seq, 12);
  return frame;
}

function responseIdOf(command: RequestName): number {
  return (CommandId[command] | 0x80000000) >>> 0;
}

/** A default-body response to a request known only by name and sequence number. */
function statusResponse(command: AnsweredRequestName, sequence_number: number, status: number): Pdu {
  // query_sm_resp echoes message_id; '' where the request was not decoded.
  const req = { command, sequence_number, message_id: '' } as unknown as RequestPdu;
  return responseFor(req, status);
}

function positive(name: string, value: number | undefined, fallback: number, min = 0): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) throw new RangeError(`${name} must be a number >= ${min}, got ${v}`);
  return v;
}

class SmppSession extends EventEmitter<SessionEvents> implements Session, SessionCore, Responder {
  readonly role: Role;
  readonly peerRole: Role;
  state: SessionState = 'open';
  bindType: BindType | undefined;
  peerSystemId: string | undefined;
  readonly closed: Promise<CloseInfo>;
  incomingPending = 0;

  private readonly socket: Duplex;
  private readonly timers: Timers;
  private readonly log: SessionLogger;
  private readonly authenticate: Authenticate | undefined;
  private readonly systemId: string;
  private incomingLimit: number;
  private readonly bindTimeoutMs: number;
  private readonly unbindTimeoutMs: number;
  private enquireLinkTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly keepSubmitFrames: boolean;
  /** The frame of the PDU being dispatched (keepSubmitFrames), for deliver(). */
  private dispatchedFrame: Buffer | undefined;

  private readonly sequence: Sequence;
  private readonly decoder: FrameDecoder;
  private readonly window: RequestWindow;
  private readonly control: ControlRequests;
  private readonly keepalive: Keepalive;

  private pauseMask = 0;
  private processing = false;
  /** Frames written since the last flush (writeFrame). */
  private readonly out = new OutBuffer();
  /** The socket takes a written buffer's bytes inside write() when it can (out-buffer.ts). */
  private readonly writesInPlace: boolean;
  private flushScheduled = false;
  private ending = false;
  private bindPending = false;
  private unbindStarted = false;
  private closeInfo: CloseInfo | undefined;
  private closeTimer: TimerHandle | undefined;
  private finalized = false;
  private resolveClosed!: (info: CloseInfo) => void;

  private requestsSent = 0;
  private responsesReceived = 0;
  private requestsReceived = 0;
  private droppedResponses = 0;

  constructor(o: SessionOptions) {
    super();
    this.socket = o.socket;
    this.role = o.role;
    this.peerRole = otherRole(o.role);
    this.timers = o.timers ?? systemTimers;
    this.log = o.logger ?? silentLogger;
    this.authenticate = o.authenticate;
    this.systemId = o.systemId ?? '';
    const requestTimeoutMs = positive('requestTimeoutMs', o.requestTimeoutMs, 30_000, 1);
    this.incomingLimit = positive('incomingWindow', o.incomingWindow, 0);
    this.bindTimeoutMs = positive('bindTimeoutMs', o.bindTimeoutMs, 10_000, 1);
    this.unbindTimeoutMs = positive('unbindTimeoutMs', o.unbindTimeoutMs, 5_000, 1);
    this.enquireLinkTimeoutMs = positive('enquireLinkTimeoutMs', o.enquireLinkTimeoutMs, 10_000, 1);
    this.closeTimeoutMs = positive('closeTimeoutMs', o.closeTimeoutMs, 5_000, 1);
    this.keepSubmitFrames = o.keepSubmitFrames ?? false;
    // TCP only: a TLS socket's encryption, or an in-memory stream's reader, may hold on to the bytes.
    this.writesInPlace = o.socket instanceof Socket && !(o.socket instanceof TLSSocket);

    this.sequence = createSequence(o.firstSequence);
    this.decoder = new FrameDecoder({ maxLength: o.maxPduLength ?? MAX_PDU_LENGTH });
    this.window = new RequestWindow(
      {
        size: positive('window', o.window, 10, 1),
        mode: o.windowMode ?? 'reject',
        maxQueue: positive('maxQueue', o.maxQueue, 1000),
        requestTimeoutMs,
        queueTimeoutMs: positive('queueTimeoutMs', o.queueTimeoutMs, requestTimeoutMs, 1),
      },
      this.timers,
      { prepare: (req) => this.prepareRequest(req), write: (frame) => this.writeRequest(frame) },
    );
    this.control = new ControlRequests(this.timers);
    this.keepalive = new Keepalive(
      {
        enquireLinkIntervalMs: positive('enquireLinkIntervalMs', o.enquireLinkIntervalMs, 30_000),
        idleTimeoutMs: positive('idleTimeoutMs', o.idleTimeoutMs, 0),
      },
      this.timers,
      { enquireLink: () => this.keepaliveEnquireLink(), idle: () => this.onIdle() },
    );
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });

    const s = this.socket;
    s.on('data', this.onData);
    s.on('drain', this.onDrain);
    s.on('end', this.onEnd);
    s.on('error', this.onSocketError);
    s.on('close', this.onSocketClose);
    if (s.destroyed) {
      process.nextTick(this.onSocketClose);
      return;
    }
    this.keepalive.start();
  }

  // ---- public API ---------------------------------------------------------------------------

  get outstanding(): number {
    return this.window.outstanding;
  }

  get queued(): number {
    return this.window.queued;
  }

  get windowFull(): boolean {
    return this.window.full;
  }

  get readingPaused(): boolean {
    return this.pauseMask !== 0;
  }

  bind(params: BindParams): Promise<BindRespPdu> {
    const command = BIND_COMMAND[params.type];
    const refused = this.checkSend(command) ?? (this.bindPending ? this.invalidState('a bind is in progress') : undefined);
    if (refused !== undefined) return Promise.reject(refused);
    this.bindPending = true;
    return new Promise((resolve, reject) => {
      const pdu: PduOf<typeof command> = {
        command,
        command_status: 0,
        sequence_number: 0,
        system_id: params.system_id,
        password: params.password,
        system_type: params.system_type ?? '',
        interface_version: params.interface_version ?? 0x34,
        addr_ton: params.addr_ton ?? 0,
        addr_npi: params.addr_npi ?? 0,
        address_range: params.address_range ?? '',
      };
      this.sendControl(
        pdu,
        this.bindTimeoutMs,
        (resp) => {
          this.bindPending = false;
          const bindResp = resp as BindRespPdu;
          if (bindResp.command_status !== Status.ESME_ROK) {
            reject(
              new SessionError('BIND_FAILED', `bind refused: ${statusName(bindResp.command_status)}`, {
                status: bindResp.command_status,
                sent: true,
              }),
            );
            return;
          }
          // Synchronously, before any PDU that followed the response is dispatched.
          this.becomeBound(params.type, bindResp.system_id);
          resolve(bindResp);
        },
        (err) => {
          this.bindPending = false;
          // A late bind_resp would leave us unsure whether the peer thinks we are bound.
          if (err instanceof SessionError && err.code === 'TIMEOUT') this.terminate(CloseReason.LOCAL);
          reject(err);
        },
      );
    });
  }

  outbind(params: { system_id: string; password: string }): void {
    const refused = this.checkSend('outbind');
    if (refused !== undefined) throw refused;
    const pdu: PduOf<'outbind'> = {
      command: 'outbind',
      command_status: 0,
      sequence_number: this.nextSequence(),
      system_id: params.system_id,
      password: params.password,
    };
    this.writePduFrame(pdu);
  }

  request<P extends OutgoingRequest>(pdu: P): Promise<ResponseTo<P>> {
    const command = pdu.command as string;
    const refused = DATA_REQUESTS.has(command)
      ? this.checkSend(command as DataRequestName)
      : new SessionError('INVALID_COMMAND', `request() sends traffic requests, not ${command}`);
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise<Pdu>((resolve, reject) => {
      this.window.submit({ pdu: pdu as unknown as RequestPdu, seq: 0, responseId: 0, deadline: 0, resolve, reject });
    }) as Promise<ResponseTo<P>>;
  }

  requestWith(call: PendingRequest): void {
    const command = call.pdu!.command as string;
    const refused = DATA_REQUESTS.has(command)
      ? this.checkSend(command as DataRequestName)
      : new SessionError('INVALID_COMMAND', `request() sends traffic requests, not ${command}`);
    if (refused !== undefined) call.reject(refused);
    else this.window.submit(call);
  }

  enquireLink(): Promise<PduOf<'enquire_link_resp'>> {
    const refused = this.checkSend('enquire_link');
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      this.sendControl(
        { command: 'enquire_link', command_status: 0, sequence_number: 0 },
        this.enquireLinkTimeoutMs,
        resolve as (pdu: Pdu) => void,
        reject,
      );
    });
  }

  unbind(): Promise<CloseInfo> {
    if (this.state === 'closed' || this.unbindStarted) return this.closed;
    if (!isBoundState(this.state)) {
      this.terminate(CloseReason.LOCAL);
      return this.closed;
    }
    this.startUnbind(CloseReason.UNBIND);
    return this.closed;
  }

  close(): Promise<CloseInfo> {
    this.terminate(CloseReason.LOCAL);
    return this.closed;
  }

  setLimits(limits: SessionLimits): void {
    if (limits.window !== undefined) this.window.resize(positive('window', limits.window, 10, 1));
    if (limits.incomingWindow !== undefined) this.incomingLimit = positive('incomingWindow', limits.incomingWindow, 0);
    if (limits.enquireLinkTimeoutMs !== undefined) {
      this.enquireLinkTimeoutMs = positive('enquireLinkTimeoutMs', limits.enquireLinkTimeoutMs, 10_000, 1);
    }
    const keepalive: { enquireLinkIntervalMs?: number; idleTimeoutMs?: number } = {};
    if (limits.enquireLinkIntervalMs !== undefined) {
      keepalive.enquireLinkIntervalMs = positive('enquireLinkIntervalMs', limits.enquireLinkIntervalMs, 30_000);
    }
    if (limits.idleTimeoutMs !== undefined) keepalive.idleTimeoutMs = positive('idleTimeoutMs', limits.idleTimeoutMs, 0);
    if (keepalive.enquireLinkIntervalMs !== undefined || keepalive.idleTimeoutMs !== undefined) {
      this.keepalive.update(keepalive);
    }
  }

  pauseReading(): void {
    this.setPause(PAUSE_OWNER, true);
  }

  resumeReading(): void {
    this.setPause(PAUSE_OWNER, false);
  }

  stats(): SessionStats {
    const s = this.socket;
    return {
      outstanding: this.window.outstanding,
      queued: this.window.queued,
      incomingPending: this.incomingPending,
      requestsSent: this.requestsSent,
      responsesReceived: this.responsesReceived,
      requestsReceived: this.requestsReceived,
      timeouts: this.window.timeouts + this.control.timeouts,
      droppedResponses: this.droppedResponses,
      readBuffered: this.decoder.buffered + s.readableLength,
      writeBuffered: s.writableLength,
    };
  }

  // ---- socket events --------------------------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    if (this.state === 'closed') return;
    const now = this.timers.now();
    this.keepalive.touch(now);
    this.decoder.push(chunk);
    const outer = holdNow(now);
    try {
      this.processFrames();
    } finally {
      restoreNow(outer);
    }
  };

  private readonly onDrain = (): void => {
    this.setPause(PAUSE_BACKPRESSURE, false);
  };

  private readonly onEnd = (): void => {
    this.terminate(CloseReason.PEER_CLOSED);
  };

  private readonly onSocketError = (err: Error): void => {
    this.log.debug({ err }, 'session socket error');
    this.terminate(CloseReason.SOCKET_ERROR, err);
    this.emitError(err);
  };

  private readonly onSocketClose = (): void => {
    this.terminate(CloseReason.PEER_CLOSED);
    if (this.finalized) return;
    this.finalized = true;
    if (this.closeTimer !== undefined) {
      this.timers.clearTimeout(this.closeTimer);
      this.closeTimer = undefined;
    }
    const info = this.closeInfo!;
    this.resolveClosed(info);
    this.emitSafe('close', info);
  };

  /** Sends the frames written since the last flush as one write (writeFrame says why). */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    const out = this.out;
    if (out.length === 0) return;
    const s = this.socket;
    if (s.destroyed || !s.writable) {
      out.discard();
      return;
    }
    // In place only onto an empty queue: a write that queues behind another keeps its buffer.
    const inPlace = this.writesInPlace && s.writableLength === 0;
    const ok = s.write(out.take(inPlace));
    if (inPlace) out.written(s.writableLength === 0);
    if (!ok) this.setPause(PAUSE_BACKPRESSURE, true);
  };

  private processFrames(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.pauseMask === 0 && this.state !== 'closed') {
        const decoder = this.decoder;
        const length = decoder.nextLength();
        if (length === 0) break;
        if (length < 0) {
          // SMPP 3.4 §3.2: with an impossible command_length the next PDU boundary is unknown.
          const r = decoder.next();
          this.log.warn({ commandLength: r.kind === 'error' ? r.length : undefined }, 'invalid command_length, closing session');
          this.terminate(CloseReason.INVALID_LENGTH);
          break;
        }
        // Decoded where it lies: a view of the frame is made only for a submit_sm kept for sending on.
        const buf = decoder.frameBuffer;
        const start = decoder.frameStart;
        const pdu = decodePduAt(buf, start, start + length);
        if (pdu !== undefined) {
          if (this.keepSubmitFrames && pdu.command === 'submit_sm') this.dispatchedFrame = buf.subarray(start, start + length);
          dispatch(this, pdu);
          this.dispatchedFrame = undefined;
        } else {
          const d = decodeFailure();
          this.log.debug(
            { commandId: d.command_id, seq: d.sequence_number, status: statusName(d.status), reason: d.reason },
            'malformed PDU',
          );
          dispatchMalformed(this, d);
        }
      }
    } catch (err) {
      // A bug of ours, not bad input (handlers never throw on bad bytes): it must not take the
      // process down with it; the session is in an unknown state, so it goes.
      this.log.error({ err }, 'session dispatch failed, closing session');
      this.terminate(CloseReason.INTERNAL_ERROR, err as Error);
      this.emitError(err as Error);
    } finally {
      this.processing = false;
    }
  }

  // ---- writing ------------------------------------------------------------------------------

  private encode(pdu: Pdu): Buffer {
    try {
      return encodePdu(pdu);
    } catch (err) {
      throw this.encodeFailed(pdu, err);
    }
  }

  private encodeFailed(pdu: Pdu, err: unknown): SessionError {
    return new SessionError('ENCODE_FAILED', `cannot encode ${pdu.command}: ${(err as Error).message}`, { cause: err });
  }

  /**
   * Frames are collected until the end of the tick and leave in one socket write, so the responses
   * produced while handling one read (and requests issued in one burst) cost one syscall, not one
   * per PDU (measured: 200k submit_sm over loopback TCP, window 100: ~130-160k req/s batched, ~55k
   * one write per PDU). Collected here rather than by cork(): a corked stream keeps an entry and a
   * callback per write() and hands libuv a writev of many buffers; that bookkeeping was ~15% of
   * what smppd allocated per message, and copying the frames into one buffer instead took 3-6% off
   * smppd's CPU per message (closed loop through smppd, three runs each).
   * Backpressure: when write() reports a full buffer we stop reading until 'drain', so a peer that
   * does not read cannot make us buffer its answers without bound.
   */
  private writeFrame(frame: Buffer): boolean {
    if (!this.canWrite()) return false;
    this.out.append(frame);
    this.wrote();
    return true;
  }

  /** writeFrame(encode(pdu)), encoded straight into the OutBuffer. Throws as encode(). */
  private writePduFrame(pdu: Pdu): boolean {
    let length: number;
    try {
      // The command looked up once for both (encode.ts, EncodableCommand).
      const command = commandOf(pdu);
      length = encodedLengthWith(command, pdu);
      if (!this.canWrite()) return false;
      writePduWith(command, this.out.reserve(length), this.out.length, pdu, length);
    } catch (err) {
      throw this.encodeFailed(pdu, err);
    }
    this.out.commit(length);
    this.wrote();
    return true;
  }

  private canWrite(): boolean {
    const s = this.socket;
    return !this.ending && !s.destroyed && s.writable;
  }

  /** Frames were added to the OutBuffer: flush at the end of the tick, or now (see writeFrame). */
  private wrote(): void {
    const s = this.socket;
    // A socket already full: write now, so that write() reports it and reading stops at once.
    if (this.out.length + s.writableLength >= s.writableHighWaterMark) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  private nextSequence(): number {
    let seq = this.sequence.next();
    // After a wrap, skip numbers still awaiting a response (only with ~2^31 requests in flight).
    while (this.window.has(seq) || this.control.has(seq)) seq = this.sequence.next();
    return seq;
  }

  private prepareRequest(req: PendingRequest): Buffer {
    const pdu = req.pdu!;
    const seq = this.nextSequence();
    pdu.sequence_number = seq;
    pdu.command_status = 0;
    req.seq = seq;
    req.responseId = responseIdOf(pdu.command);
    const frame = (pdu as Partial<SubmitSm>).frame;
    return frame === undefined ? this.encode(pdu) : reframe(frame, seq);
  }

  private writeRequest(frame: Buffer): void {
    this.requestsSent++;
    this.writeFrame(frame);
  }

  /** Sends a bind/unbind/enquire_link outside the window; settles through the control track. */
  private sendControl(
    pdu: PduOf<'bind_transmitter' | 'bind_receiver' | 'bind_transceiver' | 'unbind' | 'enquire_link'>,
    timeoutMs: number,
    resolve: (pdu: Pdu) => void,
    reject: (err: Error) => void,
  ): void {
    pdu.sequence_number = this.nextSequence();
    let frame: Buffer;
    try {
      frame = this.encode(pdu);
    } catch (err) {
      reject(err as Error);
      return;
    }
    this.control.add(pdu.sequence_number, responseIdOf(pdu.command), timeoutMs, resolve, reject);
    this.requestsSent++;
    this.writeFrame(frame);
  }

  private setPause(bit: number, on: boolean): void {
    const before = this.pauseMask;
    this.pauseMask = on ? before | bit : before & ~bit;
    if (before === 0 && this.pauseMask !== 0) {
      this.socket.pause();
    } else if (before !== 0 && this.pauseMask === 0 && this.state !== 'closed') {
      this.socket.resume();
      this.processFrames();
    }
  }

  private checkSend(command: RequestName): SessionError | undefined {
    if (this.state === 'closed') return new SessionError('CLOSED', 'session is closed');
    if (this.state === 'unbinding') return new SessionError('UNBOUND', 'session is unbinding');
    if (!isAllowed(this.role, this.state, command)) {
      return this.invalidState(`${this.role} may not send ${command} in state ${this.state}`);
    }
    return undefined;
  }

  private invalidState(message: string): SessionError {
    return new SessionError('INVALID_STATE', message);
  }

  // ---- SessionCore: called by the dispatcher ------------------------------------------------

  replyStatus(command: AnsweredRequestName, sequenceNumber: number, status: number): void {
    this.writePduFrame(statusResponse(command, sequenceNumber, status));
  }

  nack(sequenceNumber: number, status: number): void {
    this.writePduFrame(genericNack(sequenceNumber, status));
  }

  dropRequest(command: RequestName, sequenceNumber: number, status: number): void {
    this.log.warn({ command, seq: sequenceNumber, status: statusName(status) }, 'request not allowed, dropped');
  }

  onResponse(pdu: Pdu): void {
    this.responsesReceived++;
    const seq = pdu.sequence_number;
    const entry = this.window.take(seq) ?? this.control.take(seq);
    if (entry === undefined) {
      this.droppedResponses++;
      this.log.debug({ command: pdu.command, seq }, 'response matches no request, dropped');
      return;
    }
    const status = pdu.command_status;
    if (pdu.command === 'generic_nack') {
      entry.reject(
        new SessionError('GENERIC_NACK', `peer answered generic_nack ${statusName(status)}`, { status, sent: true }),
      );
    } else if (CommandId[pdu.command] !== entry.responseId) {
      entry.reject(
        new SessionError('BAD_RESPONSE', `peer answered with ${pdu.command} (${statusName(status)})`, {
          status,
          sent: true,
        }),
      );
    } else {
      entry.resolve(pdu);
    }
  }

  onBadResponse(sequenceNumber: number, status: number, reason: string): void {
    this.responsesReceived++;
    const entry = this.window.take(sequenceNumber) ?? this.control.take(sequenceNumber);
    if (entry === undefined) {
      this.droppedResponses++;
      return;
    }
    entry.reject(new SessionError('BAD_RESPONSE', `malformed response: ${reason}`, { status, sent: true }));
  }

  onBind(pdu: BindPdu): void {
    const authenticate = this.authenticate;
    if (authenticate === undefined || this.bindPending) {
      if (authenticate === undefined) this.log.warn({ systemId: pdu.system_id }, 'bind refused: no authenticator');
      this.writePduFrame(responseFor(pdu, this.bindPending ? Status.ESME_RALYBND : Status.ESME_RBINDFAIL));
      return;
    }
    this.bindPending = true;
    let decision: unknown;
    try {
      decision = authenticate(pdu, this);
    } catch (err) {
      decision = Promise.reject(err as Error);
    }
    if (typeof decision === 'number') {
      this.finishBind(pdu, decision);
      return;
    }
    // Nothing else is valid until the bind is decided; PDUs pipelined behind it wait in the decoder.
    this.setPause(PAUSE_AUTH, true);
    Promise.resolve(decision).then(
      (status) => this.finishBind(pdu, status),
      (err: unknown) => {
        this.log.error({ err, systemId: pdu.system_id }, 'authenticate failed');
        this.finishBind(pdu, Status.ESME_RBINDFAIL);
      },
    );
  }

  private finishBind(pdu: BindPdu, decision: unknown): void {
    this.bindPending = false;
    if (this.state !== 'open') return; // closed while deciding
    let status = decision as number;
    if (!Number.isInteger(status) || status < 0 || status > 0xffffffff) {
      this.log.error({ decision: String(decision) }, 'authenticate returned no status, refusing the bind');
      status = Status.ESME_RBINDFAIL;
    }
    if (status === Status.ESME_ROK) {
      this.writePduFrame(responseFor(pdu, Status.ESME_ROK, { system_id: this.systemId }));
      this.becomeBound(BIND_TYPE_OF[pdu.command], pdu.system_id);
    } else {
      // SMPP 3.4 §4.1.2: no body with a non-zero command_status.
      this.writePduFrame(responseFor(pdu, status));
    }
    this.setPause(PAUSE_AUTH, false);
  }

  private becomeBound(type: BindType, peerSystemId: string): void {
    this.state = BIND_STATE[type];
    this.bindType = type;
    this.peerSystemId = peerSystemId;
    this.keepalive.setEnquireEnabled(true);
    this.emitSafe('bound', { bindType: type, systemId: peerSystemId });
  }

  onUnbind(pdu: PduOf<'unbind'>): void {
    this.replyStatus('unbind', pdu.sequence_number, Status.ESME_ROK);
    const reason = this.unbindStarted ? CloseReason.UNBIND : CloseReason.PEER_UNBIND;
    this.state = 'unbinding';
    this.emitSafe('unbind');
    this.terminate(reason);
  }

  onEnquireLink(pdu: PduOf<'enquire_link'>): void {
    // SMPP 3.4 §4.11: always answered, whatever else is going on (node-smpp#204).
    this.replyStatus('enquire_link', pdu.sequence_number, Status.ESME_ROK);
  }

  onOutbind(pdu: PduOf<'outbind'>): void {
    if (this.listenerCount('outbind') === 0) {
      this.log.warn({ systemId: pdu.system_id }, 'outbind received, no listener');
      return;
    }
    this.emitSafe('outbind', pdu);
  }

  onAlertNotification(pdu: PduOf<'alert_notification'>): void {
    this.emitSafe('alert_notification', pdu);
  }

  deliver(pdu: DataRequestPdu): void {
    this.requestsReceived++;
    if (pdu.command === 'submit_sm' && this.dispatchedFrame !== undefined) pdu.frame = this.dispatchedFrame;
    if (this.incomingLimit > 0 && this.incomingPending >= this.incomingLimit) {
      this.replyStatus(pdu.command, pdu.sequence_number, Status.ESME_RMSGQFUL);
      return;
    }
    this.incomingPending++;
    const req = new IncomingRequest(this, pdu) as AnyIncomingRequest;
    let handled: boolean;
    try {
      handled = this.emit('request', req);
    } catch (err) {
      this.log.error({ err, command: pdu.command }, 'request listener threw');
      this.emitError(err as Error);
      handled = false;
    }
    if (!handled && !req.answered) req.respond(Status.ESME_RSYSERR);
  }

  // ---- Responder: called by IncomingRequest.respond -------------------------------------------

  answerIncoming(req: RequestPdu, sequenceNumber: number, status: number, body: object | undefined): boolean {
    if (this.state === 'closed' || this.ending) return false;
    this.incomingPending--;
    const resp = responseFor(req, status, body as never);
    resp.sequence_number = sequenceNumber;
    return this.writeAnswer(req, resp);
  }

  answerIncomingWith(req: RequestPdu, resp: Pdu): boolean {
    if (this.state === 'closed' || this.ending) return false;
    this.incomingPending--;
    return this.writeAnswer(req, resp);
  }

  /** Writes the response `resp` to `req`; one that cannot be encoded is answered ESME_RSYSERR, then thrown. */
  private writeAnswer(req: RequestPdu, resp: Pdu): boolean {
    try {
      return this.writePduFrame(resp);
    } catch (err) {
      // Keep "every request gets exactly one response", then surface the programming error.
      const fallback = responseFor(req, Status.ESME_RSYSERR);
      fallback.sequence_number = resp.sequence_number;
      this.writePduFrame(fallback);
      throw err;
    }
  }

  // ---- keepalive, unbind, close -----------------------------------------------------------

  private keepaliveEnquireLink(): void {
    this.sendControl(
      { command: 'enquire_link', command_status: 0, sequence_number: 0 },
      this.enquireLinkTimeoutMs,
      () => this.keepalive.enquireLinkDone(),
      (err) => {
        if (this.state === 'closed') return;
        if (err instanceof SessionError && err.code === 'TIMEOUT') {
          this.log.warn({ timeoutMs: this.enquireLinkTimeoutMs }, 'enquire_link not answered, closing session');
          this.terminate(
            CloseReason.ENQUIRE_LINK_TIMEOUT,
            new SessionError('ENQUIRE_LINK_TIMEOUT', `enquire_link not answered within ${this.enquireLinkTimeoutMs} ms`, {
              sent: true,
            }),
          );
          return;
        }
        // generic_nack or an odd response: the peer is alive.
        this.keepalive.enquireLinkDone();
      },
    );
  }

  private onIdle(): void {
    this.log.info({}, 'session idle, closing');
    if (isBoundState(this.state)) this.startUnbind(CloseReason.IDLE_TIMEOUT);
    else this.terminate(CloseReason.IDLE_TIMEOUT);
  }

  private startUnbind(reason: CloseReason): void {
    this.unbindStarted = true;
    this.state = 'unbinding';
    this.keepalive.setEnquireEnabled(false);
    this.window.rejectQueued('UNBOUND', 'session is unbinding');
    const done = (): void => this.terminate(reason);
    this.sendControl({ command: 'unbind', command_status: 0, sequence_number: 0 }, this.unbindTimeoutMs, done, done);
  }

  /** Closes the session: settles everything, clears timers, ends or destroys the socket. The
   *  'close' event follows once the socket has closed. Idempotent. */
  private terminate(reason: CloseReason, error?: Error): void {
    if (this.state === 'closed') return;
    const unbound = this.state === 'unbinding';
    this.state = 'closed';
    this.closeInfo = error === undefined ? { reason } : { reason, error };
    this.keepalive.stop();
    const code = unbound ? 'UNBOUND' : 'CLOSED';
    const message = `session ${unbound ? 'unbound' : 'closed'} (${reason})`;
    this.window.closeAll(code, message, reason);
    this.control.closeAll(code, message, reason);
    this.incomingPending = 0;
    this.log.debug({ reason }, 'session closing');
    const s = this.socket;
    if (s.destroyed) return;
    if (GRACEFUL.has(reason)) {
      this.flush(); // what was written before the end goes first
      this.ending = true;
      s.once('finish', () => s.destroy());
      this.closeTimer = this.timers.setTimeout(() => {
        this.closeTimer = undefined;
        s.destroy();
      }, this.closeTimeoutMs);
      s.end();
    } else {
      s.destroy();
    }
  }

  private emitSafe<K extends keyof SessionEvents>(event: K, ...args: SessionEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: SessionEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, 'session listener threw');
      if (event !== 'error') this.emitError(err as Error);
    }
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', err);
    } catch (e) {
      this.log.error({ err: e }, 'session error listener threw');
    }
  }
}

/** Creates a session over `options.socket`; the caller owns the socket's creation, the session its
 *  life from here on (it ends/destroys the socket when the session closes). */
export function createSession(options: SessionOptions): Session {
  return new SmppSession(options);
}
