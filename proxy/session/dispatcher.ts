// One dispatcher, one small handler per command (STYLE rule 5). The dispatcher checks the bind
// state first (SMPP 3.4 §2.3), then calls the command's handler; responses go to the request
// tracking. Handlers only call into SessionCore, so they stay one line each.

import {
  Status,
  commandNameOf,
  expectsResponse,
  isRequestName,
  type AnsweredRequestName,
  type DecodeFailure,
  type Pdu,
  type PduOf,
  type RequestName,
} from '../smpp/index.js';
import { incomingStatus } from './bind-rules.js';
import type { DataRequestPdu, Role, SessionState } from './types.js';

export type BindPdu = PduOf<'bind_transmitter' | 'bind_receiver' | 'bind_transceiver'>;

/** What handlers may do to their session. */
export interface SessionCore {
  /** Role of the peer, i.e. of whoever sent the PDU being dispatched. */
  readonly peerRole: Role;
  readonly state: SessionState;
  /** Answers `command` with a default-body response carrying `status`. */
  replyStatus(command: AnsweredRequestName, sequenceNumber: number, status: number): void;
  /** Answers with generic_nack (SMPP 3.4 §4.3). */
  nack(sequenceNumber: number, status: number): void;
  /** A request without a response PDU (outbind, alert_notification) arrived out of place. */
  dropRequest(command: RequestName, sequenceNumber: number, status: number): void;
  /** A *_resp or generic_nack. */
  onResponse(pdu: Pdu): void;
  /** A response that did not decode. */
  onBadResponse(sequenceNumber: number, status: number, reason: string): void;
  onBind(pdu: BindPdu): void;
  onUnbind(pdu: PduOf<'unbind'>): void;
  onEnquireLink(pdu: PduOf<'enquire_link'>): void;
  onOutbind(pdu: PduOf<'outbind'>): void;
  onAlertNotification(pdu: PduOf<'alert_notification'>): void;
  /** Hands a traffic request to the session's owner. */
  deliver(pdu: DataRequestPdu): void;
}

type Handlers = { readonly [N in RequestName]: (s: SessionCore, pdu: PduOf<N>) => void };

const deliver = (s: SessionCore, pdu: DataRequestPdu): void => s.deliver(pdu);

export const HANDLERS: Handlers = {
  bind_transmitter: (s, pdu) => s.onBind(pdu),
  bind_receiver: (s, pdu) => s.onBind(pdu),
  bind_transceiver: (s, pdu) => s.onBind(pdu),
  outbind: (s, pdu) => s.onOutbind(pdu),
  unbind: (s, pdu) => s.onUnbind(pdu),
  enquire_link: (s, pdu) => s.onEnquireLink(pdu),
  alert_notification: (s, pdu) => s.onAlertNotification(pdu),
  submit_sm: deliver,
  submit_multi: deliver,
  deliver_sm: deliver,
  data_sm: deliver,
  query_sm: deliver,
  cancel_sm: deliver,
  replace_sm: deliver,
};

/** Answers a request the session state does not allow. */
function refuse(s: SessionCore, command: RequestName, sequenceNumber: number, status: number): void {
  if (expectsResponse(command)) s.replyStatus(command, sequenceNumber, status);
  // SMPP 3.4 §4.1.7 and §4.12: outbind and alert_notification have no response PDU.
  else s.dropRequest(command, sequenceNumber, status);
}

export function dispatch(s: SessionCore, pdu: Pdu): void {
  const command = pdu.command;
  if (!isRequestName(command)) {
    s.onResponse(pdu);
    return;
  }
  const status = incomingStatus(s.peerRole, s.state, command);
  if (status !== Status.ESME_ROK) {
    refuse(s, command, pdu.sequence_number, status);
    return;
  }
  (HANDLERS[command] as (s: SessionCore, pdu: Pdu) => void)(s, pdu);
}

/**
 * A frame of sane length that did not decode. SMPP 3.4 §2.8: an error in the PDU header gets
 * generic_nack; an error in the body of a known request gets that command's response with the
 * error status (a client matches it by sequence_number like any response). So:
 * - unknown command_id -> generic_nack ESME_RINVCMDID (§4.3);
 * - command_length disagreeing with the body (ESME_RINVCMDLEN), or a request without a response
 *   PDU (outbind, alert_notification) -> generic_nack with the decode status;
 * - a known request with a bad field -> its own *_resp with the decode status (e.g. a submit_sm
 *   with a bad TLV length gets submit_sm_resp ESME_RINVPARLEN);
 * - a response is never answered (answering an answer could loop): the request it answers fails.
 * The bind state is checked first, as for well-formed PDUs.
 */
export function dispatchMalformed(s: SessionCore, failure: DecodeFailure): void {
  const seq = failure.sequence_number;
  const name = commandNameOf(failure.command_id);
  if (name === undefined) {
    s.nack(seq, failure.status);
    return;
  }
  if (!isRequestName(name)) {
    s.onBadResponse(seq, failure.status, failure.reason);
    return;
  }
  const status = incomingStatus(s.peerRole, s.state, name);
  if (status !== Status.ESME_ROK) {
    refuse(s, name, seq, status);
    return;
  }
  if (failure.status === Status.ESME_RINVCMDLEN || !expectsResponse(name)) s.nack(seq, failure.status);
  else s.replyStatus(name, seq, failure.status);
}
