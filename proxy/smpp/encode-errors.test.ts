import { describe, expect, it } from 'vitest';
import { encodePdu } from './encode.js';
import { SmppEncodeError } from './errors.js';
import { FIXTURES } from './fixtures.js';
import type { Pdu, SubmitSm } from './pdu.js';

const submit = FIXTURES.find((f) => f.pdu.command === 'submit_sm')!.pdu as SubmitSm;

function codeOf(pdu: unknown): string | undefined {
  try {
    encodePdu(pdu as Pdu);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(SmppEncodeError);
    return `${(err as SmppEncodeError).code} ${(err as SmppEncodeError).field}`;
  }
}

describe('encodePdu rejects objects that cannot go on the wire', () => {
  it.each([
    ['source_addr over 20 octets', { source_addr: '1'.repeat(21) }, 'FIELD_TOO_LONG source_addr'],
    ['service_type over 5 octets', { service_type: 'ABCDEF' }, 'FIELD_TOO_LONG service_type'],
    ['short_message over 254 octets', { short_message: Buffer.alloc(255) }, 'FIELD_TOO_LONG short_message'],
    ['esm_class over 255', { esm_class: 256 }, 'INVALID_VALUE esm_class'],
    ['a missing integer field', { priority_flag: undefined }, 'INVALID_VALUE priority_flag'],
    ['a negative sequence_number', { sequence_number: -1 }, 'INVALID_VALUE sequence_number'],
    ['a NUL inside a C-Octet String', { destination_addr: '12\u00003' }, 'INVALID_VALUE destination_addr'],
    ['a non-latin1 character', { source_addr: 'Ω' }, 'INVALID_VALUE source_addr'],
    ['a validity_period of the wrong length', { validity_period: '2401' }, 'INVALID_VALUE validity_period'],
    ['an unknown TLV name', { tlvs: { colour: 1 } }, 'UNKNOWN_TLV colour'],
    ['a TLV value over its maximum', { tlvs: { receipted_message_id: 'x'.repeat(65) } }, 'FIELD_TOO_LONG receipted_message_id'],
    ['a TLV value under its minimum', { tlvs: { callback_num: Buffer.alloc(3) } }, 'INVALID_VALUE callback_num'],
    ['a u8 TLV over 255', { tlvs: { message_state: 300 } }, 'INVALID_VALUE message_state'],
    [
      'short_message together with message_payload',
      { tlvs: { message_payload: Buffer.from('x') } },
      'INVALID_VALUE short_message',
    ],
    ['a PDU over 64 KiB', { short_message: Buffer.alloc(0), tlvs: { message_payload: Buffer.alloc(65530) } }, 'FIELD_TOO_LONG command_length'],
  ])('%s', (_name, change, code) => {
    expect(codeOf({ ...submit, ...change })).toBe(code);
  });

  it('an unknown command', () => {
    expect(codeOf({ command: 'broadcast_sm', command_status: 0, sequence_number: 1 })).toBe('UNKNOWN_COMMAND command');
  });

  it('submit_multi without destinations or with a bad dest_flag', () => {
    const multi = FIXTURES.find((f) => f.pdu.command === 'submit_multi')!.pdu;
    expect(codeOf({ ...multi, dest_addresses: [] })).toBe('INVALID_VALUE dest_addresses');
    expect(codeOf({ ...multi, dest_addresses: [{ dest_flag: 3 }] })).toBe('INVALID_VALUE dest_flag');
    const many = Array.from({ length: 255 }, () => ({ dest_flag: 2, dl_name: 'x' }));
    expect(codeOf({ ...multi, dest_addresses: many })).toBe('INVALID_VALUE dest_addresses');
  });
});
