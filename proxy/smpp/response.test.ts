import { describe, expect, it } from 'vitest';
import { CommandId, commandNameOf, expectsResponse, isResponseId, responseNameOf } from './commands.js';
import type { CommandName, RequestName } from './commands.js';
import { decodePdu } from './decode.js';
import { encodePdu } from './encode.js';
import { FIXTURES, hex } from './fixtures.js';
import type { Pdu, PduOf, RequestPdu } from './pdu.js';
import { genericNack, responseFor } from './response.js';
import { Status, statusName } from './status.js';

const fixture = <N extends CommandName>(command: N) => FIXTURES.find((f) => f.pdu.command === command)!.pdu as PduOf<N>;

describe('command table', () => {
  it('maps ids and names both ways and marks responses by bit 31', () => {
    for (const name of Object.keys(CommandId) as CommandName[]) {
      expect(commandNameOf(CommandId[name])).toBe(name);
      expect(isResponseId(CommandId[name])).toBe(name.endsWith('_resp') || name === 'generic_nack');
    }
    expect(commandNameOf(0x99)).toBeUndefined();
  });

  it('names the response of each request; outbind and alert_notification have none', () => {
    expect(responseNameOf('submit_sm')).toBe('submit_sm_resp');
    expect(responseNameOf('bind_transceiver')).toBe('bind_transceiver_resp');
    expect(responseNameOf('outbind')).toBeUndefined();
    expect(responseNameOf('alert_notification')).toBeUndefined();
    expect(expectsResponse('enquire_link')).toBe(true);
    expect(expectsResponse('outbind')).toBe(false);
    expect(expectsResponse('submit_sm_resp')).toBe(false);
    const requests = (Object.keys(CommandId) as CommandName[]).filter((n) => !isResponseId(CommandId[n]));
    for (const r of requests) {
      const resp = responseNameOf(r as RequestName);
      if (resp !== undefined) expect(CommandId[resp]).toBe((CommandId[r] | 0x80000000) >>> 0);
    }
  });
});

describe('statusName', () => {
  it('names SMPP 3.4 statuses and prints others in hex', () => {
    expect(statusName(0)).toBe('ESME_ROK');
    expect(statusName(0x58)).toBe('ESME_RTHROTTLED');
    expect(statusName(Status.ESME_RINVOPTPARSTREAM)).toBe('ESME_RINVOPTPARSTREAM');
    expect(statusName(0x400)).toBe('0x00000400');
  });

  it('has the 48 codes of SMPP 3.4 Table 5-2, each once', () => {
    const codes = Object.values(Status);
    expect(codes).toHaveLength(48);
    expect(new Set(codes).size).toBe(48);
  });
});

describe('responseFor / genericNack', () => {
  it('answers with the same sequence_number and default body fields', () => {
    expect(responseFor(fixture('submit_sm'), 0, { message_id: 'abc' })).toEqual({
      command: 'submit_sm_resp', command_status: 0, sequence_number: 8, message_id: 'abc',
    });
    expect(responseFor(fixture('bind_transceiver'), 0, { system_id: 'smppd', tlvs: { sc_interface_version: 0x34 } }))
      .toEqual({
        command: 'bind_transceiver_resp', command_status: 0, sequence_number: 3, system_id: 'smppd',
        tlvs: { sc_interface_version: 0x34 },
      });
    expect(responseFor(fixture('deliver_sm'), 0)).toEqual({
      command: 'deliver_sm_resp', command_status: 0, sequence_number: fixture('deliver_sm').sequence_number, message_id: '',
    });
    expect(responseFor(fixture('data_sm'), 0, { message_id: 'd1', tlvs: { network_error_code: Buffer.from([3, 0, 1]) } })).toEqual({
      command: 'data_sm_resp', command_status: 0, sequence_number: fixture('data_sm').sequence_number, message_id: 'd1',
      tlvs: { network_error_code: Buffer.from([3, 0, 1]) },
    });
    expect(responseFor(fixture('submit_multi'), 0)).toMatchObject({ message_id: '', unsuccess_smes: [] });
    expect(responseFor(fixture('query_sm'), 0)).toMatchObject({ message_id: 'm1', final_date: '', message_state: 0 });
    expect(responseFor(fixture('unbind'), 0)).toEqual({ command: 'unbind_resp', command_status: 0, sequence_number: 5 });
  });

  it('an error response goes out as a bare header (SMPP 3.4 §4.4.2)', () => {
    const resp = responseFor(fixture('submit_sm'), Status.ESME_RTHROTTLED);
    expect(encodePdu(resp)).toEqual(hex('00000010 80000004 00000058 00000008'));
    const bind = responseFor(fixture('bind_transmitter'), Status.ESME_RINVPASWD);
    expect(encodePdu(bind)).toEqual(hex('00000010 80000002 0000000e 00000001'));
  });

  it('every request fixture gets an encodable response of the matching command', () => {
    for (const f of FIXTURES) {
      if (!expectsResponse(f.pdu.command)) continue;
      const resp = responseFor(f.pdu as RequestPdu, 0);
      const back = decodePdu(encodePdu(resp as Pdu));
      expect(back).toEqual({ ok: true, pdu: resp });
      expect(resp.command).toBe(responseNameOf(f.pdu.command as RequestName));
    }
  });

  it('genericNack', () => {
    expect(encodePdu(genericNack(9, Status.ESME_RINVCMDID))).toEqual(hex('00000010 80000000 00000003 00000009'));
  });
});
