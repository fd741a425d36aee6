// How many SMS a text takes, and where it splits.
//
// TS 23.040 §9.2.3.16: user data is at most 140 octets. GSM 7-bit: 140 × 8 / 7 = 160 septets. A
// concatenated part carries a UDH (§9.2.3.24.1: 05 00 03 ref total seq = 6 octets, or 06 08 04 ... = 7 with a
// 16-bit reference), leaving floor((140 - 6) × 8 / 7) = 153 septets (152 with 7 octets). UCS-2: 140 / 2 = 70
// units, floor((140 - 6) / 2) = 67 per part (66 with 7 octets).
// A part never ends between an escape and its extension character (TS 23.038 §6.2.1.1), nor between the
// two halves of a surrogate pair: a receiver decodes each part on its own.

import { gsm7CharLength, isGsm7 } from './gsm7.js';
import { isHighSurrogate } from './ucs2.js';

export type TextEncoding = 'gsm7' | 'ucs2';

export interface SegmentCount {
  encoding: TextEncoding;
  /** Septets (gsm7, escapes count 2) or UTF-16 code units (ucs2). */
  units: number;
  /** Number of SMS; an empty text is still one SMS. */
  segments: number;
  /** Units one part can hold: 160/70 for a single SMS, else 153/67 (152/66 with 16-bit references). */
  perSegment: number;
}

export interface SegmentOptions {
  /** Reference size of the concatenation UDH that parts will carry (default 8). */
  refBits?: 8 | 16;
}

const USER_DATA_OCTETS = 140;

function limits(encoding: TextEncoding, refBits: 8 | 16): { single: number; multi: number } {
  const udh = refBits === 16 ? 7 : 6;
  return encoding === 'gsm7'
    ? { single: (USER_DATA_OCTETS * 8) / 7, multi: Math.floor(((USER_DATA_OCTETS - udh) * 8) / 7) }
    : { single: USER_DATA_OCTETS / 2, multi: Math.floor((USER_DATA_OCTETS - udh) / 2) };
}

/** Indivisible pieces of text with their cost in units: characters (gsm7) or code units / pairs (ucs2). */
function pieces(text: string, encoding: TextEncoding): { s: string; units: number }[] {
  const out: { s: string; units: number }[] = [];
  if (encoding === 'gsm7') {
    for (const ch of text) out.push({ s: ch, units: gsm7CharLength(ch) ?? 1 });
    return out;
  }
  for (let i = 0; i < text.length; i++) {
    const next = text.charCodeAt(i + 1); // NaN past the end
    const pair = isHighSurrogate(text.charCodeAt(i)) && next >= 0xdc00 && next <= 0xdfff;
    out.push(pair ? { s: text.slice(i, i + 2), units: 2 } : { s: text[i], units: 1 });
    if (pair) i++;
  }
  return out;
}

function split(text: string, options: SegmentOptions): { count: SegmentCount; parts: string[] } {
  const encoding: TextEncoding = isGsm7(text) ? 'gsm7' : 'ucs2';
  const { single, multi } = limits(encoding, options.refBits ?? 8);
  const ps = pieces(text, encoding);
  const units = ps.reduce((n, p) => n + p.units, 0);
  if (units <= single) return { count: { encoding, units, segments: 1, perSegment: single }, parts: [text] };
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const p of ps) {
    if (used + p.units > multi) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += p.s;
    used += p.units;
  }
  parts.push(current);
  return { count: { encoding, units, segments: parts.length, perSegment: multi }, parts };
}

/** Encoding (gsm7 when every character fits, else ucs2), size and number of SMS for text. */
export function countSegments(text: string, options: SegmentOptions = {}): SegmentCount {
  return split(text, options).count;
}

/** The texts of the parts, in order; joined they give text back. A text that fits one SMS is one part. */
export function splitText(text: string, options: SegmentOptions = {}): string[] {
  return split(text, options).parts;
}
