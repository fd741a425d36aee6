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

import { charCode } from '../smpp/string-calls.js';
import type { RespArg, Transaction } from './redis-batch-command.js';

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
  // Each entry's block (undefined for a field beyond ASCII), then the blocks by name. The fields of
  // one message (a decimal and a hex reading) alternate between two blocks, and the two met last
  // are recognised by comparing names (===, a memory compare), not by a Map lookup, which hashes
  // each new name. A throwaway microbench of runs of 60 messages: ~120 ns per entry so, 190-325 ns
  // with a prefix compare instead of the slice (String.prototype.startsWith, or a loop of
  // charCodeAt), on a noisy machine.
  const blockOf: (IndexBlock | undefined)[] = new Array<IndexBlock | undefined>(index.length / 2);
  const all = new Map<string, IndexBlock>();
  let nameA: string | undefined;
  let nameB: string | undefined;
  let blockA: IndexBlock | undefined;
  let blockB: IndexBlock | undefined;
  for (let i = 0, k = 0; i < index.length; i += 2, k++) {
    const field = index[i]!;
    let block: IndexBlock | undefined;
    if (!ascii && charCode(field, field.length - 1) > 0x7f) continue;
    const name = field.slice(0, -1);
    if (name === nameA) block = blockA;
    else if (name === nameB) block = blockB;
    else {
      if (!ascii && !isAscii(field)) continue;
      block = all.get(name);
      if (block === undefined) all.set(name, (block = { pairs: [], fields: [] }));
      nameB = nameA;
      blockB = blockA;
      nameA = name;
      blockA = block;
    }
    block!.pairs.push(field.slice(-1), index[i + 1]!);
    block!.fields.push(field);
    blockOf[k] = block;
  }
  const flat: string[] = [];
  for (let i = 0, k = 0; i < index.length; i += 2, k++) {
    const block = blockOf[k];
    if (block !== undefined && block.fields.length >= MIN_INDEX_BLOCK) continue;
    flat.push(index[i]!, index[i + 1]!);
  }
  const blocks = new Map<string, IndexBlock>();
  for (const [name, block] of all) if (block.fields.length >= MIN_INDEX_BLOCK) blocks.set(name, block);
  return { flat, blocks };
}

/** Where a run's replies are in EXEC's reply, and what the run counted before it knew them. */
interface WrittenRun {
  readonly now: number;
  /** The index in EXEC's reply of the run's first command: its first record block's HMGET. */
  readonly at: number;
  /** Per record block, the last characters HMGET asked for (an id twice in the run: twice). */
  readonly recordChars: readonly (readonly string[])[];
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

function writeRun(
  tx: Transaction,
  layout: AcceptLayout,
  buckets: StatsBuckets,
  ops: readonly AcceptedWrite[],
  start: number,
  end: number,
): WrittenRun {
  const { prefix, ttlMs, bucketWidth } = layout;
  const now = ops[start]!.now;
  const at = tx.commands;
  // Record blocks by name (the ids but their last character): pairs (last character, record
  // string). Consecutive ids mostly share one, so the Map is asked once per block, not per id.
  const records = new Map<string, RespArg[]>();
  const index: string[] = [];
  let name: string | undefined;
  let pairs: RespArg[] = [];
  for (let i = start; i < end; i++) {
    const { id, record, fields } = ops[i]!;
    const block = id.slice(0, -1);
    if (block !== name) {
      name = block;
      const known = records.get(name);
      if (known === undefined) records.set(name, (pairs = []));
      else pairs = known;
    }
    pairs.push(id.slice(-1), record);
    for (const field of fields) index.push(field, id);
  }
  const { flat, blocks } = splitIndex(index, true);
  const xkey = prefix + 'x:' + Math.floor(now / bucketWidth);
  // The end of the run's bucket plus the ttl (the script's bucket_ends): every key written keeps a
  // Redis TTL at least that long, as ms from now.
  const ends = (Math.floor(now / bucketWidth) + 1) * bucketWidth + ttlMs;
  const ttl = ends - now;

  const recordKeys: string[] = [];
  const recordChars: string[][] = [];
  for (const [block, blockPairs] of records) {
    const key = prefix + 'r:' + block;
    const chars: string[] = [];
    for (let j = 0; j < blockPairs.length; j += 2) chars.push(blockPairs[j] as string);
    tx.command('hmget', [key], chars);
    recordKeys.push(key);
    recordChars.push(chars);
  }
  // Each block's HMGET goes before its HSET: it reads the records as they were before the run.
  let k = 0;
  for (const blockPairs of records.values()) tx.command('hset', [recordKeys[k++]!], blockPairs);
  let indexWrites = 0;
  if (flat.length > 0) {
    tx.command('hset', [xkey], flat);
    indexWrites++;
  }
  for (const [block, { pairs: blockPairs }] of blocks) {
    tx.command('hset', [xkey + ':' + block], blockPairs);
    indexWrites++;
  }
  if (blocks.size > 0) {
    // A field in the bucket's hash would hide its block's entry (redis-keys.ts, "Index blocks").
    const moved: (readonly string[])[] = [];
    for (const block of blocks.values()) moved.push(block.fields);
    tx.command('hdel', [xkey], ...moved);
  }
  // A record block's deadline moves on with each save into it: extended, never shortened (GT), or
  // set if new (NX), as the script's `extend`. An index key is written in its time bucket only, whose
  // deadline every writer computes alike: NX (the first writer's, up to the replicas' clock skew).
  for (const key of recordKeys) {
    tx.command('pexpire', [key, ttl, 'GT']);
    tx.command('pexpire', [key, ttl, 'NX']);
  }
  if (flat.length > 0) tx.command('pexpire', [xkey, ttl, 'NX']);
  for (const block of blocks.keys()) tx.command('pexpire', [xkey + ':' + block, ttl, 'NX']);
  // Stats: the records until the end of their bucket (ends - 1), the index entries until now + ttl.
  const saves = end - start;
  const entries = index.length / 2;
  count(tx, layout, buckets, now, Math.floor((ends - 1) / bucketWidth), 'r', saves);
  if (entries > 0) count(tx, layout, buckets, now, Math.floor((now + ttlMs) / bucketWidth), 'u', entries);
  return { now, at, recordChars, indexWrites, removes: blocks.size > 0, records: saves, entries };
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
    for (const chars of run.recordChars) {
      const olds = reply[i++] as readonly (string | null)[];
      // A character asked twice (an id twice in the run) found its record twice: one record.
      for (let j = 0; j < olds.length; j++) {
        const old = olds[j];
        if (old !== null && old !== undefined && chars.indexOf(chars[j]!) === j) saved.push(old.slice(0, old.indexOf('|')));
      }
    }
    let added = 0;
    for (let k = 0; k < run.recordChars.length; k++) added += reply[i++] as number;
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
