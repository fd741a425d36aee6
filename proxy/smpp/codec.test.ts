import { describe, expect, it } from 'vitest';
import { decodePdu } from './decode.js';
import { encodePdu } from './encode.js';
import { FIXTURES, hex } from './fixtures.js';
import { FrameDecoder } from './frame.js';
import { CommandId } from './commands.js';

describe('hex fixtures (SMPP 3.4 §4 layouts)', () => {
  it('cover every operation and response', () => {
    const covered = new Set(FIXTURES.map((f) => f.pdu.command));
    expect([...covered].sort()).toEqual(Object.keys(CommandId).sort());
  });

  for (const f of FIXTURES) {
    describe(f.name, () => {
      const bytes = hex(f.hex);

      it('encodes to the fixture bytes', () => {
        expect(encodePdu(f.pdu).toString('hex')).toBe(bytes.toString('hex'));
      });

      it('decodes back to the object, consuming the whole frame', () => {
        const framer = new FrameDecoder();
        framer.push(bytes);
        const next = framer.next();
        expect(next).toEqual({ kind: 'frame', frame: bytes });
        expect(framer.buffered).toBe(0);
        expect(framer.next()).toEqual({ kind: 'incomplete' });
        expect(decodePdu(bytes)).toEqual({ ok: true, pdu: f.pdu });
      });
    });
  }
});
