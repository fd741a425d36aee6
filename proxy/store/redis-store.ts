// The Redis backend of MessageStore (SPEC §3 `store.backend: redis`): one store shared by every
// replica, so a receipt finds its message whichever replica submitted it, and a delivery kept for a
// client is handed to whichever replica holds the client's receiver (SPEC §4, issue 5).
//
// Key layout, TTLs and the two clocks: redis-keys.ts. Scripts: redis-scripts.ts. Connecting and
// failing fast: redis-connection.ts.
//
// Round trips: each method is one operation of one script (redis-scripts.ts), and the operations
// started in one event-loop turn go to Redis together as one EVALSHA (stats adds an INFO); a batch
// of saveAccepted alone goes as one MULTI/EXEC of plain commands instead (redis-accept-writes.ts). So a
// submit_sm costs one operation (saveAccepted, once the upstream accepted it; issue 5 benchmark:
// save + setUpstreamId, two operations, held Redis at ~40-60% of the memory store's throughput) and
// its receipt one (findByUpstream), and under load many messages share each round trip:
// bench/store.ts measures it.
// A call is sent when the callback that made it is done, with the calls that the promise reactions
// it started made too (queueOp), or at once when MAX_BATCH calls wait.
//
// Deliveries: why sorted sets and not Redis Streams. A Streams consumer group with XAUTOCLAIM gives
// claim, ack and reclaim, but its lease is an entry's idle time on Redis's clock, a reclaimed entry
// is handed straight to the claimer instead of going back to its place before younger entries, and
// its delivery counter counts reads, not claims. The contract wants a lease on the store's clock,
// an expired or released claim back at its place (FIFO per client), a per-claim attempt count, a
// per-delivery ttl and an exact pending count. Per client, one zset of ready ids scored by a global
// enqueue sequence and one zset of claimed ids scored by lease end give all that, each method one
// operation: take moves ran-out leases back (O(log n) each) and pops the oldest ready ones; an entry
// leaves Redis only on ack or ttl, so a replica that dies with claims loses nothing: the next take
// on any replica after the lease hands them out again (at-least-once; attempts tells the retry).
// Leases compare the clocks of the replicas: skew between them shortens or stretches a lease.
//
// Prompt cross-replica draining: every enqueue publishes the client's system_id on the channel
// `<prefix>deliveries`; onDeliveryQueued(fn) subscribes (one extra connection, made on first use)
// so the replica holding the client's receiver can drain at once instead of at its next sweep.
// Messages published while a replica's subscriber is reconnecting are lost: the sweep covers them.
//
// Counts that are approximate (documented in StoreStats terms):
// - entries and memory.upstreamKeys come from counters bucketed by expiry time (64 buckets per ttl):
//   a record or key is counted until the end of its bucket (up to ttl/64 after it expired), an index
//   key the upstream reused is counted once per time bucket it was written in (a record saved
//   again is counted once: redis-keys.ts), and one Redis dropped early (eviction under
//   maxmemory, FLUSHDB) is counted until its bucket ends. A batch of saveAccepted written as a
//   transaction counts its records and entries as new and corrects that after EXEC when one was
//   saved again (redis-accept-writes.ts): a replica that dies in between leaves it counted twice
//   until its older bucket ends. Counting the keyspace (SCAN or DBSIZE)
//   would cost O(entries) per stats() or count other tenants' keys.
// - expirations counts records when their bucket ends (at the next stats()), not one by one.
// - evictions and deliveriesEvicted are 0: Redis has no max_entries; with maxmemory set, use
//   `maxmemory-policy noeviction` so that writes fail (submits get a retriable status) instead of
//   Redis silently dropping records that receipts still need.
// - memory.approxBytes is Redis's used_memory: the whole instance, not this prefix alone.
// - pendingDeliveries, orphans and the expiry counters of deliveries and orphans are exact (swept
//   by the store's clock before counting), up to 10,000 expiries swept per call.

import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { StoreConfig } from '../config/schema.js';
import {
  createRedisClient,
  failFastOptions,
  redisSettingsFromConfig,
  type RedisConnectionSettings,
} from './redis-connection.js';
import {
  bucketWidthMs,
  deliveriesChannel,
  deliveryExpiryKey,
  deliveryLeaseKey,
  deliveryQueueKey,
  hasHashTag,
  KEY_LAYOUT_VERSION,
  metaKey,
  ttlClaimKey,
  orphanIndexKey,
  orphanIndexKeyOfField,
  upstreamIndexField,
} from './redis-keys.js';
import { isAscii, recountsOf, splitIndex, StatsBuckets, writeAccepted, type AcceptedWrites, type AcceptLayout, type Recount } from './redis-accept-writes.js';
import { findArgs, FIND_SOURCE, liveRecord, MAX_FIND_FIELDS } from './redis-find-reads.js';
import { canTakeReplies, putDecimal, ScriptCaller, Transaction, type RespArg, type RespWritable } from './redis-batch-command.js';
import { BATCH_SOURCE, FIND_RUN_OP, OP, RUN_OP, type OpName } from './redis-scripts.js';
import { charCode, indexOf } from '../smpp/string-calls.js';
import { deserialiseStored, serialiseStored } from './serialise.js';
import {
  DEFAULT_LEASE_MS,
  MAX_MESSAGE_ID_LENGTH,
  StoreError,
  StoreErrorCode,
  type ClaimedDelivery,
  type Clock,
  type DeliveryItem,
  type FindDone,
  type MessageRecord,
  type MessageStore,
  type OrphanReceipt,
  type ReclaimedOrphan,
  type SaveAcceptedDone,
  type StoreOptions,
  type StoreStats,
} from './store.js';

export interface RedisStoreOptions extends StoreOptions {
  /** Connect to this redis:// or rediss:// URL (fail-fast options, redis-connection.ts). */
  readonly url?: string;
  /**
   * An ioredis Redis or Cluster to use as is (the caller owns it: close() leaves it open; make it
   * with createRedisClient or failFastOptions so calls fail fast), or RedisOptions for a client the
   * store makes and owns (failFastOptions underneath).
   */
  readonly redis?: Redis | Cluster | RedisOptions;
  /** Connection settings as the config gives them (standalone, Sentinel, Cluster, TLS). */
  readonly connection?: RedisConnectionSettings;
  /** Prefix of every key and channel (SPEC §3 `store.redis.key_prefix`). */
  readonly keyPrefix: string;
  /** Most orphan receipts held, all replicas together; the soonest to expire go first. Default 100,000. */
  readonly maxOrphans?: number;
  /** Called when the store becomes usable or unusable (Redis connection ready or lost). */
  readonly onHealthChange?: (healthy: boolean, err?: Error) => void;
  /**
   * Called after each call (one batch: a script call, redis-scripts.ts, or a transaction,
   * redis-accept-writes.ts): how many operations it carried,
   * its round trip in seconds, and whether Redis answered it (false: the call failed, and so did
   * each of its operations). For metrics; a throw here is ignored.
   */
  readonly onCall?: (operations: number, seconds: number, ok: boolean) => void;
  /** A caller's callback (saveAcceptedWith's `done`) threw: a bug there. Default: a process warning. */
  readonly onCallbackError?: (err: unknown) => void;
  /**
   * How a batch of saveAccepted alone is written: 'transaction' (default), as plain commands in one
   * MULTI/EXEC (redis-accept-writes.ts), or 'script', through the batch script like every other
   * batch. 'transaction' applies to a standalone or Sentinel connection that fails fast (no offline
   * queue, no resending after a reconnect: failFastOptions); otherwise the store uses the script,
   * and it goes over to the script for good when Redis refuses a transaction that the script then
   * writes (an ACL without MULTI, a Redis-compatible server without transactions).
   */
  readonly acceptedWrites?: 'transaction' | 'script';
  /**
   * How long this store's claim of its prefix's store ttl lasts unless renewed (every third of it):
   * how soon, after the last replica with another ttl stopped, one with a new ttl serves. Default 30 s.
   */
  readonly prefixLeaseMs?: number;
}

/** A MessageStore on Redis, with the optional methods always present. */
export interface RedisMessageStore extends MessageStore {
  healthy(): boolean;
  /** Why the store does not serve now (Redis unreachable, its key prefix refused); undefined while it does. */
  problem(): string | undefined;
  ackOrphans(tokens: readonly string[]): Promise<void>;
  reclaimOrphans(max: number): Promise<readonly ReclaimedOrphan[]>;
  onDeliveryQueued(listener: (client: string) => void): () => void;
  /** Resolves once the delivery channel subscription of onDeliveryQueued is active. */
  whenListening(): Promise<void>;
}

const DEFAULT_MAX_ORPHANS = 100_000;
/** Expired deliveries and orphans swept per pendingCount/stats call. */
const SWEEP_LIMIT = 10_000;

/** Most operations in one script call; more wait for the next (bounds one call's time in Redis). */
const MAX_BATCH = 128;
/** How long a store's claim of its prefix's ttl lasts unless renewed (checkPrefix). */
const DEFAULT_PREFIX_LEASE_MS = 30_000;
/**
 * The ttl lease of a prefix (redis-keys.ts, <p>ttl): KEYS[1] the lease, ARGV = this store's ttl,
 * the lease's length. Taken when free, renewed when it holds this ttl, left alone when it holds
 * another (so that it runs out once the replicas of that one are gone). Replies the ttl it holds.
 */
const CLAIM_TTL_LUA = `
local held = redis.call('GET', KEYS[1])
if not held then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
if held == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return held
`;
/** Most deliveries one takeDeliveries claims. */
const MAX_TAKE = 1_000;
const NO_ORPHANS: readonly OrphanReceipt[] = Object.freeze([]);
const NO_KEYS: readonly string[] = Object.freeze([]);

type RedisClient = Redis | Cluster;

/** Where an operation's result goes. */
interface OpResult {
  /** The operation's reply arrived. */
  settle(reply: unknown): void;
  /** The operation failed (its whole batch did). */
  fail(err: unknown): void;
}

/** An operation whose caller awaits a promise; it goes to the script in the batch's JSON. */
class PromisedOp implements OpResult {
  constructor(
    readonly keys: readonly string[],
    /** As the script reads it: name, key count, then the arguments (op() puts the first two in front). */
    readonly encoded: readonly (string | number)[],
    /** Turns the operation's reply into what its caller gets (a throw rejects the call). */
    private readonly transform: ((reply: unknown) => unknown) | undefined,
    private readonly resolve: (result: unknown) => void,
    private readonly reject: (err: unknown) => void,
  ) {}

  settle(reply: unknown): void {
    if (this.transform === undefined) {
      this.resolve(reply);
      return;
    }
    try {
      this.resolve(this.transform(reply));
    } catch (err) {
      this.reject(err);
    }
  }

  fail(err: unknown): void {
    this.reject(err);
  }
}

/**
 * A saveAcceptedWith: its caller hears through `done`. One object per message, no promise. It goes
 * to the script in a run of ARGV strings (AcceptRuns), with no KEYS: the script builds the orphan
 * keys from the index fields (redis-scripts.ts says why).
 */
class AcceptOp implements OpResult {
  constructor(
    /** Epoch ms by the store's clock. */
    readonly now: number,
    readonly id: string,
    /** The record string as setUpstreamId would leave it. */
    readonly record: RecordBytes,
    /** upstreamIndexField of each of its keys. */
    readonly fields: readonly string[],
    /** Whether id and fields are all ASCII. */
    readonly ascii: boolean,
    private readonly done: SaveAcceptedDone,
  ) {}

  settle(reply: unknown): void {
    let orphans: readonly OrphanReceipt[];
    try {
      orphans = orphansOf(reply as [number, ...(string | number)[]]);
    } catch (err) {
      this.done.notStored(err);
      return;
    }
    this.done.stored(orphans);
  }

  fail(err: unknown): void {
    this.done.notStored(err);
  }
}

/**
 * A findByUpstream: its caller hears through `done` (findByUpstreamWith, or findByUpstream's
 * promise). One object per receipt besides the encoded find. It goes to the find script, or in a
 * FindRuns to the batch script.
 */
class FindOp implements OpResult {
  constructor(
    /** name, key count (0), now, then the index fields (op() would leave it so). */
    readonly encoded: readonly (string | number)[],
    private readonly done: FindDone,
  ) {}

  settle(reply: unknown): void {
    let record: MessageRecord | undefined;
    try {
      record = foundRecord(reply);
    } catch (err) {
      this.done.findFailed(err);
      return;
    }
    this.done.found(record);
  }

  fail(err: unknown): void {
    this.done.findFailed(err);
  }
}

/** findByUpstream's promise settled by a FindOp. */
class FoundPromise implements FindDone {
  constructor(
    readonly found: (record: MessageRecord | undefined) => void,
    readonly findFailed: (err: unknown) => void,
  ) {}
}

/** An operation waiting for its batch. */
type QueuedOp = PromisedOp | AcceptOp | FindOp;

function positive(name: string, value: number, integer: boolean): number {
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new StoreError(StoreErrorCode.INVALID_ARGUMENT, `${name} must be a positive ${integer ? 'integer' : 'number'}`);
  }
  return value;
}

function isClient(value: unknown): value is RedisClient {
  return value instanceof Redis || value instanceof Cluster;
}

// Printable on purpose: a batch goes to Redis as JSON, where a control character such as \u0001
// is written as six characters each way (7 separators per record: JSON.stringify and cjson decode
// were a visible part of the Redis path; bench: `npm run bench`, Redis store).
const SEP = '|';
const ESC = '~';

const SEP_CODE = 0x7c;
const ESC_CODE = 0x7e;

/** Whether `value` holds SEP or ESC (`esc` = false: ESC only). A loop, not includes(): string-calls.ts says why. */
function holdsSeparator(value: string, sep: boolean): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = charCode(value, i);
    if (c === ESC_CODE || (sep && c === SEP_CODE)) return true;
  }
  return false;
}

/** A field of a record string: SEP and ESC written as ESC ESC and ESC '1' (redis-keys.ts). */
function esc(value: string): string {
  if (!holdsSeparator(value, true)) return value;
  return value.replaceAll(ESC, ESC + ESC).replaceAll(SEP, ESC + '1');
}

function unesc(value: string): string {
  if (!holdsSeparator(value, false)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch !== ESC) out += ch;
    else out += value[++i] === ESC ? ESC : SEP;
  }
  return out;
}

/** An optional field: '' when absent, '=' and the value when present. */
function opt(value: string | undefined): string {
  return value === undefined ? '' : '=' + esc(value);
}

/**
 * A record as one string (redis-keys.ts): expiresAt, cluster, endpoint, upstreamId, client,
 * createdAt, routeName, parts, joined by SEP. The scripts read expiresAt and rewrite the next three,
 * which are given apart (saveAccepted writes them as setUpstreamId would).
 */
function recordString(
  record: MessageRecord,
  expiresAt: number,
  cluster: string,
  endpoint: string | undefined,
  upstreamId: string | undefined,
): string {
  // One template, not an array joined: one string per message instead of nine (bench: \`npm run
  // bench\`, Redis store). SEP is '|'.
  const parts = record.parts === undefined ? '' : String(record.parts);
  return `${expiresAt}|${esc(cluster)}|${opt(endpoint)}|${opt(upstreamId)}|${esc(record.client)}|${record.createdAt}|${opt(record.routeName)}|${parts}`;
}

/**
 * recordString's bytes, written straight into the call that carries them (redis-batch-command.ts,
 * RespWritable): saveAccepted's record is only ever sent, and its string was the largest
 * allocation per message on the Redis store (~520 of ~3,800 bytes, sampling heap profile under
 * \`npm run bench\`, Redis store), built of a dozen concatenations and then flattened and encoded
 * again. The values are copied at construction: the caller may change its record afterwards.
 */
export class RecordBytes implements RespWritable {
  private readonly client: string;
  private readonly createdAt: number;
  private readonly routeName: string | undefined;
  private readonly parts: number | undefined;

  constructor(
    record: MessageRecord,
    private readonly expiresAt: number,
    private readonly cluster: string,
    private readonly endpoint: string | undefined,
    private readonly upstreamId: string | undefined,
  ) {
    this.client = record.client;
    this.createdAt = record.createdAt;
    this.routeName = record.routeName;
    this.parts = record.parts;
  }

  maxBytes(): number {
    // Three numbers, seven separators, three '=', and each text at most doubled by escaping and
    // three UTF-8 bytes per UTF-16 unit.
    const text =
      this.cluster.length + (this.endpoint?.length ?? 0) + (this.upstreamId?.length ?? 0) + this.client.length + (this.routeName?.length ?? 0);
    return 3 * 24 + 10 + 6 * text;
  }

  writeTo(buf: Buffer, off: number): number {
    off = putNumber(buf, off, this.expiresAt);
    buf[off++] = SEP_CODE;
    off = LAST_CLUSTER.put(buf, off, this.cluster);
    buf[off++] = SEP_CODE;
    if (this.endpoint !== undefined) {
      buf[off++] = 0x3d; // '='
      off = LAST_ENDPOINT.put(buf, off, this.endpoint);
    }
    buf[off++] = SEP_CODE;
    off = putOptional(buf, off, this.upstreamId);
    buf[off++] = SEP_CODE;
    off = LAST_CLIENT.put(buf, off, this.client);
    buf[off++] = SEP_CODE;
    off = putNumber(buf, off, this.createdAt);
    buf[off++] = SEP_CODE;
    if (this.routeName !== undefined) {
      buf[off++] = 0x3d; // '='
      off = LAST_ROUTE.put(buf, off, this.routeName);
    }
    buf[off++] = SEP_CODE;
    if (this.parts !== undefined) off = putNumber(buf, off, this.parts);
    return off;
  }
}

/**
 * A record field as esc() writes it, kept for the next record: a record's cluster, endpoint, client
 * and route are mostly the same as the one before. Copying the kept bytes costs a few instructions
 * a byte; a loop over a string's characters, ~20 (callgrind, a batch of saveAccepted written alone).
 */
class LastField {
  private text: string | undefined = undefined;
  private bytes = new Uint8Array(0);

  /** `value` escaped at `off`; the next offset. */
  put(buf: Buffer, off: number, value: string): number {
    if (value === this.text) {
      const bytes = this.bytes;
      for (let i = 0; i < bytes.length; i++) buf[off + i] = bytes[i]!;
      return off + bytes.length;
    }
    const end = putEscaped(buf, off, value);
    this.text = value;
    this.bytes = Uint8Array.prototype.slice.call(buf, off, end);
    return end;
  }
}

const LAST_CLUSTER = new LastField();
const LAST_ENDPOINT = new LastField();
const LAST_CLIENT = new LastField();
const LAST_ROUTE = new LastField();

/** `n` as a template literal writes it; the next offset. */
function putNumber(buf: Buffer, off: number, n: number): number {
  if (Number.isSafeInteger(n) && n >= 0) return putDecimal(buf, off, n);
  return off + buf.write(String(n), off, 'latin1');
}

/** esc(value) as UTF-8: byte by byte while ASCII and no SEP or ESC, else by Buffer.write. */
function putEscaped(buf: Buffer, off: number, value: string): number {
  const start = off;
  for (let i = 0; i < value.length; i++) {
    const c = charCode(value, i);
    if (c > 0x7f || c === SEP_CODE || c === ESC_CODE) return start + buf.write(esc(value), start, 'utf8');
    buf[off++] = c;
  }
  return off;
}

/** opt(value) as UTF-8. */
function putOptional(buf: Buffer, off: number, value: string | undefined): number {
  if (value === undefined) return off;
  buf[off] = 0x3d; // '='
  return putEscaped(buf, off + 1, value);
}

/** The offsets of the seven separators of the record string recordFromString reads (reused). */
const SEPARATORS = new Int32Array(7);

/** Where field `k` (1-7) of the record string whose separators are in SEPARATORS starts and ends. */
function fieldStart(k: number): number {
  return (SEPARATORS[k - 1] as number) + 1;
}
function fieldEnd(value: string, k: number): number {
  return k < 7 ? (SEPARATORS[k] as number) : value.length;
}

/** Field `k` from `skip` characters into it, unescaped if `escaped`. */
function fieldAt(value: string, k: number, escaped: boolean, skip = 0): string {
  const text = value.slice(fieldStart(k) + skip, fieldEnd(value, k));
  return escaped ? unesc(text) : text;
}

/** Optional field `k` (opt: '' when absent, '=' + value when present) as fieldAt reads it. */
function optionalAt(value: string, k: number, escaped: boolean): string | undefined {
  return fieldStart(k) === fieldEnd(value, k) ? undefined : fieldAt(value, k, escaped, 1);
}

function recordFromString(id: string, value: string): MessageRecord {
  // The separators found by indexOf, then one substring per field read: split made all eight and
  // an array, and the optional ones were sliced again (one record per receipt on the Redis store).
  // A loop over the characters took ~1.7 times as long as the eight native searches (a standalone
  // script over record strings of ~75 characters read from Buffers, as ioredis makes them).
  let at = -1;
  for (let n = 0; n < 7; n++) {
    at = indexOf(value, SEP, at + 1);
    if (at < 0) throw malformedRecord();
    SEPARATORS[n] = at;
  }
  if (indexOf(value, SEP, at + 1) >= 0) throw malformedRecord();
  const escaped = indexOf(value, ESC, 0) >= 0;
  // Fields: expiresAt, cluster, endpoint, upstreamId, client, createdAt, routeName, parts.
  const record: { -readonly [K in keyof MessageRecord]: MessageRecord[K] } = {
    id,
    client: fieldAt(value, 4, escaped),
    cluster: fieldAt(value, 1, escaped),
    createdAt: Number(fieldAt(value, 5, false)),
  };
  const endpoint = optionalAt(value, 2, escaped);
  if (endpoint !== undefined) record.endpoint = endpoint;
  const routeName = optionalAt(value, 6, escaped);
  if (routeName !== undefined) record.routeName = routeName;
  const upstreamId = optionalAt(value, 3, escaped);
  if (upstreamId !== undefined) record.upstreamId = upstreamId;
  const parts = fieldAt(value, 7, false);
  if (parts !== '') record.parts = Number(parts);
  return record;
}

function malformedRecord(): StoreError {
  return new StoreError(StoreErrorCode.CORRUPT, 'stored message record is malformed');
}

/** A script's {id, record string} answer as a record; undefined for none. */
function foundRecord(reply: unknown): MessageRecord | undefined {
  if (reply === null || reply === undefined || reply === false) return undefined;
  const [id, value] = reply as [string, string];
  return recordFromString(id, value);
}

/** A taken orphan as the script returns it (its seq, its stored receipt), with the seq as its token. */
function takenOrphan(seq: unknown, stored: unknown): OrphanReceipt {
  const held = deserialiseStored(stored as string) as OrphanReceipt;
  return { pdu: held.pdu, receivedAt: held.receivedAt, token: String(seq) };
}

/** The orphan receipts of a setUpstreamId or saveAccepted reply: {1, seq, receipt, ...}. */
function orphansOf(reply: readonly [number, ...(string | number)[]]): readonly OrphanReceipt[] {
  if (reply.length === 1) return NO_ORPHANS;
  const orphans: OrphanReceipt[] = [];
  for (let i = 1; i + 1 < reply.length; i += 2) orphans.push(takenOrphan(reply[i], reply[i + 1]));
  return orphans;
}

/** The ARGV index (1-based, as Lua counts) of the first argument after the five fixed ones. */
const FIRST_RUN_ARG = 6;

/**
 * The ARGV strings of a batch's runs of saveAccepted (redis-scripts.ts, run_at: the layout).
 * Consecutive operations with the same `now` make one run; within it, consecutive ids with the
 * same block (all but their last character: redis-keys.ts) one block.
 */
class AcceptRuns {
  readonly args: RespArg[] = [];
  /** The open run's `now`, undefined when none is open. */
  private now: number | undefined = undefined;
  /** Where the open run's block count and the open block's pair count are in args. */
  private blocksAt = 0;
  private pairsAt = 0;
  private block: string | undefined = undefined;
  /** The open run's index pairs (field, id), written after its blocks. */
  private index: string[] = [];

  /** Adds `op`, opening a run (and its marker in the batch's JSON `ops`) if need be. */
  add(op: AcceptOp, ops: (readonly unknown[])[]): void {
    const args = this.args;
    const { now, id } = op;
    if (now !== this.now) {
      this.end();
      ops.push([RUN_OP, FIRST_RUN_ARG + args.length]);
      this.now = now;
      this.blocksAt = args.push(now, 0) - 1;
    }
    // The script splits an id into block and field by bytes (record_at): a character beyond ASCII
    // is several bytes in Redis, one or two UTF-16 units here. Such an id (never one of smppd's)
    // goes as bytes, in a block of its own.
    if (!op.ascii && !isAscii(id)) {
      const bytes = Buffer.from(id, 'utf8');
      this.block = undefined;
      this.pairsAt = args.push(bytes.subarray(0, bytes.length - 1), 0) - 1;
      args[this.blocksAt] = (args[this.blocksAt] as number) + 1;
      args.push(bytes.subarray(bytes.length - 1), op.record);
    } else {
      const block = id.slice(0, -1);
      if (block !== this.block) {
        this.block = block;
        this.pairsAt = args.push(block, 0) - 1;
        args[this.blocksAt] = (args[this.blocksAt] as number) + 1;
      }
      args.push(id.slice(-1), op.record);
    }
    args[this.pairsAt] = (args[this.pairsAt] as number) + 1;
    for (const field of op.fields) this.index.push(field, id);
  }

  /** Closes the open run, if any: its index entries follow its blocks. */
  end(): void {
    if (this.now === undefined) return;
    pushIndex(this.args, this.index);
    this.index = [];
    this.now = undefined;
    this.block = undefined;
  }
}

/**
 * A batch's runs of findByUpstream in ARGV, after and among those of AcceptRuns (redis-scripts.ts,
 * find_run: the layout): consecutive finds with the same `now` make one run.
 */
class FindRuns {
  /** The open run's `now`, undefined when none is open. */
  private now: number | undefined = undefined;
  /** The open run's element of the operations' JSON: [FIND_RUN_OP, its first ARGV index, count]. */
  private element: [string, number, number] = [FIND_RUN_OP, 0, 0];

  constructor(private readonly args: RespArg[]) {}

  /** Adds a find (encoded: name, key count, now, fields), opening a run if need be. */
  add(op: FindOp, ops: (readonly unknown[])[]): void {
    const { encoded } = op;
    const now = encoded[2] as number;
    if (now !== this.now) {
      this.element = [FIND_RUN_OP, FIRST_RUN_ARG + this.args.length, 0];
      ops.push(this.element);
      this.now = now;
      this.args.push(now);
    }
    for (let f = 3; f < encoded.length; f++) this.args.push(encoded[f] as string);
    this.args.push('');
    this.element[2]++;
  }

  end(): void {
    this.now = undefined;
  }
}

/** Whether `op` is a findByUpstream (it goes in a FindRuns). */
function isFind(op: QueuedOp): op is FindOp {
  return op instanceof FindOp;
}

/**
 * A run's index pairs (field, id) as the script reads them (run_at): the count and pairs for the
 * bucket's hash, then the count of index blocks and per block: its name, its pair count and the
 * pairs (last character, id).
 */
function pushIndex(args: RespArg[], index: readonly string[]): void {
  const { flat, blocks } = splitIndex(index, false);
  args.push(flat.length / 2);
  for (const s of flat) args.push(s);
  args.push(blocks.size);
  for (const [name, { pairs }] of blocks) {
    args.push(name, pairs.length / 2);
    for (const s of pairs) args.push(s);
  }
}

/**
 * Hands an operation its reply (or `err`). A caller's callback that throws is a bug of that caller:
 * it must not keep the rest of the batch from hearing, and goes to `onCallbackError`.
 */
function settleSafely(op: QueuedOp, reply: unknown, err: unknown, onCallbackError: (err: unknown) => void): void {
  try {
    if (err === undefined) op.settle(reply);
    else op.fail(err);
  } catch (thrown) {
    try {
      onCallbackError(thrown);
    } catch {
      // Nowhere left to report it.
    }
  }
}

/** Without an onCallbackError: a warning on the process (stderr), as an unhandled rejection would be. */
function warnCallbackError(err: unknown): void {
  process.emitWarning(err instanceof Error ? err : new Error(String(err)), { code: 'SMPPD_STORE_CALLBACK' });
}

/** A batch reply meaning "every operation was a saveAccepted that took no orphan" (redis-scripts.ts). */
const ALL_ACCEPTED_REPLY = '*';
/** saveAccepted's result when it took no orphan: {1}. */
const ACCEPTED: readonly [number] = Object.freeze([1]) as readonly [number];

/**
 * The batch script's reply as one result per operation: '*' or a JSON array (plain JSON.parse: a
 * reviver would visit every value).
 */
function parseBatchReply(reply: unknown, count: number): unknown[] {
  if (reply === ALL_ACCEPTED_REPLY) return new Array<unknown>(count).fill(ACCEPTED);
  try {
    const results = JSON.parse(String(reply)) as unknown;
    if (Array.isArray(results)) return results;
  } catch {
    // reported below
  }
  throw new StoreError(StoreErrorCode.CORRUPT, 'redis store batch reply is not a JSON array');
}

/**
 * A saveAccepted whose id and index fields are ASCII: one that can go in a transaction
 * (redis-accept-writes.ts; the scripts split them by bytes).
 */
function transactable(op: QueuedOp): op is AcceptOp {
  return op instanceof AcceptOp && op.ascii;
}

/**
 * Whether a batch's transactable saves can run before its other operations and leave every answer
 * as the batch's order would: each operation queued ahead of a save is a findByUpstream of none of
 * the saves' index fields. A save changes only its own record (smppd saves each id once: store.ts)
 * and the index entries of its fields, so such a find cannot see it either way; the operations
 * after the saves see them in both orders.
 */
function savesCanGoFirst(ops: readonly QueuedOp[]): boolean {
  let lastSave = -1;
  for (let i = 0; i < ops.length; i++) if (transactable(ops[i] as QueuedOp)) lastSave = i;
  let fields: Set<string> | undefined;
  for (let i = 0; i < lastSave; i++) {
    const op = ops[i] as QueuedOp;
    if (transactable(op)) continue;
    if (!isFind(op)) return false;
    const { encoded } = op;
    if (fields === undefined) {
      fields = new Set();
      for (const save of ops) if (transactable(save)) for (const field of save.fields) fields.add(field);
    }
    // encoded: name, key count (0), now, then the index fields.
    for (let f = 3; f < encoded.length; f++) if (fields.has(encoded[f] as string)) return false;
  }
  return true;
}

/** Whether `op` is a findByUpstream the find script takes (redis-find-reads.ts). */
function isLeanFind(op: QueuedOp): boolean {
  // encoded: name, key count (0), now, then the index fields.
  return isFind(op) && op.encoded.length - 3 <= MAX_FIND_FIELDS;
}

/** How many operations of a batch are transactable. */
function countTransactable(ops: readonly QueuedOp[]): number {
  let n = 0;
  for (const op of ops) if (transactable(op)) n++;
  return n;
}

/**
 * Redis refused a transaction: before running any of it (EXECABORT), or its MULTI (an ACL without
 * it), so that its commands ran one by one and the EXEC found no transaction.
 */
function refusedTransaction(err: unknown): boolean {
  const cause = err instanceof StoreError ? err.cause : err;
  return cause instanceof Error && (cause.message.startsWith('EXECABORT') || cause.message.includes('EXEC without MULTI'));
}

/** Why a store of this smppd may not use `prefix`, which holds key layout `layout`. */
function layoutProblem(prefix: string, layout: number): StoreError | undefined {
  if (layout === KEY_LAYOUT_VERSION) return undefined;
  return new StoreError(
    StoreErrorCode.BACKEND,
    `redis key prefix "${prefix}" holds key layout ${layout}, this smppd writes layout ${KEY_LAYOUT_VERSION}: ` +
      'give it its own store.redis.key_prefix, or run one version on the prefix',
  );
}

/** Why a store with ttl `own` may not serve while the replicas on `prefix` run with ttl `held`. */
function ttlProblem(prefix: string, held: number, own: number): StoreError | undefined {
  if (held === own) return undefined;
  return new StoreError(
    StoreErrorCode.BACKEND,
    `redis key prefix "${prefix}" is used with store.ttl ${held} ms by running replicas, this replica has ${own} ms: ` +
      'replicas with another store.ttl would not find the messages of receipts in their time buckets; ' +
      'this one starts serving once those have stopped',
  );
}

/** cjson writes an empty Lua table as {}: every operation that returns a table means a list. */
function listOrValue(value: unknown): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? [] : value;
}

function usedMemory(info: string): number {
  const match = /^used_memory:(\d+)/m.exec(info);
  return match === null ? 0 : Number(match[1]);
}

class RedisStore implements RedisMessageStore {
  private readonly client: RedisClient;
  /** The batch script (redis-scripts.ts), called with arguments encoded by redis-batch-command.ts. */
  private readonly script: ScriptCaller;
  /** The script of a batch of findByUpstream alone (redis-find-reads.ts). */
  private readonly findScript: ScriptCaller;
  /** Whether batches of saveAccepted alone go as a transaction (redis-accept-writes.ts). */
  private transactions: boolean;
  /**
   * Whether Redis has run one of those transactions. Until it has, a batch with other operations
   * goes whole to the script: a transaction refused before it ran (EXECABORT: a Redis before 7,
   * without PEXPIRE GT) is written again through the script, after whatever was sent beside it,
   * which would run the operations after the saves before them. (No Redis before 7 runs here to
   * test it; a refused MULTI runs the commands one by one, and its test passes either way.)
   */
  private transactionsRan = false;
  /** The stats buckets those transactions registered lately. */
  private readonly statsBuckets = new StatsBuckets();
  private readonly layout: AcceptLayout;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  /** KEYS[1] of every script call (redis-scripts.ts). */
  private readonly meta: string;
  private readonly ttlMs: number;
  private readonly leaseMs: number;
  private readonly maxOrphans: number;
  private readonly bucketWidth: number;
  private readonly clock: Clock;
  private readonly onHealthChange: ((healthy: boolean, err?: Error) => void) | undefined;
  private readonly onCall: ((operations: number, seconds: number, ok: boolean) => void) | undefined;
  private readonly onCallbackError: (err: unknown) => void;
  private readonly connectTimeoutMs: number;
  private closed = false;
  private everReady: boolean;
  private lastHealthy: boolean;
  private lastError: Error | undefined;
  /** Calls waiting for the first connection (only before it was ever ready). */
  private readonly readyWaiters = new Set<() => void>();
  private readonly listeners = new Set<(client: string) => void>();
  private subscriber: RedisClient | undefined;
  private listening: Promise<void> | undefined;
  private readonly detach: () => void;
  /** Operations waiting for the next batch, and batches on their way. */
  private queue: QueuedOp[] = [];
  /** The cluster of the last saveAcceptedWith, and its index fields' start (saveAcceptedWith). */
  private fieldCluster: string | undefined;
  private fieldStart = '';
  private fieldStartAscii = true;
  private flushScheduled = false;
  private readonly sending = new Set<Promise<void>>();
  /** Redis holds this store's layout and ttl (checkPrefix), checked since the connection was made. */
  private checked = false;
  /** Why this store may not use the prefix (checkPrefix), while that is so. */
  private prefixProblem: StoreError | undefined;
  /** Counts checks, so that an earlier one does not decide after a later one started. */
  private checks = 0;
  /** How long this store's claim of the prefix's ttl lasts unless renewed (checkPrefix). */
  private readonly prefixLeaseMs: number;
  private prefixTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: RedisStoreOptions) {
    this.ttlMs = Math.ceil(positive('ttlMs', options.ttlMs, false));
    this.leaseMs = positive('leaseMs', options.leaseMs ?? DEFAULT_LEASE_MS, false);
    this.maxOrphans = positive('maxOrphans', options.maxOrphans ?? DEFAULT_MAX_ORPHANS, true);
    this.prefixLeaseMs = positive('prefixLeaseMs', options.prefixLeaseMs ?? DEFAULT_PREFIX_LEASE_MS, false);
    this.bucketWidth = bucketWidthMs(this.ttlMs);
    this.clock = options.clock ?? Date.now;
    this.prefix = options.keyPrefix;
    this.meta = metaKey(this.prefix);
    this.onHealthChange = options.onHealthChange;
    this.onCall = options.onCall;
    this.onCallbackError = options.onCallbackError ?? warnCallbackError;

    const given = [options.url, options.redis, options.connection].filter((v) => v !== undefined).length;
    if (given > 1) throw new StoreError(StoreErrorCode.INVALID_ARGUMENT, 'give one of url, redis, connection');
    if (isClient(options.redis)) {
      this.client = options.redis;
      this.ownsClient = false;
    } else if (options.redis !== undefined) {
      this.client = new Redis({ ...failFastOptions(), ...options.redis });
      this.ownsClient = true;
    } else {
      this.client = createRedisClient(options.connection ?? { url: options.url });
      this.ownsClient = true;
    }
    if (this.client instanceof Cluster && !hasHashTag(this.prefix)) {
      if (this.ownsClient) this.client.disconnect();
      throw new StoreError(
        StoreErrorCode.INVALID_ARGUMENT,
        'with Redis Cluster the key prefix needs a hash tag such as "{smppd}:" (all keys in one slot)',
      );
    }
    this.connectTimeoutMs =
      (this.client instanceof Cluster ? this.client.options.redisOptions?.connectTimeout : this.client.options.connectTimeout) ??
      10_000;
    this.script = new ScriptCaller(this.client, BATCH_SOURCE);
    this.findScript = new ScriptCaller(this.client, FIND_SOURCE);
    this.transactions =
      options.acceptedWrites !== 'script' &&
      this.client instanceof Redis &&
      this.client.options.enableOfflineQueue === false &&
      this.client.options.autoResendUnfulfilledCommands === false &&
      canTakeReplies(this.client);
    this.layout = { prefix: this.prefix, ttlMs: this.ttlMs, bucketWidth: this.bucketWidth };

    this.everReady = false;
    this.lastHealthy = false;
    const onReady = (): void => {
      // A Redis that restarted empty has none of the stats buckets registered before.
      this.statsBuckets.forget();
      this.checked = false;
      void this.checkPrefix();
    };
    const onDown = (): void => {
      this.checked = false;
      this.noteHealth();
    };
    const onError = (err: Error): void => {
      this.lastError = err;
    };
    this.client.on('ready', onReady);
    this.client.on('close', onDown);
    this.client.on('end', onDown);
    this.client.on('error', onError);
    this.detach = () => {
      this.script.detach();
      this.findScript.detach();
      this.client.off('ready', onReady);
      this.client.off('close', onDown);
      this.client.off('end', onDown);
      this.client.off('error', onError);
    };
    if (this.client.status === 'ready') void this.checkPrefix();
    this.startPrefixChecks();
  }

  /**
   * On each connect, then every prefixLeaseMs / 3: checks that the prefix holds this store's key
   * layout (claiming it if nobody has) and that the replicas running on it use this store's ttl
   * (claiming, or renewing, the lease on it), and serves only then (redis-keys.ts, "One layout, one
   * ttl per prefix"). Until the first check, calls wait as for the connection. A refused store keeps
   * checking: it serves once the other ttl's lease ran out (their replicas stopped).
   */
  private async checkPrefix(): Promise<void> {
    const check = ++this.checks;
    let problem: StoreError | undefined;
    try {
      let layout = await this.client.hget(this.meta, 'layout');
      if (layout === null) {
        // A prefix nobody used yet (or one of an smppd before this field): the first claims it.
        await this.client.hsetnx(this.meta, 'layout', KEY_LAYOUT_VERSION);
        layout = await this.client.hget(this.meta, 'layout');
      }
      problem = layoutProblem(this.prefix, Number(layout));
      if (problem === undefined) {
        const held = await this.client.eval(CLAIM_TTL_LUA, 1, ttlClaimKey(this.prefix), this.ttlMs, this.prefixLeaseMs);
        problem = ttlProblem(this.prefix, Number(held), this.ttlMs);
      }
    } catch (err) {
      // The connection went again: the next connect checks again.
      if (check !== this.checks || this.client.status !== 'ready') return;
      // A renewal that failed: the next tries again before the lease runs out (it outlasts two).
      if (this.checked) return;
      problem = new StoreError(StoreErrorCode.BACKEND, `redis refused the check of the key prefix: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (check !== this.checks || this.client.status !== 'ready' || this.closed) return;
    // Told once per reason: noteHealth tells only a change from healthy, and a refused store was not.
    const tell = problem !== undefined && problem.message !== this.prefixProblem?.message && !this.lastHealthy;
    this.prefixProblem = problem;
    if (problem !== undefined) this.lastError = problem;
    this.checked = problem === undefined;
    this.everReady = true;
    for (const wake of this.readyWaiters) wake();
    this.readyWaiters.clear();
    if (tell) this.onHealthChange?.(false, problem);
    this.noteHealth();
  }

  /** Renews the ttl lease (and checks again) while connected, every prefixLeaseMs / 3. */
  private startPrefixChecks(): void {
    const timer = setInterval(() => {
      if (this.closed) clearInterval(timer);
      else if (this.client.status === 'ready') void this.checkPrefix();
    }, this.prefixLeaseMs / 3);
    timer.unref();
    this.prefixTimer = timer;
  }

  healthy(): boolean {
    return !this.closed && this.isReady();
  }

  problem(): string | undefined {
    if (this.closed) return this.closedError().message;
    if (this.isReady()) return undefined;
    if (this.checking()) return 'checking the key prefix';
    const err = this.unreachable();
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return cause === undefined || cause === err.message ? err.message : `${err.message}: ${cause}`;
  }

  // --- messages ---

  async save(record: MessageRecord): Promise<void> {
    this.assertOpen();
    const id = record.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_MESSAGE_ID_LENGTH) {
      throw new StoreError(StoreErrorCode.INVALID_ARGUMENT, `message id must be 1..${MAX_MESSAGE_ID_LENGTH} characters`);
    }
    const now = this.now();
    const value = recordString(record, now + this.ttlMs, record.cluster, record.endpoint, record.upstreamId);
    await this.op(OP.save, NO_KEYS, [now, this.ttlMs, this.bucketWidth, id, value]);
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    this.assertOpen();
    const value = await this.op(OP.get, NO_KEYS, [this.now(), this.ttlMs, this.bucketWidth, id]);
    return typeof value === 'string' ? recordFromString(id, value) : undefined;
  }

  // saveAccepted and findByUpstream, once per message each, are not async functions: the operation's
  // own promise is the result (op's transform), one promise and one async frame fewer per call.

  saveAccepted(
    record: MessageRecord,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint?: string,
  ): Promise<readonly OrphanReceipt[]> {
    return new Promise((stored, notStored) => this.saveAcceptedWith(record, cluster, upstreamId, keys, endpoint, { stored, notStored }));
  }

  saveAcceptedWith(
    record: MessageRecord,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint: string | undefined,
    done: SaveAcceptedDone,
  ): void {
    if (this.closed) {
      done.notStored(this.closedError());
      return;
    }
    const id = record.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_MESSAGE_ID_LENGTH) {
      done.notStored(new StoreError(StoreErrorCode.INVALID_ARGUMENT, `message id must be 1..${MAX_MESSAGE_ID_LENGTH} characters`));
      return;
    }
    const now = this.now();
    // The record as setUpstreamId would leave it: the endpoint given, else the saved one on the same cluster.
    const value = new RecordBytes(
      record,
      now + this.ttlMs,
      cluster,
      endpoint ?? (record.cluster === cluster ? record.endpoint : undefined),
      upstreamId,
    );
    // upstreamIndexField(cluster, key) as the cluster's part, kept while the cluster stays the same,
    // and the key: one concatenation per field instead of four.
    if (cluster !== this.fieldCluster) {
      this.fieldCluster = cluster;
      this.fieldStart = upstreamIndexField(cluster, '');
      this.fieldStartAscii = isAscii(this.fieldStart);
    }
    const fields: string[] = [];
    let ascii = this.fieldStartAscii && isAscii(id);
    for (const key of keys) {
      if (ascii && !isAscii(key)) ascii = false;
      fields.push(this.fieldStart + key);
    }
    this.queueOp(new AcceptOp(now, id, value, fields, ascii, done));
  }

  async setUpstreamId(
    id: string,
    cluster: string,
    upstreamId: string,
    keys: readonly string[],
    endpoint?: string,
  ): Promise<readonly OrphanReceipt[]> {
    this.assertOpen();
    const names: string[] = [];
    for (const key of keys) names.push(orphanIndexKey(this.prefix, cluster, key));
    const args: (string | number)[] = [
      this.now(),
      this.ttlMs,
      this.bucketWidth,
      id,
      esc(cluster),
      opt(upstreamId),
      opt(endpoint),
      endpoint === undefined ? '0' : '1',
    ];
    for (const key of keys) args.push(upstreamIndexField(cluster, key));
    const reply = (await this.op(OP.setUpstreamId, names, args)) as [number, ...string[]];
    if (reply[0] !== 1) throw new StoreError(StoreErrorCode.NOT_FOUND, 'no stored message with this id');
    return orphansOf(reply);
  }

  findByUpstream(cluster: string, keys: readonly string[]): Promise<MessageRecord | undefined> {
    return new Promise((resolve, reject) => this.findByUpstreamWith(cluster, keys, new FoundPromise(resolve, reject)));
  }

  findByUpstreamWith(cluster: string, keys: readonly string[], done: FindDone): void {
    if (this.closed) {
      done.findFailed(this.closedError());
      return;
    }
    if (keys.length === 0) {
      done.found(undefined);
      return;
    }
    // Encoded as op() would leave it (name, key count, now, fields), without its unshift: one per receipt.
    const encoded: (string | number)[] = [OP.findByUpstream, 0, this.now()];
    for (const key of keys) encoded.push(upstreamIndexField(cluster, key));
    this.queueOp(new FindOp(encoded, done));
  }

  // --- orphan receipts ---

  async ackOrphans(tokens: readonly string[]): Promise<void> {
    this.assertOpen();
    if (tokens.length === 0) return;
    await this.op(OP.ackOrphans, NO_KEYS, [this.now(), ...tokens]);
  }

  async reclaimOrphans(max: number): Promise<readonly ReclaimedOrphan[]> {
    this.assertOpen();
    positive('max', max, true);
    const reply = listOrValue(await this.op(OP.reclaimOrphans, NO_KEYS, [this.now(), max])) as (string | number)[];
    const out: ReclaimedOrphan[] = [];
    for (let i = 0; i + 2 < reply.length; i += 3) {
      out.push({ messageId: String(reply[i + 1]), receipt: takenOrphan(reply[i], reply[i + 2]) });
    }
    return out;
  }

  async holdOrphan(
    cluster: string,
    keys: readonly string[],
    receipt: OrphanReceipt,
    ttlMs: number,
  ): Promise<MessageRecord | undefined> {
    this.assertOpen();
    positive('ttlMs', ttlMs, false);
    if (keys.length === 0) {
      throw new StoreError(StoreErrorCode.INVALID_ARGUMENT, 'an orphan receipt needs at least one key');
    }
    const distinct = [...new Set(keys)];
    const names = distinct.map((key) => orphanIndexKey(this.prefix, cluster, key));
    const now = this.now();
    const ttl = Math.ceil(ttlMs);
    const reply = await this.op(OP.holdOrphan, names, [
      now,
      now + ttl,
      ttl,
      serialiseStored(receipt),
      this.maxOrphans,
      this.ttlMs,
      this.bucketWidth,
      ...distinct.map((key) => upstreamIndexField(cluster, key)),
    ]);
    return foundRecord(reply);
  }

  // --- pending deliveries ---

  async enqueueDelivery(client: string, item: DeliveryItem): Promise<string> {
    this.assertOpen();
    const now = this.now();
    const id = await this.op(
      OP.enqueue,
      [deliveryQueueKey(this.prefix, client)],
      [now, client, now + this.ttlMs, serialiseStored(item), this.ttlMs],
    );
    return String(id);
  }

  async takeDeliveries(client: string, max: number, leaseMs?: number): Promise<ClaimedDelivery[]> {
    this.assertOpen();
    const lease = leaseMs === undefined ? this.leaseMs : positive('leaseMs', leaseMs, false);
    if (!(max >= 1)) return [];
    const now = this.now();
    const reply = (await this.op(OP.take, this.deliveryKeys(client), [
      now,
      Math.min(Math.floor(max), MAX_TAKE),
      now + Math.ceil(lease),
      this.ttlMs,
    ])) as (string | number)[];
    const claimed: ClaimedDelivery[] = [];
    for (let i = 0; i + 2 < reply.length; i += 3) {
      claimed.push({
        deliveryId: String(reply[i]),
        item: deserialiseStored(reply[i + 1] as string) as DeliveryItem,
        attempts: Number(reply[i + 2]),
      });
    }
    return claimed;
  }

  async ackDelivery(client: string, deliveryId: string): Promise<boolean> {
    this.assertOpen();
    return (await this.op(OP.ack, this.deliveryKeys(client), [this.now(), client, deliveryId])) === 1;
  }

  async releaseDelivery(client: string, deliveryId: string): Promise<boolean> {
    this.assertOpen();
    return (await this.op(OP.release, this.deliveryKeys(client), [this.now(), client, deliveryId, this.ttlMs])) === 1;
  }

  async pendingCount(client?: string): Promise<number> {
    this.assertOpen();
    const keys = [deliveryExpiryKey(this.prefix)];
    if (client !== undefined) keys.push(...this.deliveryKeys(client));
    return Number(await this.op(OP.pending, keys, [this.now(), SWEEP_LIMIT]));
  }

  onDeliveryQueued(listener: (client: string) => void): () => void {
    this.assertOpen();
    this.listeners.add(listener);
    this.listen();
    return () => {
      this.listeners.delete(listener);
    };
  }

  whenListening(): Promise<void> {
    this.assertOpen();
    return this.listen();
  }

  // --- housekeeping ---

  async stats(): Promise<StoreStats> {
    this.assertOpen();
    const [counts, info] = await Promise.all([
      this.op(OP.stats, NO_KEYS, [this.now(), SWEEP_LIMIT]) as Promise<number[]>,
      this.run(() => this.client.info('memory')),
    ]);
    const [entries, upstreamKeys, pendingDeliveries, orphans, expirations, deliveriesExpired, orphansExpired, orphansEvicted] =
      counts.map(Number) as [number, number, number, number, number, number, number, number];
    return {
      entries: Math.max(0, entries),
      evictions: 0,
      expirations,
      pendingDeliveries,
      deliveriesExpired,
      deliveriesEvicted: 0,
      orphans,
      orphansExpired,
      orphansEvicted,
      memory: { upstreamKeys: Math.max(0, upstreamKeys), approxBytes: usedMemory(info) },
    };
  }

  async takeOrphansExpired(): Promise<number> {
    this.assertOpen();
    return Number(await this.op(OP.takeOrphansExpired, NO_KEYS, [this.now(), SWEEP_LIMIT]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.prefixTimer);
    // Calls made before close still run: send what is queued and let it finish (unless it waits
    // for a first connection: that wait ends now).
    this.flush();
    for (const wake of this.readyWaiters) wake();
    this.readyWaiters.clear();
    await Promise.allSettled(this.sending);
    this.listeners.clear();
    this.detach();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    subscriber?.disconnect();
    if (this.ownsClient) {
      // quit lets replies already on their way arrive; while disconnected it rejects at once.
      await this.client.quit().catch(() => this.client.disconnect());
    }
  }

  // --- plumbing ---

  private assertOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): StoreError {
    return new StoreError(StoreErrorCode.CLOSED, 'message store is closed');
  }

  private now(): number {
    return Math.floor(this.clock());
  }

  private noteHealth(): void {
    const healthy = this.healthy();
    if (healthy === this.lastHealthy) return;
    this.lastHealthy = healthy;
    this.onHealthChange?.(healthy, healthy ? undefined : this.lastError);
  }

  /**
   * Before the first connection, wait for it (up to the connect timeout): a store made at startup
   * is used at once. After that, a call while Redis is away fails at once.
   */
  private async connected(): Promise<void> {
    if (this.isReady()) return;
    if (this.everReady && !this.checking()) throw this.unreachable();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(wake, this.connectTimeoutMs);
      function wake(): void {
        clearTimeout(timer);
        resolve();
      }
      this.readyWaiters.add(wake);
    });
    this.assertOpen();
    if (!this.isReady()) throw this.unreachable();
  }

  private isReady(): boolean {
    return this.checked && this.client.status === 'ready';
  }

  /** Connected, and checkPrefix on its way (calls wait for it as for the connection). */
  private checking(): boolean {
    return !this.checked && this.prefixProblem === undefined && this.client.status === 'ready';
  }

  private unreachable(): StoreError {
    if (this.prefixProblem !== undefined && this.client.status === 'ready') return this.prefixProblem;
    return new StoreError(StoreErrorCode.BACKEND, `redis is unreachable (${this.client.status})`, { cause: this.lastError });
  }

  /** One Redis operation, its failures as StoreErrors. */
  private async run<T>(operation: () => Promise<T>): Promise<T> {
    await this.connected();
    try {
      return await operation();
    } catch (err) {
      if (this.closed) throw new StoreError(StoreErrorCode.CLOSED, 'message store is closed', { cause: err });
      if (err instanceof StoreError) throw err;
      throw new StoreError(StoreErrorCode.BACKEND, `redis command failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private deliveryKeys(client: string): string[] {
    return [deliveryQueueKey(this.prefix, client), deliveryLeaseKey(this.prefix, client)];
  }

  /** Queue one operation for the next batch (redis-scripts.ts); resolves with its own result. */
  private op(
    name: OpName,
    keys: readonly string[],
    args: (string | number)[],
    transform?: (reply: unknown) => unknown,
  ): Promise<unknown> {
    // The caller's fresh array becomes the encoded operation: no copy per message.
    args.unshift(name, keys.length);
    return this.enqueue(keys, args, transform);
  }

  /** Queue an operation already encoded as the script reads it. */
  private enqueue(keys: readonly string[], encoded: (string | number)[], transform?: (reply: unknown) => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => this.queueOp(new PromisedOp(keys, encoded, transform, resolve, reject)));
  }

  /** Queue `op` for the next batch; it fails at once while Redis is known to be away. */
  private queueOp(op: QueuedOp): void {
    if (this.everReady && !this.isReady() && !this.checking()) {
      op.fail(this.unreachable());
      return;
    }
    this.queue.push(op);
    if (this.queue.length >= MAX_BATCH) {
      this.flush();
    } else if (!this.flushScheduled) {
      // Sent once the current callback and the promise reactions it started are done: the calls
      // that one socket read leads to (a chunk of submit_sm_resp, each resuming its submit) go
      // together. Waiting for the end of the event-loop turn (setImmediate) made bigger batches
      // but added that wait to every message: closed loop through smppd on Redis, six runs each,
      // ~87,000 msg/s that way against ~92,000 now, with less CPU in smppd and in Redis.
      this.flushScheduled = true;
      queueMicrotask(this.flushQueue);
    }
  }

  private readonly flushQueue = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private flush(): void {
    const ops = this.queue;
    if (ops.length === 0) return;
    this.queue = [];
    const sending = this.send(ops);
    this.sending.add(sending);
    void sending.finally(() => this.sending.delete(sending));
  }

  /**
   * A batch of saveAccepted alone goes as one transaction. With receipts flowing, one socket read
   * brings submit_sm_resp and deliver_sm together, so that most batches also hold findByUpstream:
   * sent whole through the script, their saves lost the transaction's cheaper path (Redis store
   * with receipts: ~2,700 script calls against ~300 transactions per 100,000 messages). When the
   * saves can go first (savesCanGoFirst) and transactions are known to run here, they go as a
   * transaction and the rest as one script call after it on the same connection (sendOthers: the
   * find script when the rest is lookups alone), both at once: Redis runs them in that order, so
   * each operation sees what it would have seen in the batch's order.
   */
  private async send(ops: readonly QueuedOp[]): Promise<void> {
    const n = this.transactions ? countTransactable(ops) : 0;
    if (n === ops.length) {
      await this.sendAccepted(ops as readonly AcceptOp[]);
      return;
    }
    if (n === 0 || !this.transactionsRan || !savesCanGoFirst(ops)) {
      await this.sendOthers(ops);
      return;
    }
    const accepted: AcceptOp[] = [];
    const others: QueuedOp[] = [];
    for (const op of ops) {
      if (transactable(op)) accepted.push(op);
      else others.push(op);
    }
    // Both are written to the connection in this order: each awaits only connected() (already
    // settled) before it writes. stores-agree.test.ts fails if they go the other way round, and
    // also if a save goes ahead of a find that should not see it (savesCanGoFirst always true).
    await Promise.all([this.sendAccepted(accepted), this.sendOthers(others)]);
  }

  /**
   * Operations that do not go in a transaction: the lookups of receipts alone (most often with
   * receipts flowing: they come in the same socket reads as the submit responses) through the find
   * script, anything else through the batch script.
   */
  private sendOthers(ops: readonly QueuedOp[]): Promise<unknown> {
    return ops.every(isLeanFind) ? this.sendFinds(ops as readonly FindOp[]) : this.sendScript(ops);
  }

  /**
   * A batch of findByUpstream alone, through the find script (redis-find-reads.ts); those it does
   * not decide go to the batch script after it.
   */
  private async sendFinds(finds: readonly FindOp[]): Promise<void> {
    const started = performance.now();
    const encoded: (readonly (string | number)[])[] = [];
    for (const op of finds) encoded.push(op.encoded);
    let reply: unknown;
    try {
      // Nothing is awaited before this: the call goes where the batch's script call would.
      reply = await this.run(() => this.findScript.call([this.meta], [this.prefix, this.bucketWidth, this.ttlMs], findArgs(encoded)));
      if (!Array.isArray(reply) || reply.length !== 2 * finds.length) {
        throw new StoreError(StoreErrorCode.CORRUPT, 'redis store find reply is not an id and a record per find');
      }
    } catch (err) {
      this.called(finds.length, started, false);
      for (const op of finds) settleSafely(op, undefined, err, this.onCallbackError);
      return;
    }
    this.called(finds.length, started, true);
    const undecided: FindOp[] = [];
    for (let i = 0; i < finds.length; i++) {
      const id: unknown = reply[2 * i];
      if (typeof id !== 'string') {
        // No field has an entry: none, as the batch script answers.
        settleSafely(finds[i]!, false, undefined, this.onCallbackError);
        continue;
      }
      // encoded: name, key count (0), now, then the index fields.
      const record = liveRecord(reply[2 * i + 1], encoded[i]![2] as number);
      if (record === undefined) undecided.push(finds[i]!);
      else settleSafely(finds[i]!, [id, record], undefined, this.onCallbackError);
    }
    if (undecided.length > 0) await this.sendScript(undecided);
  }

  /** A batch as one call of the batch script; whether Redis answered it. */
  private async sendScript(ops: readonly QueuedOp[]): Promise<boolean> {
    // Call layout (redis-scripts.ts): the meta key, then the operations' keys as KEYS, the
    // operations as one JSON argument, runs of saveAccepted as ARGV strings after it. The meta key
    // comes first even when no operation has a key: Redis Cluster routes the call by it to the slot
    // of the prefix's hash tag.
    const keys: string[] = [this.meta];
    const encoded: (readonly unknown[])[] = [];
    const runs = new AcceptRuns();
    const finds = new FindRuns(runs.args);
    for (const op of ops) {
      if (op instanceof AcceptOp) {
        finds.end();
        runs.add(op, encoded);
        continue;
      }
      runs.end();
      if (isFind(op)) {
        finds.add(op, encoded);
        continue;
      }
      finds.end();
      for (const key of op.keys) keys.push(key);
      encoded.push(op.encoded);
    }
    runs.end();
    let results: unknown[];
    const started = performance.now();
    try {
      const args = [this.prefix, JSON.stringify(encoded), this.ttlMs, this.bucketWidth, this.leaseMs];
      const reply = await this.run(() => this.script.call(keys, args, runs.args));
      results = parseBatchReply(reply, ops.length);
    } catch (err) {
      this.called(ops.length, started, false);
      for (const op of ops) settleSafely(op, undefined, err, this.onCallbackError);
      return false;
    }
    this.called(ops.length, started, true);
    for (let i = 0; i < ops.length; i++) settleSafely(ops[i] as QueuedOp, listOrValue(results[i]), undefined, this.onCallbackError);
    return true;
  }

  /** A batch of saveAccepted alone, as one transaction of plain commands (redis-accept-writes.ts). */
  private async sendAccepted(ops: readonly AcceptOp[]): Promise<void> {
    const started = performance.now();
    let results: unknown[];
    let recounts: Recount[];
    try {
      let written: AcceptedWrites | undefined;
      const reply = await this.run(() => {
        // Built once connected, in one go: a Transaction writes into a buffer all of them share.
        const tx = new Transaction();
        written = writeAccepted(tx, this.layout, this.statsBuckets, ops);
        return tx.send(this.client as Redis);
      });
      if (!Array.isArray(reply)) throw new StoreError(StoreErrorCode.CORRUPT, 'redis store transaction reply is not an array');
      for (const result of reply) {
        if (result instanceof Error) throw new StoreError(StoreErrorCode.BACKEND, `redis command failed: ${result.message}`, { cause: result });
      }
      results = reply;
      this.transactionsRan = true;
      recounts = recountsOf(reply, written!);
    } catch (err) {
      this.statsBuckets.forget();
      if (refusedTransaction(err)) {
        // Nothing ran, or (MULTI refused) everything ran outside a transaction: the script writes
        // the batch (again). When it can, the refusal was the transaction's own (a Redis before 7,
        // an ACL without MULTI), not the writes' (OOM under maxmemory refuses both): the script
        // from now on.
        if (await this.sendScript(ops)) this.transactions = false;
        return;
      }
      this.called(ops.length, started, false);
      for (const op of ops) settleSafely(op, undefined, err, this.onCallbackError);
      return;
    }
    // The records are written; the stats are corrected before the batch is answered, so that a
    // caller reads its own counts (a failed correction leaves them overcounted: stats only).
    if (recounts.length > 0) await Promise.allSettled(recounts.map((r) => this.op(OP.recount, NO_KEYS, [r.now, r.records, r.entries, ...r.saved])));
    this.called(ops.length, started, true);
    // The last element is the EXISTS of the held orphans.
    if (results[results.length - 1] !== 1) {
      for (const op of ops) settleSafely(op, ACCEPTED, undefined, this.onCallbackError);
      return;
    }
    for (const op of ops) this.takeHeld(op);
  }

  /** A saveAccepted written by sendAccepted while orphans were held: it takes those held for it. */
  private takeHeld(op: AcceptOp): void {
    const keys: string[] = [];
    for (const field of op.fields) keys.push(orphanIndexKeyOfField(this.prefix, field));
    this.op(OP.takeHeld, keys, [op.now, op.id]).then(
      (reply) => settleSafely(op, reply, undefined, this.onCallbackError),
      (err: unknown) => settleSafely(op, undefined, err, this.onCallbackError),
    );
  }

  private called(operations: number, started: number, ok: boolean): void {
    if (this.onCall === undefined) return;
    try {
      this.onCall(operations, (performance.now() - started) / 1000, ok);
    } catch {
      // Metrics must not fail the store's callers.
    }
  }

  /** Subscribe to the delivery channel on a second connection (made once). */
  private listen(): Promise<void> {
    if (this.listening !== undefined) return this.listening;
    const channel = deliveriesChannel(this.prefix);
    let subscriber = this.subscriber;
    if (subscriber === undefined) {
      // Its commands wait for a connection, and subscriptions are renewed after a reconnect
      // (ioredis autoResubscribe): it never fails a store call, so it need not fail fast.
      subscriber =
        this.client instanceof Cluster
          ? this.client.duplicate(undefined, { enableOfflineQueue: true })
          : this.client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
      subscriber.on('error', () => {}); // the main connection reports health
      subscriber.on('message', (from: string, client: string) => {
        if (from !== channel) return;
        for (const listener of this.listeners) {
          try {
            listener(client);
          } catch {
            // A listener's failure is its own; the others still hear about the delivery.
          }
        }
      });
      this.subscriber = subscriber;
    }
    const listening = subscriber.subscribe(channel).then(
      () => undefined,
      (err: unknown) => {
        // Tried again on the next onDeliveryQueued/whenListening.
        this.listening = undefined;
        throw new StoreError(StoreErrorCode.BACKEND, 'could not subscribe to the deliveries channel', { cause: err });
      },
    );
    listening.catch(() => {}); // nobody may be awaiting this one
    this.listening = listening;
    return listening;
  }
}

/** A MessageStore on Redis (SPEC §3 `store.backend: redis`), shared by replicas with one key prefix. */
export function createRedisStore(options: RedisStoreOptions): RedisMessageStore {
  return new RedisStore(options);
}

/**
 * The store SPEC §3 `store` describes with `backend: redis`: connection from `store.redis`
 * (redis-connection.ts; a TLS CA file is read with readFile), ttl from `store.ttl`.
 */
export function createRedisStoreFromConfig(
  config: StoreConfig,
  options: Pick<RedisStoreOptions, 'leaseMs' | 'clock' | 'maxOrphans' | 'onHealthChange' | 'onCall' | 'onCallbackError'> = {},
  readFile?: (path: string) => string,
): RedisMessageStore {
  return new RedisStore({
    ...options,
    connection: redisSettingsFromConfig(config.redis, readFile),
    keyPrefix: config.redis.key_prefix,
    ttlMs: config.ttl,
  });
}
