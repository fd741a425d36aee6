// SMPP 3.4 §2.3 (Table 2-1, "SMPP PDUs allowed per session state"): which role may send which
// request in which state. One table for both directions: the dispatcher checks the peer's role for
// incoming requests, request() checks ours for outgoing ones. Responses and generic_nack are not
// listed: they answer a request and are matched by sequence number.

import { Status, type RequestName } from '../smpp/index.js';
import type { Role, SessionState } from './types.js';

const OPEN = 1;
const TX = 2;
const RX = 4;
const TRX = 8;
const UNBINDING = 16;

const STATE_BIT: Readonly<Record<SessionState, number>> = {
  open: OPEN,
  bound_tx: TX,
  bound_rx: RX,
  bound_trx: TRX,
  unbinding: UNBINDING,
  closed: 0,
};

const BOUND = TX | RX | TRX;

/** States (as bits) in which each role may send each request. */
const ALLOWED: Readonly<Record<RequestName, Readonly<Record<Role, number>>>> = {
  bind_transmitter: { esme: OPEN, smsc: 0 },
  bind_receiver: { esme: OPEN, smsc: 0 },
  bind_transceiver: { esme: OPEN, smsc: 0 },
  // §2.2.1: the SMSC connects and asks the ESME to bind (as receiver).
  outbind: { esme: 0, smsc: OPEN },
  // A simultaneous unbind from both sides is answered, so `unbinding` is included.
  unbind: { esme: BOUND | UNBINDING, smsc: BOUND | UNBINDING },
  submit_sm: { esme: TX | TRX, smsc: 0 },
  submit_multi: { esme: TX | TRX, smsc: 0 },
  query_sm: { esme: TX | TRX, smsc: 0 },
  cancel_sm: { esme: TX | TRX, smsc: 0 },
  replace_sm: { esme: TX | TRX, smsc: 0 },
  // §4.7: data_sm flows ESME->SMSC on a transmitter and SMSC->ESME on a receiver.
  data_sm: { esme: TX | TRX, smsc: RX | TRX },
  deliver_sm: { esme: 0, smsc: RX | TRX },
  alert_notification: { esme: 0, smsc: RX | TRX },
  // Answered while an unbind is in progress so the link is not declared dead meanwhile.
  enquire_link: { esme: BOUND | UNBINDING, smsc: BOUND | UNBINDING },
};

export function isAllowed(sender: Role, state: SessionState, command: RequestName): boolean {
  return (ALLOWED[command][sender] & STATE_BIT[state]) !== 0;
}

function isBind(command: RequestName): boolean {
  return command === 'bind_transmitter' || command === 'bind_receiver' || command === 'bind_transceiver';
}

/**
 * The status to answer an incoming request with when the session state forbids it, or ESME_ROK.
 * `peer` is the role of the sender. A bind on a session that is already bound (or unbinding) gets
 * ESME_RALYBND (SMPP 3.4 §5.1.3); everything else out of place gets ESME_RINVBNDSTS.
 */
export function incomingStatus(peer: Role, state: SessionState, command: RequestName): number {
  if ((ALLOWED[command][peer] & STATE_BIT[state]) !== 0) return Status.ESME_ROK;
  if (peer === 'esme' && isBind(command) && state !== 'open' && state !== 'closed') return Status.ESME_RALYBND;
  return Status.ESME_RINVBNDSTS;
}

export function otherRole(role: Role): Role {
  return role === 'esme' ? 'smsc' : 'esme';
}

export function isBoundState(state: SessionState): boolean {
  return (STATE_BIT[state] & BOUND) !== 0;
}
