// GSM 03.38 / 3GPP TS 23.038 §6.2.1 default 7-bit alphabet and its extension table (§6.2.1.1).
//
// SMPP short_message with data_coding 0 normally carries the *unpacked* form: one septet per octet
// (SMPP 3.4 §5.2.19 leaves packing to the SMSC). The packed form (TS 23.038 §6.1.2.1) is what goes over the
// air and what some SMSCs expect; packGsm7/unpackGsm7 convert between the two.

/** Septet value → character, TS 23.038 §6.2.1. Index 0x1B is the escape to the extension table. */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅå' +
  'Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ' +
  ' !"#¤%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNO' +
  'PQRSTUVWXYZÄÖÑÜ§' +
  '¿abcdefghijklmno' +
  'pqrstuvwxyzäöñüà';

/** Extension table, TS 23.038 §6.2.1.1: septet after 0x1B → character. */
const EXTENSION: readonly (readonly [number, string])[] = [
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
];

export const GSM7_ESCAPE = 0x1b;

const BASIC_CODE = new Map<string, number>();
for (let i = 0; i < BASIC.length; i++) if (i !== GSM7_ESCAPE) BASIC_CODE.set(BASIC[i], i);
const EXT_CODE = new Map<string, number>(EXTENSION.map(([code, ch]) => [ch, code]));
const EXT_CHAR = new Map<number, string>(EXTENSION);

/** Septets a character needs: 1 (basic table), 2 (escape + extension) or undefined (not representable). */
export function gsm7CharLength(ch: string): 1 | 2 | undefined {
  if (BASIC_CODE.has(ch)) return 1;
  if (EXT_CODE.has(ch)) return 2;
  return undefined;
}

/** Unpacked septets (one per byte), or undefined when a character is not in the alphabet. */
export function encodeGsm7(text: string): Buffer | undefined {
  const out: number[] = [];
  for (const ch of text) {
    const basic = BASIC_CODE.get(ch);
    if (basic !== undefined) {
      out.push(basic);
      continue;
    }
    const ext = EXT_CODE.get(ch);
    if (ext === undefined) return undefined;
    out.push(GSM7_ESCAPE, ext);
  }
  return Buffer.from(out);
}

/**
 * Unpacked septets → text. Never throws: an escape followed by a code with no extension character shows the
 * basic-table character for that code (TS 23.038 §6.2.1.1 note), a trailing escape is dropped, and bytes
 * above 0x7F (not septets) become U+FFFD.
 */
export function decodeGsm7(septets: Uint8Array): string {
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    const code = septets[i];
    if (code > 0x7f) {
      out += '\uFFFD';
    } else if (code !== GSM7_ESCAPE) {
      out += BASIC[code];
    } else if (i + 1 < septets.length) {
      const next = septets[++i];
      if (next > 0x7f) out += '\uFFFD';
      else out += EXT_CHAR.get(next) ?? (next === GSM7_ESCAPE ? ' ' : BASIC[next]);
    }
  }
  return out;
}

/** True when every character of text is in the basic or extension table. */
export function isGsm7(text: string): boolean {
  return gsm7Length(text) !== undefined;
}

/** Septets text needs (extension characters count 2), or undefined when it is not representable. */
export function gsm7Length(text: string): number | undefined {
  let n = 0;
  for (const ch of text) {
    const len = gsm7CharLength(ch);
    if (len === undefined) return undefined;
    n += len;
  }
  return n;
}

/**
 * Fill bits that align the first septet after a UDH of udhOctets octets (UDHL byte included) to a septet
 * boundary, TS 23.040 §9.2.3.24: e.g. 6 octets (05 00 03 ref total seq) → 1 fill bit.
 */
export function udhFillBits(udhOctets: number): number {
  return (7 - ((udhOctets * 8) % 7)) % 7;
}

/**
 * Packs septets (low 7 bits of each byte) LSB-first into octets, TS 23.038 §6.1.2.1.1. fillBits (0-6) zero
 * bits come first, so the result can follow a UDH inside the same user data.
 */
export function packGsm7(septets: Uint8Array, fillBits = 0): Buffer {
  const out = Buffer.alloc(Math.ceil((fillBits + septets.length * 7) / 8));
  let bit = fillBits;
  for (const s of septets) {
    const v = s & 0x7f;
    const byte = bit >> 3;
    const shift = bit & 7;
    out[byte] |= (v << shift) & 0xff;
    if (shift > 1) out[byte + 1] |= v >> (8 - shift);
    bit += 7;
  }
  return out;
}

/**
 * Unpacks LSB-first packed septets, skipping fillBits leading bits. septetCount is the SMS user data
 * length; without it every whole septet is returned, so 7 trailing pad bits come back as a final 0x00 ('@')
 * — TS 23.038 §6.1.2.3.1 explains why SMS carries the count instead.
 */
export function unpackGsm7(packed: Uint8Array, septetCount?: number, fillBits = 0): Buffer {
  const available = Math.max(0, Math.floor((packed.length * 8 - fillBits) / 7));
  const n = septetCount === undefined ? available : Math.min(Math.max(0, septetCount), available);
  const out = Buffer.alloc(n);
  let bit = fillBits;
  for (let i = 0; i < n; i++) {
    const byte = bit >> 3;
    const shift = bit & 7;
    let v = packed[byte] >> shift;
    if (shift > 1) v |= packed[byte + 1] << (8 - shift);
    out[i] = v & 0x7f;
    bit += 7;
  }
  return out;
}
