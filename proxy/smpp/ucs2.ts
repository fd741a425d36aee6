// UCS-2 as SMPP uses it (data_coding 0x08, SMPP 3.4 §5.2.19): big-endian 16-bit code units. Characters
// outside the BMP travel as UTF-16 surrogate pairs, i.e. two code units, which is what handsets accept.

/** Text → UTF-16BE bytes, one 2-octet unit per JS code unit (lone surrogates included, unchanged). */
export function encodeUcs2(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

/** UTF-16BE bytes → text. Never throws; a trailing odd octet (a truncated unit) becomes U+FFFD. */
export function decodeUcs2(bytes: Uint8Array): string {
  const even = bytes.length & ~1;
  const swapped = Buffer.from(bytes.subarray(0, even)).swap16();
  const text = swapped.toString('utf16le');
  return even === bytes.length ? text : text + '\uFFFD';
}

/**
 * True when text is strict UCS-2: BMP characters only, no surrogates. Text with emoji or other astral
 * characters still encodes (as surrogate pairs) but old handsets show each pair as two unknown characters.
 */
export function isUcs2Safe(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdfff) return false;
  }
  return true;
}

/** True for a high (leading) surrogate code unit. */
export function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
