import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildConcatUdh, concatFromSar, concatFromUdh } from './concat.js';

const sm = (hex: string): Buffer => Buffer.from(hex.replace(/\s/g, ''), 'hex');

describe('buildConcatUdh', () => {
  it('builds the 8-bit and 16-bit reference forms', () => {
    expect(buildConcatUdh(0x2a, 3, 1).toString('hex')).toBe('0500032a0301');
    expect(buildConcatUdh(0x1234, 2, 2, 16).toString('hex')).toBe('060804123402' + '02');
  });

  it('rejects impossible values', () => {
    expect(() => buildConcatUdh(256, 2, 1)).toThrow(RangeError);
    expect(() => buildConcatUdh(1, 2, 3)).toThrow(RangeError);
    expect(() => buildConcatUdh(1, 0, 0)).toThrow(RangeError);
    expect(() => buildConcatUdh(0x10000, 2, 1, 16)).toThrow(RangeError);
  });
});

describe('concatFromUdh', () => {
  it('reads an 8-bit reference', () => {
    expect(concatFromUdh(0x40, sm('05 00 03 2a 03 01 e8 32 9b'))).toEqual({ ref: 0x2a, total: 3, seq: 1, refBits: 8 });
  });

  it('reads a 16-bit reference', () => {
    expect(concatFromUdh(0x40, sm('06 08 04 12 34 02 02 00 48'))).toEqual({ ref: 0x1234, total: 2, seq: 2, refBits: 16 });
  });

  it('needs the UDHI bit of esm_class, whatever the other bits', () => {
    expect(concatFromUdh(0x00, sm('05 00 03 2a 03 01 41'))).toBeUndefined();
    expect(concatFromUdh(0x43, sm('05 00 03 2a 03 01 41'))).toEqual({ ref: 0x2a, total: 3, seq: 1, refBits: 8 });
  });

  it('finds the IE among others', () => {
    // application port addressing (0x05) first, as WAP push does
    expect(concatFromUdh(0x40, sm('0b 05 04 0b 84 23 f0 00 03 ab 02 01 ff'))).toEqual({
      ref: 0xab,
      total: 2,
      seq: 1,
      refBits: 8,
    });
    // national language shift tables (0x24, 0x25) around it
    expect(concatFromUdh(0x40, sm('0b 24 01 01 00 03 07 02 02 25 01 01 41'))).toEqual({
      ref: 7,
      total: 2,
      seq: 2,
      refBits: 8,
    });
  });

  it('returns undefined without a concatenation IE', () => {
    expect(concatFromUdh(0x40, sm('06 05 04 0b 84 23 f0 41'))).toBeUndefined();
    expect(concatFromUdh(0x40, sm('00 41'))).toBeUndefined();
  });

  it('returns undefined on inconsistent lengths', () => {
    expect(concatFromUdh(0x40, Buffer.alloc(0))).toBeUndefined();
    expect(concatFromUdh(0x40, sm('06 00 03 2a 03 01'))).toBeUndefined(); // UDHL past the end
    expect(concatFromUdh(0x40, sm('05 00 04 2a 03 01 41'))).toBeUndefined(); // IE past the UDH
    expect(concatFromUdh(0x40, sm('06 00 03 2a 03 01 08'))).toBeUndefined(); // lone IEI byte
  });

  it('ignores a concatenation IE with the wrong length or impossible numbers (TS 23.040 §9.2.3.24.1)', () => {
    expect(concatFromUdh(0x40, sm('04 00 02 2a 03 41'))).toBeUndefined();
    expect(concatFromUdh(0x40, sm('05 00 03 2a 00 00'))).toBeUndefined(); // total 0
    expect(concatFromUdh(0x40, sm('05 00 03 2a 03 00'))).toBeUndefined(); // seq 0
    expect(concatFromUdh(0x40, sm('05 00 03 2a 03 04'))).toBeUndefined(); // seq > total
    // a bad one before a good one does not hide the good one
    expect(concatFromUdh(0x40, sm('0a 00 03 2a 03 04 00 03 2b 03 02'))).toEqual({ ref: 0x2b, total: 3, seq: 2, refBits: 8 });
  });

  it('uses the last occurrence of a repeated IE', () => {
    expect(concatFromUdh(0x40, sm('0a 00 03 01 02 01 00 03 09 04 03'))).toEqual({ ref: 9, total: 4, seq: 3, refBits: 8 });
  });

  it('reads back what buildConcatUdh wrote', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 255 }).chain((total) =>
          fc.tuple(fc.constant(total), fc.integer({ min: 1, max: total }), fc.constantFrom(8 as const, 16 as const)),
        ),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ maxLength: 20 }),
        ([total, seq, refBits], ref, payload) => {
          const r = refBits === 8 ? ref & 0xff : ref;
          const msg = Buffer.concat([buildConcatUdh(r, total, seq, refBits), payload]);
          expect(concatFromUdh(0x40, msg)).toEqual({ ref: r, total, seq, refBits });
        },
      ),
    );
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 64 }), (esm, b) => {
        const info = concatFromUdh(esm, b);
        if (info !== undefined) expect(info.seq >= 1 && info.seq <= info.total).toBe(true);
      }),
    );
  });
});

describe('concatFromSar', () => {
  it('takes the three SAR TLV values', () => {
    expect(concatFromSar(0x1234, 3, 2)).toEqual({ ref: 0x1234, total: 3, seq: 2, refBits: 16 });
    expect(concatFromSar(0, 1, 1)).toEqual({ ref: 0, total: 1, seq: 1, refBits: 16 });
  });

  it('returns undefined when a value is missing or impossible', () => {
    expect(concatFromSar()).toBeUndefined();
    expect(concatFromSar(1, 3)).toBeUndefined();
    expect(concatFromSar(undefined, 3, 1)).toBeUndefined();
    expect(concatFromSar(1, 3, 0)).toBeUndefined();
    expect(concatFromSar(1, 3, 4)).toBeUndefined();
    expect(concatFromSar(1, 0, 0)).toBeUndefined();
    expect(concatFromSar(0x10000, 3, 1)).toBeUndefined();
    expect(concatFromSar(-1, 3, 1)).toBeUndefined();
    expect(concatFromSar(1.5, 3, 1)).toBeUndefined();
    expect(concatFromSar(1, 256, 1)).toBeUndefined();
  });
});
