import type { AnsweredRequestName, CommandName, RequestName, ResponseNameOf } from './commands.js';
import type { Tlvs } from './tlv.js';

// One interface per SMPP 3.4 §4 operation, discriminated by `command`. Wire fields keep the spec's
// names. C-Octet Strings are latin1 JS strings; octet strings are Buffers (views of the received frame
// after decode — copy them if kept beyond the frame's life). Lengths (command_length, sm_length,
// number_of_dests, no_unsuccess) are derived on encode and are not fields.

export interface PduBase {
  command_status: number;
  sequence_number: number;
  tlvs?: Tlvs | undefined;
}

/** SMPP 3.4 §4.1.1/§4.1.3/§4.1.5 */
export interface BindBody {
  system_id: string; // max 16 incl. NUL
  password: string; // max 9
  system_type: string; // max 13
  interface_version: number;
  addr_ton: number;
  addr_npi: number;
  address_range: string; // max 41
}
export interface BindTransmitter extends PduBase, BindBody {
  command: 'bind_transmitter';
}
export interface BindReceiver extends PduBase, BindBody {
  command: 'bind_receiver';
}
export interface BindTransceiver extends PduBase, BindBody {
  command: 'bind_transceiver';
}

/** SMPP 3.4 §4.1.2/§4.1.4/§4.1.6; may carry the sc_interface_version TLV. */
export interface BindRespBody {
  system_id: string; // max 16
}
export interface BindTransmitterResp extends PduBase, BindRespBody {
  command: 'bind_transmitter_resp';
}
export interface BindReceiverResp extends PduBase, BindRespBody {
  command: 'bind_receiver_resp';
}
export interface BindTransceiverResp extends PduBase, BindRespBody {
  command: 'bind_transceiver_resp';
}

/** SMPP 3.4 §4.1.7 */
export interface Outbind extends PduBase {
  command: 'outbind';
  system_id: string; // max 16
  password: string; // max 9
}

/** Header-only PDUs: SMPP 3.4 §4.2 unbind(_resp), §4.3 generic_nack, §4.11 enquire_link(_resp),
 *  §4.9.2 cancel_sm_resp, §4.10.2 replace_sm_resp. */
export interface Unbind extends PduBase {
  command: 'unbind';
}
export interface UnbindResp extends PduBase {
  command: 'unbind_resp';
}
export interface GenericNack extends PduBase {
  command: 'generic_nack';
}
export interface EnquireLink extends PduBase {
  command: 'enquire_link';
}
export interface EnquireLinkResp extends PduBase {
  command: 'enquire_link_resp';
}
export interface CancelSmResp extends PduBase {
  command: 'cancel_sm_resp';
}
export interface ReplaceSmResp extends PduBase {
  command: 'replace_sm_resp';
}

/** The message fields after the destination(s), shared by submit_sm, deliver_sm and submit_multi. */
export interface MessageFields {
  esm_class: number;
  protocol_id: number;
  priority_flag: number;
  schedule_delivery_time: string; // '' or 16 chars (SMPP 3.4 §7.1)
  validity_period: string; // '' or 16 chars
  registered_delivery: number;
  replace_if_present_flag: number;
  data_coding: number;
  sm_default_msg_id: number;
  short_message: Buffer; // 0..254 octets; sm_length is derived
}

/** SMPP 3.4 §4.4.1 submit_sm and §4.6.1 deliver_sm share one body layout. */
export interface ShortMessageBody extends MessageFields {
  service_type: string; // max 6
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string; // max 21
  dest_addr_ton: number;
  dest_addr_npi: number;
  destination_addr: string; // max 21
}
export interface SubmitSm extends PduBase, ShortMessageBody {
  command: 'submit_sm';
  /**
   * The bytes this PDU was decoded from, kept by a session with `keepSubmitFrames` (smppd's client
   * sessions): a session sending it on copies them with its own sequence number instead of encoding
   * the fields again. Whoever changes a field of such a PDU must delete `frame` first.
   */
  frame?: Buffer;
}
export interface DeliverSm extends PduBase, ShortMessageBody {
  command: 'deliver_sm';
}

/** message_id responses: SMPP 3.4 §4.4.2, §4.6.2 (message_id unused, ''), §4.7.3. */
export interface MessageIdBody {
  message_id: string; // max 65
}
export interface SubmitSmResp extends PduBase, MessageIdBody {
  command: 'submit_sm_resp';
}
export interface DeliverSmResp extends PduBase, MessageIdBody {
  command: 'deliver_sm_resp';
}
export interface DataSmResp extends PduBase, MessageIdBody {
  command: 'data_sm_resp';
}

/** SMPP 3.4 §4.5.1.1: an SME address (dest_flag 1) or a distribution list name (dest_flag 2). */
export type DestAddress =
  | { dest_flag: 1; dest_addr_ton: number; dest_addr_npi: number; destination_addr: string }
  | { dest_flag: 2; dl_name: string };

/** SMPP 3.4 §4.5.1 */
export interface SubmitMulti extends PduBase, MessageFields {
  command: 'submit_multi';
  service_type: string;
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string; // max 21
  dest_addresses: DestAddress[]; // 1..254 (number_of_dests)
}

/** SMPP 3.4 §4.5.2.1 */
export interface UnsuccessSme {
  dest_addr_ton: number;
  dest_addr_npi: number;
  destination_addr: string; // max 21
  error_status_code: number;
}
export interface SubmitMultiResp extends PduBase {
  command: 'submit_multi_resp';
  message_id: string;
  unsuccess_smes: UnsuccessSme[]; // no_unsuccess is derived
}

/** SMPP 3.4 §4.7.1 */
export interface DataSm extends PduBase {
  command: 'data_sm';
  service_type: string;
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string; // max 65
  dest_addr_ton: number;
  dest_addr_npi: number;
  destination_addr: string; // max 65
  esm_class: number;
  registered_delivery: number;
  data_coding: number;
}

/** SMPP 3.4 §4.8.1 */
export interface QuerySm extends PduBase {
  command: 'query_sm';
  message_id: string;
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string; // max 21
}
/** SMPP 3.4 §4.8.2 */
export interface QuerySmResp extends PduBase {
  command: 'query_sm_resp';
  message_id: string;
  final_date: string; // '' or 16 chars
  message_state: number;
  error_code: number;
}

/** SMPP 3.4 §4.9.1 */
export interface CancelSm extends PduBase {
  command: 'cancel_sm';
  service_type: string;
  message_id: string;
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string; // max 21
  dest_addr_ton: number;
  dest_addr_npi: number;
  destination_addr: string; // max 21
}

/** SMPP 3.4 §4.10.1 */
export interface ReplaceSm extends PduBase {
  command: 'replace_sm';
  message_id: string;
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string; // max 21
  schedule_delivery_time: string;
  validity_period: string;
  registered_delivery: number;
  sm_default_msg_id: number;
  short_message: Buffer; // 0..254
}

/** SMPP 3.4 §4.12.1 */
export interface AlertNotification extends PduBase {
  command: 'alert_notification';
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string; // max 65
  esme_addr_ton: number;
  esme_addr_npi: number;
  esme_addr: string; // max 65
}

export type Pdu =
  | BindTransmitter
  | BindTransmitterResp
  | BindReceiver
  | BindReceiverResp
  | BindTransceiver
  | BindTransceiverResp
  | Outbind
  | Unbind
  | UnbindResp
  | GenericNack
  | SubmitSm
  | SubmitSmResp
  | SubmitMulti
  | SubmitMultiResp
  | DeliverSm
  | DeliverSmResp
  | DataSm
  | DataSmResp
  | QuerySm
  | QuerySmResp
  | CancelSm
  | CancelSmResp
  | ReplaceSm
  | ReplaceSmResp
  | EnquireLink
  | EnquireLinkResp
  | AlertNotification;

export type PduOf<N extends CommandName> = Extract<Pdu, { command: N }>;
/** Every request PDU (outbind and alert_notification included). */
export type AnyRequestPdu = PduOf<RequestName>;
/** Requests that are answered by a `*_resp` (SMPP 3.4: all but outbind and alert_notification). */
export type RequestPdu = PduOf<AnsweredRequestName>;
export type ResponsePduOf<R extends RequestPdu> = PduOf<NonNullable<ResponseNameOf<R['command']>>>;
/** The body fields of a response, for responseFor(). */
export type ResponseBody<R extends RequestPdu> = Omit<
  ResponsePduOf<R>,
  'command' | 'command_status' | 'sequence_number'
>;

// Compile-time check that the union covers every command of the table.
type Missing = Exclude<CommandName, Pdu['command']>;
const _allCommandsHavePdu: Missing extends never ? true : Missing = true;
void _allCommandsHavePdu;
