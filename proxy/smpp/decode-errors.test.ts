import { describe, expect, it } from 'vitest';
import { decodePdu } from './decode.js';
import { hex } from './fixtures.js';
import { Status } from './status.js';
import type { StatusName } from './status.js';

// Malformed PDUs with a sane command_length: decodePdu names the status to answer with
// (SMPP 3.4 §5.1.3 Table 5-2) and hands back command_id and sequence_number from the header.
const CASES: Array<[string, string, StatusName, number]> = [
  ['system_id longer than 15 octets', '00000029 00000002 00000000 00000001 6162636465666768696a6b6c6d6e6f70007077000034000000', 'ESME_RINVSYSID', 0x00000002],
  ['password longer than 8 octets', '00000022 00000009 00000000 00000001 696400313233343536373839000034000000', 'ESME_RINVPASWD', 0x00000009],
  ['system_type longer than 12 octets', '00000028 00000001 00000000 00000001 6964007077004142434445464748494a4b4c4d0034000000', 'ESME_RINVSYSTYP', 0x00000001],
  ['address_range longer than 40 octets', '00000044 00000002 00000000 00000001 69640070770000340000' + '31'.repeat(41) + '00', 'ESME_RINVCMDLEN', 0x00000002],
  ['bind body ends inside address_range', '0000001c 00000002 00000000 00000001 696400707700003400003132', 'ESME_RINVCMDLEN', 0x00000002],
  ['bind body ends before interface_version', '00000017 00000002 00000000 00000001 69640070770000', 'ESME_RINVCMDLEN', 0x00000002],
  ['service_type longer than 5 octets', '00000029 00000004 00000000 00000001 41424344454600010131000101320000000000000000000000', 'ESME_RINVSERTYP', 0x00000004],
  ['source_addr longer than 20 octets', '00000037 00000004 00000000 00000001 00010' + '13'.repeat(21) + '1000101320000000000000000000000', 'ESME_RINVSRCADR', 0x00000004],
  ['destination_addr longer than 20 octets', '00000037 00000004 00000000 00000001 00010131000101' + '32'.repeat(21) + '0000000000000000000000', 'ESME_RINVDSTADR', 0x00000004],
  ['schedule_delivery_time neither empty nor 16 characters', '00000028 00000004 00000000 00000001 000101310001013200000000323430313000000000000000', 'ESME_RINVSCHED', 0x00000004],
  ['validity_period longer than 16 characters', '00000034 00000005 00000000 00000001 0001013100010132000000000' + '03'.repeat(17) + '0000000000000', 'ESME_RINVEXPIRY', 0x00000005],
  ['sm_length beyond the body', '00000028 00000004 00000000 00000001 0001013100010132000000000000000000000a68656c6c6f', 'ESME_RINVMSGLEN', 0x00000004],
  ['sm_length 255', '00000122 00000005 00000000 00000001 000101310001013200000000000000000000ff' + '41'.repeat(255), 'ESME_RINVMSGLEN', 0x00000005],
  ['short_message and message_payload both present', '0000002b 00000004 00000000 00000001 000101310001013200000000000000000000026869042400026869', 'ESME_RINVMSGLEN', 0x00000004],
  ['body ends before esm_class', '00000019 00000004 00000000 00000001 000101310001013200', 'ESME_RINVCMDLEN', 0x00000004],
  ['number_of_dests 0', '00000020 00000021 00000000 00000001 00010131' + '00'.repeat(12), 'ESME_RINVNUMDESTS', 0x00000021],
  ['number_of_dests 255', '00000025 00000021 00000000 00000001 0001013100ff010101320000000000000000000000', 'ESME_RINVNUMDESTS', 0x00000021],
  ['dest_flag 3', '00000025 00000021 00000000 00000001 000101310001030101320000000000000000000000', 'ESME_RINVDESTFLAG', 0x00000021],
  ['dl_name longer than 20 octets', '00000037 00000021 00000000 00000001 00010131000102' + '64'.repeat(21) + '0000000000000000000000', 'ESME_RINVDLNAME', 0x00000021],
  ['SME destination_addr longer than 20 octets', '00000039 00000021 00000000 00000001 000101310001010101' + '32'.repeat(21) + '0000000000000000000000', 'ESME_RINVDSTADR', 0x00000021],
  ['TLV header cut short', '00000026 00000004 00000000 00000001 00010131000101320000000000000000000000020400', 'ESME_RINVOPTPARSTREAM', 0x00000004],
  ['TLV value running past the PDU', '00000029 00000004 00000000 00000001 00010131000101320000000000000000000000020400040001', 'ESME_RINVOPTPARSTREAM', 0x00000004],
  ['known TLV with a wrong length', '00000029 00000005 00000000 00000001 00010131000101320000000000000000000000042700020002', 'ESME_RINVPARLEN', 0x00000005],
  ['receipted_message_id TLV longer than 65 octets', '00000069 00000005 00000000 00000001 0001013100010132' + '00'.repeat(12) + '1e0042' + '78'.repeat(65) + '00', 'ESME_RINVPARLEN', 0x00000005],
  ['message_id longer than 64 octets (query_sm)', '00000056 00000003 00000000 00000001 ' + '6d'.repeat(65) + '0001013100', 'ESME_RINVMSGID', 0x00000003],
  ['message_id longer than 64 octets (submit_sm_resp)', '00000052 80000004 00000000 00000001 ' + '6d'.repeat(65) + '00', 'ESME_RINVMSGID', 0x80000004],
  ['data_sm source_addr longer than 64 octets', '0000005c 00000103 00000000 00000001 00010' + '13'.repeat(65) + '10001013200000000', 'ESME_RINVSRCADR', 0x00000103],
  ['submit_multi_resp unsuccess_sme cut short', '0000001c 80000021 00000000 00000001 6d310002010132000000000b', 'ESME_RINVCMDLEN', 0x80000021],
  ['trailing garbage after enquire_link', '00000011 00000015 00000000 00000001 ff', 'ESME_RINVOPTPARSTREAM', 0x00000015],
];

describe('decode errors map to SMPP 3.4 statuses', () => {
  for (const [name, h, status, commandId] of CASES) {
    it(`${name} -> ${status}`, () => {
      const bytes = hex(h);
      expect(bytes.readUInt32BE(0)).toBe(bytes.length);
      const r = decodePdu(bytes);
      expect(r).toMatchObject({ ok: false, status: Status[status], command_id: commandId, sequence_number: 1 });
    });
  }

  it('a frame shorter than a header -> ESME_RINVCMDLEN', () => {
    expect(decodePdu(hex('0000000c 00000015 00000000'))).toMatchObject({
      ok: false,
      status: Status.ESME_RINVCMDLEN,
      command_id: 0x15,
      sequence_number: 0,
    });
    expect(decodePdu(Buffer.alloc(0))).toMatchObject({ ok: false, status: Status.ESME_RINVCMDLEN, command_id: 0 });
  });

  it('command_length not matching the frame -> ESME_RINVCMDLEN', () => {
    expect(decodePdu(hex('00000011 00000015 00000000 00000007'))).toMatchObject({
      ok: false,
      status: Status.ESME_RINVCMDLEN,
      command_id: 0x15,
      sequence_number: 7,
    });
  });

  it('a frame over 64 KiB -> ESME_RINVCMDLEN', () => {
    const big = Buffer.alloc(65537);
    big.writeUInt32BE(big.length, 0);
    big.writeUInt32BE(0x15, 4);
    expect(decodePdu(big)).toMatchObject({ ok: false, status: Status.ESME_RINVCMDLEN, command_id: 0x15 });
  });

  it('an unknown command_id -> ESME_RINVCMDID, for requests and responses', () => {
    for (const id of ['00000099', '80000099', '0000000a', '00000104', 'ffffffff']) {
      expect(decodePdu(hex(`00000010 ${id} 00000000 00000005`))).toMatchObject({
        ok: false,
        status: Status.ESME_RINVCMDID,
        command_id: parseInt(id, 16),
        sequence_number: 5,
      });
    }
  });

  it('a bare header is accepted for any response and gets default fields (SMPP 3.4 §4.4.2)', () => {
    const r = decodePdu(hex('00000010 80000021 00000045 00000005'));
    expect(r).toEqual({
      ok: true,
      pdu: { command: 'submit_multi_resp', command_status: 0x45, sequence_number: 5, message_id: '', unsuccess_smes: [] },
    });
    const q = decodePdu(hex('00000010 80000003 00000067 00000005'));
    expect(q).toMatchObject({ ok: true, pdu: { command: 'query_sm_resp', message_id: '', final_date: '', message_state: 0 } });
  });

  it('a C-Octet String TLV without its NUL is read up to the end of the value', () => {
    const r = decodePdu(hex('00000018 80000004 00000000 00000001 00 001e 0003 616263'));
    expect(r).toMatchObject({ ok: true, pdu: { tlvs: { receipted_message_id: 'abc' } } });
    // ... but 65 octets without a NUL leave no room for it within the 65-octet maximum (SMPP 3.4 §5.3.2 receipted_message_id).
    const long = decodePdu(hex('00000056 80000004 00000000 00000001 00 001e 0041' + '78'.repeat(65)));
    expect(long).toMatchObject({ ok: false, status: Status.ESME_RINVPARLEN });
  });

  it('a repeated known TLV is kept, in order, with the unknown ones', () => {
    const r = decodePdu(hex('0000001f 80000004 00000000 00000001 00 0427 0001 02 0427 0001 05 1500 0000'));
    expect(r).toEqual({
      ok: true,
      pdu: {
        command: 'submit_sm_resp',
        command_status: 0,
        sequence_number: 1,
        message_id: '',
        tlvs: { message_state: 2, unknown: [{ tag: 0x0427, value: hex('05') }, { tag: 0x1500, value: Buffer.alloc(0) }] },
      },
    });
  });
});
