// Test data: hand-written SMPP 3.4 PDUs (hex, laid out field by field after the §4 tables) and the
// objects they decode to. Shared by the codec tests, the fuzz test and bench/codec.ts.
import type { Pdu } from './pdu.js';

export interface Fixture {
  name: string;
  hex: string;
  pdu: Pdu;
}

/** '0000 0010 ...' -> Buffer; whitespace is ignored. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

const ascii = (s: string) => Buffer.from(s, 'latin1');

export const FIXTURES: Fixture[] = [
  {
    name: 'bind_transmitter',
    // system_id "smppclient1", password "password", system_type "VMS", version 3.4, ton 0, npi 0, range ""
    hex: '0000002d 00000002 00000000 00000001 736d7070636c69656e743100 70617373776f726400 564d5300 34 00 00 00',
    pdu: {
      command: 'bind_transmitter', command_status: 0, sequence_number: 1, system_id: 'smppclient1',
      password: 'password', system_type: 'VMS', interface_version: 0x34, addr_ton: 0, addr_npi: 0, address_range: '',
    },
  },
  {
    name: 'bind_transmitter_resp',
    // system_id "SMSC", sc_interface_version TLV (0x0210, len 1) = 0x34
    hex: '0000001a 80000002 00000000 00000001 534d534300 0210 0001 34',
    pdu: {
      command: 'bind_transmitter_resp', command_status: 0, sequence_number: 1, system_id: 'SMSC',
      tlvs: { sc_interface_version: 0x34 },
    },
  },
  {
    name: 'bind_receiver',
    hex: '0000001f 00000001 00000000 00000002 727800 73656372657400 00 34 01 01 00',
    pdu: {
      command: 'bind_receiver', command_status: 0, sequence_number: 2, system_id: 'rx', password: 'secret',
      system_type: '', interface_version: 0x34, addr_ton: 1, addr_npi: 1, address_range: '',
    },
  },
  {
    name: 'bind_receiver_resp (ESME_RINVPASWD, no body: SMPP 3.4 §4.1.4)',
    hex: '00000010 80000001 0000000e 00000002',
    pdu: { command: 'bind_receiver_resp', command_status: 0x0e, sequence_number: 2, system_id: '' },
  },
  {
    name: 'bind_transceiver',
    hex: '00000024 00000009 00000000 00000003 74727800 707700 534d505000 34 01 01 5e32353800',
    pdu: {
      command: 'bind_transceiver', command_status: 0, sequence_number: 3, system_id: 'trx', password: 'pw',
      system_type: 'SMPP', interface_version: 0x34, addr_ton: 1, addr_npi: 1, address_range: '^258',
    },
  },
  {
    name: 'bind_transceiver_resp',
    hex: '00000016 80000009 00000000 00000003 736d70706400',
    pdu: { command: 'bind_transceiver_resp', command_status: 0, sequence_number: 3, system_id: 'smppd' },
  },
  {
    name: 'outbind',
    hex: '00000018 0000000b 00000000 00000004 534d534300 707700',
    pdu: { command: 'outbind', command_status: 0, sequence_number: 4, system_id: 'SMSC', password: 'pw' },
  },
  {
    name: 'unbind',
    hex: '00000010 00000006 00000000 00000005',
    pdu: { command: 'unbind', command_status: 0, sequence_number: 5 },
  },
  {
    name: 'unbind_resp',
    hex: '00000010 80000006 00000000 00000005',
    pdu: { command: 'unbind_resp', command_status: 0, sequence_number: 5 },
  },
  {
    name: 'generic_nack',
    hex: '00000010 80000000 00000003 00000006',
    pdu: { command: 'generic_nack', command_status: 3, sequence_number: 6 },
  },
  {
    name: 'enquire_link',
    hex: '00000010 00000015 00000000 00000007',
    pdu: { command: 'enquire_link', command_status: 0, sequence_number: 7 },
  },
  {
    name: 'enquire_link_resp',
    hex: '00000010 80000015 00000000 00000007',
    pdu: { command: 'enquire_link_resp', command_status: 0, sequence_number: 7 },
  },
  {
    name: 'submit_sm',
    // "" 1/1 "+258840000001" 1/1 "+258840000002" esm 0 pid 0 prio 0 sched "" valid "" regdel 1 rip 0 dcs 0
    // smdef 0 sm_length 11 "Hello world"; SAR TLVs ref 0x0102, total 2, seq 1
    hex:
      '00000056 00000004 00000000 00000008 00 0101 2b32353838343030303030303100 0101 2b32353838343030303030303200' +
      '00 00 00 00 00 01 00 00 00 0b 48656c6c6f20776f726c64 020c 0002 0102 020e 0001 02 020f 0001 01',
    pdu: {
      command: 'submit_sm', command_status: 0, sequence_number: 8, service_type: '', source_addr_ton: 1,
      source_addr_npi: 1, source_addr: '+258840000001', dest_addr_ton: 1, dest_addr_npi: 1,
      destination_addr: '+258840000002', esm_class: 0, protocol_id: 0, priority_flag: 0,
      schedule_delivery_time: '', validity_period: '', registered_delivery: 1, replace_if_present_flag: 0,
      data_coding: 0, sm_default_msg_id: 0, short_message: ascii('Hello world'),
      tlvs: { sar_msg_ref_num: 0x0102, sar_total_segments: 2, sar_segment_seqnum: 1 },
    },
  },
  {
    name: 'submit_sm_resp',
    hex: '00000017 80000004 00000000 00000008 61316232633300',
    pdu: { command: 'submit_sm_resp', command_status: 0, sequence_number: 8, message_id: 'a1b2c3' },
  },
  {
    name: 'submit_sm_resp (ESME_RTHROTTLED, no body: SMPP 3.4 §4.4.2)',
    hex: '00000010 80000004 00000058 00000009',
    pdu: { command: 'submit_sm_resp', command_status: 0x58, sequence_number: 9, message_id: '' },
  },
  {
    name: 'submit_multi',
    // "CMT" 5/0 "INFO", 3 dests: SME 1/1 "258840000001", DL "friends", SME 1/1 "258840000002";
    // esm 0 pid 0 prio 1 sched "" valid "000001000000000R" regdel 1 rip 0 dcs 8 smdef 0 sm_length 4 UCS2 "Hi"
    hex:
      '00000063 00000021 00000000 0000000a 434d5400 05 00 494e464f00 03 01 0101 32353838343030303030303100' +
      '02 667269656e647300 01 0101 32353838343030303030303200 00 00 01 00 3030303030313030303030303030305200' +
      '01 00 08 00 04 00480069',
    pdu: {
      command: 'submit_multi', command_status: 0, sequence_number: 10, service_type: 'CMT', source_addr_ton: 5,
      source_addr_npi: 0, source_addr: 'INFO',
      dest_addresses: [
        { dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '258840000001' },
        { dest_flag: 2, dl_name: 'friends' },
        { dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '258840000002' },
      ],
      esm_class: 0, protocol_id: 0, priority_flag: 1, schedule_delivery_time: '',
      validity_period: '000001000000000R', registered_delivery: 1, replace_if_present_flag: 0, data_coding: 8,
      sm_default_msg_id: 0, short_message: hex('00480069'),
    },
  },
  {
    name: 'submit_multi_resp',
    // message_id "m1", no_unsuccess 1: 1/1 "258840000002" error ESME_RINVDSTADR
    hex: '00000027 80000021 00000000 0000000a 6d3100 01 0101 32353838343030303030303200 0000000b',
    pdu: {
      command: 'submit_multi_resp', command_status: 0, sequence_number: 10, message_id: 'm1',
      unsuccess_smes: [
        { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '258840000002', error_status_code: 0x0b },
      ],
    },
  },
  {
    name: 'deliver_sm (receipt)',
    // esm_class 0x04 (SMSC delivery receipt), text "id:abc stat:DELI", receipted_message_id "abc",
    // message_state 2 (DELIVERED), network_error_code 03 0001
    hex:
      '00000055 00000005 00000000 0000000b 00 0101 32353838343030303030303200 0101 494e464f00' +
      '04 00 00 00 00 00 00 00 00 10 69643a61626320737461743a44454c49 001e 0004 61626300 0427 0001 02' +
      '0423 0003 030001',
    pdu: {
      command: 'deliver_sm', command_status: 0, sequence_number: 11, service_type: '', source_addr_ton: 1,
      source_addr_npi: 1, source_addr: '258840000002', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: 'INFO',
      esm_class: 4, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '', validity_period: '',
      registered_delivery: 0, replace_if_present_flag: 0, data_coding: 0, sm_default_msg_id: 0,
      short_message: ascii('id:abc stat:DELI'),
      tlvs: { receipted_message_id: 'abc', message_state: 2, network_error_code: hex('030001') },
    },
  },
  {
    name: 'deliver_sm_resp',
    hex: '00000011 80000005 00000000 0000000b 00',
    pdu: { command: 'deliver_sm_resp', command_status: 0, sequence_number: 11, message_id: '' },
  },
  {
    name: 'data_sm',
    hex:
      '0000003b 00000103 00000000 0000000c 00 0101 32353838343030303030303100 0101 32353838343030303030303200' +
      '00 01 00 0424 0005 68656c6c6f',
    pdu: {
      command: 'data_sm', command_status: 0, sequence_number: 12, service_type: '', source_addr_ton: 1,
      source_addr_npi: 1, source_addr: '258840000001', dest_addr_ton: 1, dest_addr_npi: 1,
      destination_addr: '258840000002', esm_class: 0, registered_delivery: 1, data_coding: 0,
      tlvs: { message_payload: ascii('hello') },
    },
  },
  {
    name: 'data_sm_resp',
    hex: '00000018 80000103 00000000 0000000c 643100 0425 0001 00',
    pdu: {
      command: 'data_sm_resp', command_status: 0, sequence_number: 12, message_id: 'd1',
      tlvs: { delivery_failure_reason: 0 },
    },
  },
  {
    name: 'query_sm',
    hex: '0000001a 00000003 00000000 0000000d 6d3100 0101 3132333400',
    pdu: {
      command: 'query_sm', command_status: 0, sequence_number: 13, message_id: 'm1', source_addr_ton: 1,
      source_addr_npi: 1, source_addr: '1234',
    },
  },
  {
    name: 'query_sm_resp',
    hex: '00000026 80000003 00000000 0000000d 6d3100 3234303130313132303030303030302b00 02 00',
    pdu: {
      command: 'query_sm_resp', command_status: 0, sequence_number: 13, message_id: 'm1',
      final_date: '240101120000000+', message_state: 2, error_code: 0,
    },
  },
  {
    name: 'cancel_sm',
    hex: '00000022 00000008 00000000 0000000e 00 6d3100 0101 3132333400 0101 3536373800',
    pdu: {
      command: 'cancel_sm', command_status: 0, sequence_number: 14, service_type: '', message_id: 'm1',
      source_addr_ton: 1, source_addr_npi: 1, source_addr: '1234', dest_addr_ton: 1, dest_addr_npi: 1,
      destination_addr: '5678',
    },
  },
  {
    name: 'cancel_sm_resp',
    hex: '00000010 80000008 00000000 0000000e',
    pdu: { command: 'cancel_sm_resp', command_status: 0, sequence_number: 14 },
  },
  {
    name: 'replace_sm',
    hex: '00000031 00000007 00000000 0000000f 6d3100 0101 3132333400 00 3030303030313030303030303030305200 01 00 02 6869',
    pdu: {
      command: 'replace_sm', command_status: 0, sequence_number: 15, message_id: 'm1', source_addr_ton: 1,
      source_addr_npi: 1, source_addr: '1234', schedule_delivery_time: '', validity_period: '000001000000000R',
      registered_delivery: 1, sm_default_msg_id: 0, short_message: ascii('hi'),
    },
  },
  {
    name: 'replace_sm_resp',
    hex: '00000010 80000007 00000000 0000000f',
    pdu: { command: 'replace_sm_resp', command_status: 0, sequence_number: 15 },
  },
  {
    name: 'alert_notification',
    hex: '00000023 00000102 00000000 00000010 0101 3132333400 0101 3536373800 0422 0001 00',
    pdu: {
      command: 'alert_notification', command_status: 0, sequence_number: 16, source_addr_ton: 1,
      source_addr_npi: 1, source_addr: '1234', esme_addr_ton: 1, esme_addr_npi: 1, esme_addr: '5678',
      tlvs: { ms_availability_status: 0 },
    },
  },
  {
    name: 'submit_sm with a vendor TLV (kept and re-encoded unchanged)',
    hex: '00000029 00000004 00000000 00000011 00 0000 00 0000 3100 00 00 00 00 00 00 00 00 00 00 1400 0003 aabbcc',
    pdu: {
      command: 'submit_sm', command_status: 0, sequence_number: 17, service_type: '', source_addr_ton: 0,
      source_addr_npi: 0, source_addr: '', dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: '1',
      esm_class: 0, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '', validity_period: '',
      registered_delivery: 0, replace_if_present_flag: 0, data_coding: 0, sm_default_msg_id: 0,
      short_message: Buffer.alloc(0), tlvs: { unknown: [{ tag: 0x1400, value: hex('aabbcc') }] },
    },
  },
];
