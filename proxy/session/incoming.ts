// A request from the peer, handed to the session's owner. One small object per request (no
// closure): `respond` lives on the prototype and the flag makes the answer exactly-once.

import type { PduOf, RequestPdu, ResponseBody } from '../smpp/index.js';
import { Status } from '../smpp/index.js';
import type { DataRequestName } from './types.js';

/** What an IncomingRequest needs from its session. */
export interface Responder {
  /** Writes the response; false when the session can no longer answer (closed or unbound). */
  answerIncoming(req: RequestPdu, status: number, body: object | undefined): boolean;
}

export class IncomingRequest<P extends RequestPdu = RequestPdu> {
  /** Discriminant for narrowing a union of requests: `if (req.command === 'submit_sm') ...`. */
  readonly command: P['command'];
  readonly pdu: P;
  #answered = false;
  readonly #responder: Responder;

  constructor(responder: Responder, pdu: P) {
    this.#responder = responder;
    this.pdu = pdu;
    this.command = pdu.command;
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
    return this.#responder.answerIncoming(this.pdu, status, body);
  }
}

/** The requests a session hands to its owner, narrowable by `command`. */
export type AnyIncomingRequest = {
  [N in DataRequestName]: IncomingRequest<PduOf<N>>;
}[DataRequestName];
