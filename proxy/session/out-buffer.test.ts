import { describe, expect, it } from 'vitest';
import { OutBuffer } from './out-buffer.js';

const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

describe('OutBuffer', () => {
  it('gives back what was appended and committed, in order', () => {
    const out = new OutBuffer();
    out.append(Buffer.from('abc'));
    const buf = out.reserve(2);
    buf.write('de', out.length, 'latin1');
    out.commit(2);
    out.append(Buffer.from('f'));
    expect(out.take(false).toString('latin1')).toBe('abcdef');
    expect(out.length).toBe(0);
  });

  it('keeps the bytes when a frame needs more room than its buffer has', () => {
    const out = new OutBuffer();
    out.append(bytes(60_000, 1));
    out.append(bytes(10_000, 2));
    out.append(bytes(200_000, 3));
    const all = out.take(false);
    expect(all.length).toBe(270_000);
    expect([all[0], all[59_999], all[60_000], all[69_999], all[70_000], all[269_999]]).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('reuses a buffer only after a write that let go of it', () => {
    const out = new OutBuffer();
    out.append(bytes(10, 7));
    const first = out.take(true);
    out.written(false); // the socket kept it: never handed out again
    out.append(bytes(10, 8));
    const second = out.take(true);
    expect(second.buffer).not.toBe(first.buffer);
    expect(first.equals(bytes(10, 7))).toBe(true);
    out.written(true);
    out.append(bytes(10, 9));
    expect(out.take(true).buffer).toBe(second.buffer);
    out.written(true);
  });

  it('puts frames written during a write into another buffer', () => {
    const out = new OutBuffer();
    out.append(bytes(4, 1));
    const sending = out.take(true);
    out.append(bytes(4, 2)); // e.g. written from inside the socket's write()
    out.written(true);
    expect(sending.equals(bytes(4, 1))).toBe(true);
    expect(out.take(false).equals(bytes(4, 2))).toBe(true);
  });

  it('holds no buffer between writes, and nothing after discard', () => {
    const out = new OutBuffer();
    out.append(bytes(100, 1));
    out.discard();
    expect(out.length).toBe(0);
    out.append(bytes(3, 4));
    expect(out.take(false).equals(bytes(3, 4))).toBe(true);
  });
});
