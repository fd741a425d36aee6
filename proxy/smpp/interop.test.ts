import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodePdu } from './decode.js';
import { encodePdu } from './encode.js';
import { FIXTURES, hex } from './fixtures.js';

// Cross-check against node-smpp (an independent implementation): its bytes decode here and ours decode there.
interface NodeSmppPdu {
  command: string;
  toBuffer(): Buffer;
  [field: string]: unknown;
}
const require = createRequire(import.meta.url);
const { PDU } = require('smpp') as {
  PDU: { new (command: string, options: object): NodeSmppPdu; fromBuffer(buf: Buffer): NodeSmppPdu };
};

describe('interop with node-smpp', () => {
  it('decodes node-smpp submit_sm and deliver_sm receipts', () => {
    const submit = new PDU('submit_sm', {
      sequence_number: 7, source_addr_ton: 1, source_addr_npi: 1, source_addr: '+258840000001',
      dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '+258840000002', registered_delivery: 1,
      short_message: Buffer.from('Hello'), user_message_reference: 9,
    }).toBuffer();
    expect(decodePdu(submit)).toMatchObject({
      ok: true,
      pdu: {
        command: 'submit_sm', sequence_number: 7, source_addr: '+258840000001', destination_addr: '+258840000002',
        registered_delivery: 1, short_message: Buffer.from('Hello'), tlvs: { user_message_reference: 9 },
      },
    });
    const receipt = new PDU('deliver_sm', {
      sequence_number: 8, esm_class: 4, source_addr: '258840000002', destination_addr: 'INFO',
      short_message: Buffer.from('id:abc stat:DELIVRD'), receipted_message_id: 'abc', message_state: 2,
    }).toBuffer();
    expect(decodePdu(receipt)).toMatchObject({
      ok: true,
      pdu: { command: 'deliver_sm', esm_class: 4, tlvs: { receipted_message_id: 'abc', message_state: 2 } },
    });
  });

  it('node-smpp decodes every fixture we encode to the same command, sequence number and fields', () => {
    for (const f of FIXTURES) {
      const bytes = encodePdu(f.pdu);
      expect(bytes).toEqual(hex(f.hex));
      const theirs = PDU.fromBuffer(bytes);
      expect(theirs.command).toBe(f.pdu.command);
      expect(theirs.sequence_number).toBe(f.pdu.sequence_number);
      for (const field of ['source_addr', 'destination_addr', 'message_id', 'system_id', 'esm_class'] as const) {
        if (field in f.pdu && f.pdu.command_status === 0) expect(theirs[field]).toBe((f.pdu as unknown as Record<string, unknown>)[field]);
      }
    }
  });
});
