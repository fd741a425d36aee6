// smppd-sim: an SMSC simulator over real TCP. It is the upstream in smppd's e2e tests and benchmarks,
// so the per-message path allocates little, logs nothing and uses no timer per message: delayed
// responses and receipts go through DelayQueues (one timer each), and the session engine coalesces
// the writes of one tick into one socket write.

import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import {
  createSession,
  isSessionError,
  type AnyIncomingRequest,
  type BindPdu,
  type BindType,
  type IncomingRequest,
  type OutgoingCall,
  type Session,
} from '../../proxy/session/index.js';
import { MESSAGE_STATE } from '../../proxy/smpp/dlr.js';
import { Status, type DestAddress, type Pdu, type PduOf, type RequestPdu, type UnsuccessSme } from '../../proxy/smpp/index.js';
import { DelayQueue } from './delay-queue.js';
import { MessageMemory } from './message-memory.js';
import { createIdGenerator, receiptIdOf, type IdGenerator } from './message-ids.js';
import { DEFAULT_OPTIONS, checkOptions, type SimulatorBehaviour, type SimulatorOptions } from './options.js';
import { buildReceipt, createOutcomePicker, outcomeState, smppTime, type DlrOutcome } from './receipts.js';
import { createRng, randomSeed, type Rng } from './rng.js';

export interface SimSessionInfo {
  /** 1, 2, ... in connection order. */
  sessionId: number;
  systemId: string;
  bindType: BindType;
}

export interface SubmitEvent {
  sessionId: number;
  command: 'submit_sm' | 'data_sm' | 'submit_multi';
  status: number;
  /** '' when refused. */
  messageId: string;
  pdu: PduOf<'submit_sm' | 'data_sm' | 'submit_multi'>;
}

export interface ReceiptEvent {
  sessionId: number;
  /** The id the submit response gave. */
  messageId: string;
  /** The id as written in the receipt (differs only with receiptIds 'decimal'). */
  receiptId: string;
  destination: string;
  outcome: DlrOutcome;
  /** receipt_ack only: the deliver_sm_resp status. */
  status?: number;
}

export type SimulatorEvents = {
  bind: [info: SimSessionInfo];
  session_close: [info: SimSessionInfo | { sessionId: number }];
  /** A submit_sm, data_sm or submit_multi was answered. */
  submit: [event: SubmitEvent];
  /** A receipt (deliver_sm) was sent. */
  receipt: [event: ReceiptEvent];
  /** Its deliver_sm_resp arrived with ESME_ROK. */
  receipt_ack: [event: ReceiptEvent];
  error: [err: Error];
};

export interface MoMessage {
  source: string;
  destination: string;
  text: string;
  systemId?: string;
  /** Send on this bound session (sessions()), e.g. one replica's among several. */
  sessionId?: number;
}

export interface SimulatorStats {
  connections: number;
  /** Sessions bound right now. */
  bound: number;
  binds: number;
  bindsRefused: number;
  /** submit_sm + data_sm + submit_multi received. */
  submits: number;
  submitSm: number;
  dataSm: number;
  submitMulti: number;
  /** Messages accepted (one per submit_multi). */
  accepted: number;
  throttled: number;
  /** Submits (or submit_multi destinations) answered with errorStatus. */
  errors: number;
  /** Requests left unanswered while respond was false. */
  unanswered: number;
  queries: number;
  cancels: number;
  replaces: number;
  receiptsSent: number;
  receiptsAcked: number;
  /** deliver_sm attempts that failed (error status, timeout, session gone); they are retried. */
  receiptsFailed: number;
  /** Receipts given up after receiptAttempts, or dropped because too many were held. */
  receiptsDropped: number;
  /** Receipts scheduled, held for a receiver, or awaiting their deliver_sm_resp. */
  receiptsPending: number;
  /** Messages known to query_sm/cancel_sm/replace_sm. */
  messages: number;
}

export interface Simulator extends EventEmitter<SimulatorEvents> {
  readonly host: string;
  readonly port: number;
  /** The options in force (setOptions changes them). */
  readonly options: Readonly<SimulatorOptions>;
  /** Changes behaviour while running; the next request or receipt sees it. Throws RangeError on bad values. */
  setOptions(partial: Partial<SimulatorBehaviour>): void;
  stats(): SimulatorStats;
  /** Bound sessions. */
  sessions(): SimSessionInfo[];
  /** Destroys every connection without unbind (an SMSC crash); the listener stays open. */
  dropConnections(): void;
  /**
   * Sends a mobile-originated message (deliver_sm, esm_class 0) to a bound receiver-capable session
   * (of `systemId`, and the session `sessionId`, when given); resolves with its deliver_sm_resp
   * status. Rejects when none is bound.
   */
  sendMo(mo: MoMessage): Promise<number>;
  /** Stops listening, closes every session, forgets pending receipts. */
  close(): Promise<void>;
}

interface Conn {
  id: number;
  socket: net.Socket;
  session: Session;
  info: SimSessionInfo | undefined;
  receiver: boolean;
  /** Index in `receivers`, -1 when not there. */
  rxIndex: number;
}

interface Address {
  ton: number;
  npi: number;
  addr: string;
}

/** A message the simulator accepted. */
interface MessageRecord {
  id: string;
  receiptId: string;
  conn: Conn;
  systemId: string;
  outcome: DlrOutcome;
  /** Date.now() at submit. */
  submittedAt: number;
  /** When the message reaches its final state (submit + dlrDelay); queries before it see ENROUTE. */
  finalAt: number;
  cancelled: boolean;
  source: Address;
  text: string;
}

interface ReceiptJob {
  rec: MessageRecord;
  dest: Address;
  attempts: number;
}

interface PendingAnswer {
  conn: Conn;
  req: AnyIncomingRequest;
  status: number;
  body: object | undefined;
  rec: MessageRecord | undefined;
  /** Destinations that get a receipt. */
  dests: Address[] | undefined;
}

const TEXT_CHARS = 20;

function textOf(sm: Buffer | undefined, dataCoding: number): string {
  // Appendix B: the first 20 characters; only readable for the default alphabet/latin1/IA5 codings.
  if (sm === undefined || sm.length === 0 || !(dataCoding === 0 || dataCoding === 1 || dataCoding === 3)) return '';
  return sm.toString('latin1', 0, Math.min(sm.length, TEXT_CHARS));
}

function wantsReceipt(registeredDelivery: number, when: SimulatorBehaviour['receiptsWhen'], outcome: DlrOutcome): boolean {
  if (when !== 'requested') return when === 'always';
  // SMPP 3.4 §5.2.17: bits 0-1 = 01 receipt on success or failure, 10 on failure only.
  const rd = registeredDelivery & 3;
  return rd === 1 || (rd === 2 && outcome !== 'delivered');
}

class SimulatorImpl extends EventEmitter<SimulatorEvents> implements Simulator {
  options: SimulatorOptions;
  port = 0;
  readonly host: string;

  private readonly server: net.Server;
  private readonly conns = new Set<Conn>();
  private readonly receivers: Conn[] = [];
  private readonly messages: MessageMemory<MessageRecord>;
  private readonly answers: DelayQueue<PendingAnswer>;
  private readonly receiptQueue: DelayQueue<ReceiptJob>;
  private readonly retryQueue: DelayQueue<ReceiptJob>;
  private held: ReceiptJob[] = [];
  private inFlight = 0;
  private nextConnId = 1;
  private rng: Rng;
  /** maxRate: end of the current one-second window, and the submits accepted in it. */
  private rateWindowEnds = 0;
  private rateWindowCount = 0;
  private nextId: IdGenerator;
  private pickOutcome: () => DlrOutcome;
  private closing = false;

  private readonly counters = {
    connections: 0,
    binds: 0,
    bindsRefused: 0,
    submits: 0,
    submitSm: 0,
    dataSm: 0,
    submitMulti: 0,
    accepted: 0,
    throttled: 0,
    errors: 0,
    unanswered: 0,
    queries: 0,
    cancels: 0,
    replaces: 0,
    receiptsSent: 0,
    receiptsAcked: 0,
    receiptsFailed: 0,
    receiptsDropped: 0,
  };

  constructor(options: SimulatorOptions) {
    super();
    this.options = options;
    this.host = options.host;
    const seed = options.seed ?? randomSeed();
    this.rng = createRng(seed);
    this.nextId = createIdGenerator(options.ids, this.idStart());
    this.messages = new MessageMemory(options.maxMessages, options.ids);
    this.pickOutcome = createOutcomePicker(options.dlrOutcome, this.rng);
    this.answers = new DelayQueue((batch) => {
      for (const a of batch) this.answer(a);
    });
    this.receiptQueue = new DelayQueue((batch) => {
      for (const job of batch) this.sendReceipt(job);
    });
    this.retryQueue = new DelayQueue((batch) => {
      for (const job of batch) this.sendReceipt(job);
    });
    const onSocket = (socket: net.Socket): void => this.onConnection(socket);
    this.server =
      options.tls === undefined
        ? net.createServer({ noDelay: true }, onSocket)
        : tls.createServer({ noDelay: true, cert: options.tls.cert, key: options.tls.key }, onSocket);
  }

  private idStart(): number {
    // Hex ids start at 0x10000000..0x7FFFFFFF (8 digits), decimal ones at 10 digits.
    const r = this.rng();
    return this.options.ids === 'decimal' ? 1_000_000_000 + Math.floor(r * 1_000_000_000) : 0x10000000 + Math.floor(r * 0x6fffffff);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.emitError(err));
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  setOptions(partial: Partial<SimulatorBehaviour>): void {
    checkOptions({ ...this.options, ...partial });
    const before = this.options;
    this.options = { ...before, ...partial };
    if (partial.ids !== undefined && partial.ids !== before.ids) {
      this.nextId = createIdGenerator(this.options.ids, this.idStart());
    }
    if (this.options.ids !== before.ids || this.options.maxMessages !== before.maxMessages) {
      this.messages.reset(this.options.maxMessages, this.options.ids);
    }
    if (partial.dlrOutcome !== undefined) this.pickOutcome = createOutcomePicker(this.options.dlrOutcome, this.rng);
  }

  stats(): SimulatorStats {
    let bound = 0;
    for (const c of this.conns) if (c.info !== undefined) bound++;
    return {
      ...this.counters,
      bound,
      receiptsPending: this.receiptQueue.size + this.retryQueue.size + this.held.length + this.inFlight,
      messages: this.messages.size,
    };
  }

  sessions(): SimSessionInfo[] {
    const out: SimSessionInfo[] = [];
    for (const c of this.conns) if (c.info !== undefined) out.push({ ...c.info });
    return out;
  }

  dropConnections(): void {
    for (const c of this.conns) c.socket.destroy();
  }

  async sendMo(mo: MoMessage): Promise<number> {
    const conn = this.receivers.find(
      (c) => (mo.systemId === undefined || c.info?.systemId === mo.systemId) && (mo.sessionId === undefined || c.info?.sessionId === mo.sessionId),
    );
    if (conn === undefined) {
      const which = [mo.systemId === undefined ? '' : ` for ${mo.systemId}`, mo.sessionId === undefined ? '' : ` with session id ${mo.sessionId}`];
      throw new Error(`no receiver-capable session bound${which.join('')}`);
    }
    const resp = await conn.session.request({
      command: 'deliver_sm',
      service_type: '',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: mo.source,
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: mo.destination,
      esm_class: 0,
      protocol_id: 0,
      priority_flag: 0,
      schedule_delivery_time: '',
      validity_period: '',
      registered_delivery: 0,
      replace_if_present_flag: 0,
      data_coding: 0,
      sm_default_msg_id: 0,
      short_message: Buffer.from(mo.text, 'latin1'),
    });
    return resp.command_status;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.answers.drain(true);
    this.receiptQueue.drain(true);
    this.retryQueue.drain(true);
    this.held = [];
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.conns].map((c) => c.session.close()));
    await serverClosed;
  }

  // ---- connections and binds ---------------------------------------------------------------------

  private onConnection(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.counters.connections++;
    const o = this.options;
    const session = createSession({
      socket,
      role: 'smsc',
      systemId: o.ownSystemId,
      authenticate: this.authenticate,
      window: o.window,
      // Receipts beyond the window wait for a slot instead of failing.
      windowMode: 'wait',
      maxQueue: 10_000_000,
      queueTimeoutMs: 600_000,
      incomingWindow: o.incomingWindow,
    });
    const conn: Conn = { id: this.nextConnId++, socket, session, info: undefined, receiver: false, rxIndex: -1 };
    this.conns.add(conn);
    session.on('bound', ({ bindType, systemId }) => this.onBound(conn, bindType, systemId));
    session.on('request', (req) => this.onRequest(conn, req));
    session.on('error', () => {}); // socket errors arrive as close reasons too
    session.on('close', () => this.onClose(conn));
  }

  private readonly authenticate = (bind: BindPdu): number => {
    const o = this.options;
    let status: number = Status.ESME_ROK;
    if (o.bindStatus !== 0) status = o.bindStatus;
    else if (o.systemId !== undefined && bind.system_id !== o.systemId) status = Status.ESME_RINVSYSID;
    else if (o.password !== undefined && bind.password !== o.password) status = Status.ESME_RINVPASWD;
    if (status !== Status.ESME_ROK) this.counters.bindsRefused++;
    return status;
  };

  private onBound(conn: Conn, bindType: BindType, systemId: string): void {
    this.counters.binds++;
    conn.info = { sessionId: conn.id, systemId, bindType };
    if (bindType !== 'transmitter') {
      conn.receiver = true;
      conn.rxIndex = this.receivers.length;
      this.receivers.push(conn);
      if (this.held.length > 0) {
        const jobs = this.held;
        this.held = [];
        for (const job of jobs) this.sendReceipt(job);
      }
    }
    if (this.listenerCount('bind') > 0) this.emit('bind', { ...conn.info });
  }

  private removeReceiver(conn: Conn): void {
    const i = conn.rxIndex;
    if (i < 0) return;
    // Swap-remove keeps the random pick O(1).
    const last = this.receivers.pop()!;
    if (last !== conn) {
      this.receivers[i] = last;
      last.rxIndex = i;
    }
    conn.rxIndex = -1;
  }

  private onClose(conn: Conn): void {
    this.removeReceiver(conn);
    conn.receiver = false;
    this.conns.delete(conn);
    if (this.listenerCount('session_close') > 0) {
      this.emit('session_close', conn.info !== undefined ? { ...conn.info } : { sessionId: conn.id });
    }
  }

  // ---- requests ------------------------------------------------------------------------------------

  private onRequest(conn: Conn, req: AnyIncomingRequest): void {
    switch (req.command) {
      case 'submit_sm':
        this.counters.submitSm++;
        this.onSubmit(conn, req, req.pdu.short_message, req.pdu.data_coding);
        return;
      case 'data_sm':
        this.counters.dataSm++;
        this.onSubmit(conn, req, req.pdu.tlvs?.message_payload, req.pdu.data_coding);
        return;
      case 'submit_multi':
        this.counters.submitMulti++;
        this.onSubmitMulti(conn, req);
        return;
      case 'query_sm':
        this.counters.queries++;
        this.onQuery(conn, req);
        return;
      case 'cancel_sm':
        this.counters.cancels++;
        this.onCancel(conn, req);
        return;
      case 'replace_sm':
        this.counters.replaces++;
        this.onReplace(conn, req);
        return;
      default:
        // deliver_sm from an ESME is not valid (SMPP 3.4 §2.3); the session already refuses it.
        req.respond(Status.ESME_RINVCMDID);
    }
  }

  /** Injected failure for one submit: ESME_RTHROTTLED (maxRate, throttleRate), errorStatus, or ESME_ROK. */
  private injected(): number {
    const o = this.options;
    if (o.maxRate > 0 && this.overRate(o.maxRate)) return Status.ESME_RTHROTTLED;
    if (o.throttleRate === 0 && o.errorRate === 0) return Status.ESME_ROK;
    const r = this.rng();
    if (r < o.throttleRate) return Status.ESME_RTHROTTLED;
    if (r < o.throttleRate + o.errorRate) return o.errorStatus;
    return Status.ESME_ROK;
  }

  /** maxRate: true when this second's submits are used up; else counts this one. */
  private overRate(maxRate: number): boolean {
    const now = Date.now();
    if (now >= this.rateWindowEnds) {
      this.rateWindowEnds = now + 1000;
      this.rateWindowCount = 0;
    }
    if (this.rateWindowCount >= maxRate) return true;
    this.rateWindowCount++;
    return false;
  }

  private record(conn: Conn, source: Address, text: string): MessageRecord {
    const o = this.options;
    const id = this.nextId();
    const now = Date.now();
    const rec: MessageRecord = {
      id,
      receiptId: receiptIdOf(id, o.ids, o.receiptIds),
      conn,
      systemId: conn.info?.systemId ?? '',
      outcome: this.pickOutcome(),
      submittedAt: now,
      finalAt: now + o.latencyMs + o.dlrDelayMs,
      cancelled: false,
      source,
      text,
    };
    this.messages.add(rec); // the oldest beyond maxMessages is forgotten (message-memory.ts)
    this.counters.accepted++;
    return rec;
  }

  private onSubmit(
    conn: Conn,
    req: IncomingRequest<PduOf<'submit_sm' | 'data_sm'>>,
    sm: Buffer | undefined,
    dataCoding: number,
  ): void {
    this.counters.submits++;
    if (!this.options.respond) {
      this.counters.unanswered++;
      return;
    }
    const p = req.pdu;
    const status = p.destination_addr === '' ? Status.ESME_RINVDSTADR : this.injected();
    let rec: MessageRecord | undefined;
    let dests: Address[] | undefined;
    if (status === Status.ESME_ROK) {
      rec = this.record(conn, { ton: p.source_addr_ton, npi: p.source_addr_npi, addr: p.source_addr }, textOf(sm, dataCoding));
      if (wantsReceipt(p.registered_delivery, this.options.receiptsWhen, rec.outcome)) {
        dests = [{ ton: p.dest_addr_ton, npi: p.dest_addr_npi, addr: p.destination_addr }];
      }
    } else if (status === Status.ESME_RTHROTTLED) this.counters.throttled++;
    else if (status !== Status.ESME_RINVDSTADR) this.counters.errors++;
    this.reply(conn, req as AnyIncomingRequest, status, rec === undefined ? undefined : { message_id: rec.id }, rec, dests);
  }

  private onSubmitMulti(conn: Conn, req: IncomingRequest<PduOf<'submit_multi'>>): void {
    this.counters.submits++;
    if (!this.options.submitMulti) {
      req.respond(Status.ESME_RINVCMDID);
      return;
    }
    if (!this.options.respond) {
      this.counters.unanswered++;
      return;
    }
    const p = req.pdu;
    const o = this.options;
    // Throttling refuses the whole request; errors are per destination (SMPP 3.4 §4.5.2 unsuccess_sme).
    const first = this.injected();
    if (first === Status.ESME_RTHROTTLED) {
      this.counters.throttled++;
      this.reply(conn, req as AnyIncomingRequest, first, undefined, undefined, undefined);
      return;
    }
    const unsuccess: UnsuccessSme[] = [];
    const ok: Address[] = [];
    p.dest_addresses.forEach((d: DestAddress, i: number) => {
      const failed = i === 0 ? first !== Status.ESME_ROK : o.errorRate > 0 && this.rng() < o.errorRate;
      if (d.dest_flag === 2) {
        // Distribution lists are not simulated.
        unsuccess.push({ dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: d.dl_name, error_status_code: Status.ESME_RINVDLNAME });
      } else if (failed) {
        this.counters.errors++;
        unsuccess.push({
          dest_addr_ton: d.dest_addr_ton,
          dest_addr_npi: d.dest_addr_npi,
          destination_addr: d.destination_addr,
          error_status_code: o.errorStatus,
        });
      } else {
        ok.push({ ton: d.dest_addr_ton, npi: d.dest_addr_npi, addr: d.destination_addr });
      }
    });
    const rec = this.record(conn, { ton: p.source_addr_ton, npi: p.source_addr_npi, addr: p.source_addr }, textOf(p.short_message, p.data_coding));
    const dests = ok.length > 0 && wantsReceipt(p.registered_delivery, o.receiptsWhen, rec.outcome) ? ok : undefined;
    this.reply(conn, req as AnyIncomingRequest, Status.ESME_ROK, { message_id: rec.id, unsuccess_smes: unsuccess }, rec, dests);
  }

  private onQuery(conn: Conn, req: IncomingRequest<PduOf<'query_sm'>>): void {
    if (!this.options.respond) {
      this.counters.unanswered++;
      return;
    }
    const rec = this.messages.get(req.pdu.message_id);
    if (rec === undefined) {
      this.reply(conn, req, Status.ESME_RQUERYFAIL, undefined, undefined, undefined);
      return;
    }
    const now = Date.now();
    const final = rec.cancelled || now >= rec.finalAt;
    const state = rec.cancelled ? MESSAGE_STATE.DELETED : final ? outcomeState(rec.outcome) : MESSAGE_STATE.ENROUTE;
    this.reply(
      conn,
      req,
      Status.ESME_ROK,
      { message_id: rec.id, final_date: final ? smppTime(Math.min(now, rec.finalAt)) : '', message_state: state, error_code: 0 },
      undefined,
      undefined,
    );
  }

  /** A message that can still change: known, not cancelled, not yet final. */
  private pendingMessage(id: string): MessageRecord | 'unknown' | 'final' {
    const rec = this.messages.get(id);
    if (rec === undefined) return 'unknown';
    return rec.cancelled || Date.now() >= rec.finalAt ? 'final' : rec;
  }

  private onCancel(conn: Conn, req: IncomingRequest<PduOf<'cancel_sm'>>): void {
    if (!this.options.respond) {
      this.counters.unanswered++;
      return;
    }
    const rec = this.pendingMessage(req.pdu.message_id);
    let status: number = Status.ESME_ROK;
    if (rec === 'unknown') status = Status.ESME_RINVMSGID;
    else if (rec === 'final') status = Status.ESME_RCANCELFAIL;
    else rec.cancelled = true; // its receipt is not sent
    this.reply(conn, req, status, undefined, undefined, undefined);
  }

  private onReplace(conn: Conn, req: IncomingRequest<PduOf<'replace_sm'>>): void {
    if (!this.options.respond) {
      this.counters.unanswered++;
      return;
    }
    const rec = this.pendingMessage(req.pdu.message_id);
    let status: number = Status.ESME_ROK;
    if (rec === 'unknown') status = Status.ESME_RINVMSGID;
    else if (rec === 'final') status = Status.ESME_RREPLACEFAIL;
    else rec.text = textOf(req.pdu.short_message, 0);
    this.reply(conn, req, status, undefined, undefined, undefined);
  }

  private reply(
    conn: Conn,
    req: AnyIncomingRequest,
    status: number,
    body: object | undefined,
    rec: MessageRecord | undefined,
    dests: Address[] | undefined,
  ): void {
    const a: PendingAnswer = { conn, req, status, body, rec, dests };
    const latency = this.options.latencyMs;
    if (latency === 0) this.answer(a);
    else this.answers.push(a, latency);
  }

  private answer(a: PendingAnswer): void {
    if (this.options.receiptFirst && a.rec !== undefined && a.dests !== undefined) {
      // The receipt is written before the response, in the same tick (the peer reads it first), or
      // receiptLeadMs before it (the peer has handled it when the response comes).
      for (const dest of a.dests) this.sendReceipt({ rec: a.rec, dest, attempts: 0 });
      a.dests = undefined;
      if (this.options.receiptLeadMs > 0) {
        this.answers.push(a, this.options.receiptLeadMs);
        return;
      }
    }
    (a.req.respond as (status: number, body?: object) => boolean)(a.status, a.body);
    const c = a.req.command;
    if ((c === 'submit_sm' || c === 'data_sm' || c === 'submit_multi') && this.listenerCount('submit') > 0) {
      this.emit('submit', {
        sessionId: a.conn.id,
        command: c,
        status: a.status,
        messageId: a.rec?.id ?? '',
        pdu: a.req.pdu as SubmitEvent['pdu'],
      });
    }
    if (a.rec === undefined || a.dests === undefined) return;
    const delay = this.options.dlrDelayMs;
    for (const dest of a.dests) this.receiptQueue.push({ rec: a.rec, dest, attempts: 0 }, delay);
  }

  // ---- receipts ------------------------------------------------------------------------------------

  private pickReceiver(rec: MessageRecord): Conn | undefined {
    const rx = this.receivers;
    if (rx.length === 0) return undefined;
    if (this.options.dlrSession === 'random') return rx[Math.floor(this.rng() * rx.length)];
    if (rec.conn.receiver) return rec.conn;
    // The submitting session cannot take it (transmitter, or gone): another of the same account.
    let found: Conn | undefined;
    let seen = 0;
    for (const c of rx) {
      if (c.info?.systemId !== rec.systemId) continue;
      seen++;
      if (this.rng() * seen < 1) found = c; // reservoir sampling: uniform among matches
    }
    return found;
  }

  private hold(job: ReceiptJob): void {
    this.held.push(job);
    if (this.held.length > this.options.maxMessages) {
      this.held.shift();
      this.counters.receiptsDropped++;
    }
  }

  private sendReceipt(job: ReceiptJob): void {
    const rec = job.rec;
    if (rec.cancelled || this.closing) return;
    const conn = this.pickReceiver(rec);
    if (conn === undefined) {
      this.hold(job);
      return;
    }
    job.attempts++;
    const pdu = buildReceipt(rec.receiptId, rec.outcome, rec.submittedAt, Date.now(), rec.source, job.dest, rec.text, this.options.receipts);
    this.counters.receiptsSent++;
    this.inFlight++;
    // Emitted before sending: a session that refuses at once answers inside requestWith.
    if (this.listenerCount('receipt') > 0) this.emit('receipt', this.receiptEvent(conn, job, undefined));
    conn.session.requestWith(new ReceiptSend(this, conn, job, pdu));
  }

  /** The deliver_sm_resp of a receipt (ReceiptSend). */
  receiptAnswered(conn: Conn, job: ReceiptJob, resp: Pdu): void {
    this.inFlight--;
    if (resp.command_status === Status.ESME_ROK) {
      this.counters.receiptsAcked++;
      if (this.listenerCount('receipt_ack') > 0) this.emit('receipt_ack', this.receiptEvent(conn, job, resp.command_status));
    } else {
      this.receiptFailed(job, true);
    }
  }

  /** A receipt got no deliver_sm_resp (ReceiptSend). */
  receiptNotAnswered(conn: Conn, job: ReceiptJob, err: Error): void {
    this.inFlight--;
    // A session that went away: retry on another (in a microtask: a session that refuses, refuses
    // inside requestWith); anything else after receiptRetryMs.
    const gone = isSessionError(err) && (err.code === 'CLOSED' || err.code === 'UNBOUND' || err.code === 'INVALID_STATE');
    // It stays listed until its socket's close event, after its requests failed: a retry must
    // not pick it again (each such pick spends an attempt, and the last one drops the receipt).
    if (gone) this.removeReceiver(conn);
    if (gone) queueMicrotask(() => this.receiptFailed(job, false));
    else this.receiptFailed(job, true);
  }

  private receiptEvent(conn: Conn, job: ReceiptJob, status: number | undefined): ReceiptEvent {
    const e: ReceiptEvent = {
      sessionId: conn.id,
      messageId: job.rec.id,
      receiptId: job.rec.receiptId,
      destination: job.dest.addr,
      outcome: job.rec.outcome,
    };
    if (status !== undefined) e.status = status;
    return e;
  }

  private receiptFailed(job: ReceiptJob, later: boolean): void {
    this.counters.receiptsFailed++;
    if (this.closing) return;
    if (job.attempts >= this.options.receiptAttempts) {
      this.counters.receiptsDropped++;
      return;
    }
    if (later) this.retryQueue.push(job, this.options.receiptRetryMs);
    else this.sendReceipt(job);
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/**
 * One receipt on its way: the session's window entry itself (Session.requestWith), so a receipt
 * costs this object instead of a promise, its derived promise and their closures.
 */
class ReceiptSend implements OutgoingCall {
  pdu: RequestPdu | undefined;
  seq = 0;
  responseId = 0;
  deadline = 0;

  constructor(
    private readonly sim: SimulatorImpl,
    private readonly conn: Conn,
    private readonly job: ReceiptJob,
    pdu: PduOf<'deliver_sm'>,
  ) {
    this.pdu = pdu as RequestPdu;
  }

  resolve(resp: Pdu): void {
    this.sim.receiptAnswered(this.conn, this.job, resp);
  }

  reject(err: Error): void {
    this.sim.receiptNotAnswered(this.conn, this.job, err);
  }
}

/** Starts a simulator listening on `options.host:options.port` (127.0.0.1, any free port by default). */
export async function startSimulator(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const full: SimulatorOptions = { ...DEFAULT_OPTIONS, ...options };
  checkOptions(full);
  const sim = new SimulatorImpl(full);
  await sim.listen();
  return sim;
}
