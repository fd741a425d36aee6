// Concatenated-message identity, from a UDH or from SAR TLVs. smppd uses it to keep all parts of one
// message on one upstream session (SPEC §4 Multipart); it never reassembles.

export interface ConcatInfo {
  /** Reference shared by all parts of one message. */
  ref: number;
  /** Number of parts, 1-255. */
  total: number;
  /** This part's number, 1-based, ≤ total. */
  seq: number;
  refBits: 8 | 16;
}

/** SMPP 3.4 §5.2.12: esm_class bit 6 (0x40) = UDHI, short_message starts with a UDH. */
export const ESM_CLASS_UDHI = 0x40;

/** TS 23.040 §9.2.3.24: concatenated short messages, 8-bit and 16-bit reference. */
export const IEI_CONCAT_8 = 0x00;
export const IEI_CONCAT_16 = 0x08;

function valid(ref: number, total: number, seq: number, refBits: 8 | 16): ConcatInfo | undefined {
  // TS 23.040 §9.2.3.24.1: total 0, seq 0 or seq > total → the IE is ignored.
  if (total < 1 || seq < 1 || seq > total) return undefined;
  return { ref, total, seq, refBits };
}

/**
 * Concatenation info from the UDH of short_message, or undefined when UDHI is not set, there is no
 * concatenation IE, or the bytes are inconsistent. A truncated IE list is rejected as a whole; a
 * concatenation IE with the wrong length or impossible numbers is ignored (TS 23.040 §9.2.3.24), and
 * when it is repeated the last valid one counts. Never throws.
 */
export function concatFromUdh(esmClass: number, shortMessage: Uint8Array): ConcatInfo | undefined {
  if ((esmClass & ESM_CLASS_UDHI) === 0 || shortMessage.length < 1) return undefined;
  const end = 1 + shortMessage[0];
  if (end > shortMessage.length) return undefined;
  let found: ConcatInfo | undefined;
  let i = 1;
  while (i < end) {
    if (i + 2 > end) return undefined;
    const iei = shortMessage[i];
    const len = shortMessage[i + 1];
    const data = i + 2;
    if (data + len > end) return undefined;
    const b = shortMessage;
    if (iei === IEI_CONCAT_8 && len === 3) {
      found = valid(b[data], b[data + 1], b[data + 2], 8) ?? found;
    } else if (iei === IEI_CONCAT_16 && len === 4) {
      found = valid((b[data] << 8) | b[data + 1], b[data + 2], b[data + 3], 16) ?? found;
    }
    i = data + len;
  }
  return found;
}

function isInt(n: number | undefined, max: number): n is number {
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= max;
}

/**
 * Concatenation info from the values of the sar_msg_ref_num (0x020C), sar_total_segments (0x020E) and
 * sar_segment_seqnum (0x020F) TLVs (SMPP 3.4 §5.3.2.22-24); undefined unless all three are present and sane.
 */
export function concatFromSar(ref?: number, total?: number, seq?: number): ConcatInfo | undefined {
  if (!isInt(ref, 0xffff) || !isInt(total, 0xff) || !isInt(seq, 0xff)) return undefined;
  return valid(ref, total, seq, 16);
}

/** A UDH (UDHL included) holding one concatenation IE, e.g. (0x2a, 3, 1, 8) → 05 00 03 2a 03 01. */
export function buildConcatUdh(ref: number, total: number, seq: number, refBits: 8 | 16 = 8): Buffer {
  const maxRef = refBits === 16 ? 0xffff : 0xff;
  const ok = isInt(ref, maxRef) && isInt(total, 0xff) && isInt(seq, 0xff) && valid(ref, total, seq, refBits);
  if (!ok) {
    throw new RangeError(`invalid concatenation ref=${ref} total=${total} seq=${seq} refBits=${refBits}`);
  }
  return refBits === 16
    ? Buffer.from([6, IEI_CONCAT_16, 4, ref >> 8, ref & 0xff, total, seq])
    : Buffer.from([5, IEI_CONCAT_8, 3, ref, total, seq]);
}
