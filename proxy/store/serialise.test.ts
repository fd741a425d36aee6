import { describe, expect, it } from 'vitest';
import { deserialiseStored, serialiseStored } from './serialise.js';
import { StoreErrorCode, isStoreError } from './store.js';

describe('stored value serialisation', () => {
  it('round-trips PDU fields with nested Buffers', () => {
    const pdu = {
      source_addr: '258840001',
      esm_class: 4,
      short_message: Buffer.from([0x00, 0xff, 0x41]),
      tlvs: [{ tag: 0x1e, value: Buffer.from('abc\0') }],
      empty: Buffer.alloc(0),
      none: null,
    };
    const back = deserialiseStored(serialiseStored(pdu)) as typeof pdu;
    expect(back).toEqual(pdu);
    expect(Buffer.isBuffer(back.tlvs[0]?.value)).toBe(true);
  });

  it('writes bytes as base64, and only the viewed bytes of a Uint8Array', () => {
    const whole = Buffer.from('xxhelloxx');
    const text = serialiseStored({ b: whole.subarray(2, 7), u: new Uint8Array([1, 2]) });
    expect(JSON.parse(text)).toEqual({ b: { $bytes: Buffer.from('hello').toString('base64') }, u: { $bytes: 'AQI=' } });
    expect(deserialiseStored(text)).toEqual({ b: Buffer.from('hello'), u: Buffer.from([1, 2]) });
  });

  it('rejects text that is not JSON with CORRUPT', () => {
    let code: string | undefined;
    try {
      deserialiseStored('{nope');
    } catch (err) {
      code = isStoreError(err) ? err.code : 'other';
    }
    expect(code).toBe(StoreErrorCode.CORRUPT);
  });
});
