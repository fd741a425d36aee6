import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeGsm7, gsm7Length } from './gsm7.js';
import { countSegments, splitText } from './segments.js';

const a = (n: number, ch = 'a'): string => ch.repeat(n);

describe('countSegments', () => {
  it('fits 160 GSM septets in one SMS, then 153 per part', () => {
    expect(countSegments('')).toEqual({ encoding: 'gsm7', units: 0, segments: 1, perSegment: 160 });
    expect(countSegments(a(160))).toEqual({ encoding: 'gsm7', units: 160, segments: 1, perSegment: 160 });
    expect(countSegments(a(161))).toEqual({ encoding: 'gsm7', units: 161, segments: 2, perSegment: 153 });
    expect(countSegments(a(306))).toEqual({ encoding: 'gsm7', units: 306, segments: 2, perSegment: 153 });
    expect(countSegments(a(307))).toEqual({ encoding: 'gsm7', units: 307, segments: 3, perSegment: 153 });
  });

  it('counts extension characters as two septets', () => {
    expect(countSegments(a(80, '€'))).toEqual({ encoding: 'gsm7', units: 160, segments: 1, perSegment: 160 });
    // 81 × 2 = 162 septets; 76 euros (152 septets) per part because a pair cannot straddle parts
    expect(countSegments(a(81, '€'))).toEqual({ encoding: 'gsm7', units: 162, segments: 2, perSegment: 153 });
    // 153 × 2 = 306 septets would be 2 parts if escapes could split; they cannot: 76 + 76 + 1
    expect(countSegments(a(153, '€')).segments).toBe(3);
  });

  it('fits 70 UCS-2 units in one SMS, then 67 per part', () => {
    expect(countSegments(a(70, 'ж'))).toEqual({ encoding: 'ucs2', units: 70, segments: 1, perSegment: 70 });
    expect(countSegments(a(71, 'ж'))).toEqual({ encoding: 'ucs2', units: 71, segments: 2, perSegment: 67 });
    expect(countSegments(a(134, 'ж'))).toEqual({ encoding: 'ucs2', units: 134, segments: 2, perSegment: 67 });
    expect(countSegments(a(135, 'ж')).segments).toBe(3);
  });

  it('switches the whole text to UCS-2 for one non-GSM character', () => {
    expect(countSegments(a(100) + 'ç')).toEqual({ encoding: 'ucs2', units: 101, segments: 2, perSegment: 67 });
    expect(countSegments('😀')).toEqual({ encoding: 'ucs2', units: 2, segments: 1, perSegment: 70 });
    expect(countSegments(a(35, '😀'))).toEqual({ encoding: 'ucs2', units: 70, segments: 1, perSegment: 70 });
  });

  it('leaves room for a 16-bit reference UDH when asked', () => {
    expect(countSegments(a(161), { refBits: 16 })).toEqual({ encoding: 'gsm7', units: 161, segments: 2, perSegment: 152 });
    expect(countSegments(a(71, 'ж'), { refBits: 16 })).toEqual({ encoding: 'ucs2', units: 71, segments: 2, perSegment: 66 });
    expect(countSegments(a(160), { refBits: 16 }).segments).toBe(1);
  });
});

describe('splitText', () => {
  it('keeps a single SMS whole', () => {
    expect(splitText('')).toEqual(['']);
    expect(splitText(a(160))).toEqual([a(160)]);
  });

  it('cuts GSM text at 153 septets', () => {
    expect(splitText(a(153) + a(10, 'b'))).toEqual([a(153), a(10, 'b')]);
  });

  it('never separates an escape from its extension character', () => {
    // the euro would take septets 153-154: it moves to the second part
    expect(splitText(a(152) + '€' + a(10, 'b'))).toEqual([a(152), '€' + a(10, 'b')]);
    expect(splitText(a(151) + '€' + a(10, 'b'))).toEqual([a(151) + '€', a(10, 'b')]);
  });

  it('cuts UCS-2 text at 67 units without splitting a surrogate pair', () => {
    expect(splitText(a(67, 'ж') + a(4, 'ж'))).toEqual([a(67, 'ж'), a(4, 'ж')]);
    expect(splitText(a(66, 'ж') + '😀' + a(10, 'ж'))).toEqual([a(66, 'ж'), '😀' + a(10, 'ж')]);
    expect(splitText(a(65, 'ж') + '😀' + a(10, 'ж'))).toEqual([a(65, 'ж') + '😀', a(10, 'ж')]);
  });

  it('gives parts that join to the text and fit their SMS', () => {
    const ch = fc.constantFrom('a', ' ', '€', '[', '^', 'é', 'ж', '😀', '世', '\n');
    fc.assert(
      fc.property(fc.string({ unit: ch, maxLength: 500 }), fc.constantFrom(8 as const, 16 as const), (text, refBits) => {
        const parts = splitText(text, { refBits });
        const count = countSegments(text, { refBits });
        expect(parts.join('')).toBe(text);
        expect(parts.length).toBe(count.segments);
        for (const part of parts) {
          if (count.encoding === 'gsm7') {
            expect(gsm7Length(part)).toBeLessThanOrEqual(count.perSegment);
            expect(encodeGsm7(part)).toBeDefined();
          } else {
            expect(part.length).toBeLessThanOrEqual(count.perSegment);
            expect(part).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
          }
        }
        // greedy: no part could have taken the next part's first character
        const units = (t: string): number => (count.encoding === 'gsm7' ? gsm7Length(t)! : t.length);
        for (let i = 0; i + 1 < parts.length; i++) {
          expect(units(parts[i]) + units(Array.from(parts[i + 1])[0])).toBeGreaterThan(count.perSegment);
        }
      }),
    );
  });
});
