import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeGsm7,
  encodeGsm7,
  gsm7CharLength,
  gsm7Length,
  isGsm7,
  packGsm7,
  udhFillBits,
  unpackGsm7,
} from './gsm7.js';

const hex = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

// TS 23.038 §6.2.1, row by row (0x1B, the escape, left out).
const BASIC_TABLE =
  '@£$¥èéùìòÇ\nØø\rÅå' +
  'Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ' +
  ' !"#¤%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNO' +
  'PQRSTUVWXYZÄÖÑÜ§' +
  '¿abcdefghijklmno' +
  'pqrstuvwxyzäöñüà';
const EXTENSION_CHARS = '\f^{}\\[~]|€';
const ALPHABET = Array.from(BASIC_TABLE + EXTENSION_CHARS);

describe('encodeGsm7 / decodeGsm7', () => {
  it('maps every septet of the basic table', () => {
    const codes = [...Array(128).keys()].filter((c) => c !== 0x1b);
    expect(decodeGsm7(Buffer.from(codes))).toBe(BASIC_TABLE);
    expect([...encodeGsm7(BASIC_TABLE)!]).toEqual(codes);
  });

  it('encodes known characters to their septets', () => {
    expect(hex(encodeGsm7('Hello'))).toBe('48656c6c6f');
    expect(hex(encodeGsm7('@£$¥'))).toBe('00010203');
    expect(hex(encodeGsm7('Δ_é¤§à'))).toBe('101105245f7f');
    expect(hex(encodeGsm7(''))).toBe('');
  });

  it('encodes the extension table behind the escape 0x1B', () => {
    expect(hex(encodeGsm7('€'))).toBe('1b65');
    expect(hex(encodeGsm7('^{}\\[~]|\f'))).toBe('1b141b281b291b2f1b3c1b3d1b3e1b401b0a');
    expect(hex(encodeGsm7('5€'))).toBe('351b65');
  });

  it('returns undefined for characters outside the alphabet', () => {
    expect(encodeGsm7('ç')).toBeUndefined(); // only capital Ç is at 0x09
    expect(encodeGsm7('hello 😀')).toBeUndefined();
    expect(encodeGsm7('Привет')).toBeUndefined();
    expect(encodeGsm7('`')).toBeUndefined();
  });

  it('decodes the extension table and tolerates bad escapes and bytes', () => {
    expect(decodeGsm7(Buffer.from('1b65201b14', 'hex'))).toBe('€ ^');
    expect(decodeGsm7(Buffer.from('1b41', 'hex'))).toBe('A'); // no extension char: basic table shown
    expect(decodeGsm7(Buffer.from('41421b', 'hex'))).toBe('AB'); // trailing escape dropped
    expect(decodeGsm7(Buffer.from('1b1b41', 'hex'))).toBe(' A');
    expect(decodeGsm7(Buffer.from('41e942', 'hex'))).toBe('A\uFFFDB');
  });

  it('round-trips any GSM 7-bit text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 200 }), (text) => {
        const septets = encodeGsm7(text)!;
        expect(septets.length).toBe(gsm7Length(text));
        expect(decodeGsm7(septets)).toBe(text);
      }),
    );
  });

  it('never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => typeof decodeGsm7(b) === 'string'));
  });
});

describe('isGsm7 / gsm7Length', () => {
  it('counts extension characters as two septets', () => {
    expect(gsm7Length('Hello')).toBe(5);
    expect(gsm7Length('Price: 5€ {x}')).toBe(16);
    expect(gsm7Length('')).toBe(0);
    expect(gsm7Length('ç')).toBeUndefined();
    expect(gsm7CharLength('€')).toBe(2);
    expect(gsm7CharLength('e')).toBe(1);
    expect(gsm7CharLength('😀')).toBeUndefined();
  });

  it('tells GSM text from text that needs UCS-2', () => {
    expect(isGsm7('Hello, World! @home [ok] ~ 10€')).toBe(true);
    expect(isGsm7('ÄÖÜäöüß ñ Ñ')).toBe(true);
    expect(isGsm7('Ĳ')).toBe(false);
    expect(isGsm7('hi 👋')).toBe(false);
  });
});

describe('packGsm7 / unpackGsm7', () => {
  it('packs septets LSB first (TS 23.038 §6.1.2.1.1)', () => {
    expect(hex(packGsm7(encodeGsm7('hellohello')!))).toBe('e8329bfd4697d9ec37');
    expect(hex(packGsm7(encodeGsm7('Hi')!))).toBe('c834');
    // 8 septets fill exactly 7 octets
    expect(hex(packGsm7(encodeGsm7('12345678')!))).toBe('31d98c56b3dd70');
    expect(hex(packGsm7(Buffer.alloc(0)))).toBe('');
  });

  it('starts after fill bits so the text follows a UDH', () => {
    // 'h' 0x68 shifted past 1 fill bit: 0xd0, then 'i' 0x69 in bits 0-6 of the next octet
    expect(hex(packGsm7(encodeGsm7('hi')!, 1))).toBe('d069');
    expect(udhFillBits(6)).toBe(1); // 05 00 03 ref total seq
    expect(udhFillBits(7)).toBe(0); // 06 08 04 ref ref total seq: 56 bits = 8 septets
    expect(udhFillBits(0)).toBe(0);
    expect(udhFillBits(1)).toBe(6);
  });

  it('unpacks with the septet count from the user data length', () => {
    expect(hex(unpackGsm7(Buffer.from('e8329bfd4697d9ec37', 'hex'), 10))).toBe(hex(encodeGsm7('hellohello')));
    expect(hex(unpackGsm7(Buffer.from('d069', 'hex'), 2, 1))).toBe('6869');
    // 7 septets leave 7 pad bits: without the count they read as a trailing '@'
    const packed = packGsm7(encodeGsm7('1234567')!);
    expect(packed.length).toBe(7);
    expect(decodeGsm7(unpackGsm7(packed, 7))).toBe('1234567');
    expect(decodeGsm7(unpackGsm7(packed))).toBe('1234567@');
    // a count beyond the data is capped
    expect(unpackGsm7(Buffer.from('c834', 'hex'), 50).length).toBe(2);
  });

  it('round-trips any septets at any fill', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ max: 0x7f, maxLength: 200 }),
        fc.integer({ min: 0, max: 6 }),
        (septets, fill) => {
          const packed = packGsm7(septets, fill);
          expect(packed.length).toBe(Math.ceil((fill + septets.length * 7) / 8));
          expect(packed[0] === undefined || (packed[0] & ((1 << fill) - 1)) === 0).toBe(true);
          expect(hex(unpackGsm7(packed, septets.length, fill))).toBe(hex(septets));
        },
      ),
    );
  });

  it('never throws on random packed bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 6 }), (b, fill) => {
        expect(unpackGsm7(b, undefined, fill).every((s) => s <= 0x7f)).toBe(true);
      }),
    );
  });
});
