import { describe, expect, it } from 'vitest';
import { FIXTURES, hex } from './fixtures.js';
import { FrameDecoder, MAX_PDU_LENGTH } from './frame.js';
import type { FrameResult } from './frame.js';

const frames = FIXTURES.map((f) => hex(f.hex));
const stream = Buffer.concat(frames);

function drain(d: FrameDecoder): Buffer[] {
  const out: Buffer[] = [];
  for (let r: FrameResult = d.next(); r.kind === 'frame'; r = d.next()) out.push(r.frame);
  return out;
}

describe('FrameDecoder', () => {
  it('splits coalesced PDUs read in one chunk', () => {
    const d = new FrameDecoder();
    d.push(stream);
    expect(drain(d)).toEqual(frames);
    expect(d.buffered).toBe(0);
  });

  it('joins PDUs arriving one byte at a time', () => {
    const d = new FrameDecoder();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) {
      d.push(stream.subarray(i, i + 1));
      out.push(...drain(d));
    }
    expect(out).toEqual(frames);
    expect(d.buffered).toBe(0);
  });

  it('joins PDUs cut at every possible point', () => {
    for (let cut = 1; cut < stream.length; cut += 7) {
      const d = new FrameDecoder();
      d.push(stream.subarray(0, cut));
      const out = drain(d);
      d.push(stream.subarray(cut));
      out.push(...drain(d));
      expect(out).toEqual(frames);
    }
  });

  it('reassembles a maximum-size PDU from small reads', () => {
    const big = Buffer.alloc(MAX_PDU_LENGTH, 0x41);
    big.writeUInt32BE(MAX_PDU_LENGTH, 0);
    const d = new FrameDecoder();
    for (let off = 0; off < big.length; off += 1000) {
      d.push(big.subarray(off, off + 1000));
      if (off + 1000 < big.length) expect(d.next()).toEqual({ kind: 'incomplete' });
    }
    expect(d.next()).toEqual({ kind: 'frame', frame: big });
  });

  it('does not copy a frame that lies within one read', () => {
    const d = new FrameDecoder();
    d.push(stream);
    const first = d.next();
    expect(first.kind === 'frame' && first.frame.buffer === stream.buffer).toBe(true);
  });

  it('keeps handed-out frames intact while later reads are joined', () => {
    const d = new FrameDecoder();
    const [a, b] = [frames[0]!, frames[12]!];
    d.push(Buffer.concat([a, b.subarray(0, 10)]));
    const first = d.next();
    d.push(b.subarray(10));
    const second = d.next();
    expect(first).toEqual({ kind: 'frame', frame: a });
    expect(second).toEqual({ kind: 'frame', frame: b });
  });

  it.each([
    ['shorter than a header', '0000000f', 15],
    ['zero', '00000000', 0],
    ['over 64 KiB', '00010001', 65537],
    ['huge', 'ffffffff', 0xffffffff],
  ])('reports command_length %s as INVALID_LENGTH and stays failed', (_name, len, length) => {
    const d = new FrameDecoder();
    d.push(Buffer.concat([frames[0]!, hex(`${len} 00000015 00000000 00000001`)]));
    expect(d.next().kind).toBe('frame');
    const err = { kind: 'error', code: 'INVALID_LENGTH', length };
    expect(d.next()).toEqual(err);
    d.push(Buffer.alloc(100_000));
    expect(d.next()).toEqual(err);
    expect(d.buffered).toBe(0);
  });

  it('needs only the 4 length octets to reject a length', () => {
    const d = new FrameDecoder();
    d.push(hex('000000'));
    expect(d.next()).toEqual({ kind: 'incomplete' });
    d.push(hex('05'));
    expect(d.next()).toMatchObject({ kind: 'error', length: 5 });
  });

  it('honours a smaller maxLength', () => {
    const d = new FrameDecoder({ maxLength: 100 });
    d.push(hex('00000065 00000004 00000000 00000001'));
    expect(d.next()).toEqual({ kind: 'error', code: 'INVALID_LENGTH', length: 101 });
  });
});
