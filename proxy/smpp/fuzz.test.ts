import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { CommandId } from './commands.js';
import { decodePdu } from './decode.js';
import { encodePdu } from './encode.js';
import { FIXTURES, hex } from './fixtures.js';
import { FrameDecoder, MAX_PDU_LENGTH } from './frame.js';

// SPEC §4 "No input can crash the process or leak memory": random and mutated frames through
// FrameDecoder + decodePdu. Seeded, so a failure reproduces.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** xorshift32: deterministic and allocation-free. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const seeds = FIXTURES.map((f) => hex(f.hex));
const ids = Object.values(CommandId);

function mutate(rand: (n: number) => number): Buffer {
  const base = seeds[rand(seeds.length)]!;
  const b = Buffer.from(base);
  switch (rand(8)) {
    case 0: {
      // flip 1-4 bytes of the body or header
      for (let k = 1 + rand(4); k > 0; k--) b[rand(b.length)] = rand(256);
      return b;
    }
    case 1: // truncate, keeping the length field
      return b.subarray(0, rand(b.length));
    case 2: {
      // extend with random bytes, keeping the length field
      const extra = Buffer.alloc(1 + rand(40));
      for (let i = 0; i < extra.length; i++) extra[i] = rand(256);
      return Buffer.concat([b, extra]);
    }
    case 3: // command_length off by a little
      b.writeUInt32BE(Math.max(0, b.length + rand(9) - 4), 0);
      return b;
    case 4: // command_length anything
      b.writeUInt32BE((rand(0x10000) * 0x10000 + rand(0x10000)) >>> 0, 0);
      return b;
    case 5: {
      // a known command with a random body of a consistent length: reaches every body decoder
      const body = Buffer.alloc(rand(120));
      for (let i = 0; i < body.length; i++) body[i] = rand(4) === 0 ? 0 : rand(256);
      const h = Buffer.alloc(16);
      h.writeUInt32BE(16 + body.length, 0);
      h.writeUInt32BE(ids[rand(ids.length)]!, 4);
      h.writeUInt32BE(rand(3), 8);
      h.writeUInt32BE(rand(1000), 12);
      return Buffer.concat([h, body]);
    }
    case 6: {
      // flip bytes after fixing up the length, so the body decoder sees the damage
      const i = 16 + rand(Math.max(1, b.length - 16));
      if (i < b.length) b[i] ^= 1 << rand(8);
      return b;
    }
    default: {
      // random bytes of random length
      const r = Buffer.alloc(rand(64));
      for (let i = 0; i < r.length; i++) r[i] = rand(256);
      return r;
    }
  }
}

/** decodePdu must never throw; a successful decode must re-encode to bytes that decode the same. */
function check(frame: Buffer): boolean {
  const r = decodePdu(frame);
  if (!r.ok) return false;
  const again = decodePdu(encodePdu(r.pdu));
  expect(again).toEqual(r);
  return true;
}

describe('fuzz: random and mutated frames', () => {
  it('never throws, never hangs, keeps buffered bytes and heap bounded', () => {
    const rand = rng(0x5eed);
    const FRAMES = 200_000;
    const ROUND = 10_000;
    let decoded = 0;
    let ok = 0;
    let framed = 0;
    let heapAfterFirstHalf = 0;
    let maxBuffered = 0;
    let decoder = new FrameDecoder();
    for (let done = 0; done < FRAMES; done += ROUND) {
      const stream: Buffer[] = [];
      for (let i = 0; i < ROUND; i++) {
        const frame = mutate(rand);
        if (check(frame)) ok++;
        decoded++;
        // In the stream, most frames get a truthful command_length so framing stays in step and the
        // body decoders see the damage; the rest desynchronise the stream as a broken peer would.
        if (frame.length >= 4 && rand(8) !== 0) {
          const fixed = Buffer.from(frame);
          fixed.writeUInt32BE(frame.length, 0);
          stream.push(fixed);
        } else {
          stream.push(frame);
        }
      }
      // The same bytes as one TCP stream, cut at random points. After a length error the session would
      // be closed; here a new decoder picks up at the next frame boundary.
      const bytes = Buffer.concat(stream);
      const starts: number[] = [];
      for (let i = 0, at = 0; i < stream.length; at += stream[i]!.length, i++) starts.push(at);
      let nextStart = 0;
      let off = 0;
      while (off < bytes.length) {
        const n = 1 + rand(300);
        decoder.push(bytes.subarray(off, off + n));
        off += n;
        // Each 'frame' consumes >= 16 octets, so this loop is bounded by the bytes pushed.
        for (let guard = 0; ; guard++) {
          expect(guard).toBeLessThan(64);
          const next = decoder.next();
          if (next.kind === 'incomplete') break;
          if (next.kind === 'error') {
            expect(next.length < 16 || next.length > MAX_PDU_LENGTH).toBe(true);
            decoder = new FrameDecoder();
            while (nextStart < starts.length && starts[nextStart]! < off) nextStart++;
            off = nextStart < starts.length ? starts[nextStart]! : bytes.length;
            break;
          }
          framed++;
          check(next.frame);
        }
        maxBuffered = Math.max(maxBuffered, decoder.buffered);
      }
      if (done + ROUND === FRAMES / 2) {
        gc();
        heapAfterFirstHalf = process.memoryUsage().heapUsed;
      }
    }
    gc();
    const growth = process.memoryUsage().heapUsed - heapAfterFirstHalf;
    expect(decoded).toBe(FRAMES);
    expect(framed).toBeGreaterThan(FRAMES / 10); // the rest were swallowed by desynchronised streams
    expect(ok).toBeGreaterThan(1000); // the mutations still reach successful decodes
    expect(maxBuffered).toBeLessThanOrEqual(MAX_PDU_LENGTH + 300);
    expect(growth).toBeLessThan(8 * 1024 * 1024);
  });
});
