// A bound client session as the forwarder sees it (types.ts ClientSession): identity, and deliver()
// for receipts and MO going to the client.

import { SessionError, type BindType, type OutgoingCall, type Session, type Timers } from '../session/index.js';
import { Status, type Pdu, type RequestPdu } from '../smpp/index.js';
import { DeadlineQueue } from './deadlines.js';
import type { ClientDeliveryPdu, ClientSession, DeliverDone } from './types.js';

/**
 * One deliver_sm on its way to the client: the session's window entry itself (Session.requestWith)
 * and an item of a shared deadline queue, answering its caller's DeliverDone once. Per receipt that
 * is this object instead of a second promise, a timer and five closures (bench: `npm run bench`,
 * through smppd with receipts).
 */
class Delivery implements OutgoingCall {
  pdu: RequestPdu | undefined;
  seq = 0;
  responseId = 0;
  deadline = 0;
  /** Its place in the deadline queue, for deadlines.delete(). */
  ticket = 0;
  private done = false;

  constructor(
    pdu: ClientDeliveryPdu,
    private readonly deadlines: DeadlineQueue<Delivery>,
    private readonly timeoutMs: number,
    private readonly answer: DeliverDone,
  ) {
    this.pdu = pdu as RequestPdu;
  }

  resolve(resp: Pdu): void {
    if (this.finish()) this.answer.delivered(resp.command_status);
  }

  reject(err: Error): void {
    if (!this.finish()) return;
    // A generic_nack is the client's answer, not a lost message.
    if (err instanceof SessionError && err.code === 'GENERIC_NACK') {
      this.answer.delivered(err.status === undefined || err.status === Status.ESME_ROK ? Status.ESME_RSYSERR : err.status);
      return;
    }
    this.answer.notDelivered(err);
  }

  /** The deadline passed. It may be on the wire already: the client may still act on it (sent: true). */
  expire(): void {
    if (this.done) return;
    this.done = true;
    this.answer.notDelivered(new SessionError('TIMEOUT', `no deliver_sm_resp within ${this.timeoutMs} ms`, { sent: true }));
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.deadlines.delete(this.ticket, this);
    return true;
  }
}

/** deliver()'s promise, settled through DeliverDone. */
class DeliveredPromise implements DeliverDone {
  constructor(
    readonly delivered: (status: number) => void,
    readonly notDelivered: (err: Error) => void,
  ) {}
}

export class BoundClient implements ClientSession {
  /**
   * Delivery deadlines by timeout: the session's own response timeout is request_timeout, a shorter
   * per-call budget needs its own. One queue (one timer) per distinct timeout, so each queue's
   * deadlines grow in insertion order as DeadlineQueue requires.
   */
  private readonly deadlines = new Map<number, DeadlineQueue<Delivery>>();

  constructor(
    readonly id: string,
    readonly systemId: string,
    readonly bindType: BindType,
    readonly listener: string,
    readonly remoteAddress: string,
    private readonly session: Session,
    private readonly timers: Timers,
    readonly boundAt: number,
    private readonly drain: () => void,
  ) {}

  unbind(): void {
    this.drain();
  }

  canReceive(): boolean {
    const state = this.session.state;
    return state === 'bound_rx' || state === 'bound_trx';
  }

  deliver(pdu: ClientDeliveryPdu, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => this.deliverWith(pdu, timeoutMs, new DeliveredPromise(resolve, reject)));
  }

  deliverWith(pdu: ClientDeliveryPdu, timeoutMs: number, done: DeliverDone): void {
    let deadlines = this.deadlines.get(timeoutMs);
    if (deadlines === undefined) {
      deadlines = new DeadlineQueue<Delivery>(this.timers, (d) => d.expire());
      this.deadlines.set(timeoutMs, deadlines);
    }
    const d = new Delivery(pdu, deadlines, timeoutMs, done);
    d.ticket = deadlines.add(d, this.timers.now() + timeoutMs);
    this.session.requestWith(d);
  }
}
