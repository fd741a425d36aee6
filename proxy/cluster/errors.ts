// Stable error codes of the cluster layer (STYLE rule 7): the forwarder branches on `code` and
// `sent`, never on the message. Any response that came over the wire resolves send(); these codes
// are the outcomes where there is no upstream answer to pass on.
//
// `sent` is the duplicate guard of the retry policy: false means the request never left smppd
// (it may go elsewhere without risking a second copy of the message); true means the upstream may
// have seen it.

import { Status } from '../smpp/index.js';
import { SessionError } from '../session/index.js';

export const ClusterErrorCode = {
  /** No endpoint can take the request: none bound, circuits open, excluded, or the cluster is closed. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** No response within the request's budget (opts.timeoutMs) or the session's response timeout. */
  TIMEOUT: 'TIMEOUT',
  /** The upstream session went away before the response arrived. */
  DISCONNECT: 'DISCONNECT',
  /** Every window and wait queue is full, or the request waited for a window slot until its deadline. */
  QUEUE_FULL: 'QUEUE_FULL',
  /** The cluster's `throughput` would not let the request go before its deadline. */
  THROTTLED: 'THROTTLED',
} as const;

export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  readonly code: ClusterErrorCode;
  /** True when the upstream may have seen the request. */
  readonly sent: boolean;
  /** The endpoint that had the request, when one did. */
  readonly endpoint: string | undefined;

  constructor(
    code: ClusterErrorCode,
    message: string,
    opts: { sent: boolean; endpoint?: string | undefined; cause?: unknown },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.sent = opts.sent;
    this.endpoint = opts.endpoint;
  }
}

export function isClusterError(err: unknown): err is ClusterError {
  return err instanceof ClusterError;
}

/**
 * A session failure as a cluster error, or undefined when the session error carries a wire status
 * (generic_nack, a malformed response) or is a local programming error: those become responses.
 */
export function fromSessionError(err: SessionError, endpoint: string): ClusterError | undefined {
  switch (err.code) {
    case 'WINDOW_FULL':
    case 'QUEUE_TIMEOUT':
      return new ClusterError('QUEUE_FULL', err.message, { sent: false, endpoint, cause: err });
    case 'TIMEOUT':
      return new ClusterError('TIMEOUT', err.message, { sent: true, endpoint, cause: err });
    case 'CLOSED':
    case 'UNBOUND':
    case 'ENQUIRE_LINK_TIMEOUT':
      return new ClusterError('DISCONNECT', err.message, { sent: err.sent, endpoint, cause: err });
    case 'INVALID_STATE':
      // The session stopped being bound between the pick and the write: nothing was written.
      return new ClusterError('DISCONNECT', err.message, { sent: false, endpoint, cause: err });
    case 'GENERIC_NACK':
    case 'BAD_RESPONSE':
    case 'BIND_FAILED':
    case 'INVALID_COMMAND':
    case 'ENCODE_FAILED':
      return undefined;
  }
}

/** The command_status a client should get for a cluster failure that is not retried further. */
export function clusterErrorStatus(err: ClusterError): number {
  switch (err.code) {
    case 'QUEUE_FULL':
      return Status.ESME_RMSGQFUL;
    case 'THROTTLED':
      return Status.ESME_RTHROTTLED;
    case 'UNAVAILABLE':
    case 'TIMEOUT':
    case 'DISCONNECT':
      return Status.ESME_RSYSERR;
  }
}
