import { EncodeErrorCode, SmppEncodeError } from './errors.js';
import { charCode } from './string-calls.js';

// Small typed writers over a pre-sized Buffer. Sizes are computed first (cstrSize etc.), the buffer is
// allocated once, then fields are written in order; each writer returns the next offset.

function invalid(field: string, what: string): SmppEncodeError {
  return new SmppEncodeError(EncodeErrorCode.INVALID_VALUE, field, `${field}: ${what}`);
}

/** Encoded size of a C-Octet String of at most `max` octets including its NUL (SMPP 3.4 §3.1). */
export function cstrSize(s: string, max: number, field: string): number {
  if (typeof s !== 'string') throw invalid(field, 'expected a string');
  if (s.length >= max) {
    throw new SmppEncodeError(EncodeErrorCode.FIELD_TOO_LONG, field, `${field}: ${s.length} > ${max - 1} octets`);
  }
  return s.length + 1;
}

/** Fixed-or-empty time field: '' or 16 characters "YYMMDDhhmmsstnnp" (SMPP 3.4 §7.1). */
export function timeSize(s: string, field: string): number {
  if (s !== '' && (typeof s !== 'string' || s.length !== 16)) throw invalid(field, 'expected "" or 16 characters');
  return s.length + 1;
}

export function putCstr(buf: Buffer, off: number, s: string, field: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = charCode(s, i);
    if (c === 0 || c > 0xff) throw invalid(field, 'NUL or non-latin1 character');
    buf[off + i] = c;
  }
  buf[off + n] = 0;
  return off + n + 1;
}

export function putU8(buf: Buffer, off: number, v: number, field: string): number {
  if ((v & 0xff) !== v) throw invalid(field, `${v} is not an unsigned 8-bit integer`);
  buf[off] = v;
  return off + 1;
}

export function putU16(buf: Buffer, off: number, v: number, field: string): number {
  if ((v & 0xffff) !== v) throw invalid(field, `${v} is not an unsigned 16-bit integer`);
  buf[off] = v >>> 8;
  buf[off + 1] = v & 0xff;
  return off + 2;
}

export function putU32(buf: Buffer, off: number, v: number, field: string): number {
  if (v >>> 0 !== v) throw invalid(field, `${v} is not an unsigned 32-bit integer`);
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
  return off + 4;
}

export function octetsSize(b: Buffer, max: number, field: string, min = 0): number {
  if (!(b instanceof Uint8Array)) throw invalid(field, 'expected a Buffer');
  if (b.length < min) throw invalid(field, `shorter than ${min} octets`);
  if (b.length > max) {
    throw new SmppEncodeError(EncodeErrorCode.FIELD_TOO_LONG, field, `${field}: ${b.length} > ${max} octets`);
  }
  return b.length;
}

export function putOctets(buf: Buffer, off: number, b: Uint8Array): number {
  buf.set(b, off);
  return off + b.length;
}
