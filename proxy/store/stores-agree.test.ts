// The two MessageStore backends against each other: random sequences of the per-message operations
// (save, saveAccepted, setUpstreamId, get, findByUpstream, holdOrphan) with the clock moving in
// between, on a memory store and a Redis store (a real redis-server), must give the same answers
// step by step. The contract suite (contract.ts) states each rule with a chosen case; this finds the
// cases nobody chose: ids saved again, upstream ids reused across messages and clusters, receipts
// held before their message, records and holds expiring between steps.

import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useRedis, type TestRedis } from '../../e2e/helpers/redis-server.js';
import { messageIdKeys } from '../smpp/dlr.js';
import { createMemoryStore } from './memory-store.js';
import { createRedisStore } from './redis-store.js';
import { isStoreError, type MessageRecord, type MessageStore, type OrphanReceipt } from './store.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await useRedis();
});

afterAll(async () => {
  await redis.close();
});

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const TTL_MS = 60_000;
const ORPHAN_TTL_MS = 5_000;

const ids: fc.Arbitrary<string> = fc.constantFrom('m1', 'm2', 'm3', 'm4');
const clusters = fc.constantFrom('vodacom', 'mcel');
// Upstream ids whose keys (message_id: auto) overlap: '16' read as hex is 22, '0016' is 16 again, 'b8be19'...
const upstreamIds: fc.Arbitrary<string> = fc.constantFrom('16', '22', '0016', 'b8be19', 'B8BE19', 'x-1');
const endpoints = fc.constantFrom(undefined, 'a:2775', 'b:2775');

const step = fc.oneof(
  fc.record({ op: fc.constant('save' as const), id: ids, cluster: clusters, endpoint: endpoints, parts: fc.constantFrom(undefined, 2) }),
  fc.record({ op: fc.constant('accept' as const), id: ids, cluster: clusters, up: upstreamIds, endpoint: endpoints }),
  fc.record({ op: fc.constant('setUpstreamId' as const), id: ids, cluster: clusters, up: upstreamIds, endpoint: endpoints }),
  fc.record({ op: fc.constant('get' as const), id: ids }),
  fc.record({ op: fc.constant('find' as const), cluster: clusters, up: upstreamIds }),
  fc.record({ op: fc.constant('hold' as const), cluster: clusters, up: upstreamIds, n: fc.nat(1000) }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.constantFrom<number>(1, 4_999, 5_000, 30_000, 59_999, 60_000) }),
);
type Step = typeof step extends fc.Arbitrary<infer S> ? S : never;

function record(id: string, cluster: string, endpoint: string | undefined, parts: number | undefined, createdAt: number): MessageRecord {
  return { id, client: 'acme', cluster, routeName: `route-${cluster}`, createdAt, ...(endpoint && { endpoint }), ...(parts && { parts }) };
}

function receipt(n: number, at: number): OrphanReceipt {
  return { pdu: { esm_class: 4, short_message: Buffer.from(`id:${n} stat:DELIVRD`) }, receivedAt: at };
}

/** Receipts handed back, without the `token` a shared store adds. */
function held(orphans: readonly OrphanReceipt[]): unknown[] {
  return orphans.map(({ pdu, receivedAt }) => ({ pdu, receivedAt }));
}

/** What a call answered, or the code it failed with. */
async function answerOf(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return await call();
  } catch (err) {
    return { failed: isStoreError(err) ? err.code : String(err) };
  }
}

/**
 * Runs the steps on a memory store and a Redis store made alike, comparing each step's answers;
 * `tick` steps move the shared clock first. `skip` leaves a step out (on both). With `batched`, the
 * Redis store is given the steps from one tick to the next in one event-loop turn, so that they go
 * in one script call (runs of saveAccepted, index blocks: redis-keys.ts); the memory store still
 * takes them one at a time, and the answers must not differ.
 */
async function onBothStores<S extends { op: string; ms?: number }, C>(
  steps: readonly S[],
  options: { leaseMs?: number; batched?: boolean },
  context: () => C,
  apply: (store: MessageStore, ctx: C, s: S, now: number, i: number) => Promise<unknown>,
  skip: (s: S, now: number) => boolean = () => false,
): Promise<void> {
  let now = T0;
  const clock = (): number => now;
  const { batched = false, ...storeOptions } = options;
  const memory = createMemoryStore({ ttlMs: TTL_MS, clock, ...storeOptions });
  const shared = createRedisStore({ url: redis.url, keyPrefix: redis.prefix(), ttlMs: TTL_MS, clock, ...storeOptions });
  const [a, b] = [context(), context()];
  try {
    // Connected first: calls made before the first connection wait for it one by one.
    if (batched) await shared.get('warm-up');
    for (let i = 0; i < steps.length; ) {
      const group: [number, S][] = [];
      do {
        const s = steps[i]!;
        if (s.op === 'tick') now += s.ms ?? 0;
        if (!skip(s, now)) group.push([i, s]);
        i++;
      } while (batched && i < steps.length && steps[i]!.op !== 'tick');
      const expected: unknown[] = [];
      for (const [j, s] of group) expected.push(await answerOf(() => apply(memory, a, s, now, j)));
      const answers = await Promise.all(group.map(([j, s]) => answerOf(() => apply(shared, b, s, now, j))));
      group.forEach(([j, s], k) => expect({ step: j, ...s, answer: answers[k] }).toEqual({ step: j, ...s, answer: expected[k] }));
    }
  } finally {
    await memory.close();
    await shared.close();
  }
}

/** One step on one store. */
async function apply(store: MessageStore, _: unknown, s: Step, now: number): Promise<unknown> {
  switch (s.op) {
    case 'save':
      return await store.save(record(s.id, s.cluster, s.endpoint, s.parts, now));
    case 'accept':
      return held(await store.saveAccepted(record(s.id, s.cluster, undefined, undefined, now), s.cluster, s.up, messageIdKeys(s.up, 'auto'), s.endpoint));
    case 'setUpstreamId':
      return held(await store.setUpstreamId(s.id, s.cluster, s.up, messageIdKeys(s.up, 'auto'), s.endpoint));
    case 'get':
      return await store.get(s.id);
    case 'find':
      return await store.findByUpstream(s.cluster, messageIdKeys(s.up, 'auto'));
    case 'hold':
      return await store.holdOrphan(s.cluster, messageIdKeys(s.up, 'auto'), receipt(s.n, now), ORPHAN_TTL_MS);
    case 'tick':
      return undefined;
  }
}

/**
 * The steps the contract leaves open (store.ts save), to be skipped: saving an id again once its
 * record expired, and saving again an id that has upstream keys (how long those keys then last
 * differs). smppd does neither: its ids are unique, and it saves an id once, before its keys
 * (submit_multi) or with them (saveAccepted). One per sequence: it remembers what was saved.
 */
function leftOpenRule(): (s: Step, now: number) => boolean {
  const savedAt = new Map<string, number>();
  const keyed = new Set<string>();
  return (s: Step, now: number): boolean => {
    if (s.op === 'setUpstreamId') {
      const last = savedAt.get(s.id);
      if (last !== undefined && now < last + TTL_MS) keyed.add(s.id);
      return false;
    }
    if (s.op !== 'save' && s.op !== 'accept') return false;
    const last = savedAt.get(s.id);
    if (last !== undefined && now >= last + TTL_MS) return true;
    if (keyed.has(s.id)) return true;
    savedAt.set(s.id, now);
    if (s.op === 'accept') keyed.add(s.id);
    return false;
  };
}

it('memory and Redis stores give the same answers to the same random operations', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) =>
      onBothStores(steps, {}, () => undefined, apply, leftOpenRule()),
    ),
    { numRuns: 150 },
  );
});

// Runs of saveAccepted, of more messages, with upstream ids whose keys share all but their last
// character ('10'..'13' read as decimal and as hex: 10..13 and 16..19), so that a batch makes index
// blocks; and short clock moves, so that several batches share an index bucket and a field written
// to the bucket's hash by one is written to its block by another (redis-keys.ts, "Index blocks").
const blockUpstreamIds = fc.constantFrom('10', '11', '12', '13', '16', '0016', 'b8be19', 'x-1');
const blockAccept = fc.record({
  op: fc.constant('accept' as const),
  id: fc.constantFrom('m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11', 'm12'),
  cluster: fc.constantFrom('vodacom', 'vodacom', 'mcel'),
  up: blockUpstreamIds,
  endpoint: endpoints,
});
const blockFind = fc.record({ op: fc.constant('find' as const), cluster: clusters, up: blockUpstreamIds });
const shortTick = fc.record({ op: fc.constant('tick' as const), ms: fc.constantFrom(1, 100) });
// A batch: a run of saveAccepted, some lookups, then a short clock move or any other step.
const batchSteps = fc
  .array(fc.tuple(fc.array(blockAccept, { minLength: 1, maxLength: 6 }), fc.array(blockFind, { maxLength: 3 }), fc.oneof(shortTick, shortTick, step)), {
    minLength: 1,
    maxLength: 8,
  })
  .map((batches) => batches.flatMap(([accepts, finds, next]): Step[] => [...accepts, ...finds, next]));

it('memory and Redis stores give the same answers when the Redis store takes each run of operations in one batch', async () => {
  await fc.assert(
    fc.asyncProperty(batchSteps, (steps) =>
      onBothStores(steps, { batched: true }, () => undefined, apply, leftOpenRule()),
    ),
    { numRuns: 150 },
  );
});

// Kept deliveries (receipts and MO for a client with no receiver bound): queue, claim with a lease,
// acknowledge, release, count, expire. Delivery ids are each backend's own, so they are compared by
// the order of the enqueue that made them.
// Mostly one client, so that its claims, leases and acks meet within a short sequence.
const clients = fc.constantFrom('acme', 'acme', 'acme', 'beta');
const LEASE_MS = 10_000;

const deliveryStep = fc.oneof(
  fc.record({ op: fc.constant('enqueue' as const), client: clients }),
  fc.record({ op: fc.constant('take' as const), client: clients, max: fc.constantFrom(1, 2, 5) }),
  fc.record({ op: fc.constant('ack' as const), client: clients, nth: fc.nat(6) }),
  fc.record({ op: fc.constant('release' as const), client: clients, nth: fc.nat(6) }),
  fc.record({ op: fc.constant('pending' as const), client: fc.constantFrom('acme', 'beta', undefined) }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.constantFrom(1, 9_999, 10_000, 60_000) }),
);
type DeliveryStep = typeof deliveryStep extends fc.Arbitrary<infer S> ? S : never;

/** One backend's delivery ids, by the enqueue that made them. */
class Ordinals {
  private readonly ids: string[] = [];
  add(id: string): number {
    return this.ids.push(id) - 1;
  }
  id(nth: number): string {
    return this.ids[nth] ?? `none-${nth}`;
  }
  nth(id: string): number {
    return this.ids.indexOf(id);
  }
}

async function applyDelivery(store: MessageStore, ids: Ordinals, s: DeliveryStep, now: number, n: number): Promise<unknown> {
  switch (s.op) {
    case 'enqueue':
      return ids.add(await store.enqueueDelivery(s.client, { kind: 'receipt', pdu: { short_message: Buffer.from(`r${n}`) }, createdAt: now }));
    case 'take':
      return (await store.takeDeliveries(s.client, s.max)).map((c) => ({ nth: ids.nth(c.deliveryId), item: c.item, attempts: c.attempts }));
    case 'ack':
      return await store.ackDelivery(s.client, ids.id(s.nth));
    case 'release':
      return await store.releaseDelivery(s.client, ids.id(s.nth));
    case 'pending':
      return await store.pendingCount(s.client);
    case 'tick':
      return undefined;
  }
}

it('memory and Redis stores keep, lease and hand out deliveries alike', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(deliveryStep, { minLength: 1, maxLength: 30 }), (steps) =>
      onBothStores(steps, { leaseMs: LEASE_MS }, () => new Ordinals(), applyDelivery),
    ),
    { numRuns: 400 },
  );
});
