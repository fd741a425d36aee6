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
import { Command, type Redis } from 'ioredis';
import { charCode } from '../smpp/string-calls.js';

/**
 * An argument that writes its own bytes, so that no JavaScript string is built for it only to be
 * encoded here (a record string: redis-store.ts, RecordBytes).
 */
export interface RespWritable {
  /** The most bytes writeTo may write. */
  maxBytes(): number;
  /** Writes the argument's bytes at `off` (room for maxBytes()); the next offset. */
  writeTo(buf: Buffer, off: number): number;
}

/** One argument of a call: strings as UTF-8, numbers in decimal, bytes as they are. */
export type RespArg = string | number | Uint8Array | RespWritable;

const NONE: readonly RespArg[] = Object.freeze([]);
/** Scratch space for encoding; grows to the largest call seen. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** The scratch buffer, grown to hold `more` bytes after the `used` ones it keeps. */
function grow(used: number, more: number): Buffer {
  const grown = Buffer.allocUnsafe(Math.max(used + more, 2 * scratch.length));
  scratch.copy(grown, 0, 0, used);
  scratch = grown;
  return grown;
}

/** How many decimal digits `n` (a non-negative integer) has. */
function decimalDigits(n: number): number {
  if (n < 1e8) return digitsBelow1e8(n);
  if (n < 1e16) return 8 + digitsBelow1e8(Math.floor(n / 1e8));
  return String(n).length;
}

function digitsBelow1e8(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 1e5 ? 5 : n < 1e6 ? 6 : n < 1e7 ? 7 : 8;
}

/**
 * "\r\n" at `off`. Two stores, not buf.writeUInt16BE, which checks its arguments in JavaScript
 * each time (~170 instructions a call under callgrind).
 */
function putCrlf(buf: Buffer, off: number): void {
  buf[off] = 0x0d;
  buf[off + 1] = 0x0a;
}

/**
 * Writes `n` (a non-negative safe integer) in decimal at `off`; the next offset. Eight digits at a
 * time in int32 arithmetic: epoch milliseconds digit by digit as doubles, with String(n) for their
 * length, were ~14% of building a transaction (redis-accept-writes.ts; a throwaway microbench).
 */
export function putDecimal(buf: Buffer, off: number, n: number): number {
  // Most are the lengths of arguments: one or two digits.
  if (n < 10) {
    buf[off] = 0x30 + n;
    return off + 1;
  }
  if (n < 100) {
    const tens = (n / 10) | 0;
    buf[off] = 0x30 + tens;
    buf[off + 1] = 0x30 + (n - 10 * tens);
    return off + 2;
  }
  if (n < 1e8) return putDigits(buf, off, n, digitsBelow1e8(n));
  if (n >= 1e16) return off + buf.write(String(n), off, 'latin1');
  const high = Math.floor(n / 1e8);
  off = putDigits(buf, off, high, digitsBelow1e8(high));
  return putDigits(buf, off, n - high * 1e8, 8);
}

/** The `digits` last decimal digits of `n` (below 1e8), zeros in front; the next offset. */
function putDigits(buf: Buffer, off: number, n: number, digits: number): number {
  let v = n | 0;
  for (let i = off + digits - 1; i >= off; i--) {
    const q = (v / 10) | 0;
    buf[i] = 0x30 + (v - q * 10);
    v = q;
  }
  return off + digits;
}

/**
 * Writes Redis commands (RESP arrays of bulk strings) one after another into the scratch buffer;
 * bytes() copies them out as one Buffer, for one socket write.
 */
export class RespWriter {
  private off = 0;

  /** Appends the command `name`, then each part's arguments. */
  command(name: string, ...parts: readonly (readonly RespArg[])[]): this {
    let count = 1;
    for (const args of parts) count += args.length;
    this.array(count).arg(name);
    for (const args of parts) for (let i = 0; i < args.length; i++) this.arg(args[i]!);
    return this;
  }

  // Pieces of a command, for a caller that knows its arguments as it goes (redis-accept-writes.ts):
  // array(n), then exactly n arguments. No array of arguments is built, and the hot ones (one
  // character, a key made of a prefix and part of an id, bytes written before) take no string.

  /** `*n`: a command of `n` arguments follows. */
  array(n: number): this {
    let buf: Buffer = scratch;
    let off = this.off;
    if (off + 24 > buf.length) buf = grow(off, 24);
    buf[off] = 0x2a; // '*'
    off = putDecimal(buf, off + 1, n);
    putCrlf(buf, off);
    this.off = off + 2;
    return this;
  }

  /** An argument as command() writes it. */
  arg(a: RespArg): this {
    let buf: Buffer = scratch;
    const off = this.off;
    if (typeof a === 'string') {
      if (off + 20 + 3 * a.length > buf.length) buf = grow(off, 20 + 3 * a.length);
      this.off = putBulk(buf, off, a);
    } else if (typeof a === 'number') {
      if (off + 44 > buf.length) buf = grow(off, 44);
      // As JavaScript writes it: integers in decimal; Lua's tonumber reads any of them back.
      this.off = putBulk(buf, off, String(a));
    } else if (a instanceof Uint8Array) {
      if (off + 20 + a.length > buf.length) buf = grow(off, 20 + a.length);
      this.off = putBytes(buf, off, a);
    } else {
      const most = 20 + a.maxBytes();
      if (off + most > buf.length) buf = grow(off, most);
      this.off = putWritable(buf, off, a, most - 20);
    }
    return this;
  }

  /** The one-byte argument of character code `c` (ASCII). */
  char(c: number): this {
    let buf: Buffer = scratch;
    const off = this.off;
    if (off + 7 > buf.length) buf = grow(off, 7);
    buf[off] = 0x24; // '$'
    buf[off + 1] = 0x31; // '1'
    buf[off + 2] = 0x0d;
    buf[off + 3] = 0x0a;
    buf[off + 4] = c;
    buf[off + 5] = 0x0d;
    buf[off + 6] = 0x0a;
    this.off = off + 7;
    return this;
  }

  /** The argument `head` (bytes) followed by the first `end` characters of `s` (ASCII). */
  joined(head: Uint8Array, s: string, end: number): this {
    let buf: Buffer = scratch;
    let off = this.off;
    const n = head.length + end;
    if (off + 20 + n > buf.length) buf = grow(off, 20 + n);
    buf[off] = 0x24; // '$'
    off = putDecimal(buf, off + 1, n);
    putCrlf(buf, off);
    off += 2;
    for (let i = 0; i < head.length; i++) buf[off++] = head[i]!;
    for (let i = 0; i < end; i++) buf[off++] = charCode(s, i);
    putCrlf(buf, off);
    this.off = off + 2;
    return this;
  }

  /**
   * The argument made of the `n` bytes written at `from` (part of an argument written before) and
   * the character code `last` (ASCII): an id or index field whose block is in a key written before.
   */
  partAnd(from: number, n: number, last: number): this {
    let buf: Buffer = scratch;
    let off = this.off;
    if (off + 20 + n > buf.length) buf = grow(off, 20 + n);
    buf[off] = 0x24; // '$'
    off = putDecimal(buf, off + 1, n + 1);
    putCrlf(buf, off);
    off += 2;
    for (let i = 0; i < n; i++) buf[off + i] = buf[from + i]!;
    off += n;
    buf[off] = last;
    putCrlf(buf, off + 1);
    this.off = off + 3;
    return this;
  }

  /** Bytes as they are: arguments encoded before (encodeArgs), or written before (see offset). */
  raw(bytes: Uint8Array): this {
    let buf: Buffer = scratch;
    const off = this.off;
    if (off + bytes.length > buf.length) buf = grow(off, bytes.length);
    for (let i = 0; i < bytes.length; i++) buf[off + i] = bytes[i]!;
    this.off = off + bytes.length;
    return this;
  }

  /** Where the next byte goes; with again(), what was written from there is written once more. */
  get offset(): number {
    return this.off;
  }

  /** The bytes written at [from, to) written again. */
  again(from: number, to: number): this {
    let buf: Buffer = scratch;
    const off = this.off;
    if (off + (to - from) > buf.length) buf = grow(off, to - from);
    buf.copyWithin(off, from, to);
    this.off = off + (to - from);
    return this;
  }

  /** The commands written so far, in a Buffer of their own; the writer starts again empty. */
  bytes(): Buffer {
    const out = Buffer.allocUnsafe(this.off);
    scratch.copy(out, 0, 0, this.off);
    this.off = 0;
    return out;
  }
}

/** Arguments as RespWriter writes them, without the array header: for RespWriter.raw. */
export function encodeArgs(...args: readonly string[]): Uint8Array {
  // Not through a RespWriter: that would write into the scratch buffer a transaction may be using.
  const parts: Buffer[] = [];
  for (const a of args) {
    const bytes = Buffer.from(a, 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`, 'latin1'), bytes, Buffer.from('\r\n', 'latin1'));
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** The bytes of the RESP array of bulk strings `name`, then each part's arguments (a command for Redis). */
export function encodeCommand(name: string, ...parts: readonly (readonly RespArg[])[]): Buffer {
  return new RespWriter().command(name, ...parts).bytes();
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
  return frameBulk(buf, off, guess, buf.write(s, off + 3 + guess, 'utf8'));
}

/**
 * `$<length>\r\n<bytes>\r\n` for what `arg` writes (at most `most` bytes: its maxBytes()); the next
 * offset. Placed as putBulkWritten places a string.
 */
function putWritable(buf: Buffer, off: number, arg: RespWritable, most: number): number {
  const guess = decimalDigits(most);
  const at = off + 3 + guess;
  return frameBulk(buf, off, guess, arg.writeTo(buf, at) - at);
}

/**
 * Frames `n` bytes written at `off` + 3 + `guess` (room left for a header of `guess` digits) as a
 * bulk string starting at `off`, moving them when the header has another number of digits; the
 * next offset.
 */
function frameBulk(buf: Buffer, off: number, guess: number, n: number): number {
  const digits = decimalDigits(n);
  if (digits !== guess) buf.copyWithin(off + 3 + digits, off + 3 + guess, off + 3 + guess + n);
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
  putCrlf(buf, off);
  off += 2;
  buf.set(bytes, off);
  off += bytes.length;
  putCrlf(buf, off);
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

/**
 * Takes a reply that nobody reads: MULTI's OK and each QUEUED of a Transaction. One object stands in
 * ioredis's command queue once per such reply; ioredis hands it each reply (or error) and it drops
 * them: EXEC's reply tells the same, and a connection that closes fails the EXEC too.
 */
const IGNORED_REPLY = {
  name: 'multi',
  args: [],
  resolve(): void {},
  reject(): void {},
} as unknown as Command;
/** An entry of ioredis's command queue (its CommandItem type is not exported). */
type QueueItem = Parameters<Redis['commandQueue']['push']>[0];
// stream: only read to resend a command after a reconnect, which failFastOptions turns off.
const IGNORED_ITEM = { command: IGNORED_REPLY, stream: undefined, select: 0 } as unknown as QueueItem;

/**
 * Whether `client`'s command queue is what Transaction relies on (ioredis 5, and 6 too: a Deque
 * with push, pop and peekBack). A later ioredis that changed it makes the store keep to its script.
 */
export function canTakeReplies(client: Redis): boolean {
  const queue = client.commandQueue as Partial<Redis['commandQueue']> | undefined;
  return typeof queue?.push === 'function' && typeof queue.pop === 'function' && typeof queue.peekBack === 'function';
}

/**
 * Commands sent as MULTI, the commands, EXEC in one socket write; the caller reads EXEC's reply,
 * one element per command (an Error for one that failed).
 *
 * Why not through ioredis one command at a time: each ioredis Command costs a promise, a timer and a
 * write (bench/README.md: a store that sent its HSETs so used as much more CPU in smppd as it
 * saved in Redis). Here the bytes are written once, the replies before EXEC's are taken by
 * IGNORED_REPLY entries put in ioredis's command queue (a public field of a Redis client) without a
 * write each, and EXEC's reply goes to one Command with the client's command timeout. A standalone
 * or Sentinel connection only: in Cluster mode the store keeps to its script.
 *
 * Built synchronously between the first command() and send(): it writes into the scratch buffer
 * that every RespWriter shares.
 */
export class Transaction {
  private readonly writer = new RespWriter().command('multi');
  /** Commands written since MULTI: each has a QUEUED reply to take, and an element in EXEC's. */
  private count = 0;

  command(name: string, ...parts: readonly (readonly RespArg[])[]): this {
    this.writer.command(name, ...parts);
    this.count++;
    return this;
  }

  /**
   * Starts a command of `n` arguments (its name included) and counts it; the caller then writes
   * exactly `n` arguments into the writer returned.
   */
  begin(n: number): RespWriter {
    this.count++;
    return this.writer.array(n);
  }

  /** How many commands are written since MULTI: the index in EXEC's reply of the next one. */
  get commands(): number {
    return this.count;
  }

  /** Sends the transaction on `client`; EXEC's reply, or the error that kept it from coming. */
  send(client: Redis): Promise<unknown> {
    const wire = this.writer.command('exec').bytes();
    const exec = new EncodedCommand('exec', NONE, wire);
    const queue = client.commandQueue;
    // ioredis writes a command at once when its connection is ready and writable; else it fails
    // it (no offline queue: failFastOptions) and the entries for OK and QUEUED come out again.
    const ignored = this.count + 1;
    for (let i = 0; i < ignored; i++) queue.push(IGNORED_ITEM);
    void client.sendCommand(exec);
    if (queue.peekBack()?.command !== exec) for (let i = 0; i < ignored; i++) queue.pop();
    return exec.promise as Promise<unknown>;
  }
}
