// Key layout of the Redis MessageStore (redis-store.ts). <p> is `store.redis.key_prefix`
// (default "smppd:"); two stores with different prefixes never see each other's data.
//
//   key                              type     holds                                              Redis TTL
//   <p>r:<block>                     hash     records whose ids are <block> + one character:      at least the bucket end
//                                             field that character, value the record as one       of its last save + store
//                                             string (below)                                      ttl
//   <p>x:<b>                         hash     the upstream index, entries written in bucket b:    bucket end + store ttl
//                                             field "<len>:<cluster>:<key>", value smppd id;
//                                             and field "-" (Bucket shape, below)
//   <p>x:<b>:<block>                 hash     index entries of bucket b whose field is <block> +   bucket end + store ttl
//                                             one character: field that character, value smppd
//                                             id (Index blocks, below)
//   <p>o:<seq>                       hash     an orphan receipt: r receipt (serialise.ts JSON),   the orphan ttl; once taken,
//                                             e expiresAt, k its <p>ok: keys (JSON array); once   lease + store ttl
//                                             taken (setUpstreamId, saveAccepted): m message id
//                                             and no k, until acknowledged (ackOrphans)
//   <p>ok:<len>:<cluster>:<key>      zset     orphan seqs held under (cluster, key), score seq    extended to the longest orphan ttl
//   <p>ox                            zset     every held orphan seq, score expiresAt (count,      extended to the longest orphan ttl
//                                             sweep)
//   <p>ot                            zset     taken orphan seqs not acknowledged yet, score the   at least lease + store ttl from each write
//                                             end of their lease (reclaimOrphans)
//   <p>d:<id>                        hash     a pending delivery: c client, i item (JSON),        store ttl
//                                             e expiresAt, a attempts. <id> is its queue seq.
//   <p>dq:<client>                   zset     the client's deliveries ready to claim, score seq   at least the store ttl from each write
//   <p>dl:<client>                   zset     the client's claimed deliveries, score lease end    at least the store ttl from each write
//   <p>dx                            zset     every pending delivery id, score expiresAt          at least the store ttl from each enqueue
//   <p>n:<width>:<bucket>            hash     r records / u index keys counted until the end of   its end + store ttl
//                                             [bucket*width, (bucket+1)*width) (stats.entries)
//   <p>nb                            zset     live buckets "<width>:<bucket>", score bucket end   bucket end + store ttl
//   <p>meta                          hash     sequences (dseq, oseq) and monotonic counters       none: a few dozen bytes
//                                             (expirations, deliveriesExpired, orphansExpired,
//                                             orphansEvicted), shared by all replicas;
//                                             orphansExpiredTaken: orphansExpired when a replica
//                                             last took the new expiries (takeOrphansExpired);
//                                             layout: the prefix's key layout (below)
//   <p>ttl                           string   the store ttl of the replicas running on the        a lease (30 s), renewed
//                                             prefix (below)                                      by each of them
//   channel <p>deliveries            pubsub   a client system_id each time a delivery is queued   -
//
// Record blocks. smppd's ids are a fixed prefix and a counter (message-id.ts), so the ids of one
// replica's consecutive messages differ only in their last character: a record is a field of the
// hash of its id but that character, and 36 messages share one small hash. One hash field per
// message, in a hash that stays small: neither a key per message (a key with a TTL costs Redis ~4 µs
// of CPU more than a hash field) nor a field in one huge hash, whose lookups and incremental
// rehashing miss the CPU cache (perf of redis-server under `npm run bench`, Redis store: dictFind
// and dictRehash ~31% of its CPU with records in time-bucket hashes of ~300,000 fields, ~20% with
// record blocks; `npm run bench:store`: ~365 -> ~305 bytes of Redis memory per message). A lookup
// by id is one HGET (it used to probe up to 65 buckets for an old message), and saving an id again
// overwrites its field; the block's Redis TTL is extended on each write (once per script call) to
// outlive the record. Any id works (a one-character id's block is the empty string); ids that do
// not count up make blocks of one (a key each: correct, but costlier).
//
// Time buckets. The upstream index cannot be blocked so: upstream ids need not count up. b =
// floor(t / width), t by the store's clock, width = bucketWidthMs(ttl) (64 per ttl): index entries
// live in one hash per bucket, so a message adds no key and no expiry to Redis; each bucket key
// gets its TTL once per script call. A lookup probes the buckets that can hold a live entry, newest
// first, from b(now) down to b(now - ttl) (at most ~65 HGETs, usually one: a receipt comes soon
// after its message), and the newest entry wins: an index field written again in a later bucket
// points the key at its newest message. All replicas of one prefix must run with the same store ttl
// (it sets the width). A bucket is freed as one key: with Redis's default lazyfree-lazy-expire no,
// a very large bucket is freed in one step; set lazyfree-lazy-expire yes for high volumes.
//
// Index blocks. Upstream ids often count up too, and then the index fields of one batch share all
// but their last character. A run of saveAccepted (redis-accept-writes.ts, or the script's run_at)
// writes the entries that share their field-but-the-last-character with at least two others of the
// run (MIN_INDEX_BLOCK and splitIndex, redis-accept-writes.ts) into that block's hash in the bucket, <p>x:<b>:<block>, and the rest into the
// bucket's hash: a small hash per block instead of one more field in a hash of every message of the
// bucket, for the same reason as record blocks. Ids that do not count up never make blocks, so they
// cost what they did before blocks (one field each in the bucket's hash, no key of their own).
// A lookup reads, per bucket, the bucket's hash first, then the block. An entry in the bucket's hash
// therefore hides the same field in its block, and a run that writes a field into its block first
// removes it from the bucket's hash (when that hash exists: with upstream ids that count up, it
// holds only the few entries of a run that made no block). The other writers (setUpstreamId, and
// saveAccepted while orphans are held) write to the bucket's hash only, so the newest entry of a
// field is always the one a lookup finds first. Measured with a throwaway script (saveAccepted in batches of 60, hex
// upstream ids counting up, Redis CPU per message from INFO cpu): ~15% less than with every entry in
// the bucket's hash, and ~20% less Redis memory per message (~435 -> ~340 MB for 1.9 million messages).
//
// Bucket shape. Redis keeps a small hash as a listpack, whose lookups scan it: up to
// hash-max-listpack-entries fields (512 as this machine's redis-server 7.0.15 reports it). The HDEL
// of a run's block fields from such a bucket's hash cost ~60,000 instructions per message
// (callgrind of redis-server under the Redis store with receipts, bench/README.md), and every
// receipt's lookup misses in it first. A bucket's hash grows by a few entries per run, so each new
// bucket spent its first ~50,000 messages so. Whoever writes entries to a bucket's hash also writes BUCKET_SHAPE_FIELD
// with a value longer than hash-max-listpack-value (64 by default) if it is not there: the hash is
// then a hashtable from its first write, and stays one. Index fields start with a digit, so the
// field is never looked up; stats do not count it.
//
// Stats counts (<p>n:): a record is counted in the stats bucket of its last save's time bucket end
// (a save of an id saved before moves its count there), an index entry in that of now + ttl.
//
// A record string is eight fields joined by '|': expiresAt (epoch ms by the store's clock),
// cluster, endpoint, upstreamId, client, createdAt, routeName, parts. Optional fields are '' when
// absent and '=' + value when present (parts: '' or the number); '|' and '~' inside a value are
// written as '~1' and '~~' (printable: batches travel as JSON, redis-store.ts). The scripts read
// expiresAt and rewrite cluster, endpoint and upstreamId in place (setUpstreamId; saveAccepted's
// string comes with them set); everything else is encoded and decoded in JavaScript
// (redis-store.ts), with no JSON and no hash of fields per record.
//
// Cluster names are written with their length (`ok:7:vodacom:hex:b8be19`, index field `7:vodacom:hex:b8be19`) because both a cluster name
// and an upstream key may contain ':'; client system_ids end their key, so they need no length.
//
// Two clocks. Every deadline the MessageStore contract speaks of (record and delivery ttl, orphan
// ttl, delivery lease) is an epoch-ms value written in the data by the store's clock (injected in
// tests, Date.now otherwise) and checked against it by the scripts on each read, so expiry follows
// that clock exactly (contract.ts moves time without waiting). Redis TTLs (PEXPIRE, on Redis's own
// time) are set on top, as long as or longer than the data's own deadline, so memory is reclaimed even
// when no replica ever reads an entry again; an entry Redis dropped early (clock skew between a
// replica and Redis) reads as expired. Zsets of ids (dq, dl, dx, ok, ox) can keep ids whose hash is
// gone; each reader treats such an id as expired and removes it. One gap: saving a record again
// after setUpstreamId restarts the record's ttl but not its index entries', so a receipt later than
// one ttl after the setUpstreamId no longer finds it (the forwarder saves a message once: with its
// upstream id for submit_sm and data_sm (saveAccepted), before it has one for submit_multi).
//
// Redis Cluster: every script call touches several keys, which Cluster only allows within one hash slot.
// The key prefix must therefore carry a hash tag, e.g. "{smppd}:", which puts the whole store in
// one slot: Cluster then gives failover, not sharding (createRedisStore refuses a Cluster without one).

// One layout, one ttl per prefix. The first store that connects to a prefix writes into <p>meta the
// layout version it writes (KEY_LAYOUT_VERSION), and a store of another layout never serves on it: it
// would misread the keys, which stay with the prefix (meta has no TTL). A new layout takes a new
// key_prefix. The ttl sets the time buckets where receipts find their messages, so replicas with two
// ttls must not run on one prefix at once; one ttl may follow another. The replicas running hold a
// lease on their ttl in <p>ttl (claimed when free, renewed every third of its length while it holds
// theirs); a store with another ttl does not serve while the lease holds one, and takes it when it
// ran out (every replica of the old ttl stopped). Messages stored before a change of ttl are still
// found by id, and their deliveries still go out; their receipts are not found in the new buckets.

/** The version of the layout above. Raise it with any change that a store of the old one would misread. */
export const KEY_LAYOUT_VERSION = 1;

/** The field and value that keep a bucket's hash a hashtable (Bucket shape, above). */
export const BUCKET_SHAPE_FIELD = '-';
export const BUCKET_SHAPE_VALUE =
  'smppd keeps this hash a hashtable: a value over hash-max-listpack-value (64) turns a listpack into one';

/** A key of the (cluster, upstream key) namespace: length-prefixed cluster, then the key. */
function clusterKey(prefix: string, kind: string, cluster: string, key: string): string {
  return `${prefix}${kind}:${cluster.length}:${cluster}:${key}`;
}

/**
 * Field of the upstream index buckets (<p>x:<bucket>) for (cluster, key). The orphan key of the same
 * (cluster, key) is the prefix, 'ok:' and this field: the saveAccepted script builds it so.
 */
export function upstreamIndexField(cluster: string, key: string): string {
  return `${cluster.length}:${cluster}:${key}`;
}

export function orphanIndexKey(prefix: string, cluster: string, key: string): string {
  return clusterKey(prefix, 'ok', cluster, key);
}

/** orphanIndexKey of the (cluster, key) whose upstreamIndexField is `field`. */
export function orphanIndexKeyOfField(prefix: string, field: string): string {
  return `${prefix}ok:${field}`;
}

export function deliveryQueueKey(prefix: string, client: string): string {
  return `${prefix}dq:${client}`;
}

export function deliveryLeaseKey(prefix: string, client: string): string {
  return `${prefix}dl:${client}`;
}

export function deliveryExpiryKey(prefix: string): string {
  return `${prefix}dx`;
}

export function ttlClaimKey(prefix: string): string {
  return `${prefix}ttl`;
}

export function metaKey(prefix: string): string {
  return `${prefix}meta`;
}

/** Pub/sub channel on which every enqueueDelivery publishes the client's system_id. */
export function deliveriesChannel(prefix: string): string {
  return `${prefix}deliveries`;
}

/** True when the prefix holds a Redis Cluster hash tag: "{...}" with something between the braces. */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open < 0) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}

/** Width of the stats buckets for a ttl: 64 buckets per ttl, at least one second. */
export function bucketWidthMs(ttlMs: number): number {
  return Math.max(1000, Math.ceil(ttlMs / 64));
}
