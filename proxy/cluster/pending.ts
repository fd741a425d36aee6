// One send() from call to settlement. The same object waits for a throughput token, waits in a
// session's queue for a window slot, is in flight, and sits in the deadline queue meanwhile: one
// allocation per request besides its promise.

import type { Conn } from './endpoint.js';
import type { SendOptions, SendResult, UpstreamRequest } from './types.js';

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
    readonly resolve: (result: SendResult) => void,
    readonly reject: (err: Error) => void,
  ) {}
}
