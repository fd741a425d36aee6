import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CommandName } from './commands.js';
import { CommandId } from './commands.js';
import { decodePdu } from './decode.js';
import { encodePdu } from './encode.js';
import type { Pdu } from './pdu.js';
import type { Tlvs } from './tlv.js';
import { TlvTag } from './tlv.js';

// Property: any valid PDU object encodes, and decoding the bytes gives the same object back.

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const latin1Char = fc.integer({ min: 1, max: 0xff }).map((c) => String.fromCharCode(c));
/** C-Octet String fitting `max` octets with its NUL. */
const cstr = (max: number) => fc.string({ unit: latin1Char, maxLength: max - 1 });
const time = fc.oneof(fc.constant(''), fc.string({ unit: latin1Char, minLength: 16, maxLength: 16 }));
const octets = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
const header = { command_status: u32, sequence_number: u32 };

const knownTags = new Set<number>(Object.values(TlvTag));
const tlvs: fc.Arbitrary<Tlvs | undefined> = fc
  .record(
    {
      dest_addr_subunit: u8, dest_network_type: u8, dest_bearer_type: u8, dest_telematics_id: u16,
      source_addr_subunit: u8, source_network_type: u8, source_bearer_type: u8, source_telematics_id: octets(1, 2),
      qos_time_to_live: u32, payload_type: u8, additional_status_info_text: cstr(256),
      receipted_message_id: cstr(65), ms_msg_wait_facilities: u8, privacy_indicator: u8,
      source_subaddress: octets(2, 23), dest_subaddress: octets(2, 23), user_message_reference: u16,
      user_response_code: u8, source_port: u16, destination_port: u16, sar_msg_ref_num: u16,
      language_indicator: u8, sar_total_segments: u8, sar_segment_seqnum: u8, sc_interface_version: u8,
      callback_num_pres_ind: u8, callback_num_atag: octets(0, 65), number_of_messages: u8,
      callback_num: octets(4, 19), dpf_result: u8, set_dpf: u8, ms_availability_status: u8,
      network_error_code: octets(3, 3), message_payload: octets(0, 300), delivery_failure_reason: u8,
      more_messages_to_send: u8, message_state: u8, ussd_service_op: u8, display_time: u8, sms_signal: u16,
      ms_validity: u8, alert_on_message_delivery: octets(0, 1), its_reply_type: u8, its_session_info: octets(2, 2),
      unknown: fc.array(
        fc.record({ tag: u16.filter((t) => !knownTags.has(t)), value: octets(0, 40) }),
        { minLength: 1, maxLength: 3 },
      ),
    },
    { requiredKeys: [] },
  )
  .map((t) => (Object.keys(t).length === 0 ? undefined : t));

const addr = { ton: u8, npi: u8 };
const bind = (command: 'bind_transmitter' | 'bind_receiver' | 'bind_transceiver') =>
  fc.record({
    command: fc.constant(command), ...header, system_id: cstr(16), password: cstr(9), system_type: cstr(13),
    interface_version: u8, addr_ton: addr.ton, addr_npi: addr.npi, address_range: cstr(41), tlvs,
  });
const bindResp = (command: 'bind_transmitter_resp' | 'bind_receiver_resp' | 'bind_transceiver_resp') =>
  fc.record({ command: fc.constant(command), ...header, system_id: cstr(16), tlvs });
const empty = (command: CommandName) => fc.record({ command: fc.constant(command), ...header, tlvs });
const messageFields = {
  esm_class: u8, protocol_id: u8, priority_flag: u8, schedule_delivery_time: time, validity_period: time,
  registered_delivery: u8, replace_if_present_flag: u8, data_coding: u8, sm_default_msg_id: u8,
  short_message: octets(0, 254),
};
const shortMessage = (command: 'submit_sm' | 'deliver_sm') =>
  fc.record({
    command: fc.constant(command), ...header, service_type: cstr(6), source_addr_ton: u8, source_addr_npi: u8,
    source_addr: cstr(21), dest_addr_ton: u8, dest_addr_npi: u8, destination_addr: cstr(21), ...messageFields, tlvs,
  });
const messageIdResp = (command: 'submit_sm_resp' | 'deliver_sm_resp' | 'data_sm_resp') =>
  fc.record({ command: fc.constant(command), ...header, message_id: cstr(65), tlvs });

const ARBITRARIES: { [N in CommandName]: fc.Arbitrary<object> } = {
  generic_nack: empty('generic_nack'),
  bind_receiver: bind('bind_receiver'),
  bind_receiver_resp: bindResp('bind_receiver_resp'),
  bind_transmitter: bind('bind_transmitter'),
  bind_transmitter_resp: bindResp('bind_transmitter_resp'),
  bind_transceiver: bind('bind_transceiver'),
  bind_transceiver_resp: bindResp('bind_transceiver_resp'),
  outbind: fc.record({ command: fc.constant('outbind'), ...header, system_id: cstr(16), password: cstr(9), tlvs }),
  unbind: empty('unbind'),
  unbind_resp: empty('unbind_resp'),
  enquire_link: empty('enquire_link'),
  enquire_link_resp: empty('enquire_link_resp'),
  cancel_sm_resp: empty('cancel_sm_resp'),
  replace_sm_resp: empty('replace_sm_resp'),
  submit_sm: shortMessage('submit_sm'),
  deliver_sm: shortMessage('deliver_sm'),
  submit_sm_resp: messageIdResp('submit_sm_resp'),
  deliver_sm_resp: messageIdResp('deliver_sm_resp'),
  data_sm_resp: messageIdResp('data_sm_resp'),
  submit_multi: fc.record({
    command: fc.constant('submit_multi'), ...header, service_type: cstr(6), source_addr_ton: u8,
    source_addr_npi: u8, source_addr: cstr(21),
    dest_addresses: fc.array(
      fc.oneof(
        fc.record({ dest_flag: fc.constant(1), dest_addr_ton: u8, dest_addr_npi: u8, destination_addr: cstr(21) }),
        fc.record({ dest_flag: fc.constant(2), dl_name: cstr(21) }),
      ),
      { minLength: 1, maxLength: 254, size: 'small' },
    ),
    ...messageFields, tlvs,
  }),
  submit_multi_resp: fc.record({
    command: fc.constant('submit_multi_resp'), ...header, message_id: cstr(65),
    unsuccess_smes: fc.array(
      fc.record({ dest_addr_ton: u8, dest_addr_npi: u8, destination_addr: cstr(21), error_status_code: u32 }),
      { maxLength: 254, size: 'small' },
    ),
    tlvs,
  }),
  data_sm: fc.record({
    command: fc.constant('data_sm'), ...header, service_type: cstr(6), source_addr_ton: u8, source_addr_npi: u8,
    source_addr: cstr(65), dest_addr_ton: u8, dest_addr_npi: u8, destination_addr: cstr(65), esm_class: u8,
    registered_delivery: u8, data_coding: u8, tlvs,
  }),
  query_sm: fc.record({
    command: fc.constant('query_sm'), ...header, message_id: cstr(65), source_addr_ton: u8, source_addr_npi: u8,
    source_addr: cstr(21), tlvs,
  }),
  query_sm_resp: fc.record({
    command: fc.constant('query_sm_resp'), ...header, message_id: cstr(65), final_date: time, message_state: u8,
    error_code: u8, tlvs,
  }),
  cancel_sm: fc.record({
    command: fc.constant('cancel_sm'), ...header, service_type: cstr(6), message_id: cstr(65), source_addr_ton: u8,
    source_addr_npi: u8, source_addr: cstr(21), dest_addr_ton: u8, dest_addr_npi: u8, destination_addr: cstr(21),
    tlvs,
  }),
  replace_sm: fc.record({
    command: fc.constant('replace_sm'), ...header, message_id: cstr(65), source_addr_ton: u8, source_addr_npi: u8,
    source_addr: cstr(21), schedule_delivery_time: time, validity_period: time, registered_delivery: u8,
    sm_default_msg_id: u8, short_message: octets(0, 254), tlvs,
  }),
  alert_notification: fc.record({
    command: fc.constant('alert_notification'), ...header, source_addr_ton: u8, source_addr_npi: u8,
    source_addr: cstr(65), esme_addr_ton: u8, esme_addr_npi: u8, esme_addr: cstr(65), tlvs,
  }),
};

/** SMPP 3.4 §5.3.2 (message_payload): it replaces short_message, so valid PDUs never carry both. */
function valid(p: Pdu): Pdu {
  const sm = (p as { short_message?: Buffer }).short_message;
  if (p.tlvs?.message_payload !== undefined && sm !== undefined && sm.length > 0) {
    return { ...p, short_message: Buffer.alloc(0) } as Pdu;
  }
  return p;
}

describe('encode -> decode round trip (fast-check)', () => {
  for (const command of Object.keys(CommandId) as CommandName[]) {
    it(command, () => {
      fc.assert(
        fc.property(ARBITRARIES[command] as fc.Arbitrary<Pdu>, (arb) => {
          const pdu = valid(arb);
          const bytes = encodePdu(pdu);
          expect(bytes.readUInt32BE(0)).toBe(bytes.length);
          const r = decodePdu(bytes);
          expect(r).toEqual({ ok: true, pdu });
          // Re-encoding the decoded PDU gives the same bytes (TLVs keep their order).
          if (r.ok) expect(encodePdu(r.pdu).equals(bytes)).toBe(true);
        }),
        { numRuns: 150 },
      );
    });
  }
});
