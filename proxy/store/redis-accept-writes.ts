// A batch of saveAccepted written as plain Redis commands in one MULTI/EXEC, instead of through the
// batch script (redis-scripts.ts, run_at).
//
// Why: every argument of a script call becomes a Lua string and then a Redis string again. With
// records and index entries in small hashes (redis-keys.ts), that conversion was more than half of
// Redis's CPU per message on the Redis store (bench/README.md, "The Redis store"): Redis parses a plain
// HSET's arguments once. Under load nearly every batch is saveAccepted only (one per submitted
// message), so the store sends such a batch this way; any other batch goes to the script as before.
//
// What the transaction holds, per run (consecutive operations with one `now`, as in run_at):
//   the accept script, 'pre'   notes the field count of each key the run writes, uncounts records
//                              it saves again (redis-scripts.ts, ACCEPT)
//   HSET per record block      <p>r:<block>: last character -> record string
//   HSET of the bucket's hash  <p>x:<b>: index field -> id, the entries that make no block
//   HSET per index block       <p>x:<b>:<block>: last character -> id (splitIndex)
//   HDEL of the bucket's hash  the fields the index blocks now hold (a field in the bucket's hash
//                              would hide its block's entry: redis-keys.ts, "Index blocks")
//   the accept script, 'post'  extends each key's TTL, counts what the run added (field counts
//                              against 'pre'); for the batch's last run, replies whether any
//                              orphan is held
// MULTI/EXEC makes the writes one step for every other client, as the script call was: a receipt
// that comes after them finds its message in the index (holdOrphan), and one held before them is
// seen by 'post' (<p>ox exists), after which the store takes each message's held orphans with
// takeHeld.
//
// Records, index, counts and TTLs are what the script would leave (redis-store.test.ts compares
// them). When Redis refuses the transaction (EXECABORT, or an ACL without MULTI), the store writes
// the batch through the batch script, and keeps to the script if that works. When Redis lost the
// accept script (NOSCRIPT: SCRIPT FLUSH), the writes ran but not the TTLs and counts, and the batch
// script writes the batch again (redis-store.ts, sendAccepted).

import { charCode } from '../smpp/string-calls.js';
import type { RespArg, ScriptCaller, Transaction } from './redis-batch-command.js';

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
  readonly meta: string;
  readonly ttlMs: number;
  readonly bucketWidth: number;
  readonly leaseMs: number;
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

/** The script's first five arguments, as the batch script's (redis-scripts.ts, Call layout). */
function header(layout: AcceptLayout): RespArg[] {
  return [layout.prefix, '', layout.ttlMs, layout.bucketWidth, layout.leaseMs];
}

/**
 * Writes `ops` into `tx`, run by run (see the top of this file). Every id and index field must be
 * ASCII (AcceptedWrite.ascii): the scripts split them by bytes. EXEC's reply for the last 'post' is its last
 * element: whether orphans are held.
 */
export function writeAccepted(tx: Transaction, script: ScriptCaller, layout: AcceptLayout, ops: readonly AcceptedWrite[]): void {
  const head = header(layout);
  for (let start = 0; start < ops.length; ) {
    const now = ops[start]!.now;
    let end = start + 1;
    while (end < ops.length && ops[end]!.now === now) end++;
    writeRun(tx, script, layout, head, ops, start, end, end === ops.length);
    start = end;
  }
}

function writeRun(
  tx: Transaction,
  script: ScriptCaller,
  layout: AcceptLayout,
  head: readonly RespArg[],
  ops: readonly AcceptedWrite[],
  start: number,
  end: number,
  last: boolean,
): void {
  const now = ops[start]!.now;
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
  const xkey = layout.prefix + 'x:' + Math.floor(now / layout.bucketWidth);

  // KEYS: meta, the record blocks, then the index keys (the bucket's hash first). ARGV after 'pre':
  // each record block's last characters as one string.
  const keys: string[] = [layout.meta];
  const chars: string[] = [];
  for (const [block, blockPairs] of records) {
    keys.push(layout.prefix + 'r:' + block);
    let lasts = '';
    for (let j = 0; j < blockPairs.length; j += 2) lasts += blockPairs[j] as string;
    chars.push(lasts);
  }
  if (index.length > 0) keys.push(xkey);
  for (const block of blocks.keys()) keys.push(xkey + ':' + block);

  script.writeCall(tx, keys, head, ['pre', now, records.size], chars);
  let k = 1;
  for (const blockPairs of records.values()) tx.command('hset', [keys[k++]!], blockPairs);
  if (flat.length > 0) tx.command('hset', [xkey], flat);
  if (blocks.size > 0) {
    k++; // the bucket's hash
    for (const block of blocks.values()) tx.command('hset', [keys[k++]!], block.pairs);
    // A field in the bucket's hash would hide its block's entry (redis-keys.ts, "Index blocks").
    const moved: (readonly string[])[] = [];
    for (const block of blocks.values()) moved.push(block.fields);
    tx.command('hdel', [xkey], ...moved);
  }
  script.writeCall(tx, keys, head, ['post', now, records.size, last ? '1' : '0']);
}
