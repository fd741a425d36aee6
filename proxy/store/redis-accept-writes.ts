// A batch of saveAccepted written as plain Redis commands in one MULTI/EXEC, instead of through the
// batch script (redis-scripts.ts, run_at).
//
// Why: every argument of a script call becomes a Lua string and then a Redis string again, and every
// redis.call from Lua costs Redis a fake client call. With records and index entries in small hashes
// (redis-keys.ts), that was most of Redis's CPU per message on the Redis store (bench/README.md, "The
// Redis store"): Redis parses a plain command's arguments once. Under load nearly every batch is
// saveAccepted only (one per submitted message), so the store sends such a batch this way; any other
// batch goes to the script as before.
//
// What the transaction holds, per run (consecutive operations with one `now`, as in run_at):
//   HMGET per record block     <p>r:<block>: the records the run saves again, if any (nil mostly)
//   HSET per record block      <p>r:<block>: last character -> record string
//   HSET of the bucket's hash  <p>x:<b>: index field -> id, the entries that make no block
//   HSET per index block       <p>x:<b>:<block>: last character -> id (splitIndex)
//   HDEL of the bucket's hash  the fields the index blocks now hold (a field in the bucket's hash
//                              would hide its block's entry: redis-keys.ts, "Index blocks")
//   HSETNX of the bucket's hash  when written: its shape field (redis-keys.ts, "Bucket shape")
//   PEXPIRE GT, PEXPIRE NX     per record block: its TTL at least to the end of the run's bucket plus
//                              the ttl (GT extends a TTL, NX gives a new key its first: the script's
//                              `extend`; both need Redis 7)
//   PEXPIRE NX                 per index key: the same deadline, which every writer of its time
//                              bucket computes alike
//   HINCRBY                    the stats counts (redis-keys.ts, <p>n:): every record and index entry
//                              of the run counted as new
//   PEXPIRE NX, ZADD, PEXPIRE  a stats bucket's TTL, its <p>nb member and <p>nb's TTL, as the
//                              script's flush_counts: once a second (StatsBuckets), not per run
// and, after the last run, EXISTS <p>ox: whether any orphan is held.
//
// MULTI/EXEC makes the writes one step for every other client, as the script call was: a receipt
// that comes after them finds its message in the index (holdOrphan), and one held before them is
// seen by the EXISTS, after which the store takes each message's held orphans with takeHeld.
//
// Counted as new: a run rarely saves a record again or rewrites an index field, and a transaction
// cannot read before it counts. EXEC's reply says what each HMGET found and how many fields each
// HSET added and the HDEL removed; where that differs from the count (recountsOf), the store corrects
// the stats with the batch script's recount before it answers the batch. Records, index, counts and
// TTLs (an index key's up to the replicas' clock skew) are then what the script would leave
// (redis-store.test.ts compares them); a replica that dies
// between the two leaves the stats overcounted until the stats bucket ends (redis-store.ts, "Counts
// that are approximate").
//
// When Redis refuses the transaction (EXECABORT: a Redis before 7 has no PEXPIRE GT; an ACL without
// MULTI), the store writes the batch through the batch script, and keeps to the script if that works.

import { charCode, startsWith } from '../smpp/string-calls.js';
import { encodeArgs, type RespArg, type RespWriter, type Transaction } from './redis-batch-command.js';
import { BUCKET_SHAPE_FIELD, BUCKET_SHAPE_VALUE } from './redis-keys.js';

/** Whether every character of `s` is ASCII (one byte in UTF-8). */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (charCode(s, i) > 0x7f) return false;
  return true;
}

/** A saveAccepted as the store queued it. */
export interface AcceptedWrite {
  /** Epoch ms by the store's clock. */
  readonly now: number;
  readonly id: string;
  /** The record string (redis-keys.ts), or what writes its bytes. */
  readonly record: RespArg;
  /** Its upstream index fields (upstreamIndexField). */
  readonly fields: readonly string[];
  /** Whether the id and every field are ASCII (isAscii), found once per message. */
  readonly ascii: boolean;
}

/** What the writes are named and timed by: the store's settings. */
export interface AcceptLayout {
  readonly prefix: string;
  readonly ttlMs: number;
  readonly bucketWidth: number;
}

/**
 * When at least this many index entries of a run (counted with their repeats) share an index block
 * (their field but its last character), they go in that block's hash; the others go in the
 * bucket's hash (redis-keys.ts, "Index blocks").
 */
const MIN_INDEX_BLOCK = 3;

/** A run's index entries as they are written: pairs (field, id) for the bucket's hash, and the blocks. */
export interface SplitIndex {
  readonly flat: readonly string[];
  /** The index blocks by name (the fields but their last character). */
  readonly blocks: ReadonlyMap<string, IndexBlock>;
}

export interface IndexBlock {
  /** Pairs (last character, id). */
  readonly pairs: string[];
  /** The whole fields, in the order of the pairs (with their repeats). */
  readonly fields: string[];
}

const NO_BLOCKS: ReadonlyMap<string, IndexBlock> = new Map();

/**
 * A run's index pairs (field, id), split into index blocks and the bucket's hash. A field beyond
 * ASCII goes in the bucket's hash: the scripts split fields by bytes (`ascii`: every field is known
 * to be ASCII).
 */
export function splitIndex(index: readonly string[], ascii: boolean): SplitIndex {
  if (index.length < 2 * MIN_INDEX_BLOCK) return { flat: index, blocks: NO_BLOCKS };
  const fields: string[] = [];
  for (let i = 0; i < index.length; i += 2) fields.push(index[i]!);
  const { blockOf, heads, sizes } = fieldBlocks(fields, ascii);
  const flat: string[] = [];
  for (let e = 0; e < fields.length; e++) {
    const k = blockOf[e]!;
    if (k < 0 || sizes[k]! < MIN_INDEX_BLOCK) flat.push(index[2 * e]!, index[2 * e + 1]!);
  }
  const blocks = new Map<string, IndexBlock>();
  for (let k = 0; k < heads.length; k++) {
    if (sizes[k]! < MIN_INDEX_BLOCK) continue;
    const block: IndexBlock = { pairs: [], fields: [] };
    for (let e = heads[k]!; e < fields.length; e++) {
      if (blockOf[e] !== k) continue;
      block.pairs.push(fields[e]!.slice(-1), index[2 * e + 1]!);
      block.fields.push(fields[e]!);
    }
    blocks.set(fields[heads[k]!]!.slice(0, -1), block);
  }
  return { flat, blocks };
}

/** Where a run's replies are in EXEC's reply, and what the run counted before it knew them. */
interface WrittenRun {
  readonly now: number;
  /** The index in EXEC's reply of the run's first command: its first record block's HMGET. */
  readonly at: number;
  /** The batch; the run is its operations from `start` on, one per element of blockOf. */
  readonly ops: readonly AcceptedWrite[];
  readonly start: number;
  /** Per operation of the run, its record block: the number of its HMGET and HSET in the run. */
  readonly blockOf: Int32Array;
  readonly recordBlocks: number;
  /** How many HSETs of index keys follow the record blocks' HSETs. */
  readonly indexWrites: number;
  /** Whether an HDEL of the bucket's hash follows them. */
  readonly removes: boolean;
  /** Counted as new records: the run's saves. */
  readonly records: number;
  /** Counted as new index entries: the run's index pairs. */
  readonly entries: number;
}

/** What writeAccepted wrote, for reading EXEC's reply. */
export interface AcceptedWrites {
  readonly runs: readonly WrittenRun[];
}

/** A run's stats counts as they should have been, less what the transaction counted (OP.recount). */
export interface Recount {
  readonly now: number;
  /** Records the run counted but did not add (an id twice in it). */
  readonly records: number;
  /** Index entries added less those counted (fields written twice, or moved from the bucket's hash). */
  readonly entries: number;
  /** The expiresAt of each record the run saved again: its count leaves the stats bucket it was in. */
  readonly saved: readonly string[];
}

/**
 * Which stats buckets (redis-keys.ts, <p>n: and <p>nb) a store registered, and when by its clock:
 * a bucket's TTL and its member in <p>nb are written when a transaction first counts in it, then
 * at most once a second (REGISTER_AGAIN_MS) instead of in every transaction. Forgotten when Redis
 * may have lost them (a failed transaction, a reconnect): the next transaction writes them again.
 */
export class StatsBuckets {
  private readonly registered = new Map<string, number>();

  /** Whether the bucket `member` is to be registered at `now`; if so, it is noted as done. */
  due(member: string, now: number): boolean {
    const at = this.registered.get(member);
    if (at !== undefined && Math.abs(now - at) < REGISTER_AGAIN_MS) return false;
    // Buckets move on: ones that are no longer counted in are dropped now and then.
    if (this.registered.size >= 16) this.registered.clear();
    this.registered.set(member, now);
    return true;
  }

  forget(): void {
    this.registered.clear();
  }
}

/** How often a transaction writes again a stats bucket's TTL and <p>nb member (StatsBuckets). */
const REGISTER_AGAIN_MS = 1000;

/**
 * Writes `ops` into `tx`, run by run, then the EXISTS of the held orphans (the top of this file).
 * Every id and index field must be ASCII (AcceptedWrite.ascii), as the script path splits them by
 * bytes. EXEC's last element is that EXISTS.
 */
export function writeAccepted(tx: Transaction, layout: AcceptLayout, buckets: StatsBuckets, ops: readonly AcceptedWrite[]): AcceptedWrites {
  const runs: WrittenRun[] = [];
  for (let start = 0; start < ops.length; ) {
    const now = ops[start]!.now;
    let end = start + 1;
    while (end < ops.length && ops[end]!.now === now) end++;
    runs.push(writeRun(tx, layout, buckets, ops, start, end));
    start = end;
  }
  tx.command('exists', [layout.prefix + 'ox']);
  return { runs };
}

/** The command names and options a run writes, encoded once. */
const HMGET = encodeArgs('hmget');
const HSET = encodeArgs('hset');
const HDEL = encodeArgs('hdel');
const HSETNX = encodeArgs('hsetnx');
const SHAPE = encodeArgs(BUCKET_SHAPE_FIELD, BUCKET_SHAPE_VALUE);
const PEXPIRE = encodeArgs('pexpire');
const GT = encodeArgs('GT');
const NX = encodeArgs('NX');

/**
 * Whether id (or index field) `s` is in the block of `first`, whose block (all but its last
 * character) is `block`. Not by `s.slice(0, -1) === block`: ids and fields are concatenations,
 * their slices sliced strings, and V8 compares two of those in its runtime, a call that cost ~600
 * instructions per message (callgrind, a batch of saveAccepted written alone); nor by a loop of
 * charCodeAt, ~20 instructions a character on such strings. startsWith compares in one builtin,
 * after the length and the character before the last, where consecutive blocks differ.
 */
function inBlockOf(s: string, first: string, block: string): boolean {
  const n = s.length;
  if (n !== first.length) return false;
  if (n < 2) return true;
  return charCode(s, n - 2) === charCode(first, n - 2) && startsWith(s, block);
}

/** The last character's code of `s` (ASCII here: one byte). */
function lastCode(s: string): number {
  return charCode(s, s.length - 1);
}

/** The record blocks of a run: which block each operation's id is in, numbered as first met. */
interface RecordBlocks {
  /** Per operation of the run, its block. */
  readonly blockOf: Int32Array;
  /** Per operation of the run, its id's last character. */
  readonly idLast: Int32Array;
  /** Per block, the index in `ops` of its first operation, and how many it has. */
  readonly heads: number[];
  readonly sizes: number[];
}

function recordBlocks(ops: readonly AcceptedWrite[], start: number, end: number): RecordBlocks {
  const n = end - start;
  const blockOf = new Int32Array(n);
  const idLast = new Int32Array(n);
  const heads: number[] = [];
  const sizes: number[] = [];
  const names: string[] = [];
  // Consecutive ids mostly share the block met last. Ids that do not count up (never smppd's) are
  // tested against every block so far: at most MAX_BATCH (128) ids, so at most ~8,000 tests of their
  // length and one character. A Map by name instead (tried) cost smppd ~2,000-3,500 instructions
  // per message more under (f) (npm run bench:instructions).
  let last = -1;
  for (let i = start; i < end; i++) {
    const id = ops[i]!.id;
    let k = last >= 0 && inBlockOf(id, ops[heads[last]!]!.id, names[last]!) ? last : -1;
    for (let q = heads.length - 1; k < 0 && q >= 0; q--) if (q !== last && inBlockOf(id, ops[heads[q]!]!.id, names[q]!)) k = q;
    if (k < 0) {
      k = heads.length;
      heads.push(i);
      sizes.push(0);
      names.push(id.slice(0, -1));
    }
    blockOf[i - start] = k;
    idLast[i - start] = lastCode(id);
    sizes[k]!++;
    last = k;
  }
  return { blockOf, idLast, heads, sizes };
}

/** The index entries of a run, in order, and their index blocks (fieldBlocks). */
interface IndexEntries extends FieldBlocks {
  readonly fields: string[];
  /** Per entry, the index in `ops` of its operation. */
  readonly ops: number[];
}

function indexEntries(ops: readonly AcceptedWrite[], start: number, end: number): IndexEntries {
  const fields: string[] = [];
  const entryOps: number[] = [];
  for (let i = start; i < end; i++) {
    for (const field of ops[i]!.fields) {
      fields.push(field);
      entryOps.push(i);
    }
  }
  return { fields, ops: entryOps, ...fieldBlocks(fields, true) };
}

/** Index fields grouped into index blocks: the part of IndexEntries that splitIndex shares. */
interface FieldBlocks {
  /** Per field, its block, -1 when it is in none (too few fields, or beyond ASCII). */
  readonly blockOf: Int32Array;
  /** Per block, its first field and how many it has. */
  readonly heads: number[];
  readonly sizes: number[];
  /** Fields in blocks of at least MIN_INDEX_BLOCK, and how many such blocks. */
  readonly blocked: number;
  readonly blocks: number;
}

/**
 * The index blocks of `fields` (each field but its last character), numbered as first met. A field
 * beyond ASCII is in none: the scripts split fields by bytes (`ascii`: every field is known to be
 * ASCII).
 */
function fieldBlocks(fields: readonly string[], ascii: boolean): FieldBlocks {
  const entries = fields.length;
  const blockOf = new Int32Array(entries).fill(-1);
  const heads: number[] = [];
  const sizes: number[] = [];
  if (entries >= MIN_INDEX_BLOCK) {
    // The fields of one message (a decimal and a hex reading) alternate between two blocks: the
    // two met last are checked first, the others found by name.
    const names: string[] = [];
    let kA = -1;
    let kB = -1;
    let byName: Map<string, number> | undefined;
    for (let e = 0; e < entries; e++) {
      const field = fields[e]!;
      if (!ascii && lastCode(field) > 0x7f) continue;
      let k: number;
      if (kA >= 0 && inBlockOf(field, fields[heads[kA]!]!, names[kA]!)) k = kA;
      else if (kB >= 0 && inBlockOf(field, fields[heads[kB]!]!, names[kB]!)) k = kB;
      else {
        if (!ascii && !isAscii(field)) continue;
        byName ??= new Map();
        const name = field.slice(0, -1);
        k = byName.get(name) ?? -1;
        if (k < 0) {
          k = heads.length;
          byName.set(name, k);
          names.push(name);
          heads.push(e);
          sizes.push(0);
        }
        kB = kA;
        kA = k;
      }
      blockOf[e] = k;
      sizes[k]!++;
    }
  }
  let blocked = 0;
  let blocks = 0;
  for (const size of sizes) {
    if (size < MIN_INDEX_BLOCK) continue;
    blocked += size;
    blocks++;
  }
  return { blockOf, heads, sizes, blocked, blocks };
}

/** Whether entry `e` goes in its index block (else in the bucket's hash). */
function blockedEntry(index: IndexEntries, e: number): boolean {
  const k = index.blockOf[e]!;
  return k >= 0 && index.sizes[k]! >= MIN_INDEX_BLOCK;
}

/** Where keys and the parts of them an argument is copied from are in the transaction's bytes. */
interface KeyBytes {
  /** Per key, its argument's bytes [from, to) as two numbers. */
  readonly keys: number[];
  /** Per key, where its block (an id or field but its last character) starts in them. */
  readonly parts: number[];
}

/**
 * Per record block, its HMGET (each block's goes before its HSET: it reads the records as they were
 * before the run), then per record block its HSET. The blocks' keys: the prefix's bytes and the
 * first id but its last character.
 */
function writeRecords(tx: Transaction, prefix: string, ops: readonly AcceptedWrite[], start: number, records: RecordBlocks): KeyBytes {
  const { blockOf, idLast, heads, sizes } = records;
  const n = blockOf.length;
  const head = Buffer.from(prefix + 'r:', 'utf8');
  const keys: number[] = [];
  const parts: number[] = [];
  for (let k = 0; k < heads.length; k++) {
    const w = tx.begin(2 + sizes[k]!).raw(HMGET);
    const first = ops[heads[k]!]!.id;
    const from = w.offset;
    const to = w.joined(head, first, first.length - 1).offset;
    keys.push(from, to);
    parts.push(to - 2 - (first.length - 1));
    for (let q = heads[k]! - start; q < n; q++) if (blockOf[q] === k) w.char(idLast[q]!);
  }
  for (let k = 0; k < heads.length; k++) {
    const w = tx.begin(2 + 2 * sizes[k]!).raw(HSET).again(keys[2 * k]!, keys[2 * k + 1]!);
    for (let q = heads[k]! - start; q < n; q++) if (blockOf[q] === k) w.char(idLast[q]!).arg(ops[start + q]!.record);
  }
  return { keys, parts };
}

/** Writes the id of index entry `e`, copied from its record block's key. */
function writeEntryId(w: RespWriter, ops: readonly AcceptedWrite[], start: number, records: RecordBlocks, recordKeys: KeyBytes, index: IndexEntries, e: number): void {
  const q = index.ops[e]! - start;
  w.partAnd(recordKeys.parts[records.blockOf[q]!]!, ops[start + q]!.id.length - 1, records.idLast[q]!);
}

/**
 * The index: the bucket's hash HSET (entries in no block), each index block's HSET (its key: the
 * bucket's key, ':', and its first field but the last character), and the HDEL from the bucket's
 * hash of every field written to a block. The keys' bytes: the bucket's hash first (when written),
 * then the blocks'.
 */
function writeIndex(
  tx: Transaction,
  xkey: string,
  ops: readonly AcceptedWrite[],
  start: number,
  records: RecordBlocks,
  recordKeys: KeyBytes,
  index: IndexEntries,
): { readonly bucket: number[]; readonly blocks: number[] } {
  const { fields, blockOf, heads, sizes, blocked } = index;
  const entries = fields.length;
  const bucket: number[] = [];
  if (entries > blocked) {
    const w = tx.begin(2 + 2 * (entries - blocked)).raw(HSET);
    const from = w.offset;
    bucket.push(from, w.arg(xkey).offset);
    for (let e = 0; e < entries; e++) {
      if (blockedEntry(index, e)) continue;
      w.arg(fields[e]!);
      writeEntryId(w, ops, start, records, recordKeys, index, e);
    }
  }
  const blocks: number[] = [];
  if (index.blocks === 0) return { bucket, blocks };
  const head = Buffer.from(xkey + ':', 'utf8');
  const parts: number[] = [];
  for (let k = 0; k < heads.length; k++) {
    if (sizes[k]! < MIN_INDEX_BLOCK) continue;
    const w = tx.begin(2 + 2 * sizes[k]!).raw(HSET);
    const first = fields[heads[k]!]!;
    const from = w.offset;
    const to = w.joined(head, first, first.length - 1).offset;
    blocks.push(from, to);
    parts.push(to - 2 - (first.length - 1));
    for (let e = heads[k]!; e < entries; e++) {
      if (blockOf[e] !== k) continue;
      w.char(lastCode(fields[e]!));
      writeEntryId(w, ops, start, records, recordKeys, index, e);
    }
  }
  // A field in the bucket's hash would hide its block's entry (redis-keys.ts, "Index blocks").
  const w = tx.begin(2 + blocked).raw(HDEL);
  if (bucket.length > 0) w.again(bucket[0]!, bucket[1]!);
  else w.arg(xkey);
  for (let k = 0, b = 0; k < heads.length; k++) {
    if (sizes[k]! < MIN_INDEX_BLOCK) continue;
    const first = fields[heads[k]!]!;
    const part = parts[b++]!;
    for (let e = heads[k]!; e < entries; e++) if (blockOf[e] === k) w.partAnd(part, first.length - 1, lastCode(fields[e]!));
  }
  return { bucket, blocks };
}

/** PEXPIRE of each key in `keys` (pairs [from, to) of its bytes) for `ttl`, with `option`. */
function writeExpires(tx: Transaction, keys: readonly number[], ttl: Uint8Array, option: Uint8Array): void {
  for (let k = 0; k < keys.length; k += 2) tx.begin(4).raw(PEXPIRE).again(keys[k]!, keys[k + 1]!).raw(ttl).raw(option);
}

/**
 * One run (operations [start, end) with one `now`), written as the top of this file says, straight
 * into the transaction's bytes: per operation no string, array or Map entry is made, only its
 * block numbers. A later command on a key copies its bytes, and an id or field whose block is in a
 * key written before is copied from there.
 */
function writeRun(tx: Transaction, layout: AcceptLayout, buckets: StatsBuckets, ops: readonly AcceptedWrite[], start: number, end: number): WrittenRun {
  const { prefix, ttlMs, bucketWidth } = layout;
  const now = ops[start]!.now;
  const at = tx.commands;
  const records = recordBlocks(ops, start, end);
  const recordKeys = writeRecords(tx, prefix, ops, start, records);
  const index = indexEntries(ops, start, end);
  const indexKeys = writeIndex(tx, prefix + 'x:' + Math.floor(now / bucketWidth), ops, start, records, recordKeys, index);
  // After the index writes, whose replies recountsOf reads from `at` on: the bucket's hash, when
  // written, is made a hashtable (redis-keys.ts, "Bucket shape").
  if (indexKeys.bucket.length > 0) tx.begin(4).raw(HSETNX).again(indexKeys.bucket[0]!, indexKeys.bucket[1]!).raw(SHAPE);
  // The end of the run's bucket plus the ttl (the script's bucket_ends): every key written keeps a
  // Redis TTL at least that long, as ms from now. A record block's deadline moves on with each save
  // into it: extended, never shortened (GT), or set if new (NX), as the script's `extend`. An index
  // key is written in its time bucket only, whose deadline every writer computes alike: NX (the
  // first writer's, up to the replicas' clock skew).
  const ends = (Math.floor(now / bucketWidth) + 1) * bucketWidth + ttlMs;
  const ttl = encodeArgs(String(ends - now));
  for (let k = 0; k < recordKeys.keys.length; k += 2) {
    const key = recordKeys.keys.slice(k, k + 2);
    writeExpires(tx, key, ttl, GT);
    writeExpires(tx, key, ttl, NX);
  }
  writeExpires(tx, indexKeys.bucket, ttl, NX);
  writeExpires(tx, indexKeys.blocks, ttl, NX);
  // Stats: the records until the end of their bucket (ends - 1), the index entries until now + ttl.
  const n = end - start;
  const entries = index.fields.length;
  count(tx, layout, buckets, now, Math.floor((ends - 1) / bucketWidth), 'r', n);
  if (entries > 0) count(tx, layout, buckets, now, Math.floor((now + ttlMs) / bucketWidth), 'u', entries);
  return {
    now,
    at,
    ops,
    start,
    blockOf: records.blockOf,
    recordBlocks: records.heads.length,
    indexWrites: (indexKeys.bucket.length + indexKeys.blocks.length) / 2,
    removes: index.blocks > 0,
    records: n,
    entries,
  };
}

/**
 * `n` more of `field` ('r' or 'u') in stats bucket `bucket`, as the script's flush_counts leaves
 * them: the bucket's hash has a TTL (its end plus the ttl) and its member in <p>nb, whose TTL is at
 * least as long (written when StatsBuckets says so).
 */
function count(tx: Transaction, layout: AcceptLayout, buckets: StatsBuckets, now: number, bucket: number, field: string, n: number): void {
  const { prefix, bucketWidth, ttlMs } = layout;
  const member = bucketWidth + ':' + bucket;
  const key = prefix + 'n:' + member;
  tx.command('hincrby', [key, field, n]);
  if (!buckets.due(member, now)) return;
  const bucketEnd = (bucket + 1) * bucketWidth;
  const ttl = bucketEnd - now + ttlMs;
  tx.command('pexpire', [key, ttl, 'NX']);
  tx.command('zadd', [prefix + 'nb', bucketEnd, member]);
  tx.command('pexpire', [prefix + 'nb', ttl, 'GT']);
  tx.command('pexpire', [prefix + 'nb', ttl, 'NX']);
}

/**
 * What the stats should have counted, run by run, where it differs from what the transaction
 * counted: from EXEC's reply `reply` to the transaction `written` describes. Empty nearly always.
 */
export function recountsOf(reply: readonly unknown[], written: AcceptedWrites): Recount[] {
  const recounts: Recount[] = [];
  for (const run of written.runs) {
    let i = run.at;
    const saved: string[] = [];
    for (let k = 0; k < run.recordBlocks; k++) savedOf(run, k, reply[i++] as readonly (string | null)[], saved);
    let added = 0;
    for (let k = 0; k < run.recordBlocks; k++) added += reply[i++] as number;
    let entries = 0;
    for (let k = 0; k < run.indexWrites; k++) entries += reply[i++] as number;
    if (run.removes) entries -= reply[i] as number;
    // The script counts a record saved again in the new bucket too, having uncounted it in its old one.
    const records = added + saved.length - run.records;
    entries -= run.entries;
    if (records !== 0 || entries !== 0 || saved.length > 0) recounts.push({ now: run.now, records, entries, saved });
  }
  return recounts;
}

/**
 * The expiresAt of each record that record block `k`'s HMGET found (`olds`, one per operation of
 * the block, in run order), added to `saved`. An id twice in the run was asked twice and found its
 * record twice: one record.
 */
function savedOf(run: WrittenRun, k: number, olds: readonly (string | null)[], saved: string[]): void {
  let found = false;
  for (const old of olds) if (old !== null && old !== undefined) found = true;
  if (!found) return;
  const { ops, start, blockOf } = run;
  let j = 0;
  for (let q = 0; q < blockOf.length; q++) {
    if (blockOf[q] !== k) continue;
    const old = olds[j++];
    if (old === null || old === undefined) continue;
    const id = ops[start + q]!.id;
    let again = false;
    for (let p = 0; p < q && !again; p++) again = blockOf[p] === k && ops[start + p]!.id === id;
    if (!again) saved.push(old.slice(0, old.indexOf('|')));
  }
}
