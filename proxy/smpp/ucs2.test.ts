import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUcs2, encodeUcs2, isHighSurrogate, isUcs2Safe } from './ucs2.js';

describe('encodeUcs2 / decodeUcs2', () => {
  it('writes big-endian code units', () => {
    expect(encodeUcs2('Hi').toString('hex')).toBe('00480069');
    expect(encodeUcs2('€ж').toString('hex')).toBe('20ac0436');
    expect(encodeUcs2('').toString('hex')).toBe('');
  });

  it('keeps characters outside the BMP as a surrogate pair', () => {
    expect(encodeUcs2('😀').toString('hex')).toBe('d83dde00');
    expect(decodeUcs2(Buffer.from('d83dde000021', 'hex'))).toBe('😀!');
  });

  it('decodes big-endian units', () => {
    expect(decodeUcs2(Buffer.from('041f04400438043204350442', 'hex'))).toBe('Привет');
  });

  it('marks a truncated trailing octet instead of throwing', () => {
    expect(decodeUcs2(Buffer.from('004800', 'hex'))).toBe('H\uFFFD');
    expect(decodeUcs2(Buffer.from('00', 'hex'))).toBe('\uFFFD');
  });

  it('does not modify its input', () => {
    const input = Buffer.from('00480069', 'hex');
    decodeUcs2(input);
    expect(input.toString('hex')).toBe('00480069');
  });

  it('round-trips any sequence of code units, lone surrogates included', () => {
    const unit = fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 200 }), (text) => {
        const bytes = encodeUcs2(text);
        expect(bytes.length).toBe(text.length * 2);
        expect(decodeUcs2(bytes)).toBe(text);
      }),
    );
  });
});

describe('isUcs2Safe', () => {
  it('accepts BMP text and rejects surrogates', () => {
    expect(isUcs2Safe('Привет, 世界! €')).toBe(true);
    expect(isUcs2Safe('')).toBe(true);
    expect(isUcs2Safe('ok 😀')).toBe(false);
    expect(isUcs2Safe('\uD800')).toBe(false);
  });

  it('recognises high surrogates', () => {
    expect(isHighSurrogate(0xd83d)).toBe(true);
    expect(isHighSurrogate(0xde00)).toBe(false);
    expect(isHighSurrogate(0x0041)).toBe(false);
  });
});
