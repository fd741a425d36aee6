import { describe, expect, it } from 'vitest';
import { Status } from '../smpp/index.js';
import { incomingStatus, isAllowed } from './bind-rules.js';
import { SessionError, toEsmeStatus } from './errors.js';

describe('SMPP 3.4 §2.3 state table', () => {
  it.each([
    // sender, state, command, allowed
    ['esme', 'open', 'bind_transceiver', true],
    ['esme', 'bound_tx', 'bind_transceiver', false],
    ['smsc', 'open', 'bind_transmitter', false],
    ['smsc', 'open', 'outbind', true],
    ['esme', 'open', 'outbind', false],
    ['esme', 'bound_tx', 'submit_sm', true],
    ['esme', 'bound_trx', 'submit_multi', true],
    ['esme', 'bound_rx', 'submit_sm', false],
    ['smsc', 'bound_trx', 'submit_sm', false],
    ['smsc', 'bound_rx', 'deliver_sm', true],
    ['smsc', 'bound_tx', 'deliver_sm', false],
    ['esme', 'bound_trx', 'deliver_sm', false],
    ['esme', 'bound_tx', 'data_sm', true],
    ['smsc', 'bound_rx', 'data_sm', true],
    ['smsc', 'bound_tx', 'data_sm', false],
    ['esme', 'bound_rx', 'query_sm', false],
    ['smsc', 'bound_rx', 'alert_notification', true],
    ['esme', 'bound_rx', 'enquire_link', true],
    ['smsc', 'unbinding', 'enquire_link', true],
    ['esme', 'open', 'enquire_link', false],
    ['esme', 'unbinding', 'unbind', true],
    ['esme', 'unbinding', 'submit_sm', false],
    ['esme', 'closed', 'enquire_link', false],
  ] as const)('%s in %s sending %s: %s', (sender, state, command, allowed) => {
    expect(isAllowed(sender, state, command)).toBe(allowed);
  });

  it('answers binds on a bound session with ESME_RALYBND, other misplaced requests with ESME_RINVBNDSTS', () => {
    expect(incomingStatus('esme', 'bound_rx', 'bind_transmitter')).toBe(Status.ESME_RALYBND);
    expect(incomingStatus('esme', 'unbinding', 'bind_receiver')).toBe(Status.ESME_RALYBND);
    expect(incomingStatus('esme', 'open', 'submit_sm')).toBe(Status.ESME_RINVBNDSTS);
    expect(incomingStatus('smsc', 'open', 'bind_transceiver')).toBe(Status.ESME_RINVBNDSTS);
    expect(incomingStatus('esme', 'bound_trx', 'submit_sm')).toBe(Status.ESME_ROK);
  });
});

describe('toEsmeStatus', () => {
  it.each([
    [new SessionError('WINDOW_FULL', ''), Status.ESME_RMSGQFUL],
    [new SessionError('QUEUE_TIMEOUT', ''), Status.ESME_RMSGQFUL],
    [new SessionError('TIMEOUT', '', { sent: true }), Status.ESME_RSYSERR],
    [new SessionError('CLOSED', ''), Status.ESME_RSYSERR],
    [new SessionError('GENERIC_NACK', '', { status: Status.ESME_RINVCMDID }), Status.ESME_RINVCMDID],
    [new SessionError('GENERIC_NACK', '', { status: 0 }), Status.ESME_RSYSERR],
    [new SessionError('BIND_FAILED', '', { status: Status.ESME_RINVPASWD }), Status.ESME_RINVPASWD],
    [new SessionError('INVALID_STATE', ''), Status.ESME_RINVBNDSTS],
    [new Error('anything else'), Status.ESME_RSYSERR],
  ])('%s -> %i', (err, status) => {
    expect(toEsmeStatus(err)).toBe(status);
  });
});
