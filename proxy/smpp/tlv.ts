import { EncodeErrorCode, SmppEncodeError } from './errors.js';
import type { Reader } from './reader.js';
import { latin1 } from './latin1.js';
import { Status } from './status.js';
import { cstrSize, octetsSize, putCstr, putOctets, putU16, putU32, putU8 } from './writer.js';

// SMPP 3.4 §5.3 optional parameters (TLVs) by name, defined once. `min`/`max` bound the
// value length in octets (C-Octet String lengths include the NUL).
//  - source_telematics_id: the 3.4 tables disagree (1 octet in the TLV definition, 2 in some readings and in
//    node-smpp); kept as raw octets of length 1..2 so either form passes through unchanged.
//  - alert_on_message_delivery has no value in 3.4 (length 0) and 1 octet in 5.0: kept as raw octets.
//  - ussd_service_op is a 1-octet "octet string" in 3.4, exposed as the integer it carries.
const TLV_TABLE = {
  dest_addr_subunit: { tag: 0x0005, type: 'u8' },
  dest_network_type: { tag: 0x0006, type: 'u8' },
  dest_bearer_type: { tag: 0x0007, type: 'u8' },
  dest_telematics_id: { tag: 0x0008, type: 'u16' },
  source_addr_subunit: { tag: 0x000d, type: 'u8' },
  source_network_type: { tag: 0x000e, type: 'u8' },
  source_bearer_type: { tag: 0x000f, type: 'u8' },
  source_telematics_id: { tag: 0x0010, type: 'octets', min: 1, max: 2 },
  qos_time_to_live: { tag: 0x0017, type: 'u32' },
  payload_type: { tag: 0x0019, type: 'u8' },
  additional_status_info_text: { tag: 0x001d, type: 'cstr', min: 1, max: 256 },
  receipted_message_id: { tag: 0x001e, type: 'cstr', min: 1, max: 65 },
  ms_msg_wait_facilities: { tag: 0x0030, type: 'u8' },
  privacy_indicator: { tag: 0x0201, type: 'u8' },
  source_subaddress: { tag: 0x0202, type: 'octets', min: 2, max: 23 },
  dest_subaddress: { tag: 0x0203, type: 'octets', min: 2, max: 23 },
  user_message_reference: { tag: 0x0204, type: 'u16' },
  user_response_code: { tag: 0x0205, type: 'u8' },
  source_port: { tag: 0x020a, type: 'u16' },
  destination_port: { tag: 0x020b, type: 'u16' },
  sar_msg_ref_num: { tag: 0x020c, type: 'u16' },
  language_indicator: { tag: 0x020d, type: 'u8' },
  sar_total_segments: { tag: 0x020e, type: 'u8' },
  sar_segment_seqnum: { tag: 0x020f, type: 'u8' },
  sc_interface_version: { tag: 0x0210, type: 'u8' },
  callback_num_pres_ind: { tag: 0x0302, type: 'u8' },
  callback_num_atag: { tag: 0x0303, type: 'octets', min: 0, max: 65 },
  number_of_messages: { tag: 0x0304, type: 'u8' },
  callback_num: { tag: 0x0381, type: 'octets', min: 4, max: 19 },
  dpf_result: { tag: 0x0420, type: 'u8' },
  set_dpf: { tag: 0x0421, type: 'u8' },
  ms_availability_status: { tag: 0x0422, type: 'u8' },
  network_error_code: { tag: 0x0423, type: 'octets', min: 3, max: 3 },
  message_payload: { tag: 0x0424, type: 'octets', min: 0, max: 0xffff },
  delivery_failure_reason: { tag: 0x0425, type: 'u8' },
  more_messages_to_send: { tag: 0x0426, type: 'u8' },
  message_state: { tag: 0x0427, type: 'u8' },
  ussd_service_op: { tag: 0x0501, type: 'u8' },
  display_time: { tag: 0x1201, type: 'u8' },
  sms_signal: { tag: 0x1203, type: 'u16' },
  ms_validity: { tag: 0x1204, type: 'u8' },
  alert_on_message_delivery: { tag: 0x130c, type: 'octets', min: 0, max: 1 },
  its_reply_type: { tag: 0x1380, type: 'u8' },
  its_session_info: { tag: 0x1383, type: 'octets', min: 2, max: 2 },
} as const;

type TlvTable = typeof TLV_TABLE;
export type TlvName = keyof TlvTable;
type TlvType = 'u8' | 'u16' | 'u32' | 'cstr' | 'octets';
type ValueOf<T extends TlvType> = T extends 'cstr' ? string : T extends 'octets' ? Buffer : number;

export interface UnknownTlv {
  tag: number;
  value: Buffer;
}

/**
 * Optional parameters by name: integers as numbers, C-Octet Strings as strings, octet strings as Buffers.
 * `unknown` keeps, in wire order, TLVs with tags not in SMPP 3.4 (vendor tags) and repeats of a known
 * tag; they are re-encoded unchanged after the named ones.
 */
export type Tlvs = { [K in TlvName]?: ValueOf<TlvTable[K]['type']> } & { unknown?: UnknownTlv[] };

export const TlvTag = Object.fromEntries(
  (Object.keys(TLV_TABLE) as TlvName[]).map((name) => [name, TLV_TABLE[name].tag]),
) as { readonly [K in TlvName]: TlvTable[K]['tag'] };

interface TlvSpec {
  readonly index: number;
  readonly name: TlvName;
  readonly tag: number;
  readonly type: TlvType;
  readonly min: number;
  readonly max: number;
}

const FIXED: Record<TlvType, number> = { u8: 1, u16: 2, u32: 4, cstr: -1, octets: -1 };

const specsByName = new Map<string, TlvSpec>();
// Dense array indexed by tag (all SMPP 3.4 tags are below 0x1400): an element load instead of a Map
// lookup per TLV on the decode path (bench/codec.ts).
const TAG_LIMIT = 0x1400;
const specsByTag: (TlvSpec | undefined)[] = new Array<TlvSpec | undefined>(TAG_LIMIT).fill(undefined);
for (const [index, name] of (Object.keys(TLV_TABLE) as TlvName[]).entries()) {
  const row: { tag: number; type: TlvType; min?: number; max?: number } = TLV_TABLE[name];
  const size = FIXED[row.type];
  const spec: TlvSpec = { index, name, tag: row.tag, type: row.type, min: row.min ?? size, max: row.max ?? size };
  specsByName.set(name, spec);
  specsByTag[row.tag] = spec;
}

function specOfTag(tag: number): TlvSpec | undefined {
  return tag < TAG_LIMIT ? specsByTag[tag] : undefined;
}

export function tlvNameOf(tag: number): TlvName | undefined {
  return specOfTag(tag)?.name;
}

// Repeat detection: seen[spec.index] === pass marks a tag already read in this call. Cheaper than
// probing the result object by a computed key (bench/codec.ts); readTlvs is synchronous.
const seen = new Uint32Array(specsByName.size);
let pass = 0;

/**
 * Reads TLVs up to the end of the body (SMPP 3.4 §5.3: tag, length, value). A stream that ends inside a tag/length
 * header or a value is ESME_RINVOPTPARSTREAM; a known tag whose length is outside its §5.3.2 size is
 * ESME_RINVPARLEN. Values are zero-copy views of the frame.
 */
export function readTlvs(r: Reader): Tlvs | undefined {
  if (r.off >= r.end) return undefined;
  const buf = r.buf;
  const end = r.end;
  const out: Record<string, unknown> = {};
  let unknown: UnknownTlv[] | undefined;
  let o = r.off;
  if (++pass === 0x100000000) {
    seen.fill(0);
    pass = 1;
  }
  while (o < end) {
    if (end - o < 4) {
      r.fail(Status.ESME_RINVOPTPARSTREAM, 'TLV header truncated');
      return undefined;
    }
    const tag = (buf[o]! << 8) | buf[o + 1]!;
    const len = (buf[o + 2]! << 8) | buf[o + 3]!;
    const v = o + 4;
    o = v + len;
    if (o > end) {
      r.fail(Status.ESME_RINVOPTPARSTREAM, `TLV 0x${tag.toString(16)} value runs past the PDU`);
      return undefined;
    }
    const spec = specOfTag(tag);
    if (spec === undefined || seen[spec.index] === pass) {
      (unknown ??= []).push({ tag, value: buf.subarray(v, o) });
      continue;
    }
    seen[spec.index] = pass;
    if (len < spec.min || len > spec.max) {
      r.fail(Status.ESME_RINVPARLEN, `TLV ${spec.name} has length ${len}`);
      return undefined;
    }
    switch (spec.type) {
      case 'u8':
        out[spec.name] = buf[v]!;
        break;
      case 'u16':
        out[spec.name] = (buf[v]! << 8) | buf[v + 1]!;
        break;
      case 'u32':
        out[spec.name] = buf[v]! * 0x1000000 + ((buf[v + 1]! << 16) | (buf[v + 2]! << 8) | buf[v + 3]!);
        break;
      case 'cstr': {
        // The value should end with its NUL; some SMSCs omit it, so text stops at the first NUL or at the
        // end of the value, which must then still leave room for the NUL within the §5.3.2 maximum.
        let e = v;
        while (e < o && buf[e] !== 0) e++;
        if (e === o && len === spec.max) {
          r.fail(Status.ESME_RINVPARLEN, `TLV ${spec.name} longer than ${spec.max - 1} octets`);
          return undefined;
        }
        out[spec.name] = latin1(buf, v, e);
        break;
      }
      case 'octets':
        out[spec.name] = buf.subarray(v, o);
        break;
    }
  }
  r.off = end;
  if (unknown !== undefined) out.unknown = unknown;
  return out as Tlvs;
}

function unknownTlvError(name: string): SmppEncodeError {
  return new SmppEncodeError(EncodeErrorCode.UNKNOWN_TLV, name, `unknown TLV name ${name}`);
}

/** Encoded size of all TLVs. Validates lengths, so writeTlvs cannot overrun. */
export function tlvsSize(tlvs: Tlvs | undefined): number {
  if (tlvs === undefined) return 0;
  let size = 0;
  for (const name in tlvs) {
    const value = tlvs[name as keyof Tlvs];
    if (value === undefined) continue;
    if (name === 'unknown') {
      for (const t of value as UnknownTlv[]) size += 4 + octetsSize(t.value, 0xffff, 'tlvs.unknown');
      continue;
    }
    const spec = specsByName.get(name);
    if (spec === undefined) throw unknownTlvError(name);
    if (spec.type === 'cstr') size += 4 + cstrSize(value as string, spec.max, name);
    else if (spec.type === 'octets') size += 4 + octetsSize(value as Buffer, spec.max, name, spec.min);
    else size += 4 + spec.max;
  }
  return size;
}

export function writeTlvs(buf: Buffer, off: number, tlvs: Tlvs | undefined): number {
  if (tlvs === undefined) return off;
  let unknown: UnknownTlv[] | undefined;
  for (const name in tlvs) {
    const value = tlvs[name as keyof Tlvs];
    if (value === undefined) continue;
    if (name === 'unknown') {
      unknown = value as UnknownTlv[];
      continue;
    }
    const spec = specsByName.get(name)!;
    off = putU16(buf, off, spec.tag, name);
    switch (spec.type) {
      case 'u8':
        off = putU8(buf, putU16(buf, off, 1, name), value as number, name);
        break;
      case 'u16':
        off = putU16(buf, putU16(buf, off, 2, name), value as number, name);
        break;
      case 'u32':
        off = putU32(buf, putU16(buf, off, 4, name), value as number, name);
        break;
      case 'cstr':
        off = putCstr(buf, putU16(buf, off, (value as string).length + 1, name), value as string, name);
        break;
      case 'octets':
        off = putOctets(buf, putU16(buf, off, (value as Buffer).length, name), value as Buffer);
        break;
    }
  }
  if (unknown !== undefined) {
    for (const t of unknown) {
      off = putU16(buf, off, t.tag, 'tlvs.unknown');
      off = putOctets(buf, putU16(buf, off, t.value.length, 'tlvs.unknown'), t.value);
    }
  }
  return off;
}
