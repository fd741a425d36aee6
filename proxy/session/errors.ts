// Stable error codes of the session engine (STYLE rule 7): callers branch on `code`, never on the
// message text. `sent` tells a retry policy whether the peer may have seen the request: a request
// that was never written (WINDOW_FULL, QUEUE_TIMEOUT, or queued when the session went away) can be
// retried elsewhere without risking a duplicate message.

import { Status } from '../smpp/index.js';
import type { CloseReason } from './types.js';

export const SessionErrorCode = {
  /** The window of outstanding requests is full (reject mode), or the wait queue is full too. */
  WINDOW_FULL: 'WINDOW_FULL',
  /** The request waited for a window slot longer than `queueTimeoutMs` (wait mode); never sent. */
  QUEUE_TIMEOUT: 'QUEUE_TIMEOUT',
  /** No response within `requestTimeoutMs` (or the bind/unbind timeout); a late response is dropped. */
  TIMEOUT: 'TIMEOUT',
  /** The session closed before the response arrived; `closeReason` says why (e.g. enquire_link_timeout). */
  CLOSED: 'CLOSED',
  /** The session was unbound (by us or by the peer) before the response arrived. */
  UNBOUND: 'UNBOUND',
  /** The peer answered the request with generic_nack; `status` holds its command_status. */
  GENERIC_NACK: 'GENERIC_NACK',
  /** The peer refused our bind; `status` holds its command_status. */
  BIND_FAILED: 'BIND_FAILED',
  /** The peer did not answer our keepalive enquire_link in time: the `error` of the close event
   *  (reason enquire_link_timeout); pending requests fail with CLOSED. */
  ENQUIRE_LINK_TIMEOUT: 'ENQUIRE_LINK_TIMEOUT',
  /** SMPP 3.4 §2.3: this role may not send this command in the current session state. */
  INVALID_STATE: 'INVALID_STATE',
  /** The command has no response (outbind, alert_notification) or is a response itself. */
  INVALID_COMMAND: 'INVALID_COMMAND',
  /** The PDU could not be encoded (a programming error: see `cause`). */
  ENCODE_FAILED: 'ENCODE_FAILED',
  /** The peer's response could not be decoded or is not the response to our request. */
  BAD_RESPONSE: 'BAD_RESPONSE',
} as const;

export type SessionErrorCode = (typeof SessionErrorCode)[keyof typeof SessionErrorCode];

export class SessionError extends Error {
  override readonly name = 'SessionError';
  readonly code: SessionErrorCode;
  /** command_status from the wire (GENERIC_NACK, BIND_FAILED, BAD_RESPONSE). */
  readonly status: number | undefined;
  /** True when the request was written to the socket, so the peer may have acted on it. */
  readonly sent: boolean;
  /** Why the session closed (CLOSED, UNBOUND from a closing session). */
  readonly closeReason: CloseReason | undefined;

  constructor(
    code: SessionErrorCode,
    message: string,
    opts: { status?: number; sent?: boolean; closeReason?: CloseReason; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = opts.status;
    this.sent = opts.sent ?? false;
    this.closeReason = opts.closeReason;
  }
}

export function isSessionError(err: unknown): err is SessionError {
  return err instanceof SessionError;
}

/**
 * The ESME status to give a client whose request failed with `err` on another session (the proxy
 * answering a client after an upstream failure). Wire statuses pass through; local failures map to
 * the closest SMPP 3.4 §5.1.3 code.
 */
export function toEsmeStatus(err: unknown): number {
  if (!(err instanceof SessionError)) return Status.ESME_RSYSERR;
  switch (err.code) {
    case 'WINDOW_FULL':
    case 'QUEUE_TIMEOUT':
      return Status.ESME_RMSGQFUL;
    case 'GENERIC_NACK':
    case 'BAD_RESPONSE':
      return err.status !== undefined && err.status !== Status.ESME_ROK ? err.status : Status.ESME_RSYSERR;
    case 'BIND_FAILED':
      return err.status !== undefined && err.status !== Status.ESME_ROK ? err.status : Status.ESME_RBINDFAIL;
    case 'INVALID_STATE':
      return Status.ESME_RINVBNDSTS;
    case 'INVALID_COMMAND':
      return Status.ESME_RINVCMDID;
    case 'TIMEOUT':
    case 'CLOSED':
    case 'UNBOUND':
    case 'ENQUIRE_LINK_TIMEOUT':
    case 'ENCODE_FAILED':
      return Status.ESME_RSYSERR;
  }
}
