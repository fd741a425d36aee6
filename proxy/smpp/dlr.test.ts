import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type MessageIdMode,
  MESSAGE_STATE,
  canonicalReceiptIdStat,
  formatReceiptDate,
  formatReceiptText,
  isFinalMessageState,
  messageIdKeys,
  messageIdsMatch,
  messageStateToStat,
  normaliseMessageId,
  parseReceiptDate,
  parseReceiptText,
  replaceIdAt,
  replaceReceiptId,
  replaceReceiptStat,
  statToMessageState,
} from './dlr.js';

const CANONICAL =
  'id:0123456789 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:Hello world';

describe('parseReceiptText', () => {
  it('reads the Appendix B form', () => {
    expect(parseReceiptText(CANONICAL)).toEqual({
      ok: true,
      receipt: {
        id: '0123456789',
        sub: '001',
        dlvrd: '001',
        submitDate: '2401151230',
        doneDate: '2401151231',
        stat: 'DELIVRD',
        err: '000',
        text: 'Hello world',
      },
    });
  });

  it('reads a Buffer as latin1, byte for byte', () => {
    const buf = Buffer.concat([Buffer.from('id:7 stat:UNDELIV err:001 text:caf'), Buffer.from([0xe9])]);
    expect(parseReceiptText(buf)).toMatchObject({ ok: true, receipt: { id: '7', stat: 'UNDELIV', err: '001', text: 'café' } });
  });

  it('accepts keys in any case and stat in lower case', () => {
    const r = parseReceiptText(
      'ID:abc123 SUB:001 DLVRD:000 SUBMIT DATE:2401151230 DONE DATE:2401151231 STAT:expired ERR:000 TEXT:x',
    );
    expect(r).toMatchObject({ ok: true, receipt: { id: 'abc123', stat: 'EXPIRED', submitDate: '2401151230', text: 'x' } });
  });

  it('accepts submit_date / done_date and 12-digit dates', () => {
    const r = parseReceiptText(
      'id:44 sub:001 dlvrd:001 submit_date:240115123001 done_date:240115123159 stat:DELIVRD err:0 Text:hi',
    );
    expect(r).toMatchObject({
      ok: true,
      receipt: { id: '44', submitDate: '240115123001', doneDate: '240115123159', err: '0', text: 'hi' },
    });
  });

  it('accepts extra spaces and leading whitespace', () => {
    const r = parseReceiptText(
      '  id: 99   sub:001  dlvrd:001 submit  date: 2401151230 done date:2401151231   stat: REJECTD  err:  005 ',
    );
    expect(r).toEqual({
      ok: true,
      receipt: {
        id: '99',
        sub: '001',
        dlvrd: '001',
        submitDate: '2401151230',
        doneDate: '2401151231',
        stat: 'REJECTD',
        err: '005',
        text: undefined,
      },
    });
  });

  it('accepts missing fields other than id and stat', () => {
    expect(parseReceiptText('id:1 stat:ACCEPTD')).toEqual({
      ok: true,
      receipt: {
        id: '1',
        stat: 'ACCEPTD',
        sub: undefined,
        dlvrd: undefined,
        submitDate: undefined,
        doneDate: undefined,
        err: undefined,
        text: undefined,
      },
    });
    expect(parseReceiptText('id:1 sub:001 stat:DELIVRD err:000 text:')).toMatchObject({ ok: true, receipt: { text: '' } });
  });

  it('keeps ids with letters, dashes and UUIDs whole', () => {
    for (const id of ['B8BE19', '00b8be19', 'msg-2024-0001', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'A_1.2/3']) {
      expect(parseReceiptText(`id:${id} sub:001 dlvrd:001 stat:DELIVRD err:000`)).toMatchObject({ ok: true, receipt: { id } });
    }
  });

  it('takes the whole rest after text:, colons and keys included', () => {
    const r = parseReceiptText('id:5 stat:DELIVRD err:000 text:stat:FAKE id:6 ok  ');
    expect(r).toMatchObject({ ok: true, receipt: { id: '5', stat: 'DELIVRD', text: 'stat:FAKE id:6 ok  ' } });
  });

  it('ignores trailing NULs', () => {
    expect(parseReceiptText('id:5 stat:DELIVRD err:000 text:abc\0')).toMatchObject({ ok: true, receipt: { text: 'abc' } });
  });

  it('recognises every Appendix B stat value', () => {
    for (const stat of ['DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD', 'ENROUTE']) {
      expect(parseReceiptText(`id:1 stat:${stat} err:000`)).toMatchObject({ ok: true, receipt: { stat } });
    }
  });

  it('rejects text that is not a receipt', () => {
    for (const text of [
      '',
      'Hello world',
      'my id:5 stat:DELIVRD', // does not start with id
      'sub:001 id:5 stat:DELIVRD',
      'id: stat:DELIVRD', // empty id
      'id:123 sub:001 dlvrd:001', // no stat
      'id:123 stat: err:000',
      'identity:5 stat:DELIVRD',
    ]) {
      expect(parseReceiptText(text)).toEqual({ ok: false });
    }
  });

  it('never throws on random input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => typeof parseReceiptText(b).ok === 'boolean'));
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => typeof parseReceiptText(s).ok === 'boolean'));
  });
});

describe('formatReceiptText', () => {
  it('writes the canonical form', () => {
    expect(
      formatReceiptText({
        id: '0123456789',
        sub: '001',
        dlvrd: '001',
        submitDate: '2401151230',
        doneDate: '2401151231',
        stat: 'DELIVRD',
        err: '000',
        text: 'Hello world',
      }),
    ).toBe(CANONICAL);
  });

  it('pads numbers, formats Dates in UTC and fills defaults', () => {
    const submit = new Date(Date.UTC(2024, 0, 15, 12, 30, 59));
    const done = new Date(Date.UTC(2031, 11, 31, 23, 59));
    expect(formatReceiptText({ id: 'x1', stat: 'undeliv', submitDate: submit, doneDate: done, err: 34 })).toBe(
      'id:x1 sub:001 dlvrd:000 submit date:2401151230 done date:3112312359 stat:UNDELIV err:034 text:',
    );
    expect(formatReceiptText({ id: 'x2', stat: 'DELIVRD', submitDate: submit, doneDate: submit, sub: 2, dlvrd: 2 })).toBe(
      'id:x2 sub:002 dlvrd:002 submit date:2401151230 done date:2401151230 stat:DELIVRD err:000 text:',
    );
  });

  it('keeps only the first 20 characters of text (Appendix B)', () => {
    const date = '2401151230';
    const text = 'abcdefghij0123456789XYZ';
    const out = formatReceiptText({ id: '1', stat: 'DELIVRD', submitDate: date, doneDate: date, text });
    expect(out.endsWith('text:abcdefghij0123456789')).toBe(true);
  });

  it('round-trips through parseReceiptText', () => {
    const token = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF-_.'), minLength: 1, maxLength: 40 });
    const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
    fc.assert(
      fc.property(
        token,
        fc.constantFrom('DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD', 'ENROUTE'),
        digits(3),
        digits(3),
        fc.oneof(digits(10), digits(12)),
        fc.oneof(digits(10), digits(12)),
        digits(3),
        fc.string({ maxLength: 20 }),
        (id, stat, sub, dlvrd, submitDate, doneDate, err, text) => {
          const receipt = { id, stat, sub, dlvrd, submitDate, doneDate, err, text };
          expect(parseReceiptText(formatReceiptText(receipt))).toEqual({ ok: true, receipt });
        },
      ),
    );
  });
});

describe('parseReceiptText on the canonical form (its fast path)', () => {
  it('canonicalReceiptIdStat reads id and stat of the canonical form only', () => {
    const read = { id: '0123456789', stat: 'DELIVRD', idStart: 3, idEnd: 13 };
    expect(canonicalReceiptIdStat(Buffer.from(`${CANONICAL}\0`, 'latin1'))).toEqual(read);
    expect(canonicalReceiptIdStat(Buffer.from(CANONICAL.replace('stat:DELIVRD', 'stat:delivrd')))).toEqual(read);
    expect(canonicalReceiptIdStat(Buffer.from(` ${CANONICAL}`))).toBeUndefined();
    expect(canonicalReceiptIdStat(Buffer.from(CANONICAL.replace(' sub:', '  sub:')))).toBeUndefined();
    expect(canonicalReceiptIdStat(Buffer.from(CANONICAL.replace('stat:DELIVRD', 'stat:')))).toBeUndefined();
    expect(canonicalReceiptIdStat(Buffer.from('hello'))).toBeUndefined();
  });

  it('replaceReceiptStat changes the stat value only, in the canonical form and in others', () => {
    const canonical = Buffer.from('id:AB12 sub:001 dlvrd:000 submit date:2401011200 done date:2401011201 stat:FAILED err:069 text:x', 'latin1');
    expect(replaceReceiptStat(canonical, 'UNDELIV')?.toString('latin1')).toBe(
      'id:AB12 sub:001 dlvrd:000 submit date:2401011200 done date:2401011201 stat:UNDELIV err:069 text:x',
    );
    const loose = Buffer.from('ID: AB12  Stat: failed  err:069', 'latin1');
    expect(replaceReceiptStat(loose, 'UNDELIV')?.toString('latin1')).toBe('ID: AB12  Stat: UNDELIV  err:069');
    expect(replaceReceiptStat(Buffer.from('hello there', 'latin1'), 'UNDELIV')).toBeUndefined();
    expect(() => replaceReceiptStat(canonical, 'NOT OK')).toThrow(RangeError);
  });

  it('reads exactly what the tolerant parser reads', () => {
    // A leading space takes the tolerant path: both readings of the same text must agree, including
    // values that hold other whitespace, key-like tokens or nothing at all.
    const value = fc.string({ unit: fc.constantFrom(...'0aZ:-_\t\u00a0\u00e9\u2003 stat:id'), maxLength: 12 });
    fc.assert(
      fc.property(value, value, value, value, value, value, value, value, (id, sub, dlvrd, sd, dd, stat, err, text) => {
        const t = `id:${id} sub:${sub} dlvrd:${dlvrd} submit date:${sd} done date:${dd} stat:${stat} err:${err} text:${text}`;
        expect(parseReceiptText(t)).toEqual(parseReceiptText(` ${t}`));
        expect(parseReceiptText(`${t}\0\0`)).toEqual(parseReceiptText(` ${t}`));
        const replaced = replaceReceiptId(t, 'NEW');
        if (replaced !== undefined) expect(parseReceiptText(replaced)).toMatchObject({ ok: true, receipt: { id: 'NEW' } });
        if ([...t].every((c) => c.charCodeAt(0) <= 0xff)) {
          // As bytes (a short_message): the same reading, and the same rewrite byte for byte.
          const bytes = Buffer.from(`${t}\0`, 'latin1');
          expect(parseReceiptText(bytes)).toEqual(parseReceiptText(` ${t}`));
          expect(replaceReceiptId(bytes, 'NEW')?.toString('latin1')).toBe(replaceReceiptId(`${t}\0`, 'NEW'));
          // The stat rewrite (receipt_stats) reads back as the new stat, the id unchanged.
          const restated = replaceReceiptStat(bytes, 'UNDELIV');
          const before = parseReceiptText(bytes);
          if (restated !== undefined && before.ok) {
            expect(parseReceiptText(restated)).toMatchObject({ ok: true, receipt: { id: before.receipt.id, stat: 'UNDELIV' } });
          }
          // The receipt path's shortcut reads the same id and stat, or leaves the text to the parser.
          const quick = canonicalReceiptIdStat(bytes);
          const full = parseReceiptText(bytes);
          if (quick !== undefined) {
            expect(full).toMatchObject({ ok: true, receipt: { id: quick.id, stat: quick.stat } });
            // And the rewrite at the place it found the id is the rewrite, byte for byte.
            expect(replaceIdAt(bytes, quick.idStart, quick.idEnd, 'NEW').toString('latin1')).toBe(
              replaceReceiptId(bytes, 'NEW')?.toString('latin1'),
            );
          }
        }
      }),
    );
  });
});

describe('receipt dates', () => {
  it('parses 10 and 12 digit dates as UTC', () => {
    expect(parseReceiptDate('2401151230')?.toISOString()).toBe('2024-01-15T12:30:00.000Z');
    expect(parseReceiptDate('240229235959')?.toISOString()).toBe('2024-02-29T23:59:59.000Z');
  });

  it('rejects impossible dates', () => {
    const bad = ['', '24011512', '24011512300', '2402301200', '2413011200', '2401152400', '2401151260', '240115123060'];
    for (const s of [...bad, '24O1151230']) {
      expect(parseReceiptDate(s)).toBeUndefined();
    }
  });

  it('formats a Date as YYMMDDhhmm', () => {
    expect(formatReceiptDate(new Date(Date.UTC(2009, 1, 3, 4, 5, 6)))).toBe('0902030405');
  });
});

describe('replaceReceiptId', () => {
  it('rewrites only the id', () => {
    expect(replaceReceiptId(CANONICAL, 'smppd-00001')).toBe(
      'id:smppd-00001 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:Hello world',
    );
  });

  it('keeps odd spacing, case and trailing bytes', () => {
    expect(replaceReceiptId('  ID:  b8be19  SUB:001 Stat:delivrd text:x\0', 'N1')).toBe(
      '  ID:  N1  SUB:001 Stat:delivrd text:x\0',
    );
  });

  it('keeps every other byte of a Buffer, non-ASCII text included', () => {
    const before = Buffer.concat([Buffer.from('id:B8BE19 stat:DELIVRD err:000 text:'), Buffer.from([0xe9, 0x00, 0xff, 0x80])]);
    const after = replaceReceiptId(before, 'abc');
    expect(after).toBeInstanceOf(Buffer);
    expect(after?.toString('hex')).toBe(
      Buffer.concat([Buffer.from('id:abc stat:DELIVRD err:000 text:'), Buffer.from([0xe9, 0x00, 0xff, 0x80])]).toString('hex'),
    );
  });

  it('returns undefined for text that is not a receipt', () => {
    expect(replaceReceiptId('hello id:5', 'x')).toBeUndefined();
    expect(replaceReceiptId(Buffer.from('id:5 no status'), 'x')).toBeUndefined();
  });

  it('refuses an id that would break the text', () => {
    expect(() => replaceReceiptId(CANONICAL, '')).toThrow(RangeError);
    expect(() => replaceReceiptId(CANONICAL, 'a b')).toThrow(RangeError);
  });
});

describe('message states', () => {
  it('maps stat values to SMPP 3.4 message_state and back', () => {
    const table: [string, number][] = [
      ['ENROUTE', 1],
      ['DELIVRD', 2],
      ['EXPIRED', 3],
      ['DELETED', 4],
      ['UNDELIV', 5],
      ['ACCEPTD', 6],
      ['UNKNOWN', 7],
      ['REJECTD', 8],
    ];
    for (const [stat, state] of table) {
      expect(statToMessageState(stat)).toBe(state);
      expect(statToMessageState(stat.toLowerCase())).toBe(state);
      expect(messageStateToStat(state)).toBe(stat);
    }
    expect(MESSAGE_STATE).toEqual({
      ENROUTE: 1,
      DELIVERED: 2,
      EXPIRED: 3,
      DELETED: 4,
      UNDELIVERABLE: 5,
      ACCEPTED: 6,
      UNKNOWN: 7,
      REJECTED: 8,
    });
  });

  it('maps spelled-out variants but not vendor words', () => {
    expect(statToMessageState('DELIVERED')).toBe(2);
    expect(statToMessageState('Undeliverable')).toBe(5);
    expect(statToMessageState('UNDELIVERED')).toBe(5);
    expect(statToMessageState('ACCEPTED')).toBe(6);
    expect(statToMessageState('REJECTED')).toBe(8);
    expect(statToMessageState('FAILED')).toBeUndefined();
    expect(statToMessageState('toString')).toBeUndefined();
    expect(messageStateToStat(0)).toBeUndefined();
    expect(messageStateToStat(9)).toBeUndefined();
  });

  it('treats every state but ENROUTE as final', () => {
    expect(isFinalMessageState(1)).toBe(false);
    expect([2, 3, 4, 5, 6, 7, 8].every(isFinalMessageState)).toBe(true);
    expect(isFinalMessageState(0)).toBe(false);
  });
});

describe('message id normalisation', () => {
  it('string: exact', () => {
    expect(messageIdKeys('00B8BE19', 'string')).toEqual(['00B8BE19']);
    expect(messageIdsMatch('00B8BE19', '00B8BE19', 'string')).toBe(true);
    expect(messageIdsMatch('00B8BE19', 'B8BE19', 'string')).toBe(false);
    expect(messageIdsMatch('abc', 'ABC', 'string')).toBe(false);
    expect(messageIdKeys('', 'string')).toEqual([]);
  });

  it('hex and decimal keys are the exact value, at every length and case', () => {
    const of = (chars: string) => fc.string({ unit: fc.constantFrom(...chars), minLength: 1, maxLength: 24 });
    fc.assert(fc.property(of('0123456789abcdefABCDEF'), (id) => normaliseMessageId(id, 'hex') === BigInt(`0x${id}`).toString()));
    fc.assert(fc.property(of('0123456789'), (id) => normaliseMessageId(id, 'decimal') === BigInt(id).toString()));
  });

  it('hex: ignores case and leading zeros (jasmin#1129: 00B8BE19 vs B8BE19)', () => {
    expect(normaliseMessageId('00B8BE19', 'hex')).toBe('12107289');
    expect(normaliseMessageId('b8be19', 'hex')).toBe('12107289');
    expect(messageIdsMatch('00B8BE19', 'b8be19', 'hex')).toBe(true);
    expect(normaliseMessageId('10', 'hex')).toBe('16');
    expect(normaliseMessageId('0000', 'hex')).toBe('0');
    expect(messageIdsMatch('B8BE19', '12107289', 'hex')).toBe(false);
  });

  it('decimal: ignores leading zeros', () => {
    expect(normaliseMessageId('0012345', 'decimal')).toBe('12345');
    expect(messageIdsMatch('0012345', '12345', 'decimal')).toBe(true);
    expect(messageIdsMatch('12345', '12346', 'decimal')).toBe(false);
    // a long id beyond Number precision keeps every digit
    expect(normaliseMessageId('000123456789012345678901234567890', 'decimal')).toBe('123456789012345678901234567890');
  });

  it('falls back to a text key for ids that are not numbers in the mode', () => {
    expect(messageIdKeys('b8be19', 'decimal')).toEqual(['B8BE19']);
    expect(messageIdKeys('3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'hex')).toEqual(['3F2504E0-4F89-11D3-9A0C-0305E82C3301']);
    expect(messageIdKeys('Msg_1', 'hex')).toEqual(['Msg_1']);
  });

  it('auto: matches hex in submit_sm_resp with decimal in the receipt, and the other way round', () => {
    expect(messageIdKeys('B8BE19', 'auto')).toEqual(['12107289']);
    expect(messageIdKeys('12107289', 'auto')).toEqual(['12107289', '303067785']);
    expect(messageIdsMatch('B8BE19', '12107289', 'auto')).toBe(true);
    expect(messageIdsMatch('12107289', 'b8be19', 'auto')).toBe(true);
    expect(messageIdsMatch('00B8BE19', '012107289', 'auto')).toBe(true);
    // hex written with digits only: '10' (hex) is 16 in decimal
    expect(messageIdsMatch('10', '16', 'auto')).toBe(true);
    expect(messageIdsMatch('B8BE19', '12107288', 'auto')).toBe(false);
    expect(messageIdsMatch('B8BE19', 'B8BE1A', 'auto')).toBe(false);
  });

  it('auto: same-form ids match regardless of case and leading zeros', () => {
    expect(messageIdsMatch('0012345', '12345', 'auto')).toBe(true);
    expect(messageIdsMatch('00b8be19', 'B8BE19', 'auto')).toBe(true);
    expect(messageIdKeys('7', 'auto')).toEqual(['7']);
    expect(normaliseMessageId('0012345', 'auto')).toBe('12345');
  });

  it('auto: UUIDs match case-insensitively, other text exactly', () => {
    expect(messageIdsMatch('3F2504E0-4F89-11D3-9A0C-0305E82C3301', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'auto')).toBe(true);
    expect(messageIdsMatch('3f2504e0-4f89-11d3-9a0c-0305e82c3301', '3f2504e0-4f89-11d3-9a0c-0305e82c3302', 'auto')).toBe(false);
    expect(messageIdsMatch('Msg-XY', 'msg-xy', 'auto')).toBe(false);
    expect(messageIdsMatch('Msg-XY', 'Msg-XY', 'auto')).toBe(true);
  });

  it('ignores surrounding whitespace and NULs except in string mode', () => {
    expect(messageIdKeys(' 0012345\0', 'auto')).toEqual(['12345', '74565']);
    expect(messageIdKeys(' \0', 'auto')).toEqual([]);
    expect(normaliseMessageId('', 'hex')).toBe('');
    expect(messageIdKeys(' 1 ', 'string')).toEqual([' 1 ']);
  });

  it('numeric keys never collide with text keys', () => {
    const modes: MessageIdMode[] = ['auto', 'hex', 'decimal'];
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom(...modes), (id, mode) => {
        const keys = messageIdKeys(id, mode);
        const t = id.replace(/^[\s\0]+|[\s\0]+$/g, '');
        const numeric = mode === 'decimal' ? /^\d+$/.test(t) : /^[0-9a-f]+$/i.test(t);
        for (const k of keys) expect(/^\d+$/.test(k)).toBe(numeric);
      }),
    );
  });

  it('auto: any value written in hex (any case, zero-padded) matches it written in decimal', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 80n) - 1n }),
        fc.nat(4),
        fc.nat(4),
        fc.boolean(),
        (n, zh, zd, upper) => {
          const h = '0'.repeat(zh) + (upper ? n.toString(16).toUpperCase() : n.toString(16));
          const d = '0'.repeat(zd) + n.toString(10);
          expect(messageIdsMatch(h, d, 'auto')).toBe(true);
          expect(messageIdsMatch(d, h, 'auto')).toBe(true);
          expect(messageIdsMatch(h, h.toLowerCase(), 'hex')).toBe(true);
          expect(normaliseMessageId(d, 'decimal')).toBe(n.toString());
        },
      ),
    );
  });
});
