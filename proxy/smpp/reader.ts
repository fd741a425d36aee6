import { latin1 } from './latin1.js';
import { Status } from './status.js';

/**
 * Bounds-checked cursor over one PDU body. Reads never throw: the first problem is recorded in
 * `status`/`reason` (first error wins), the cursor jumps to the end and later reads return 0 / ''.
 * decodePdu checks `status` once at the end, so the happy path has no branches beyond bounds checks.
 */
export class Reader {
  buf: Buffer = Buffer.alloc(0);
  off = 0;
  end = 0;
  status = 0;
  reason = '';

  reset(buf: Buffer, off: number, end: number): void {
    this.buf = buf;
    this.off = off;
    this.end = end;
    this.status = 0;
    this.reason = '';
  }

  get remaining(): number {
    return this.end - this.off;
  }

  fail(status: number, reason: string): void {
    if (this.status === 0) {
      this.status = status;
      this.reason = reason;
    }
    this.off = this.end;
  }

  /** SMPP 3.4 §3.1: a field running past command_length means the length is wrong. */
  truncated(field: string): void {
    this.fail(Status.ESME_RINVCMDLEN, `body truncated at ${field}`);
  }

  u8(field: string): number {
    if (this.off >= this.end) {
      this.truncated(field);
      return 0;
    }
    return this.buf[this.off++]!;
  }

  u16(field: string): number {
    const o = this.off;
    if (o + 2 > this.end) {
      this.truncated(field);
      return 0;
    }
    this.off = o + 2;
    return (this.buf[o]! << 8) | this.buf[o + 1]!;
  }

  u32(field: string): number {
    const o = this.off;
    if (o + 4 > this.end) {
      this.truncated(field);
      return 0;
    }
    this.off = o + 4;
    const b = this.buf;
    return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  }

  /**
   * C-Octet String of at most `max` octets including the NUL (SMPP 3.4 §3.1 "Var. max").
   * No NUL before the body ends -> ESME_RINVCMDLEN (truncated PDU); no NUL within `max` octets
   * -> `status`, the field's own error code where SMPP 3.4 §5.1.3 has one.
   */
  cstr(max: number, status: number, field: string): string {
    const buf = this.buf;
    const start = this.off;
    const end = this.end;
    const limit = start + max < end ? start + max : end;
    // A byte loop beats buf.indexOf (a native call) for these short fields: ~14 ns vs ~60 ns for 13 octets.
    let i = start;
    while (i < limit && buf[i] !== 0) i++;
    if (i === limit) {
      if (limit === end && end - start < max) this.truncated(field);
      else this.fail(status, `${field} longer than ${max - 1} octets`);
      return '';
    }
    this.off = i + 1;
    return i === start ? '' : latin1(buf, start, i);
  }

  /** Fixed-or-empty time (SMPP 3.4 §7.1): a single NUL or 16 characters + NUL; else `status`. */
  time(status: number, field: string): string {
    const s = this.cstr(17, status, field);
    if (s.length !== 0 && s.length !== 16) this.fail(status, `${field} must be empty or 16 characters`);
    return s;
  }

  /**
   * sm_length + short_message (SMPP 3.4 §4.4.1: 0..254 octets). An sm_length of 255 or one that runs
   * past the body is ESME_RINVMSGLEN rather than a command length error.
   */
  shortMessage(): Buffer {
    const n = this.u8('sm_length');
    const o = this.off;
    if (n > 254 || o + n > this.end) {
      if (this.status === 0) this.fail(Status.ESME_RINVMSGLEN, `sm_length ${n} exceeds the body`);
      return EMPTY;
    }
    this.off = o + n;
    return this.buf.subarray(o, o + n);
  }

  /** Octet string of exactly `n` octets, as a zero-copy view of the frame. */
  octets(n: number, field: string): Buffer {
    const o = this.off;
    if (o + n > this.end) {
      this.truncated(field);
      return EMPTY;
    }
    this.off = o + n;
    return this.buf.subarray(o, o + n);
  }
}

export const EMPTY: Buffer = Buffer.alloc(0);
