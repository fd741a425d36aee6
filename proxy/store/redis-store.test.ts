import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedisSentinel, startRedisServer, useRedis, type RedisServer, type TestRedis } from '../../e2e/helpers/redis-server.js';
import { parseConfig } from '../config/load.js';
import { runStoreContract } from './contract.js';
import { createRedisClient, redisSettingsFromConfig } from './redis-connection.js';
import { createMessageIdGenerator } from './message-id.js';
import { BUCKET_SHAPE_FIELD, bucketWidthMs, KEY_LAYOUT_VERSION } from './redis-keys.js';
import { encodeCommand } from './redis-batch-command.js';
import { createRedisStore, createRedisStoreFromConfig, RecordBytes, type RedisMessageStore, type RedisStoreOptions } from './redis-store.js';
import { StoreErrorCode, isStoreError, type DeliveryItem, type MessageRecord, type MessageStore } from './store.js';

let redis: TestRedis;
/** A plain client to look at what the stores wrote. */
let inspect: Redis;

beforeAll(async () => {
  redis = await useRedis();
  inspect = new Redis(redis.url);
});

afterAll(async () => {
  await inspect?.quit();
  await redis?.close();
});

runStoreContract('redis', (options) => createRedisStore({ ...options, url: redis.url, keyPrefix: redis.prefix() }));
// saveAccepted alone in a batch goes as a transaction of plain commands by default; the batch
// script must keep the contract too (batches mixed with other calls, Redis Cluster).
runStoreContract('redis, saveAccepted through the batch script', (options) =>
  createRedisStore({ ...options, url: redis.url, keyPrefix: redis.prefix(), acceptedWrites: 'script' }),
);

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const TTL_MS = 60_000;
/** The time bucket of T0 (redis-keys.ts). */
const BUCKET = Math.floor(T0 / bucketWidthMs(TTL_MS));
const LEASE_MS = 30_000;

function record(id: string): MessageRecord {
  return { id, client: 'acme', cluster: 'vodacom', createdAt: T0 };
}

function delivery(text: string): DeliveryItem {
  return { kind: 'receipt', pdu: { short_message: Buffer.from(text) }, createdAt: T0 };
}

async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return isStoreError(err) ? err.code : `not a StoreError: ${String(err)}`;
  }
  return undefined;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await inspect.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys.sort();
}

/** Every key under prefix (without it, after its type) with its hash or zset contents. */
async function contents(prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of await keysUnder(prefix)) {
    const type = await inspect.type(key);
    out[`${type} ${key.slice(prefix.length)}`] =
      type === 'hash'
        ? await inspect.hgetall(key)
        : type === 'string'
          ? await inspect.get(key)
          : await inspect.zrange(key, '0', '-1', 'WITHSCORES');
  }
  return out;
}

/**
 * contents() with every index block (x:<bucket>:<block>) merged into its bucket's hash (x:<bucket>)
 * as the lookups read them (redis-keys.ts, "Index blocks"): an entry in the bucket's hash hides the
 * same field in its block. Where a batch puts an index entry is its own business; what each field
 * finds must not differ. A bucket's shape field (redis-keys.ts, "Bucket shape") is left out: it is
 * there when entries were written to the bucket's hash, whichever.
 */
function indexAsRead(keys: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const blocks: [string, string, Record<string, string>][] = [];
  for (const [name, value] of Object.entries(keys)) {
    const block = /^hash (x:\d+):(.*)$/s.exec(name);
    if (/^hash x:\d+$/.test(name)) {
      const { [BUCKET_SHAPE_FIELD]: _shape, ...entries } = value as Record<string, string>;
      if (Object.keys(entries).length > 0) out[name] = entries;
    } else if (block === null) out[name] = value;
    else blocks.push([`hash ${block[1]!}`, block[2]!, value as Record<string, string>]);
  }
  for (const [bucket, block, entries] of blocks) {
    const merged = (out[bucket] ??= {}) as Record<string, string>;
    for (const [last, id] of Object.entries(entries)) merged[block + last] ??= id;
  }
  return out;
}

describe('RecordBytes', () => {
  it('writes the record string byte for byte: separators escaped, text beyond ASCII as UTF-8, optional fields and parts', () => {
    const bulk = (arg: RecordBytes | string) => encodeCommand('x', [arg]);
    const plain = new RecordBytes({ id: 'm1', client: 'acme', cluster: 'vodacom', createdAt: 1764150000000 }, 1764160000000, 'sim', '127.0.0.1:2775', '1a2b');
    expect(bulk(plain)).toEqual(bulk('1764160000000|sim|=127.0.0.1:2775|=1a2b|acme|1764150000000||'));
    const odd = new RecordBytes(
      { id: 'm2', client: 'a|c~mé', cluster: 'x', createdAt: 1.5, routeName: 'r|', parts: 3 },
      7,
      'vod|a~com',
      undefined,
      'ü',
    );
    expect(bulk(odd)).toEqual(bulk('7|vod~1a~~com||=ü|a~1c~~mé|1.5|=r~1|3'));
    // A long record: the length header has more digits than the guess from maxBytes would move.
    const long = new RecordBytes({ id: 'm3', client: 'c'.repeat(200), cluster: 'k', createdAt: 0, routeName: '' }, 0, 'k', '', undefined);
    expect(bulk(long)).toEqual(bulk(`0|k|=||${'c'.repeat(200)}|0|=|`));
  });
});

describe('redis store', () => {
  let now = T0;
  const clock = () => now;
  let opened: MessageStore[] = [];

  function open(options: Partial<RedisStoreOptions> = {}): RedisMessageStore {
    const store = createRedisStore({ url: redis.url, keyPrefix: redis.prefix(), ttlMs: TTL_MS, leaseMs: LEASE_MS, clock, ...options });
    opened.push(store);
    return store;
  }

  afterEach(async () => {
    for (const store of opened) await store.close();
    opened = [];
    now = T0;
  });

  it('gives every key it writes a Redis TTL, except one small counters hash', async () => {
    const prefix = redis.prefix();
    const store = open({ keyPrefix: prefix });
    await store.save(record('m1'));
    await store.setUpstreamId('m1', 'vodacom', '9', ['hex:9', 'dec:9']);
    // Three upstream ids counting up in one batch, while no orphan is held: an index block.
    await Promise.all([20, 21, 22].map((n) => store.saveAccepted(record(`n${n}`), 'vodacom', String(n), [`dec:${n}`])));
    await store.holdOrphan('vodacom', ['dec:10'], { pdu: { n: 1 }, receivedAt: T0 }, 5_000);
    // Held, then taken for m2 and not acknowledged yet.
    await store.holdOrphan('vodacom', ['dec:11'], { pdu: { n: 2 }, receivedAt: T0 }, 5_000);
    await store.saveAccepted(record('m2'), 'vodacom', '11', ['dec:11']);
    await store.enqueueDelivery('acme', delivery('a1'));
    await store.enqueueDelivery('acme', delivery('a2'));
    await store.takeDeliveries('acme', 1);
    await store.stats();

    const keys = await keysUnder(prefix);
    expect(keys).toEqual(
      expect.arrayContaining([
        `${prefix}r:m`,
        `${prefix}x:${BUCKET}`,
        `${prefix}x:${BUCKET}:7:vodacom:dec:2`,
        `${prefix}ok:7:vodacom:dec:10`,
        `${prefix}ot`,
        `${prefix}dq:acme`,
        `${prefix}dl:acme`,
        `${prefix}meta`,
      ]),
    );
    for (const key of keys) {
      const pttl = await inspect.pttl(key);
      if (key === `${prefix}meta`) expect(pttl).toBe(-1);
      else expect({ key, alive: pttl > 0 }).toEqual({ key, alive: true });
    }
    // Records sit in blocks by id (m1 and m2 in r:m) and index entries in time buckets
    // (redis-keys.ts); each lives until its last entry has had its store ttl: at least the ttl, at
    // most one bucket width more.
    expect(await inspect.hmget(`${prefix}r:m`, '1', '2')).toEqual([expect.stringContaining('|'), expect.stringContaining('|')]);
    expect(await inspect.hmget(`${prefix}x:${BUCKET}`, '7:vodacom:hex:9', '7:vodacom:dec:9')).toEqual(['m1', 'm1']);
    expect(await inspect.hmget(`${prefix}x:${BUCKET}:7:vodacom:dec:2`, '0', '1', '2')).toEqual(['n20', 'n21', 'n22']);
    for (const key of [`${prefix}r:m`, `${prefix}x:${BUCKET}`, `${prefix}x:${BUCKET}:7:vodacom:dec:2`]) {
      const pttl = await inspect.pttl(key);
      expect(pttl).toBeGreaterThan(TTL_MS - 5_000);
      expect(pttl).toBeLessThanOrEqual(TTL_MS + bucketWidthMs(TTL_MS));
    }
    expect(await inspect.pttl(`${prefix}ok:7:vodacom:dec:10`)).toBeLessThanOrEqual(5_000);
  });

  for (const acceptedWrites of ['transaction', 'script'] as const) {
    it(`extends a record block's Redis TTL when a later save needs it longer, and never shortens it (${acceptedWrites})`, async () => {
      const prefix = redis.prefix();
      const store = open({ keyPrefix: prefix, acceptedWrites });
      const width = bucketWidthMs(TTL_MS);
      const start = (Math.floor(T0 / width) + 1) * width; // the first millisecond of a bucket
      // Saved in the last millisecond of a bucket: the block needs the ttl and 1 ms.
      now = start - 1;
      await store.saveAccepted(record('m1'), 'vodacom', '1', ['dec:1']);
      expect(await inspect.pttl(`${prefix}r:m`)).toBeLessThanOrEqual(TTL_MS + 1);
      // m2 in the first millisecond of the next: the ttl and a whole width.
      now = start;
      await store.saveAccepted(record('m2'), 'vodacom', '2', ['dec:2']);
      expect(await inspect.pttl(`${prefix}r:m`)).toBeGreaterThan(TTL_MS + width / 2);
      // m3 in that bucket's last millisecond needs only the ttl and 1 ms: the longer TTL stays.
      now = start + width - 1;
      await store.saveAccepted(record('m3'), 'vodacom', '3', ['dec:3']);
      expect(await inspect.pttl(`${prefix}r:m`)).toBeGreaterThan(TTL_MS + width / 2);
    });
  }

  it("keeps smppd's ids in blocks of 36 that share all but their last character: one Redis key per block", async () => {
    const prefix = redis.prefix();
    const store = open({ keyPrefix: prefix });
    const ids = createMessageIdGenerator({ prefix: 'abcdefgh012345' });
    const saved = Array.from({ length: 40 }, () => ids.next());
    await Promise.all(saved.map((id, i) => store.saveAccepted(record(id), 'vodacom', String(i), [`dec:${i}`])));
    const blocks = (await keysUnder(`${prefix}r:`)).sort();
    expect(blocks).toEqual([`${prefix}r:abcdefgh012345`, `${prefix}r:abcdefgh0123451`]);
    expect(await inspect.hlen(blocks[0] as string)).toBe(36);
    expect(await inspect.hkeys(blocks[1] as string)).toEqual(['0', '1', '2', '3']);
    for (const [i, id] of saved.entries()) {
      expect((await store.get(id))?.id).toBe(id);
      expect((await store.findByUpstream('vodacom', [`dec:${i}`]))?.id).toBe(id);
    }
    expect((await store.stats()).entries).toBe(40);
  });

  it('reports each script call to onCall: how many operations, its round trip, whether Redis answered', async () => {
    const calls: [number, number, boolean][] = [];
    const store = open({ onCall: (operations, seconds, ok) => calls.push([operations, seconds, ok]) });
    await store.get('warm-up');
    calls.length = 0;
    await Promise.all([store.save(record('m1')), store.get('m1'), store.saveAccepted(record('m2'), 'vodacom', '2', ['dec:2'])]);
    expect(calls).toEqual([[3, expect.any(Number), true]]);
    expect(calls[0]?.[1]).toBeGreaterThan(0);
    expect(calls[0]?.[1]).toBeLessThan(5);
    // A call Redis refuses (out of memory: no write allowed) fails each of its operations.
    await inspect.config('SET', 'maxmemory', '1');
    try {
      expect(await rejectionCode(store.save(record('m3')))).toBe(StoreErrorCode.BACKEND);
    } finally {
      await inspect.config('SET', 'maxmemory', '0');
    }
    expect(calls[1]).toEqual([1, expect.any(Number), false]);
  });

  it('keeps record fields intact whatever characters they hold (records are stored as one string)', async () => {
    const store = open();
    const odd = 'a|b~c~1d=~~|\u0001\u0002';
    const saved: MessageRecord = { ...record('m1'), client: odd, cluster: `k${odd}`, endpoint: odd, routeName: '', parts: 3 };
    await store.save(saved);
    expect(await store.get('m1')).toEqual(saved);
    await store.setUpstreamId('m1', `k${odd}`, odd, ['dec:1']);
    expect(await store.findByUpstream(`k${odd}`, ['dec:1'])).toEqual({ ...saved, upstreamId: odd });
    await store.setUpstreamId('m1', 'mcel', '', ['dec:2']);
    expect(await store.get('m1')).toEqual({ id: 'm1', client: odd, cluster: 'mcel', routeName: '', parts: 3, upstreamId: '', createdAt: T0 });
  });

  it('refuses a stored record string with too few or too many fields as CORRUPT, rather than misread it', async () => {
    const prefix = redis.prefix();
    const store = open({ keyPrefix: prefix });
    await store.save(record('m1'));
    await store.save(record('m2'));
    const live = T0 + TTL_MS;
    // Record m1 is field '1' of the block hash of 'm' (redis-keys.ts); eight fields are expected.
    await inspect.hset(`${prefix}r:m`, '1', `${live}|vodacom||acme|${T0}||`, '2', `${live}|vodacom|||acme|${T0}|||extra`);
    expect(await rejectionCode(store.get('m1'))).toBe(StoreErrorCode.CORRUPT);
    expect(await rejectionCode(store.get('m2'))).toBe(StoreErrorCode.CORRUPT);
  });

  it('writes with saveAccepted the same keys, record strings, index fields and counts as save + setUpstreamId, whatever the fields hold', async () => {
    const [pa, pb] = [redis.prefix(), redis.prefix()];
    const twoSteps = open({ keyPrefix: pa });
    const oneStep = open({ keyPrefix: pb });
    const odd = 'a|b~c~1d=~~|\u0001\u0002';
    const cases: [MessageRecord, string, string, string[], string | undefined][] = [
      [{ ...record('m1'), client: odd, cluster: `k${odd}`, endpoint: odd, routeName: '', parts: 3 }, `k${odd}`, odd, ['dec:1', 'hex:1'], undefined],
      [{ ...record('m2'), endpoint: 'a:2775' }, 'mcel', '2', ['dec:2'], undefined],
      [record('m3'), 'vodacom', '3', ['dec:3'], 'b:2775'],
      // Fields beyond ASCII, a createdAt that is not whole, parts 0.
      [{ ...record('m4'), client: 'é~|', routeName: 'ü' }, 'vodacom', '4', ['dec:4'], undefined],
      [{ ...record('m5'), createdAt: T0 + 0.5, parts: 0 }, 'vodacom', '5', ['dec:5'], undefined],
    ];
    for (const [saved, cluster, upstreamId, keys, endpoint] of cases) {
      await twoSteps.save(saved);
      await twoSteps.setUpstreamId(saved.id, cluster, upstreamId, keys, endpoint);
      await oneStep.saveAccepted(saved, cluster, upstreamId, keys, endpoint);
    }
    const written = await contents(pb);
    expect(Object.keys(written)).toEqual(expect.arrayContaining(['hash r:m', `hash x:${BUCKET}`]));
    expect(written).toEqual(await contents(pa));
  });

  describe('a batch of calls', () => {
    // The script writes runs of saveAccepted together (redis-scripts.ts): a batch must leave what
    // the same calls one at a time leave. Each call is a step that may move the clock first.
    type Step = (store: MessageStore) => Promise<unknown>;
    const at =
      (t: number, call: Step): Step =>
      (store) => {
        now = t;
        return call(store);
      };
    const receipt = (n: number) => ({ pdu: { n }, receivedAt: T0 });

    /** Replies and Redis contents (with the stats counters) after the steps: one by one, then as one batch. */
    async function bothWays(ttlMs: number, steps: readonly Step[]): Promise<[unknown, unknown]> {
      const [pa, pb] = [redis.prefix(), redis.prefix()];
      const oneByOne = open({ keyPrefix: pa, ttlMs });
      const batched = open({ keyPrefix: pb, ttlMs });
      await batched.get('warm-up'); // connected: the calls below go in one script call
      const single: unknown[] = [];
      for (const step of steps) single.push(await step(oneByOne));
      now = T0;
      const inOneTurn = steps.map((step) => step(batched));
      const together = await Promise.all(inOneTurn);
      now = T0 + 2_000;
      // Without memory.approxBytes: the whole instance's used_memory.
      const counts = async (store: MessageStore) => {
        const stats = await store.stats();
        return { ...stats, memory: { ...stats.memory, approxBytes: 0 } };
      };
      return [
        { replies: single, stats: await counts(oneByOne), keys: indexAsRead(await contents(pa)) },
        { replies: together, stats: await counts(batched), keys: indexAsRead(await contents(pb)) },
      ];
    }

    it('leaves the same records, index, orphans, counters and replies as the calls one by one', async () => {
      // ttl 60.5 s, bucket width 1 s: times before and after T0 + 500 share a record bucket but not
      // an index counter bucket (now + ttl); T0 + 1_000 starts the next bucket.
      const steps: Step[] = [
        (s) => s.saveAccepted(record('m1'), 'vodacom', '1', ['dec:1', 'hex:1']),
        (s) => s.saveAccepted(record('m2'), 'vodacom', '2', ['dec:2']),
        (s) => s.findByUpstream('vodacom', ['hex:1']),
        (s) => s.get('m2'),
        (s) => s.saveAccepted({ ...record('m1'), routeName: 'again' }, 'vodacom', '1b', ['dec:1b']),
        (s) => s.saveAccepted(record('m3'), 'vodacom', '3', ['dec:3', 'dec:3']),
        // The upstream reuses key dec:2 for m4: the index points at m4, counted once.
        (s) => s.saveAccepted(record('m4'), 'vodacom', '2', ['dec:2']),
        // In the same run: m3 saved again, and dec:3 reused by m14.
        (s) => s.saveAccepted({ ...record('m3'), parts: 2 }, 'vodacom', '3b', ['dec:3b']),
        (s) => s.saveAccepted(record('m14'), 'vodacom', '3', ['dec:3']),
        (s) => s.findByUpstream('vodacom', ['dec:2']),
        (s) => s.saveAccepted(record('m5'), 'mcel', '5', []),
        at(T0 + 400, (s) => s.saveAccepted(record('m6'), 'vodacom', '6', ['dec:6'])),
        at(T0 + 600, (s) => s.saveAccepted(record('m7'), 'vodacom', '7', ['dec:7'])),
        at(T0 + 1_000, (s) => s.saveAccepted(record('m8'), 'vodacom', '8', ['dec:8'])),
        (s) => s.saveAccepted(record('m1'), 'vodacom', '1c', ['dec:1c']),
        // Orphans held: saveAccepted takes them one operation at a time, then runs again.
        (s) => s.holdOrphan('vodacom', ['dec:9'], receipt(9), 5_000),
        (s) => s.holdOrphan('vodacom', ['dec:10'], receipt(10), 5_000),
        (s) => s.saveAccepted(record('m9'), 'vodacom', '9', ['dec:9']),
        (s) => s.saveAccepted(record('m11'), 'vodacom', '11', ['dec:11']),
        (s) => s.saveAccepted(record('m10'), 'vodacom', '10', ['dec:10']),
        (s) => s.saveAccepted(record('m12'), 'vodacom', '12', ['dec:12']),
        (s) => s.saveAccepted(record('m13'), 'vodacom', '13', ['dec:13']),
        (s) => s.findByUpstream('vodacom', ['dec:13']),
      ];
      const [single, together] = await bothWays(60_500, steps);
      expect(together).toEqual(single);
      // A lone call is a run of one: the counts are checked by hand too (and 'writes with
      // saveAccepted the same ... as save + setUpstreamId' holds a lone call to the per-operation path).
      expect(single).toMatchObject({
        replies: expect.arrayContaining([[expect.objectContaining(receipt(9))], [expect.objectContaining(receipt(10))]]) as unknown,
        // 14 records (m1 and m3 saved again: counted once, where their last save put them); 15
        // distinct index fields per bucket (dec:3 twice in one call, dec:2 and dec:3 reused: once).
        stats: { entries: 14, orphans: 0, memory: { upstreamKeys: 15 } },
      });
      const { replies } = single as { replies: unknown[] };
      expect(replies[2]).toMatchObject({ id: 'm1', upstreamId: '1' });
      expect(replies[9]).toMatchObject({ id: 'm4' });
      expect(replies[22]).toMatchObject({ id: 'm13' });
    });

    it('writes a batch of saveAccepted alone as one transaction that leaves what the batch script leaves', async () => {
      // redis-accept-writes.ts: plain commands in MULTI/EXEC, counts corrected after it (recount).
      // Runs at three times (two buckets), records saved again (one in the batch, one before it), an
      // id twice in one run, a reused upstream key, upstream ids that count up (index blocks) and
      // one held as an orphan before the batch (taken after it, with takeHeld).
      const setUp: Step[] = [
        (s) => s.saveAccepted(record('m0'), 'vodacom', '0', ['dec:0']),
        (s) => s.holdOrphan('vodacom', ['hex:1a'], receipt(26), 5_000),
      ];
      const batch: Step[] = [
        (s) => s.saveAccepted({ ...record('m0'), routeName: 'again' }, 'vodacom', '0b', ['dec:0b']),
        ...Array.from({ length: 16 }, (_, i): Step => (s) => s.saveAccepted(record(`m${16 + i}`), 'vodacom', (16 + i).toString(16), [`hex:${(16 + i).toString(16)}`, `dec:${16 + i}`])),
        (s) => s.saveAccepted(record('m3'), 'vodacom', '3', ['dec:3']),
        (s) => s.saveAccepted({ ...record('m3'), parts: 2 }, 'vodacom', '3', ['dec:3']),
        at(T0 + 400, (s) => s.saveAccepted(record('m4'), 'vodacom', '3', ['dec:3'])),
        at(T0 + 400, (s) => s.saveAccepted(record('m5'), 'mcel', '5', [])),
        at(T0 + 1_000, (s) => s.saveAccepted(record('m17'), 'vodacom', '11b', ['hex:11b'])),
      ];
      const [pa, pb] = [redis.prefix(), redis.prefix()];
      const viaScript = open({ keyPrefix: pa, ttlMs: 60_500, acceptedWrites: 'script' });
      const viaTransaction = open({ keyPrefix: pb, ttlMs: 60_500 });
      // Connected (each checks its prefix on connect) before MONITOR starts: ioredis can take a
      // command's MONITOR line that comes with MONITOR's own OK for a reply.
      await Promise.all([viaScript.get('warm-up'), viaTransaction.get('warm-up')]);
      const monitor = await new Redis(redis.url).monitor();
      const plainWrites: string[] = [];
      const marker = `done ${pb}`;
      const allSeen = new Promise<void>((resolve) => {
        monitor.on('monitor', (_time: string, args: string[], source: string) => {
          if (args[0]?.toLowerCase() === 'hset' && args[1]?.startsWith(pb) && source !== 'lua') plainWrites.push(args[1]);
          if (args[0]?.toLowerCase() === 'ping' && args[1] === marker) resolve();
        });
      });
      try {
        const outcome = async (store: MessageStore, prefix: string) => {
          now = T0;
          for (const step of setUp) await step(store);
          const replies = await Promise.all(batch.map((step) => step(store)));
          now = T0 + 2_000;
          const stats = await store.stats();
          return { replies, stats: { ...stats, memory: { ...stats.memory, approxBytes: 0 } }, keys: indexAsRead(await contents(prefix)) };
        };
        const [scripted, transacted] = [await outcome(viaScript, pa), await outcome(viaTransaction, pb)];
        expect(transacted).toEqual(scripted);
        expect(transacted.replies[11]).toEqual([expect.objectContaining(receipt(26))]); // m26's hex:1a
        // m0, m16..m31, m3, m4, m5: each record counted once, wherever its last save put it.
        expect(transacted.stats).toMatchObject({ entries: 20, orphans: 0 });
        await inspect.ping(marker);
        await allSeen; // every command before the marker was seen
        expect(plainWrites).toContain(`${pb}r:m`); // record block of m16..m31 and m3 ...
        expect(plainWrites).toContain(`${pb}x:${BUCKET}:7:vodacom:hex:1`); // ... and an index block
        // Every key but the meta hash (redis-keys.ts) has a Redis TTL.
        for (const key of await keysUnder(pb)) if (key !== `${pb}meta`) expect(await inspect.pttl(key), key).toBeGreaterThan(0);
      } finally {
        monitor.disconnect();
      }
    });

    it('indexes more fields than Lua can unpack at once', async () => {
      // 120 calls of 40 keys: 4,800 index fields, 9,600 HSET arguments (Lua's C stack holds ~8,000).
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      const steps: Step[] = Array.from(
        { length: 120 },
        (_, i) => (s) => s.saveAccepted(record(`m${i}`), 'vodacom', String(i), keys.map((key) => `${key}:${i % 60}`)),
      );
      steps.push((s) => s.findByUpstream('vodacom', ['k39:59']));
      const [single, together] = await bothWays(TTL_MS, steps);
      expect(together).toEqual(single);
      expect(single).toMatchObject({ stats: { entries: 120, memory: { upstreamKeys: 40 * 60 } } });
      expect((single as { replies: unknown[] }).replies[120]).toMatchObject({ id: 'm119' });
    });

    it('puts the index entries of upstream ids that count up in index blocks, the others in the bucket', async () => {
      const prefix = redis.prefix();
      const store = open({ keyPrefix: prefix });
      await store.get('warm-up');
      // 20 upstream ids counting up, and one that shares its block with no other of the batch.
      const calls = Array.from({ length: 20 }, (_, i) => store.saveAccepted(record(`m${i}`), 'vodacom', String(100 + i), [`dec:${100 + i}`]));
      calls.push(store.saveAccepted(record('lone'), 'vodacom', '777', ['dec:777']));
      await Promise.all(calls);
      const index = Object.entries(await contents(prefix)).filter(([name]) => name.startsWith('hash x:'));
      const layout = Object.fromEntries(index.map(([name, entries]) => [name.replace(/^hash x:\d+/, 'x:b'), Object.keys(entries as object).length]));
      // The bucket's hash: the lone entry and its shape field.
      expect(layout).toEqual({ 'x:b': 2, 'x:b:7:vodacom:dec:10': 10, 'x:b:7:vodacom:dec:11': 10 });
      for (let i = 0; i < 20; i++) expect(await store.findByUpstream('vodacom', [`dec:${100 + i}`])).toMatchObject({ id: `m${i}` });
      expect(await store.findByUpstream('vodacom', ['dec:777'])).toMatchObject({ id: 'lone' });
    });

    it.each(['transaction', 'script'] as const)(
      "keeps a bucket's hash a hashtable from its first entry, written by a %s and by setUpstreamId (lookups scan a listpack)",
      async (acceptedWrites) => {
        const prefix = redis.prefix();
        const store = open({ keyPrefix: prefix, acceptedWrites });
        await store.saveAccepted(record('lone'), 'vodacom', '777', ['dec:777']);
        const [bucket, ...others] = (await keysUnder(prefix)).filter((key) => /x:\d+$/.test(key));
        expect(others).toEqual([]);
        expect(await inspect.object('ENCODING', bucket!)).toBe('hashtable');
        // A bucket written first by setUpstreamId, one width later.
        now += bucketWidthMs(TTL_MS);
        await store.save(record('other'));
        await store.setUpstreamId('other', 'vodacom', '778', ['dec:778']);
        const buckets = (await keysUnder(prefix)).filter((key) => /x:\d+$/.test(key));
        expect(buckets).toHaveLength(2);
        for (const key of buckets) expect(await inspect.object('ENCODING', key)).toBe('hashtable');
        expect(await store.findByUpstream('vodacom', ['dec:777'])).toMatchObject({ id: 'lone' });
        expect(await store.findByUpstream('vodacom', ['dec:778'])).toMatchObject({ id: 'other' });
        // The shape field is no index entry.
        expect((await store.stats()).memory.upstreamKeys).toBe(2);
      },
    );

    it('finds the newest message for an upstream key written to its index block and to the bucket in turn', async () => {
      const store = open();
      await store.get('warm-up');
      const batch = (from: number, ids: string[]) =>
        Promise.all(ids.map((id, i) => store.saveAccepted(record(id), 'vodacom', String(from + i), [`dec:${from + i}`])));
      // dec:10..15 go to their block; then dec:12 alone (the bucket's hash); then dec:10..13 in a
      // block again, in the same bucket: each lookup finds the message written last.
      await batch(10, ['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
      expect(await store.findByUpstream('vodacom', ['dec:12'])).toMatchObject({ id: 'a2' });
      await store.saveAccepted(record('b'), 'vodacom', '12', ['dec:12']);
      expect(await store.findByUpstream('vodacom', ['dec:12'])).toMatchObject({ id: 'b' });
      expect(await store.findByUpstream('vodacom', ['dec:13'])).toMatchObject({ id: 'a3' });
      await batch(10, ['c0', 'c1', 'c2', 'c3']);
      expect(await store.findByUpstream('vodacom', ['dec:12'])).toMatchObject({ id: 'c2' });
      expect(await store.findByUpstream('vodacom', ['dec:15'])).toMatchObject({ id: 'a5' });
      // Counted once each: six fields.
      expect((await store.stats()).memory.upstreamKeys).toBe(6);
    });
  });

  it('keeps stores with different key prefixes apart on one Redis', async () => {
    const a = open();
    const b = open();
    await a.save(record('m1'));
    await a.setUpstreamId('m1', 'vodacom', '9', ['dec:9']);
    await a.enqueueDelivery('acme', delivery('a1'));
    expect(await b.get('m1')).toBeUndefined();
    expect(await b.findByUpstream('vodacom', ['dec:9'])).toBeUndefined();
    expect(await b.pendingCount()).toBe(0);
    expect(await b.takeDeliveries('acme', 10)).toEqual([]);
    expect(await rejectionCode(b.setUpstreamId('m1', 'vodacom', '9', ['dec:9']))).toBe(StoreErrorCode.NOT_FOUND);
    expect((await b.stats()).entries).toBe(0);
    expect((await a.stats()).entries).toBe(1);
  });

  /** The StoreError a call fails with, or undefined when it succeeds. */
  async function failure(promise: Promise<unknown>): Promise<Error | undefined> {
    try {
      await promise;
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  it('claims a new prefix for its key layout and ttl, and refuses one used with another ttl or layout', async () => {
    const prefix = redis.prefix();
    const first = open({ keyPrefix: prefix, ttlMs: 60_000 });
    await first.save(record('m1'));
    expect(await inspect.hget(`${prefix}meta`, 'layout')).toBe(String(KEY_LAYOUT_VERSION));
    expect(await inspect.get(`${prefix}ttl`)).toBe('60000');
    // Another ttl would look for receipts' messages in other time buckets: it does not serve.
    const other = open({ keyPrefix: prefix, ttlMs: 120_000 });
    const refused = await failure(other.get('m1'));
    expect(isStoreError(refused, StoreErrorCode.BACKEND)).toBe(true);
    expect(refused?.message).toMatch(/store\.ttl 60000 ms by running replicas, this replica has 120000 ms/);
    expect(other.healthy()).toBe(false);
    expect(other.problem()).toBe(refused?.message);
    expect(await failure(other.saveAccepted(record('m2'), 'vodacom', '2', ['dec:2']))).toBe(refused);
    // The same ttl serves; the first store was never disturbed.
    const same = open({ keyPrefix: prefix, ttlMs: 60_000 });
    expect((await same.get('m1'))?.id).toBe('m1');
    expect(same.healthy()).toBe(true);
    expect(same.problem()).toBeUndefined();
    expect((await first.get('m2'))).toBeUndefined();
    // A prefix written by another key layout.
    const later = redis.prefix();
    await inspect.hset(`${later}meta`, 'layout', String(KEY_LAYOUT_VERSION + 1));
    const newer = open({ keyPrefix: later });
    expect((await failure(newer.save(record('m3'))))?.message).toMatch(new RegExp(`holds key layout ${KEY_LAYOUT_VERSION + 1}, this smppd writes layout ${KEY_LAYOUT_VERSION}`));
    expect(await inspect.exists(`${later}r:m`)).toBe(0);
  });

  it('serves with a new ttl on a prefix once the replicas of the old one stopped renewing their lease', async () => {
    const prefix = redis.prefix();
    const old = open({ keyPrefix: prefix, ttlMs: 60_000, prefixLeaseMs: 1_500 });
    await old.save(record('m1'));
    const claimedBy = Date.now() + 1_500; // the lease's end, had it not been renewed
    const next = open({ keyPrefix: prefix, ttlMs: 120_000, prefixLeaseMs: 1_500 });
    await expect(next.get('m1')).rejects.toThrow(/store\.ttl 60000 ms by running replicas/);
    // While the old store runs it renews its lease (every 500 ms): through its first end and after,
    // the lease holds the old ttl without a gap, and the new store stays refused.
    const held = new Set<string | null>();
    while (Date.now() < claimedBy + 700) held.add(await inspect.get(`${prefix}ttl`));
    expect([...held]).toEqual(['60000']);
    expect(next.healthy()).toBe(false);
    await old.close();
    await vi.waitFor(() => expect(next.healthy()).toBe(true), { timeout: 5_000, interval: 50 });
    expect(await inspect.get(`${prefix}ttl`)).toBe('120000');
    // The message stored under the old ttl is still found by its id.
    expect((await next.get('m1'))?.id).toBe('m1');
  });

  it('shares messages and orphan receipts between replicas on one prefix', async () => {
    const prefix = redis.prefix();
    const a = open({ keyPrefix: prefix });
    const b = open({ keyPrefix: prefix });
    await a.save(record('m1'));
    const held = { pdu: { short_message: Buffer.from('id:9 stat:DELIVRD') }, receivedAt: T0 };
    // The receipt beats the submit_sm_resp and lands on replica B; replica A then learns the id.
    expect(await b.holdOrphan('vodacom', ['dec:9'], held, 5_000)).toBeUndefined();
    expect(await a.setUpstreamId('m1', 'vodacom', '9', ['dec:9'])).toEqual([{ ...held, token: expect.any(String) as unknown }]);
    expect((await b.findByUpstream('vodacom', ['dec:9']))?.id).toBe('m1');
    expect((await b.holdOrphan('vodacom', ['dec:9'], held, 5_000))?.id).toBe('m1');
  });

  it('hands a delivery claimed by a replica that never acknowledges it to another after the lease', async () => {
    const prefix = redis.prefix();
    const a = open({ keyPrefix: prefix });
    const b = open({ keyPrefix: prefix });
    const id1 = await a.enqueueDelivery('acme', delivery('r1'));
    await b.enqueueDelivery('acme', delivery('r2'));

    // Replica A claims both, acknowledges one, then dies with the other in flight.
    const claimedByA = await a.takeDeliveries('acme', 10);
    expect(claimedByA.map((c) => c.deliveryId)).toHaveLength(2);
    expect(await a.ackDelivery('acme', claimedByA[1]!.deliveryId)).toBe(true);
    await a.close();

    expect(await b.takeDeliveries('acme', 10)).toEqual([]);
    expect(await b.pendingCount('acme')).toBe(1);
    now += LEASE_MS;
    const reclaimed = await b.takeDeliveries('acme', 10);
    expect(reclaimed).toEqual([{ deliveryId: id1, item: delivery('r1'), attempts: 2 }]);
    expect(await b.ackDelivery('acme', id1)).toBe(true);
    expect(await b.pendingCount()).toBe(0);
  });

  it('keeps the orphans it hands out until acknowledged: after the lease another replica reclaims them', async () => {
    const prefix = redis.prefix();
    const a = open({ keyPrefix: prefix });
    const b = open({ keyPrefix: prefix });
    const first = { pdu: { n: 1 }, receivedAt: T0 };
    const second = { pdu: { n: 2 }, receivedAt: T0 };
    await b.holdOrphan('vodacom', ['dec:9'], first, 5_000);
    await b.holdOrphan('vodacom', ['dec:10'], second, 5_000);
    // Replica A saves both messages and takes the receipts; it acknowledges the first only (then
    // dies, say, before it could deliver or keep the second).
    const [taken1] = await a.saveAccepted(record('m1'), 'vodacom', '9', ['dec:9']);
    const [taken2] = await a.saveAccepted(record('m2'), 'vodacom', '10', ['dec:10']);
    expect([taken1?.token, taken2?.token].every((t) => typeof t === 'string')).toBe(true);
    await a.ackOrphans([taken1!.token!]);
    await a.close();
    expect((await b.stats()).orphans).toBe(0); // taken: no longer held for matching

    expect(await b.reclaimOrphans(10)).toEqual([]); // within the lease
    now += LEASE_MS;
    const reclaimed = await b.reclaimOrphans(10);
    expect(reclaimed).toEqual([{ messageId: 'm2', receipt: { ...second, token: taken2!.token } }]);
    // Leased again to B: not handed out twice, and gone once B acknowledges it.
    expect(await b.reclaimOrphans(10)).toEqual([]);
    await b.ackOrphans([taken2!.token!]);
    now += LEASE_MS;
    expect(await b.reclaimOrphans(10)).toEqual([]);
    expect(await keysUnder(prefix + 'o:')).toEqual([]);
  });

  it('tells listeners on other replicas which client has a delivery waiting', async () => {
    const prefix = redis.prefix();
    const a = open({ keyPrefix: prefix });
    const b = open({ keyPrefix: prefix });
    const heard = new Promise<string>((resolve) => b.onDeliveryQueued(resolve));
    await b.whenListening();
    await a.enqueueDelivery('acme', delivery('a1'));
    expect(await heard).toBe('acme');
  });

  it('counts records until their ttl, then as expirations', async () => {
    const store = open();
    await store.save(record('m1'));
    await store.save(record('m2'));
    await store.save(record('m1'));
    await store.setUpstreamId('m1', 'vodacom', '9', ['hex:9', 'dec:9']);
    let stats = await store.stats();
    expect(stats).toMatchObject({ entries: 2, expirations: 0, memory: { upstreamKeys: 2 } });
    expect(stats.memory.approxBytes).toBeGreaterThan(0);
    now += 2 * TTL_MS;
    stats = await store.stats();
    expect(stats).toMatchObject({ entries: 0, expirations: 2, memory: { upstreamKeys: 0 } });
  });

  it('bounds orphan receipts, dropping the soonest to expire, and counts expired ones', async () => {
    const store = open({ maxOrphans: 2 });
    for (let i = 1; i <= 3; i++) {
      await store.holdOrphan('vodacom', [`dec:${i}`], { pdu: { i }, receivedAt: T0 }, 5_000 + i);
    }
    await store.save(record('m1'));
    expect(await store.setUpstreamId('m1', 'vodacom', '1', ['dec:1'])).toEqual([]);
    expect(await store.setUpstreamId('m1', 'vodacom', '3', ['dec:3'])).toEqual([{ pdu: { i: 3 }, receivedAt: T0, token: expect.any(String) as unknown }]);
    expect(await store.stats()).toMatchObject({ orphans: 1, orphansEvicted: 1, orphansExpired: 0 });
    now += 5_002;
    expect(await store.stats()).toMatchObject({ orphans: 0, orphansExpired: 1 });
  });

  it('hands each expired orphan to one replica: their takeOrphansExpired add up to the fleet figure', async () => {
    const prefix = redis.prefix();
    const a = open({ keyPrefix: prefix });
    const b = open({ keyPrefix: prefix });
    expect(await a.takeOrphansExpired()).toBe(0);
    await a.holdOrphan('vodacom', ['dec:1'], { pdu: { i: 1 }, receivedAt: T0 }, 5_000);
    await b.holdOrphan('vodacom', ['dec:2'], { pdu: { i: 2 }, receivedAt: T0 }, 5_000);
    await b.holdOrphan('vodacom', ['dec:3'], { pdu: { i: 3 }, receivedAt: T0 }, 9_000);
    now += 5_000;
    expect(await b.takeOrphansExpired()).toBe(2);
    expect(await a.takeOrphansExpired()).toBe(0);
    now += 4_000;
    expect(await a.takeOrphansExpired()).toBe(1);
    expect(await b.takeOrphansExpired()).toBe(0);
    expect((await a.stats()).orphansExpired).toBe(3);
  });

  it('starts counting expired orphans at the first takeOrphansExpired on a prefix, not before it', async () => {
    const store = open();
    await store.holdOrphan('vodacom', ['dec:1'], { pdu: { i: 1 }, receivedAt: T0 }, 5_000);
    now += 5_000;
    expect((await store.stats()).orphansExpired).toBe(1);
    expect(await store.takeOrphansExpired()).toBe(0);
    await store.holdOrphan('vodacom', ['dec:2'], { pdu: { i: 2 }, receivedAt: T0 }, 5_000);
    now += 5_000;
    expect(await store.takeOrphansExpired()).toBe(1);
  });

  it('close sends the writes still queued and waits for them (SPEC §6: pending store writes are flushed)', async () => {
    const prefix = redis.prefix();
    const store = open({ keyPrefix: prefix });
    await store.save(record('m0')); // connected, so the writes below queue for the next batch
    const writes = [
      store.saveAccepted(record('m1'), 'vodacom', '11', ['dec:11']),
      store.save(record('m2')),
      store.enqueueDelivery('acme', delivery('a1')),
    ];
    await store.close();
    await Promise.all(writes);
    const after = open({ keyPrefix: prefix });
    expect((await after.get('m1'))?.upstreamId).toBe('11');
    expect((await after.findByUpstream('vodacom', ['dec:11']))?.id).toBe('m1');
    expect(await after.get('m2')).toMatchObject({ id: 'm2' });
    expect(await after.pendingCount('acme')).toBe(1);
  });

  it('counts deliveries that expired undelivered', async () => {
    const store = open();
    await store.enqueueDelivery('acme', delivery('a1'));
    await store.enqueueDelivery('beta', delivery('b1'));
    await store.takeDeliveries('beta', 1);
    now += TTL_MS;
    expect(await store.stats()).toMatchObject({ pendingDeliveries: 0, deliveriesExpired: 2 });
  });

  it('refuses a Redis Cluster client when the key prefix has no hash tag', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    expect(() => createRedisStore({ redis: cluster, keyPrefix: 'smppd:', ttlMs: TTL_MS })).toThrow(
      expect.objectContaining({ code: StoreErrorCode.INVALID_ARGUMENT }),
    );
    cluster.disconnect();
  });

  it('sends every script call with the meta key as its first key, even a batch of calls without keys', async () => {
    // Redis Cluster routes a command by its first key and sends one without keys to a random node,
    // which may not own the prefix's slot: the call must always name a key of the prefix.
    const prefix = redis.prefix();
    const store = open({ keyPrefix: prefix });
    await store.saveAccepted(record('m1'), 'vodacom', '1', ['dec:1']);
    await store.get('m1'); // the batch script loaded: it goes as EVALSHA from here on
    await store.findByUpstream('vodacom', ['dec:1']); // and the find script (redis-find-reads.ts)
    const monitor = await new Redis(redis.url).monitor();
    try {
      const calls: string[][] = [];
      const seen = new Promise<void>((resolve) => {
        monitor.on('monitor', (_time: string, args: string[]) => {
          if (args[0]?.toLowerCase() !== 'evalsha' || !args.includes(prefix)) return; // ARGV[1] is the prefix
          calls.push(args);
          if (calls.length === 3) resolve();
        });
      });
      // evalsha sha numkeys keys... prefix operations
      const keyless = await Promise.all([store.get('m1'), store.findByUpstream('vodacom', ['dec:1'])]);
      const keyed = await Promise.all([store.get('m1'), store.enqueueDelivery('acme', delivery('a1'))]);
      const alone = await store.findByUpstream('vodacom', ['dec:1']); // the find script's call
      await seen;
      expect(calls.map((args) => args.slice(2, 2 + 1 + Number(args[2])))).toEqual([
        ['1', `${prefix}meta`],
        ['2', `${prefix}meta`, `${prefix}dq:acme`],
        ['1', `${prefix}meta`],
      ]);
      expect(alone?.id).toBe('m1');
      // The operations read their own keys after the meta key.
      expect(keyless.map((found) => found?.id)).toEqual(['m1', 'm1']);
      expect(keyed[0]?.id).toBe('m1');
      expect(await store.takeDeliveries('acme', 5)).toEqual([{ deliveryId: keyed[1], item: delivery('a1'), attempts: 1 }]);
    } finally {
      monitor.disconnect();
    }
  });

  it('connects, prefixes and expires as the config says', async () => {
    const prefix = redis.prefix();
    const loaded = await parseConfig({ store: { backend: 'redis', ttl: '1m', redis: { url: redis.url, key_prefix: prefix } } }, { env: {} });
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    const store = createRedisStoreFromConfig(loaded.config.store);
    opened.push(store);
    await store.save(record('m1'));
    expect((await store.get('m1'))?.id).toBe('m1');
    const buckets = (await keysUnder(prefix)).filter((key) => key.startsWith(`${prefix}r:`));
    expect(buckets).toHaveLength(1);
    const pttl = await inspect.pttl(buckets[0] as string);
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000 + bucketWidthMs(60_000));
  });

  it('leaves a client it was given open on close', async () => {
    const client = createRedisClient({ url: redis.url });
    const store = open({ url: undefined, redis: client });
    await store.save(record('m1'));
    await store.close();
    expect(await client.ping()).toBe('PONG');
    await client.quit();
  });

  it('leaves no listener on a client it was given once it closes', async () => {
    const client = createRedisClient({ url: redis.url });
    const before = ['ready', 'close', 'end', 'error'].map((event) => client.listenerCount(event));
    for (let i = 0; i < 12; i++) {
      const store = open({ url: undefined, redis: client });
      await store.save(record(`m${i}`));
      await store.close();
    }
    expect(['ready', 'close', 'end', 'error'].map((event) => client.listenerCount(event))).toEqual(before);
    await client.quit();
  });

  it('works with a lease that is not a whole number of milliseconds', async () => {
    const store = open({ leaseMs: 1500.5 });
    const id = await store.enqueueDelivery('acme', delivery('a1'));
    expect(await store.takeDeliveries('acme', 5)).toEqual([{ deliveryId: id, item: delivery('a1'), attempts: 1 }]);
    now += 1501;
    expect(await store.takeDeliveries('acme', 5)).toEqual([{ deliveryId: id, item: delivery('a1'), attempts: 2 }]);
  });

  it('tells onCallbackError when a saveAcceptedWith callback throws, and still answers the rest of its batch', async () => {
    const errors: unknown[] = [];
    const store = open({ onCallbackError: (err) => errors.push(err) });
    await store.get('warm-up'); // connected: the two calls below go in one script call
    const bug = new Error('handler bug');
    const second = new Promise<readonly unknown[]>((resolve, reject) => {
      store.saveAcceptedWith(record('m1'), 'vodacom', '1', ['dec:1'], undefined, {
        stored: () => {
          throw bug;
        },
        notStored: reject,
      });
      store.saveAcceptedWith(record('m2'), 'vodacom', '2', ['dec:2'], undefined, { stored: resolve, notStored: reject });
    });
    expect(await second).toEqual([]);
    expect(errors).toEqual([bug]);
    expect((await store.findByUpstream('vodacom', ['dec:1']))?.id).toBe('m1');
  });
});

describe('redis store when Redis goes away', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('sends the calls of one moment together, in call order', async () => {
    const store = createRedisStore({ url: server.url, keyPrefix: 'batch:', ttlMs: TTL_MS });
    const admin = new Redis(server.url);
    try {
      await store.get('warm-up'); // connected, script loaded
      await admin.config('RESETSTAT');
      const saves = Array.from({ length: 200 }, (_, i) => store.save(record(`m${i}`)));
      const afterSave = store.get('m199');
      await Promise.all(saves);
      expect((await afterSave)?.id).toBe('m199');
      const evalsha = /cmdstat_evalsha:calls=(\d+)/.exec(await admin.info('commandstats'));
      // 201 calls, at most 128 to a script call.
      expect(Number(evalsha?.[1])).toBe(2);
    } finally {
      await store.close();
      await admin.quit();
    }
  });

  it('loads its scripts again when Redis lost them (SCRIPT FLUSH), losing no call', async () => {
    const store = createRedisStore({ url: server.url, keyPrefix: 'flush:', ttlMs: TTL_MS });
    const admin = new Redis(server.url);
    try {
      await store.saveAccepted(record('m1'), 'vodacom', '1', ['dec:1']); // connected
      await store.get('m1'); // the batch script loaded
      await store.findByUpstream('vodacom', ['dec:1']); // the find script loaded (redis-find-reads.ts)
      await admin.script('FLUSH');
      await admin.config('RESETSTAT');
      // The calls of this moment go as one EVALSHA, answered NOSCRIPT (it ran nothing), then again
      // as EVAL with the script: the batch script's, then the find script's.
      const calls = await Promise.all([store.saveAccepted(record('m2'), 'vodacom', '2', ['dec:2']), store.get('m1')]);
      expect(calls[1]?.id).toBe('m1');
      expect((await store.findByUpstream('vodacom', ['dec:2']))?.id).toBe('m2');
      const stats = await admin.info('commandstats');
      expect(stats).toMatch(/cmdstat_evalsha:calls=\d+,.*failed_calls=2/);
      expect(stats).toMatch(/cmdstat_eval:calls=2,/);
    } finally {
      await store.close();
      await admin.quit();
    }
  });

  it('writes a batch of new saveAccepted with no script at all: counts and TTLs included', async () => {
    const store = createRedisStore({ url: server.url, keyPrefix: 'noscript:', ttlMs: TTL_MS });
    const admin = new Redis(server.url);
    try {
      await store.saveAccepted(record('m1'), 'vodacom', '1', ['dec:1']); // connected
      await admin.script('FLUSH');
      await admin.config('RESETSTAT');
      const saved = await Promise.all([
        store.saveAccepted(record('m2'), 'vodacom', '2', ['dec:2']),
        store.saveAccepted(record('m3'), 'vodacom', '3', ['dec:3', 'hex:3']),
      ]);
      expect(saved).toEqual([[], []]);
      const commands = await admin.info('commandstats');
      expect(commands).toMatch(/cmdstat_exec:calls=1,/);
      expect(commands).not.toMatch(/cmdstat_eval/);
      for (const key of await admin.keys('noscript:*')) if (key !== 'noscript:meta') expect(await admin.pttl(key), key).toBeGreaterThan(0);
      expect((await store.findByUpstream('vodacom', ['hex:3']))?.id).toBe('m3');
      expect(await store.stats()).toMatchObject({ entries: 3, memory: { upstreamKeys: 4 } });
    } finally {
      await store.close();
      await admin.quit();
    }
  });

  it('tells why when Redis refuses the check of its key prefix, and checks again until it may', async () => {
    const admin = new Redis(server.url);
    await admin.acl('SETUSER', 'nocheck', 'on', '>pw', '~*', '&*', '+@all', '-hsetnx');
    const url = server.url.replace('redis://', 'redis://nocheck:pw@');
    const store = createRedisStore({ url, keyPrefix: 'nocheck:', ttlMs: TTL_MS, prefixLeaseMs: 600 });
    try {
      await expect(store.get('m1')).rejects.toThrow(/refused the check of the key prefix: NOPERM/);
      expect(store.healthy()).toBe(false);
      await admin.acl('SETUSER', 'nocheck', '+hsetnx');
      await vi.waitFor(() => expect(store.healthy()).toBe(true), { timeout: 5_000, interval: 50 });
      await store.saveAccepted(record('m1'), 'vodacom', '1', ['dec:1']);
      expect((await store.findByUpstream('vodacom', ['dec:1']))?.id).toBe('m1');
    } finally {
      await store.close();
      await admin.acl('DELUSER', 'nocheck');
      await admin.quit();
    }
  });

  /** A store on a Redis user `user` whose ACL refuses MULTI, given to `body`; the user is removed after. */
  async function withoutMulti(user: string, body: (store: RedisMessageStore, admin: Redis) => Promise<void>): Promise<void> {
    const admin = new Redis(server.url);
    await admin.acl('SETUSER', user, 'on', '>pw', '~*', '&*', '+@all', '-multi');
    const url = server.url.replace('redis://', `redis://${user}:pw@`);
    const store = createRedisStore({ url, keyPrefix: `${user}:`, ttlMs: TTL_MS });
    try {
      await store.get('warm-up');
      await body(store, admin);
    } finally {
      await store.close();
      await admin.acl('DELUSER', user);
      await admin.quit();
    }
  }

  it('goes back to the batch script for good when Redis refuses its transaction (an ACL without MULTI)', async () => {
    await withoutMulti('nomulti', async (store, admin) => {
      await admin.config('RESETSTAT');
      // MULTI refused: the commands ran one by one, EXEC found no transaction; the batch script
      // writes the batch again, and every later batch goes to it.
      const saved = await Promise.all([store.saveAccepted(record('m1'), 'vodacom', '1', ['dec:1']), store.saveAccepted(record('m2'), 'vodacom', '2', ['dec:2'])]);
      expect(saved).toEqual([[], []]);
      await store.saveAccepted(record('m3'), 'vodacom', '3', ['dec:3']);
      expect((await store.findByUpstream('vodacom', ['dec:1']))?.id).toBe('m1');
      expect((await store.findByUpstream('vodacom', ['dec:3']))?.id).toBe('m3');
      expect((await store.stats()).entries).toBe(3);
      expect(await admin.info('commandstats')).toMatch(/cmdstat_exec:calls=1,.*failed_calls=1/);
    });
  });

  it('answers a first batch of saves and other calls in batch order when Redis refuses its transaction', async () => {
    await withoutMulti('nomulti2', async (store) => {
      // One batch: a find of another message's key, a save, then a find of the save's key. The
      // MULTI is refused (its commands run one by one) and the script writes the save again: each
      // find still answers as the batch's order says.
      const [before, saved, after] = await Promise.all([
        store.findByUpstream('vodacom', ['dec:9']),
        store.saveAccepted(record('m1'), 'vodacom', '1', ['dec:1']),
        store.findByUpstream('vodacom', ['dec:1']),
      ]);
      expect(before).toBeUndefined();
      expect(saved).toEqual([]);
      expect(after?.id).toBe('m1');
    });
  });

  it('keeps writing batches of saveAccepted as transactions after Redis refused one for lack of memory', async () => {
    const store = createRedisStore({ url: server.url, keyPrefix: 'oom:', ttlMs: TTL_MS });
    const admin = new Redis(server.url);
    try {
      await store.saveAccepted(record('m1'), 'vodacom', '1', ['dec:1']);
      await admin.config('SET', 'maxmemory', '1');
      // maxmemory-policy noeviction (the default): the transaction and the script are refused alike.
      expect(await rejectionCode(store.saveAccepted(record('m2'), 'vodacom', '2', ['dec:2']))).toBe(StoreErrorCode.BACKEND);
      await admin.config('SET', 'maxmemory', '0');
      await admin.config('RESETSTAT');
      await store.saveAccepted(record('m3'), 'vodacom', '3', ['dec:3']);
      expect(await admin.info('commandstats')).toMatch(/cmdstat_exec:calls=1,/);
      expect((await store.findByUpstream('vodacom', ['dec:3']))?.id).toBe('m3');
      expect(await store.get('m2')).toBeUndefined();
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      await store.close();
      await admin.quit();
    }
  });

  it('fails calls at once with BACKEND while Redis is down, and serves again when it returns', async () => {
    const health: boolean[] = [];
    let onHealth: (() => void) | undefined;
    const nextHealth = () => new Promise<void>((resolve) => (onHealth = resolve));
    const store = createRedisStore({
      connection: { url: server.url, reconnectMaxDelayMs: 200 },
      keyPrefix: 'smppd:',
      ttlMs: TTL_MS,
      onHealthChange: (healthy) => {
        health.push(healthy);
        onHealth?.();
      },
    });
    try {
      await store.save(record('m1'));
      await store.saveAccepted(record('m0'), 'vodacom', '0', ['dec:0']);
      expect(store.healthy()).toBe(true);

      // Calls in flight when Redis dies settle (done or BACKEND); none hangs.
      const inFlight = Array.from({ length: 200 }, (_, i) => rejectionCode(store.save(record(`f${i}`))));
      const down = nextHealth();
      await server.kill();
      await down;
      const outcomes = new Set(await Promise.all(inFlight));
      expect([...outcomes].every((code) => code === undefined || code === StoreErrorCode.BACKEND)).toBe(true);
      expect(store.healthy()).toBe(false);
      const started = Date.now();
      const calls = [
        store.save(record('m2')),
        store.get('m1'),
        store.setUpstreamId('m1', 'vodacom', '1', ['dec:1']),
        store.findByUpstream('vodacom', ['dec:1']),
        store.holdOrphan('vodacom', ['dec:1'], { pdu: {}, receivedAt: T0 }, 5_000),
        store.enqueueDelivery('acme', delivery('a1')),
        store.takeDeliveries('acme', 1),
        store.ackDelivery('acme', '1'),
        store.releaseDelivery('acme', '1'),
        store.pendingCount(),
        store.stats(),
      ];
      const codes = await Promise.all(calls.map(rejectionCode));
      expect(codes).toEqual(calls.map(() => StoreErrorCode.BACKEND));
      expect(store.problem()).toMatch(/^redis is unreachable \(/);
      expect(Date.now() - started).toBeLessThan(500);

      const up = nextHealth();
      await server.start();
      await up;
      expect(store.healthy()).toBe(true);
      // Persistence is off: what was there is gone, but the store works again: a transaction of
      // saveAccepted writes its stats bucket afresh, with its TTL, where stats() finds it.
      await store.saveAccepted(record('m4'), 'vodacom', '4', ['dec:4']);
      expect(await store.stats()).toMatchObject({ entries: 1, memory: { upstreamKeys: 1 } });
      const admin = new Redis(server.url);
      for (const key of await admin.keys('smppd:*')) if (key !== 'smppd:meta') expect(await admin.pttl(key), key).toBeGreaterThan(0);
      admin.disconnect();
      await store.save(record('m3'));
      expect((await store.get('m3'))?.id).toBe('m3');
      expect(health).toEqual([true, false, true]);
    } finally {
      await store.close();
    }
  });

  it('fails a call with BACKEND after the connect timeout when Redis was never reachable', async () => {
    const port = server.port;
    await server.kill();
    const store = createRedisStore({ connection: { url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 200 }, keyPrefix: 'x:', ttlMs: TTL_MS });
    try {
      const started = Date.now();
      expect(await rejectionCode(store.get('m1'))).toBe(StoreErrorCode.BACKEND);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(store.healthy()).toBe(false);
    } finally {
      await store.close();
      await server.start();
    }
  });
});

describe('redis store through Sentinel', () => {
  it('finds the master by name on the sentinels and works on it', async () => {
    const server = await startRedisServer();
    const sentinel = await startRedisSentinel(server, 'smppd-master');
    const store = createRedisStore({
      connection: { sentinel: { name: 'smppd-master', addresses: [sentinel.address] } },
      keyPrefix: 'smppd:',
      ttlMs: TTL_MS,
    });
    const direct = new Redis(server.url);
    try {
      await store.save(record('m1'));
      expect((await store.get('m1'))?.id).toBe('m1');
      expect(await direct.keys('smppd:r:*')).toEqual(['smppd:r:m']);
      expect(await direct.hexists('smppd:r:m', '1')).toBe(1);
    } finally {
      await store.close();
      await direct.quit();
      await sentinel.stop();
      await server.stop();
    }
  });
});

describe('redis connection settings from the config', () => {
  it('reads the TLS CA file and keeps sentinel, cluster and timeouts', () => {
    const settings = redisSettingsFromConfig(
      {
        url: 'rediss://:pw@redis:6380/2',
        key_prefix: '{smppd}:',
        tls: { ca: '/ca.pem', servername: 'redis.internal' },
        cluster: { nodes: ['n1:6379', 'n2:6379'] },
        connect_timeout: 1_000,
        command_timeout: 500,
      },
      (path) => `PEM from ${path}`,
    );
    expect(settings).toMatchObject({
      url: 'rediss://:pw@redis:6380/2',
      tls: { ca: 'PEM from /ca.pem', servername: 'redis.internal' },
      cluster: { nodes: ['n1:6379', 'n2:6379'] },
      connectTimeoutMs: 1_000,
      commandTimeoutMs: 500,
    });
  });
});
