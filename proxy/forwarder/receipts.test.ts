import { describe, expect, it } from 'vitest';
import { detachPdu, receiptInfo, rewriteReceipt } from './receipts.js';
import { deliverSm, receiptText } from './testing.js';

describe('receiptInfo', () => {
  it('reads id and stat from the text of an SMSC delivery receipt (esm_class 0x04)', () => {
    // The id lies at [3, 9) of the text, after 'id:' (for rewriteReceipt).
    expect(receiptInfo(deliverSm({ esm_class: 0x04, short_message: receiptText('0012AB', 'undeliv') }))).toEqual({
      id: '0012AB',
      stat: 'UNDELIV',
      idStart: 3,
      idEnd: 9,
    });
  });

  it('prefers receipted_message_id and message_state over the text', () => {
    const pdu = deliverSm({
      esm_class: 0x04,
      short_message: receiptText('999'),
      tlvs: { receipted_message_id: 'FF', message_state: 5 },
    });
    // Both TLVs given: the text is not read (rewriteReceipt then finds its id itself).
    expect(receiptInfo(pdu)).toEqual({ id: 'FF', stat: 'UNDELIV', idStart: -1, idEnd: -1 });
  });

  it('recognises TLV-only receipts, with esm_class 0 and no text', () => {
    expect(receiptInfo(deliverSm({ tlvs: { receipted_message_id: '12345', message_state: 2 } }))).toEqual({
      id: '12345',
      stat: 'DELIVRD',
      idStart: -1,
      idEnd: -1,
    });
  });

  it('recognises every SMPP 3.4 §5.2.12 acknowledgement type and a receipt text without flags', () => {
    for (const esm of [0x04, 0x08, 0x10, 0x20, 0x44]) {
      expect(receiptInfo(deliverSm({ esm_class: esm }))).toEqual({ id: undefined, stat: 'UNKNOWN', idStart: -1, idEnd: -1 });
    }
    expect(receiptInfo(deliverSm({ short_message: receiptText('77') }))?.id).toBe('77');
  });

  it('reads a text receipt from message_payload', () => {
    const pdu = deliverSm({ esm_class: 0x04, tlvs: { message_payload: receiptText('ABC') } });
    expect(receiptInfo(pdu)?.id).toBe('ABC');
  });

  it('treats other messages as MO', () => {
    expect(receiptInfo(deliverSm({ short_message: Buffer.from('hello there') }))).toBeUndefined();
    expect(receiptInfo(deliverSm({ esm_class: 0x40, short_message: Buffer.from([5, 0, 3, 1, 2, 1, 0x41]) }))).toBeUndefined();
  });
});

describe('rewriteReceipt', () => {
  it("puts smppd's id in the text and receipted_message_id, keeping everything else", () => {
    const pdu = deliverSm({
      esm_class: 0x04,
      sequence_number: 5,
      short_message: receiptText('1715004'),
      tlvs: { receipted_message_id: '1A2B3C', message_state: 2, network_error_code: Buffer.from([3, 0, 0]) },
    });
    const out = rewriteReceipt(pdu, 'smppdid1');
    expect(out.short_message.toString('latin1')).toBe(receiptText('smppdid1').toString('latin1'));
    expect(out.tlvs).toEqual({ receipted_message_id: 'smppdid1', message_state: 2, network_error_code: Buffer.from([3, 0, 0]) });
    expect(out.source_addr).toBe(pdu.source_addr);
    expect(out.sequence_number).toBe(0);
    // the input is untouched
    expect(pdu.tlvs?.receipted_message_id).toBe('1A2B3C');
    expect(pdu.short_message.toString('latin1')).toContain('id:1715004');
  });

  it('rewrites a text in message_payload and leaves an absent receipted_message_id absent', () => {
    const pdu = deliverSm({ esm_class: 0x04, tlvs: { message_payload: receiptText('X1') } });
    const out = rewriteReceipt(pdu, 'mine');
    expect(out.tlvs?.message_payload?.toString('latin1')).toContain('id:mine sub:001');
    expect(out.tlvs?.receipted_message_id).toBeUndefined();
  });

  it('moves a text that no longer fits short_message to message_payload', () => {
    const long = Buffer.concat([receiptText('1'), Buffer.from(' '.repeat(254 - receiptText('1').length))]);
    const out = rewriteReceipt(deliverSm({ esm_class: 0x04, short_message: long }), 'a-much-longer-identifier');
    expect(out.short_message.length).toBe(0);
    expect(out.tlvs?.message_payload?.toString('latin1')).toContain('id:a-much-longer-identifier ');
  });
});

describe('detachPdu', () => {
  it('copies the bytes so the received frame is not kept', () => {
    const frame = Buffer.from('xxhelloyy');
    const pdu = deliverSm({ short_message: frame.subarray(2, 7), tlvs: { message_payload: frame.subarray(0, 2), unknown: [{ tag: 0x1400, value: frame.subarray(7) }] } });
    const copy = detachPdu(pdu);
    frame.fill(0);
    expect(copy.short_message.toString()).toBe('hello');
    expect(copy.tlvs?.message_payload?.toString()).toBe('xx');
    expect(copy.tlvs?.unknown?.[0]?.value.toString()).toBe('yy');
  });
});
