// SMPP 3.4 §4 field sizes shared by several operations (C-Octet Strings: max octets incl. NUL), and the
// small readers/writers for field groups that recur across bodies.
import type { MessageFields } from './pdu.js';
import type { Reader } from './reader.js';
import { Status } from './status.js';
import { cstrSize, octetsSize, putCstr, putOctets, putU8, timeSize } from './writer.js';

export const SERVICE_TYPE = 6;
export const ADDR = 21; // source_addr / destination_addr / dl_name in submit_sm, deliver_sm, submit_multi ...
export const ADDR_65 = 65; // source_addr / destination_addr in data_sm, esme_addr in alert_notification
export const MESSAGE_ID = 65;
export const SHORT_MESSAGE = 254; // SMPP 3.4 §4.4.1 short_message 0..254 octets

export function readServiceType(r: Reader): string {
  return r.cstr(SERVICE_TYPE, Status.ESME_RINVSERTYP, 'service_type');
}

export function readSourceAddr(r: Reader, max: number): string {
  return r.cstr(max, Status.ESME_RINVSRCADR, 'source_addr');
}

export function readDestAddr(r: Reader, max: number): string {
  return r.cstr(max, Status.ESME_RINVDSTADR, 'destination_addr');
}

export function readMessageId(r: Reader): string {
  return r.cstr(MESSAGE_ID, Status.ESME_RINVMSGID, 'message_id');
}

/** esm_class .. short_message (SMPP 3.4 §4.4.1), shared by submit_sm, deliver_sm and submit_multi. */
export function messageFieldsSize(p: MessageFields): number {
  return (
    3 +
    timeSize(p.schedule_delivery_time, 'schedule_delivery_time') +
    timeSize(p.validity_period, 'validity_period') +
    5 +
    octetsSize(p.short_message, SHORT_MESSAGE, 'short_message')
  );
}

export function writeMessageFields(buf: Buffer, off: number, p: MessageFields): number {
  off = putU8(buf, off, p.esm_class, 'esm_class');
  off = putU8(buf, off, p.protocol_id, 'protocol_id');
  off = putU8(buf, off, p.priority_flag, 'priority_flag');
  off = putCstr(buf, off, p.schedule_delivery_time, 'schedule_delivery_time');
  off = putCstr(buf, off, p.validity_period, 'validity_period');
  off = putU8(buf, off, p.registered_delivery, 'registered_delivery');
  off = putU8(buf, off, p.replace_if_present_flag, 'replace_if_present_flag');
  off = putU8(buf, off, p.data_coding, 'data_coding');
  off = putU8(buf, off, p.sm_default_msg_id, 'sm_default_msg_id');
  off = putU8(buf, off, p.short_message.length, 'sm_length');
  return putOctets(buf, off, p.short_message);
}

/** ton, npi, address: the recurring address triple. */
export function addrSize(addr: string, max: number, field: string): number {
  return 2 + cstrSize(addr, max, field);
}

export function writeAddr(buf: Buffer, off: number, ton: number, npi: number, addr: string, field: string): number {
  // Integer errors name the address field: building "<field>_ton" here would allocate per call.
  off = putU8(buf, off, ton, field);
  off = putU8(buf, off, npi, field);
  return putCstr(buf, off, addr, field);
}

/** esm_class .. short_message as a separate object, for bodies where they follow other variable parts. */
export function readMessageFields(r: Reader): MessageFields {
  return {
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
  };
}
