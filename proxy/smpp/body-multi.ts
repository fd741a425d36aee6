// SMPP 3.4 §4.5 submit_multi and submit_multi_resp.
import type { BodyCodec } from './body.js';
import { omitErrorBody } from './body.js';
import { EncodeErrorCode, SmppEncodeError } from './errors.js';
import {
  ADDR,
  addrSize,
  MESSAGE_ID,
  messageFieldsSize,
  readDestAddr,
  readMessageFields,
  readMessageId,
  readServiceType,
  readSourceAddr,
  SERVICE_TYPE,
  writeAddr,
  writeMessageFields,
} from './fields.js';
import type { DestAddress, PduOf, UnsuccessSme } from './pdu.js';
import type { Reader } from './reader.js';
import { Status } from './status.js';
import { readTlvs } from './tlv.js';
import { cstrSize, putCstr, putU32, putU8 } from './writer.js';

const MAX_DESTS = 254; // SMPP 3.4 §4.5.1 number_of_dests: max 254 (also the limit of no_unsuccess)

/** SMPP 3.4 §4.5.1.1. number_of_dests 0 or > 254 -> ESME_RINVNUMDESTS; dest_flag not 1/2 -> ESME_RINVDESTFLAG. */
function readDestAddresses(r: Reader): DestAddress[] {
  const n = r.u8('number_of_dests');
  const out: DestAddress[] = [];
  if (r.status !== 0) return out;
  if (n === 0 || n > MAX_DESTS) {
    r.fail(Status.ESME_RINVNUMDESTS, `number_of_dests ${n}`);
    return out;
  }
  for (let i = 0; i < n && r.status === 0; i++) {
    const flag = r.u8('dest_flag');
    if (flag === 1) {
      out.push({
        dest_flag: 1,
        dest_addr_ton: r.u8('dest_addr_ton'),
        dest_addr_npi: r.u8('dest_addr_npi'),
        destination_addr: readDestAddr(r, ADDR),
      });
    } else if (flag === 2) {
      out.push({ dest_flag: 2, dl_name: r.cstr(ADDR, Status.ESME_RINVDLNAME, 'dl_name') });
    } else if (r.status === 0) {
      r.fail(Status.ESME_RINVDESTFLAG, `dest_flag ${flag}`);
    }
  }
  return out;
}

function destAddressesSize(list: DestAddress[]): number {
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_DESTS) {
    throw new SmppEncodeError(EncodeErrorCode.INVALID_VALUE, 'dest_addresses', 'dest_addresses: 1..254 entries');
  }
  let size = 1;
  for (const d of list) {
    if (d.dest_flag === 1) size += 1 + addrSize(d.destination_addr, ADDR, 'destination_addr');
    else if (d.dest_flag === 2) size += 1 + cstrSize(d.dl_name, ADDR, 'dl_name');
    else throw new SmppEncodeError(EncodeErrorCode.INVALID_VALUE, 'dest_flag', 'dest_flag must be 1 or 2');
  }
  return size;
}

function writeDestAddresses(buf: Buffer, off: number, list: DestAddress[]): number {
  off = putU8(buf, off, list.length, 'number_of_dests');
  for (const d of list) {
    off = putU8(buf, off, d.dest_flag, 'dest_flag');
    if (d.dest_flag === 1) {
      off = writeAddr(buf, off, d.dest_addr_ton, d.dest_addr_npi, d.destination_addr, 'destination_addr');
    } else {
      off = putCstr(buf, off, d.dl_name, 'dl_name');
    }
  }
  return off;
}

export const submitMultiCodec: BodyCodec<PduOf<'submit_multi'>> = {
  decode: (r, command_status, sequence_number) => ({
    command: 'submit_multi',
    command_status,
    sequence_number,
    service_type: readServiceType(r),
    source_addr_ton: r.u8('source_addr_ton'),
    source_addr_npi: r.u8('source_addr_npi'),
    source_addr: readSourceAddr(r, ADDR),
    dest_addresses: readDestAddresses(r),
    ...readMessageFields(r),
    tlvs: readTlvs(r),
  }),
  size: (p) =>
    cstrSize(p.service_type, SERVICE_TYPE, 'service_type') +
    addrSize(p.source_addr, ADDR, 'source_addr') +
    destAddressesSize(p.dest_addresses) +
    messageFieldsSize(p),
  write: (buf, off, p) => {
    off = putCstr(buf, off, p.service_type, 'service_type');
    off = writeAddr(buf, off, p.source_addr_ton, p.source_addr_npi, p.source_addr, 'source_addr');
    off = writeDestAddresses(buf, off, p.dest_addresses);
    return writeMessageFields(buf, off, p);
  },
};

/** SMPP 3.4 §4.5.2.1 unsuccess_sme entries; an entry's bad address is ESME_RINVDSTADR. */
function readUnsuccessSmes(r: Reader): UnsuccessSme[] {
  const n = r.u8('no_unsuccess');
  const out: UnsuccessSme[] = [];
  for (let i = 0; i < n && r.status === 0; i++) {
    out.push({
      dest_addr_ton: r.u8('dest_addr_ton'),
      dest_addr_npi: r.u8('dest_addr_npi'),
      destination_addr: readDestAddr(r, ADDR),
      error_status_code: r.u32('error_status_code'),
    });
  }
  return out;
}

function isEmptyMultiResp(p: PduOf<'submit_multi_resp'>): boolean {
  return p.message_id === '' && p.unsuccess_smes.length === 0;
}

export const submitMultiRespCodec: BodyCodec<PduOf<'submit_multi_resp'>> = {
  decode: (r, command_status, sequence_number) => {
    const empty = r.remaining === 0;
    return {
      command: 'submit_multi_resp',
      command_status,
      sequence_number,
      message_id: empty ? '' : readMessageId(r),
      unsuccess_smes: empty ? [] : readUnsuccessSmes(r),
      tlvs: readTlvs(r),
    };
  },
  size: (p) => {
    if (omitErrorBody(p, isEmptyMultiResp(p))) return 0;
    if (!Array.isArray(p.unsuccess_smes) || p.unsuccess_smes.length > MAX_DESTS) {
      throw new SmppEncodeError(EncodeErrorCode.INVALID_VALUE, 'unsuccess_smes', 'unsuccess_smes: 0..254 entries');
    }
    let size = cstrSize(p.message_id, MESSAGE_ID, 'message_id') + 1;
    for (const u of p.unsuccess_smes) size += addrSize(u.destination_addr, ADDR, 'destination_addr') + 4;
    return size;
  },
  write: (buf, off, p) => {
    if (omitErrorBody(p, isEmptyMultiResp(p))) return off;
    off = putCstr(buf, off, p.message_id, 'message_id');
    off = putU8(buf, off, p.unsuccess_smes.length, 'no_unsuccess');
    for (const u of p.unsuccess_smes) {
      off = writeAddr(buf, off, u.dest_addr_ton, u.dest_addr_npi, u.destination_addr, 'destination_addr');
      off = putU32(buf, off, u.error_status_code, 'error_status_code');
    }
    return off;
  },
};
