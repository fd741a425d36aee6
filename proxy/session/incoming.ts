// A request from the peer, handed to the session's owner. One small object per request (no
// closure): `respond` lives on the prototype and the flag makes the answer exactly-once.

import type { Pdu, PduOf, RequestPdu, ResponseBody, ResponsePduOf } from '../smpp/index.js';
import { Status } from '../smpp/index.js';
import type { DataRequestName } from './types.js';

/** What an IncomingRequest needs from its session. */
export interface Responder {
  /** Writes the response; false when the session can no longer answer (closed or unbound). */
  answerIncoming(req: RequestPdu, sequenceNumber: number, status: number, body: object | undefined): boolean;
  /** Writes `resp`, the complete response to `req` (its sequence_number already set); false as above. */
  answerIncomingWith(req: RequestPdu, resp: Pdu): boolean;
}

export class IncomingRequest<P extends RequestPdu = RequestPdu> {
  /** Discriminant for narrowing a union of requests: `if (req.command === 'submit_sm') ...`. */
  readonly command: P['command'];
  readonly pdu: P;
  /**
   * The request's sequence_number as received; the response carries it. Kept apart from `pdu`,
   * which the owner may pass on as it is (the forwarder sends a client's submit_sm upstream without
   * copying it, and the upstream session numbers it in place).
   */
  readonly sequenceNumber: number;
  #answered = false;
  readonly #responder: Responder;

  constructor(responder: Responder, pdu: P) {
    this.#responder = responder;
    this.pdu = pdu;
    this.command = pdu.command;
    this.sequenceNumber = pdu.sequence_number;
  }

  get answered(): boolean {
    return this.#answered;
  }

  /**
   * Sends the response (same sequence_number). Body fields not given take empty defaults
   * (message_id ''); with a non-zero status the codec sends a bare header (SMPP 3.4 §4.x).
   * Returns false if already answered or the session can no longer answer.
   */
  respond(status: number = Status.ESME_ROK, body?: Partial<ResponseBody<P>>): boolean {
    if (this.#answered) return false;
    this.#answered = true;
    return this.#responder.answerIncoming(this.pdu, this.sequenceNumber, status, body);
  }

  /**
   * Sends `resp`, a complete response of this request's type (the caller checked), after setting its
   * sequence_number to the request's: no body copied into a new object (bench: `npm run bench`).
   * The caller hands `resp` over. Returns false as respond() does.
   */
  respondWith(resp: ResponsePduOf<P>): boolean {
    if (this.#answered) return false;
    this.#answered = true;
    (resp as Pdu).sequence_number = this.sequenceNumber;
    return this.#responder.answerIncomingWith(this.pdu, resp as Pdu);
  }
}

/** The requests a session hands to its owner, narrowable by `command`. */
export type AnyIncomingRequest = {
  [N in DataRequestName]: IncomingRequest<PduOf<N>>;
}[DataRequestName];
