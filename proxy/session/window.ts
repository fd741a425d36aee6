// The outgoing window: requests sent and awaiting their response, plus (wait mode) a bounded FIFO of
// requests waiting for a slot.
//
// In-flight requests live in a SeqTable, not a Map: a Map with a set and a delete per message is
// rehashed under churn, and V8's obsolete tables then keep every in-flight request alive into the old
// generation (30-50 ms scavenges at 10,000 msg/s; see seq-table.ts).
//
// Timeouts use one timer per window, not one per request: every windowed request gets the same
// timeout. The timer is armed for the earliest deadline held; when it fires, one scan of the table
// expires every request whose deadline passed and finds the earliest deadline left. We scan rather
// than keep a second, send-ordered ring of (seq, deadline): the table is window-sized (at most a few
// thousand slots) and under load the timer fires about once per timeout period (arm() only ever
// moves it earlier), so the scan's cost is per timeout period, not per message (not measured against
// a ring), and there is no ordering state to keep in step with take(), resize() and closeAll(). A response costs one table
// delete and no timer call. Measured: 200k submit_sm over loopback TCP, window 100, both sessions in
// one process: ~130k req/s with the shared timer, ~112k req/s with an extra setTimeout/clearTimeout
// per request.

import type { Pdu, RequestPdu } from '../smpp/index.js';
import { SessionError, type SessionErrorCode } from './errors.js';
import { SeqTable } from './seq-table.js';
import type { CloseReason, TimerHandle, Timers } from './types.js';

export type WindowMode = 'reject' | 'wait';

export interface WindowOptions {
  /** Maximum outstanding requests (>= 1). */
  size: number;
  /** 'reject': request() fails with WINDOW_FULL when full; 'wait': it queues for a slot. */
  mode: WindowMode;
  /** Wait mode: maximum queued requests; beyond it request() fails with WINDOW_FULL. */
  maxQueue: number;
  requestTimeoutMs: number;
  /** Wait mode: how long a request may wait for a slot before failing with QUEUE_TIMEOUT. */
  queueTimeoutMs: number;
}

/** One outgoing request, from request() until it settles; the same object moves from the wait
 *  queue to the in-flight table, so a request costs one allocation besides its Promise. */
export interface PendingRequest {
  /** The PDU to send; dropped once written so the window does not pin request bodies. */
  pdu: RequestPdu | undefined;
  /** Assigned when written. */
  seq: number;
  /** command_id of the expected response; assigned when written. */
  responseId: number;
  /** Response deadline once written; slot deadline while queued. */
  deadline: number;
  /**
   * The caller's clock reading as it submits the request, in the same tick: the window counts the
   * response timeout from it instead of reading the clock (bench: \`npm run bench\`, one clock read
   * fewer per message). Dropped when the request has to wait for a slot.
   */
  now?: number | undefined;
  resolve(pdu: Pdu): void;
  reject(err: Error): void;
}

/** How the window puts requests on the wire (the session implements it). */
export interface Transmitter {
  /** Assigns `req.seq` and `req.responseId` and encodes `req.pdu`; throws a SessionError when it cannot. */
  prepare(req: PendingRequest): Buffer;
  /** Writes an encoded request. Called after the request is registered: a peer on an in-memory
   *  stream may answer synchronously, inside this call. */
  write(frame: Buffer): void;
}

export class RequestWindow {
  private readonly inFlight: SeqTable<PendingRequest>;
  private readonly queue: Array<PendingRequest | undefined> = [];
  private qHead = 0;
  private timer: TimerHandle | undefined;
  /** When the armed timer fires; never later than the earliest deadline held. */
  private timerAt = 0;
  private readonly onTimerFn = (): void => this.onTimer();
  timeouts = 0;

  constructor(
    private readonly opts: WindowOptions,
    private readonly timers: Timers,
    private readonly transmitter: Transmitter,
  ) {
    // Starts small and grows with use: sized for the window up front, 10,000 idle client sessions
    // with a window of 1,000 held 240 MB of empty tables (bench: `npm run bench`, idle sessions).
    this.inFlight = new SeqTable();
  }

  get outstanding(): number {
    return this.inFlight.size;
  }

  get queued(): number {
    return this.queue.length - this.qHead;
  }

  get full(): boolean {
    return this.inFlight.size >= this.opts.size;
  }

  /** Send now, queue, or reject with WINDOW_FULL. */
  submit(req: PendingRequest): void {
    if (this.inFlight.size < this.opts.size && this.qHead === this.queue.length) {
      this.send(req);
    } else if (this.opts.mode === 'wait' && this.queued < this.opts.maxQueue) {
      req.now = undefined;
      req.deadline = this.timers.now() + this.opts.queueTimeoutMs;
      this.queue.push(req);
      this.arm(req.deadline);
    } else {
      req.reject(
        new SessionError('WINDOW_FULL', `window of ${this.opts.size} outstanding requests is full`),
      );
    }
  }

  /**
   * A new window size (config reload). Requests already in flight stay: a smaller window only
   * delays the next sends until enough answers came back; a larger one writes queued requests now.
   */
  resize(size: number): void {
    this.opts.size = size;
    if (this.qHead < this.queue.length) this.pump();
  }

  /** Removes and returns the request awaiting `seq` (its response arrived); frees its slot. */
  take(seq: number): PendingRequest | undefined {
    const entry = this.inFlight.delete(seq);
    if (entry === undefined) return undefined;
    if (this.qHead < this.queue.length) this.pump();
    return entry;
  }

  has(seq: number): boolean {
    return this.inFlight.has(seq);
  }

  /** Fails every queued (never sent) request. */
  rejectQueued(code: SessionErrorCode, message: string, closeReason?: CloseReason): void {
    while (this.qHead < this.queue.length) {
      const w = this.dequeue();
      w.reject(new SessionError(code, message, closeReason === undefined ? { sent: false } : { sent: false, closeReason }));
    }
  }

  /** Fails everything and stops the timer; the window is unusable afterwards only by convention. */
  closeAll(code: SessionErrorCode, message: string, closeReason: CloseReason): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.rejectQueued(code, message, closeReason);
    const entries: PendingRequest[] = [];
    this.inFlight.forEach((e) => entries.push(e));
    this.inFlight.clear();
    for (const e of sendOrder(entries)) e.reject(new SessionError(code, message, { sent: true, closeReason }));
  }

  private send(req: PendingRequest): void {
    let frame: Buffer;
    try {
      frame = this.transmitter.prepare(req);
    } catch (err) {
      req.reject(err as Error);
      return;
    }
    req.pdu = undefined;
    req.deadline = (req.now ?? this.timers.now()) + this.opts.requestTimeoutMs;
    this.inFlight.set(req.seq, req);
    this.arm(req.deadline);
    this.transmitter.write(frame);
  }

  private dequeue(): PendingRequest {
    const w = this.queue[this.qHead]!;
    this.queue[this.qHead++] = undefined;
    if (this.qHead === this.queue.length) {
      this.queue.length = 0;
      this.qHead = 0;
    } else if (this.qHead >= 1024 && this.qHead * 2 >= this.queue.length) {
      this.queue.splice(0, this.qHead);
      this.qHead = 0;
    }
    return w;
  }

  private pump(): void {
    while (this.inFlight.size < this.opts.size && this.qHead < this.queue.length) {
      this.send(this.dequeue());
    }
  }

  /** Makes sure the timer fires by `deadline` (a new entry's, or the earliest after a sweep). */
  private arm(deadline: number): void {
    if (this.timer !== undefined) {
      if (this.timerAt <= deadline) return;
      this.timers.clearTimeout(this.timer);
    }
    this.timerAt = deadline;
    this.timer = this.timers.setTimeout(this.onTimerFn, Math.max(1, deadline - this.timers.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    const now = this.timers.now();
    // Collect first and delete after: a delete shifts entries, which would upset the scan.
    const due: PendingRequest[] = [];
    let next = Infinity;
    this.inFlight.forEach((e) => {
      if (e.deadline <= now) due.push(e);
      else if (e.deadline < next) next = e.deadline;
    });
    for (const e of due) this.inFlight.delete(e.seq);
    for (const e of sendOrder(due)) {
      this.timeouts++;
      e.reject(
        new SessionError('TIMEOUT', `no response within ${this.opts.requestTimeoutMs} ms`, { sent: true }),
      );
    }
    while (this.qHead < this.queue.length && this.queue[this.qHead]!.deadline <= now) {
      this.dequeue().reject(
        new SessionError('QUEUE_TIMEOUT', `no window slot within ${this.opts.queueTimeoutMs} ms`, {
          sent: false,
        }),
      );
    }
    this.pump();
    // `next` may be stale if a rejection handler closed the window or took requests: an empty table
    // needs no timer, and a deadline that left early only costs one extra, empty firing. Requests
    // sent since the scan armed the timer themselves.
    if (this.inFlight.size === 0) next = Infinity;
    if (this.qHead < this.queue.length) next = Math.min(next, this.queue[this.qHead]!.deadline);
    if (next !== Infinity) this.arm(next);
  }
}

/** Rejections go out in send order, as they did when a Map kept it: deadlines rise in send order
 *  (one timeout for all), and within one clock tick so do sequence numbers, modulo the wrap. */
function sendOrder(entries: PendingRequest[]): PendingRequest[] {
  return entries.length < 2 ? entries : entries.sort((a, b) => a.deadline - b.deadline || seqDistance(b.seq, a.seq));
}

/** How far `to` comes after `from` (negative: before), as 31-bit sequence numbers that wrap: the
 *  numbers sent within one tick span far less than half the range, so 0x7FFFFFFF comes before 1. */
function seqDistance(from: number, to: number): number {
  return ((to - from) << 1) >> 1;
}
