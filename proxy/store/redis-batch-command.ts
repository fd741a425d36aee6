// The batch script call (redis-scripts.ts) as an ioredis Command whose bytes are written here, into
// one Buffer, instead of by ioredis.
//
// Why (bench: `npm run bench`, Redis store): ioredis builds a command as one string, concatenating
// each argument with its RESP header, and the socket then encodes that string to UTF-8. For a batch
// of runs of saveAccepted (~7 arguments per message) that made ~30 short-lived strings per message,
// ~750 of the ~5,200 bytes smppd allocated per message on the Redis store (sampling heap profile).
// Here each argument is written straight into a reused scratch buffer, and one Buffer per call is
// copied out of it. smppd's CPU per message did not move measurably (the writing costs about what
// the garbage did), but its scavenges come less often.
//
// The script goes as EVALSHA. A connection that has not run it yet gets EVAL with the source first
// (after each connect: Redis may have restarted empty), and a NOSCRIPT answer (SCRIPT FLUSH, a
// failover to a replica that never loaded it) is retried once as EVAL: a NOSCRIPT call ran nothing.
// ioredis's defineCommand does the same for the commands it writes itself.

import { createHash } from 'node:crypto';
import { Command } from 'ioredis';
import { charCode } from '../smpp/string-calls.js';

/** One argument of a call: strings as UTF-8, numbers in decimal, bytes as they are. */
export type RespArg = string | number | Uint8Array;

const CRLF = 0x0d0a;
const NONE: readonly RespArg[] = Object.freeze([]);
/** Scratch space for encoding; grows to the largest call seen. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** How many decimal digits `n` (a non-negative integer) has. */
function decimalDigits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : String(n).length;
}

/** Writes `n` (a non-negative integer) in decimal at `off`; the next offset. */
function putDecimal(buf: Buffer, off: number, n: number): number {
  if (n < 10) {
    buf[off] = 0x30 + n;
    return off + 1;
  }
  const digits = decimalDigits(n);
  for (let i = off + digits - 1; i >= off; i--) {
    buf[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return off + digits;
}

/** The bytes of the RESP array of bulk strings `name`, then each part's arguments (a command for Redis). */
export function encodeCommand(name: string, ...parts: readonly (readonly RespArg[])[]): Buffer {
  // Worst case per argument: UTF-8 at 3 bytes per UTF-16 unit, plus a header of at most 16 bytes.
  let need = 32 + 3 * name.length;
  let count = 1;
  for (const args of parts) {
    count += args.length;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      need += 20 + (typeof a === 'string' ? 3 * a.length : typeof a === 'number' ? 24 : a.length);
    }
  }
  if (scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, 2 * scratch.length));
  const buf = scratch;
  buf[0] = 0x2a; // '*'
  let off = putDecimal(buf, 1, count);
  buf.writeUInt16BE(CRLF, off);
  off = putBulk(buf, off + 2, name);
  for (const args of parts) {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (typeof a === 'object') off = putBytes(buf, off, a);
      // A number as JavaScript writes it: integers in decimal; Lua's tonumber reads any of them back.
      else off = putBulk(buf, off, typeof a === 'string' ? a : String(a));
    }
  }
  const out = Buffer.allocUnsafe(off);
  buf.copy(out, 0, 0, off);
  return out;
}

/** Strings up to this long are written by putBulk's own loop when they are ASCII. */
const LOOP_MAX = 64;

/**
 * `$<length>\r\n<bytes>\r\n` for string `s`; the next offset. A short ASCII string (smppd's ids and
 * index fields) is written byte by byte here, a longer one (a record string) by one Buffer.write:
 * no Buffer.byteLength first, each a call into C++ (bench: \`npm run bench\`, Redis store; a batch
 * of 62 saveAccepted, encoded alone: 312-405 ns per message with both calls for every argument,
 * 200-225 ns so).
 */
function putBulk(buf: Buffer, off: number, s: string): number {
  const n = s.length;
  if (n > LOOP_MAX) return putBulkWritten(buf, off, s);
  buf[off] = 0x24; // '$'
  let o = putDecimal(buf, off + 1, n);
  buf[o] = 0x0d;
  buf[o + 1] = 0x0a;
  o += 2;
  for (let i = 0; i < n; i++) {
    const c = charCode(s, i);
    if (c > 0x7f) return putBulkWritten(buf, off, s);
    buf[o++] = c;
  }
  buf[o] = 0x0d;
  buf[o + 1] = 0x0a;
  return o + 2;
}

/**
 * putBulk by Buffer.write (UTF-8). The bytes go where an ASCII string's would (its length in
 * UTF-16 units is then its length in bytes), and move when the header needs more digits.
 */
function putBulkWritten(buf: Buffer, off: number, s: string): number {
  const guess = decimalDigits(s.length);
  const at = off + 3 + guess;
  const n = buf.write(s, at, 'utf8');
  const digits = decimalDigits(n);
  if (digits !== guess) buf.copyWithin(off + 3 + digits, at, at + n);
  buf[off] = 0x24; // '$'
  putDecimal(buf, off + 1, n);
  buf[off + 1 + digits] = 0x0d;
  buf[off + 2 + digits] = 0x0a;
  const end = off + 3 + digits + n;
  buf[end] = 0x0d;
  buf[end + 1] = 0x0a;
  return end + 2;
}

/** `$<length>\r\n<bytes>\r\n` for `bytes`; the next offset. */
function putBytes(buf: Buffer, off: number, bytes: Uint8Array): number {
  buf[off] = 0x24; // '$'
  off = putDecimal(buf, off + 1, bytes.length);
  buf.writeUInt16BE(CRLF, off);
  off += 2;
  buf.set(bytes, off);
  off += bytes.length;
  buf.writeUInt16BE(CRLF, off);
  return off + 2;
}

/** A command whose bytes are given: ioredis routes it (Cluster: by its first key) and reads its reply. */
class EncodedCommand extends Command {
  constructor(
    name: string,
    /** The first arguments, enough for ioredis to find the keys: script, key count, keys. */
    head: readonly RespArg[],
    private readonly wire: Buffer,
  ) {
    super(name, head as (string | number)[], { replyEncoding: 'utf8' });
  }

  override toWritable(): Buffer {
    return this.wire;
  }
}

/** Something EncodedCommands can be sent on: an ioredis Redis or Cluster. */
export interface CommandSender {
  sendCommand(command: Command): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/** Calls one Lua script with pre-encoded arguments (see the top of this file). */
export class ScriptCaller {
  private readonly sha: string;
  /** EVALSHA can be trusted: the connection ran EVAL since it last connected. */
  private loaded = false;

  constructor(
    private readonly client: CommandSender,
    private readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
    client.on('close', this.onClose);
  }

  /** A new connection may reach a Redis that restarted without the script. */
  private readonly onClose = (): void => {
    this.loaded = false;
  };

  /** Stops listening to the client (the store closes; the client may be the caller's and live on). */
  detach(): void {
    this.client.off('close', this.onClose);
  }

  /** The script's reply to KEYS `keys` and ARGV `args`, then `more` (one array need not be built). */
  async call(keys: readonly string[], args: readonly RespArg[], more: readonly RespArg[] = NONE): Promise<unknown> {
    if (!this.loaded) return this.send('eval', keys, args, more);
    try {
      return await this.send('evalsha', keys, args, more);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return this.send('eval', keys, args, more);
    }
  }

  private send(name: 'eval' | 'evalsha', keys: readonly string[], args: readonly RespArg[], more: readonly RespArg[]): Promise<unknown> {
    const head: RespArg[] = [name === 'eval' ? this.lua : this.sha, keys.length];
    for (const key of keys) head.push(key);
    const command = new EncodedCommand(name, head, encodeCommand(name, head, args, more));
    this.client.sendCommand(command);
    // Calls written after this one on the same connection find the script loaded (Redis runs them
    // in order); if this one fails, their NOSCRIPT makes them load it themselves.
    if (name === 'eval') this.loaded = true;
    return command.promise as Promise<unknown>;
  }
}
