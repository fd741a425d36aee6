// One send() from call to settlement. The same object waits for a throughput token, waits in a
// session's queue for a window slot, is in flight, and sits in the deadline queue meanwhile: one
// allocation per request besides its promise.

import type { OutgoingCall, Session } from '../session/index.js';
import type { Pdu, RequestPdu } from '../smpp/index.js';
import type { Conn } from './endpoint.js';
import type { SendOptions, SendResult, SendWaiter, UpstreamRequest } from './types.js';

export const SendState = {
  /** Not yet given to a session: new, or waiting for a throughput token. */
  WAITING: 0,
  /** In a session's queue, waiting for a window slot (never written). */
  QUEUED: 1,
  /** Written (or being written) to the upstream. */
  IN_FLIGHT: 2,
  /** Resolved or rejected. */
  DONE: 3,
} as const;

export type SendState = (typeof SendState)[keyof typeof SendState];

export class PendingSend {
  state: SendState = SendState.WAITING;
  /** The session that holds it while QUEUED or IN_FLIGHT. */
  conn: Conn | undefined = undefined;
  /** Key in the cluster's deadline queue; -1 when not (or no longer) in it. */
  dueKey = -1;
  /** When it was written, for latency. */
  sentAt = 0;

  constructor(
    readonly pdu: UpstreamRequest,
    readonly opts: SendOptions,
    readonly deadline: number,
    readonly waiter: SendWaiter,
  ) {}
}

/** sendWith() for a cluster that has only send(): the promise's outcome told to `waiter`. */
export function sendWithPromise(sending: Promise<SendResult>, waiter: SendWaiter): void {
  sending.then(
    (result) => waiter.resolved(result),
    (err: unknown) => waiter.rejected(err as Error),
  );
}

/** A send() promise's resolvers as a SendWaiter. */
export class PromiseWaiter implements SendWaiter {
  constructor(
    readonly resolved: (result: SendResult) => void,
    readonly rejected: (err: Error) => void,
  ) {}
}

/** Who hears how an UpstreamCall ended: the cluster. */
export interface CallOwner {
  answered(call: UpstreamCall, response: Pdu | undefined, failure: Error | undefined): void;
}

/**
 * One PendingSend on the wire: the session's window entry itself (Session.requestWith), so an
 * attempt costs this object instead of a promise, its executor and resolvers and an async frame
 * (bench: `npm run bench`, through smppd). The session fills seq/responseId/deadline.
 */
export class UpstreamCall implements OutgoingCall {
  pdu: RequestPdu | undefined;
  seq = 0;
  responseId = 0;
  deadline = 0;

  constructor(
    private readonly owner: CallOwner,
    readonly send: PendingSend,
    readonly conn: Conn,
    /** The slot's session when written: a re-bound slot has a new one. */
    readonly session: Session,
    /** The cluster's clock reading as it hands the request to the session (PendingRequest.now). */
    public now: number | undefined,
  ) {
    this.pdu = send.pdu as RequestPdu;
  }

  resolve(pdu: Pdu): void {
    this.owner.answered(this, pdu, undefined);
  }

  reject(err: Error): void {
    this.owner.answered(this, undefined, err);
  }
}
