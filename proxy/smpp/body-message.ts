// Bodies of the message operations: SMPP 3.4 §4.4 submit_sm, §4.6 deliver_sm, §4.7 data_sm,
// §4.8 query_sm, §4.9 cancel_sm, §4.10 replace_sm, §4.12 alert_notification, and their responses.
import type { BodyCodec } from './body.js';
import { omitErrorBody } from './body.js';
import {
  ADDR,
  ADDR_65,
  addrSize,
  MESSAGE_ID,
  messageFieldsSize,
  readDestAddr,
  readMessageId,
  readServiceType,
  readSourceAddr,
  SERVICE_TYPE,
  SHORT_MESSAGE,
  writeAddr,
  writeMessageFields,
} from './fields.js';
import type { PduOf } from './pdu.js';
import { Status } from './status.js';
import { readTlvs } from './tlv.js';
import { cstrSize, octetsSize, putCstr, putOctets, putU8, timeSize } from './writer.js';

type SmName = 'submit_sm' | 'deliver_sm';
type MessageIdRespName = 'submit_sm_resp' | 'deliver_sm_resp' | 'data_sm_resp';

/** submit_sm (§4.4.1) and deliver_sm (§4.6.1) have the same body. Fields are read in one object literal so
 *  every decoded PDU has the same hidden class (see bench/codec.ts). */
export function shortMessageCodec(command: SmName): BodyCodec<PduOf<SmName>> {
  return {
    decode: (r, command_status, sequence_number) =>
      ({
        command,
        command_status,
        sequence_number,
        service_type: readServiceType(r),
        source_addr_ton: r.u8('source_addr_ton'),
        source_addr_npi: r.u8('source_addr_npi'),
        source_addr: readSourceAddr(r, ADDR),
        dest_addr_ton: r.u8('dest_addr_ton'),
        dest_addr_npi: r.u8('dest_addr_npi'),
        destination_addr: readDestAddr(r, ADDR),
        esm_class: r.u8('esm_class'),
        protocol_id: r.u8('protocol_id'),
        priority_flag: r.u8('priority_flag'),
        schedule_delivery_time: r.time(Status.ESME_RINVSCHED, 'schedule_delivery_time'),
        validity_period: r.time(Status.ESME_RINVEXPIRY, 'validity_period'),
        registered_delivery: r.u8('registered_delivery'),
        replace_if_present_flag: r.u8('replace_if_present_flag'),
        data_coding: r.u8('data_coding'),
        sm_default_msg_id: r.u8('sm_default_msg_id'),
        short_message: r.shortMessage(),
        tlvs: readTlvs(r),
        // SubmitSm.frame, set by a session that keeps submit frames: a slot in the literal, so that
        // setting it does not grow the object (a property added later costs a backing store per PDU).
        frame: undefined,
      }) as PduOf<SmName>,
    size: (p) =>
      cstrSize(p.service_type, SERVICE_TYPE, 'service_type') +
      addrSize(p.source_addr, ADDR, 'source_addr') +
      addrSize(p.destination_addr, ADDR, 'destination_addr') +
      messageFieldsSize(p),
    write: (buf, off, p) => {
      off = putCstr(buf, off, p.service_type, 'service_type');
      off = writeAddr(buf, off, p.source_addr_ton, p.source_addr_npi, p.source_addr, 'source_addr');
      off = writeAddr(buf, off, p.dest_addr_ton, p.dest_addr_npi, p.destination_addr, 'destination_addr');
      return writeMessageFields(buf, off, p);
    },
  };
}

/** submit_sm_resp (§4.4.2), deliver_sm_resp (§4.6.2, message_id unused: ''), data_sm_resp (§4.7.3). */
export function messageIdRespCodec(command: MessageIdRespName): BodyCodec<PduOf<MessageIdRespName>> {
  return {
    decode: (r, command_status, sequence_number) =>
      ({
        command,
        command_status,
        sequence_number,
        message_id: r.remaining === 0 ? '' : readMessageId(r),
        tlvs: readTlvs(r),
      }) as PduOf<MessageIdRespName>,
    size: (p) => (omitErrorBody(p, p.message_id === '') ? 0 : cstrSize(p.message_id, MESSAGE_ID, 'message_id')),
    write: (buf, off, p) =>
      omitErrorBody(p, p.message_id === '') ? off : putCstr(buf, off, p.message_id, 'message_id'),
  };
}

/** SMPP 3.4 §4.7.1: addresses up to 65 octets, no short_message (the text travels in message_payload). */
export const dataSmCodec: BodyCodec<PduOf<'data_sm'>> = {
  decode: (r, command_status, sequence_number) => ({
    command: 'data_sm',
    command_status,
    sequence_number,
    service_type: readServiceType(r),
    source_addr_ton: r.u8('source_addr_ton'),
    source_addr_npi: r.u8('source_addr_npi'),
    source_addr: readSourceAddr(r, ADDR_65),
    dest_addr_ton: r.u8('dest_addr_ton'),
    dest_addr_npi: r.u8('dest_addr_npi'),
    destination_addr: readDestAddr(r, ADDR_65),
    esm_class: r.u8('esm_class'),
    registered_delivery: r.u8('registered_delivery'),
    data_coding: r.u8('data_coding'),
    tlvs: readTlvs(r),
  }),
  size: (p) =>
    cstrSize(p.service_type, SERVICE_TYPE, 'service_type') +
    addrSize(p.source_addr, ADDR_65, 'source_addr') +
    addrSize(p.destination_addr, ADDR_65, 'destination_addr') +
    3,
  write: (buf, off, p) => {
    off = putCstr(buf, off, p.service_type, 'service_type');
    off = writeAddr(buf, off, p.source_addr_ton, p.source_addr_npi, p.source_addr, 'source_addr');
    off = writeAddr(buf, off, p.dest_addr_ton, p.dest_addr_npi, p.destination_addr, 'destination_addr');
    off = putU8(buf, off, p.esm_class, 'esm_class');
    off = putU8(buf, off, p.registered_delivery, 'registered_delivery');
    return putU8(buf, off, p.data_coding, 'data_coding');
  },
};

/** SMPP 3.4 §4.8.1 */
export const querySmCodec: BodyCodec<PduOf<'query_sm'>> = {
  decode: (r, command_status, sequence_number) => ({
    command: 'query_sm',
    command_status,
    sequence_number,
    message_id: readMessageId(r),
    source_addr_ton: r.u8('source_addr_ton'),
    source_addr_npi: r.u8('source_addr_npi'),
    source_addr: readSourceAddr(r, ADDR),
    tlvs: readTlvs(r),
  }),
  size: (p) => cstrSize(p.message_id, MESSAGE_ID, 'message_id') + addrSize(p.source_addr, ADDR, 'source_addr'),
  write: (buf, off, p) => {
    off = putCstr(buf, off, p.message_id, 'message_id');
    return writeAddr(buf, off, p.source_addr_ton, p.source_addr_npi, p.source_addr, 'source_addr');
  },
};

/** SMPP 3.4 §4.8.2. final_date is '' until the message is final. */
export const querySmRespCodec: BodyCodec<PduOf<'query_sm_resp'>> = {
  decode: (r, command_status, sequence_number) => {
    const empty = r.remaining === 0;
    return {
      command: 'query_sm_resp',
      command_status,
      sequence_number,
      message_id: empty ? '' : readMessageId(r),
      // No status of its own in SMPP 3.4: a malformed final_date is a malformed PDU.
      final_date: empty ? '' : r.time(Status.ESME_RINVCMDLEN, 'final_date'),
      message_state: empty ? 0 : r.u8('message_state'),
      error_code: empty ? 0 : r.u8('error_code'),
      tlvs: readTlvs(r),
    };
  },
  size: (p) =>
    omitErrorBody(p, isEmptyQueryResp(p))
      ? 0
      : cstrSize(p.message_id, MESSAGE_ID, 'message_id') + timeSize(p.final_date, 'final_date') + 2,
  write: (buf, off, p) => {
    if (omitErrorBody(p, isEmptyQueryResp(p))) return off;
    off = putCstr(buf, off, p.message_id, 'message_id');
    off = putCstr(buf, off, p.final_date, 'final_date');
    off = putU8(buf, off, p.message_state, 'message_state');
    return putU8(buf, off, p.error_code, 'error_code');
  },
};

function isEmptyQueryResp(p: PduOf<'query_sm_resp'>): boolean {
  return p.message_id === '' && p.final_date === '' && p.message_state === 0 && p.error_code === 0;
}

/** SMPP 3.4 §4.9.1 */
export const cancelSmCodec: BodyCodec<PduOf<'cancel_sm'>> = {
  decode: (r, command_status, sequence_number) => ({
    command: 'cancel_sm',
    command_status,
    sequence_number,
    service_type: readServiceType(r),
    message_id: readMessageId(r),
    source_addr_ton: r.u8('source_addr_ton'),
    source_addr_npi: r.u8('source_addr_npi'),
    source_addr: readSourceAddr(r, ADDR),
    dest_addr_ton: r.u8('dest_addr_ton'),
    dest_addr_npi: r.u8('dest_addr_npi'),
    destination_addr: readDestAddr(r, ADDR),
    tlvs: readTlvs(r),
  }),
  size: (p) =>
    cstrSize(p.service_type, SERVICE_TYPE, 'service_type') +
    cstrSize(p.message_id, MESSAGE_ID, 'message_id') +
    addrSize(p.source_addr, ADDR, 'source_addr') +
    addrSize(p.destination_addr, ADDR, 'destination_addr'),
  write: (buf, off, p) => {
    off = putCstr(buf, off, p.service_type, 'service_type');
    off = putCstr(buf, off, p.message_id, 'message_id');
    off = writeAddr(buf, off, p.source_addr_ton, p.source_addr_npi, p.source_addr, 'source_addr');
    return writeAddr(buf, off, p.dest_addr_ton, p.dest_addr_npi, p.destination_addr, 'destination_addr');
  },
};

/** SMPP 3.4 §4.10.1 */
export const replaceSmCodec: BodyCodec<PduOf<'replace_sm'>> = {
  decode: (r, command_status, sequence_number) => ({
    command: 'replace_sm',
    command_status,
    sequence_number,
    message_id: readMessageId(r),
    source_addr_ton: r.u8('source_addr_ton'),
    source_addr_npi: r.u8('source_addr_npi'),
    source_addr: readSourceAddr(r, ADDR),
    schedule_delivery_time: r.time(Status.ESME_RINVSCHED, 'schedule_delivery_time'),
    validity_period: r.time(Status.ESME_RINVEXPIRY, 'validity_period'),
    registered_delivery: r.u8('registered_delivery'),
    sm_default_msg_id: r.u8('sm_default_msg_id'),
    short_message: r.shortMessage(),
    tlvs: readTlvs(r),
  }),
  size: (p) =>
    cstrSize(p.message_id, MESSAGE_ID, 'message_id') +
    addrSize(p.source_addr, ADDR, 'source_addr') +
    timeSize(p.schedule_delivery_time, 'schedule_delivery_time') +
    timeSize(p.validity_period, 'validity_period') +
    3 +
    octetsSize(p.short_message, SHORT_MESSAGE, 'short_message'),
  write: (buf, off, p) => {
    off = putCstr(buf, off, p.message_id, 'message_id');
    off = writeAddr(buf, off, p.source_addr_ton, p.source_addr_npi, p.source_addr, 'source_addr');
    off = putCstr(buf, off, p.schedule_delivery_time, 'schedule_delivery_time');
    off = putCstr(buf, off, p.validity_period, 'validity_period');
    off = putU8(buf, off, p.registered_delivery, 'registered_delivery');
    off = putU8(buf, off, p.sm_default_msg_id, 'sm_default_msg_id');
    off = putU8(buf, off, p.short_message.length, 'sm_length');
    return putOctets(buf, off, p.short_message);
  },
};

/** SMPP 3.4 §4.12.1. esme_addr has no status of its own; it is the address being alerted, so a bad
 *  one is reported like a bad destination (ESME_RINVDSTADR). */
export const alertNotificationCodec: BodyCodec<PduOf<'alert_notification'>> = {
  decode: (r, command_status, sequence_number) => ({
    command: 'alert_notification',
    command_status,
    sequence_number,
    source_addr_ton: r.u8('source_addr_ton'),
    source_addr_npi: r.u8('source_addr_npi'),
    source_addr: readSourceAddr(r, ADDR_65),
    esme_addr_ton: r.u8('esme_addr_ton'),
    esme_addr_npi: r.u8('esme_addr_npi'),
    esme_addr: r.cstr(ADDR_65, Status.ESME_RINVDSTADR, 'esme_addr'),
    tlvs: readTlvs(r),
  }),
  size: (p) => addrSize(p.source_addr, ADDR_65, 'source_addr') + addrSize(p.esme_addr, ADDR_65, 'esme_addr'),
  write: (buf, off, p) => {
    off = writeAddr(buf, off, p.source_addr_ton, p.source_addr_npi, p.source_addr, 'source_addr');
    return writeAddr(buf, off, p.esme_addr_ton, p.esme_addr_npi, p.esme_addr, 'esme_addr');
  },
};
