// MessageStore on the per-message path: save + setUpstreamId + findByUpstream, awaited one after the
// other as the forwarder does, with two upstream keys per message (message_id: auto); and on the
// delivery path (enqueue, take in batches, ack each), for the memory and the Redis backend.
// Also measures the heap cost per stored message (the figures behind memory-store.ts approxBytes).
// The Redis runs use a private redis-server (e2e/helpers/redis-server.ts; REDIS_URL overrides) and
// also run with many messages in flight, as a busy proxy does (one connection, pipelined).
// Run: tsc -p tsconfig.build.json && node dist/bench/store.js [messages] [redis messages]

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { useRedis } from '../e2e/helpers/redis-server.js';
import { createMessageIdGenerator } from '../proxy/store/message-id.js';
import { createMemoryStore } from '../proxy/store/memory-store.js';
import { createRedisStore } from '../proxy/store/redis-store.js';
import type { MessageStore } from '../proxy/store/store.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const messages = Number(process.argv[2] ?? 1_000_000);
const redisMessages = Number(process.argv[3] ?? 50_000);
const IN_FLIGHT = 64;
const DELIVERY_BATCH = 100;
const CLIENT = 'acme';
const CLUSTER = 'vodacom';

async function run(store: MessageStore, count: number, firstUpstream: number, inFlight = 1): Promise<number> {
  const ids = createMessageIdGenerator();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const id = ids.next();
      const upstream = firstUpstream + i;
      const hexKey = 'hex:' + upstream.toString(16);
      const decKey = 'dec:' + upstream;
      await store.save({ id, client: CLIENT, cluster: CLUSTER, routeName: 'r1', createdAt: Date.now() });
      await store.setUpstreamId(id, CLUSTER, String(upstream), [hexKey, decKey]);
      const found = await store.findByUpstream(CLUSTER, [hexKey, decKey]);
      if (found?.id !== id) throw new Error(`lookup failed for ${id}`);
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Deliveries kept for an offline client, then drained: enqueue each, take in batches, ack each. */
async function runDeliveries(store: MessageStore, count: number): Promise<number> {
  const pdu = { source_addr: '258840001', destination_addr: '258841234', esm_class: 4, short_message: Buffer.alloc(120, 0x41) };
  const started = process.hrtime.bigint();
  const enqueues: Promise<string>[] = [];
  for (let i = 0; i < count; i++) {
    enqueues.push(store.enqueueDelivery(CLIENT, { kind: 'receipt', pdu, createdAt: Date.now() }));
    if (enqueues.length >= IN_FLIGHT) await Promise.all(enqueues.splice(0));
  }
  await Promise.all(enqueues);
  let drained = 0;
  while (drained < count) {
    const batch = await store.takeDeliveries(CLIENT, DELIVERY_BATCH);
    if (batch.length === 0) throw new Error(`only ${drained} of ${count} deliveries came back`);
    await Promise.all(batch.map((claim) => store.ackDelivery(CLIENT, claim.deliveryId)));
    drained += batch.length;
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function report(label: string, count: number, seconds: number): void {
  const perSecond = Math.round(count / seconds);
  console.log(
    `${label}: ${count} messages in ${seconds.toFixed(2)}s = ${perSecond.toLocaleString('en')} messages/s` +
      ` (${(perSecond * 3).toLocaleString('en')} store ops/s)`,
  );
}

async function main(): Promise<void> {
  await run(createMemoryStore({ ttlMs: 3_600_000, maxEntries: 100_000 }), 100_000, 0); // warm up

  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const growing = createMemoryStore({ ttlMs: 72 * 3_600_000, maxEntries: messages });
  report('filling an empty store', messages, await run(growing, messages, 1_000_000));
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  const stats = await growing.stats();
  console.log(
    `heap: ${Math.round((heapAfter - heapBefore) / messages)} bytes per message with 2 upstream keys` +
      ` (store estimate ${Math.round(stats.memory.approxBytes / messages)}), ${stats.entries} entries`,
  );
  await growing.close();
  gc();

  const full = createMemoryStore({ ttlMs: 72 * 3_600_000, maxEntries: 100_000 });
  report('store at max_entries (evicting)', messages, await run(full, messages, 1_000_000));
  console.log(`evictions: ${(await full.stats()).evictions}`);
  await full.close();

  await compareBackends();
}

interface Figures {
  sequential: number;
  inFlight: number;
  deliveries: number;
}

async function measure(store: MessageStore, count: number): Promise<Figures> {
  const sequential = count / (await run(store, count, 10_000_000));
  const inFlight = count / (await run(store, count, 20_000_000, IN_FLIGHT));
  const deliveries = count / (await runDeliveries(store, count));
  return { sequential, inFlight, deliveries };
}

/** Memory and Redis side by side on the same counts: messages/s (3 store ops each) and deliveries/s. */
async function compareBackends(): Promise<void> {
  const redis = await useRedis();
  try {
    const memoryStore = createMemoryStore({ ttlMs: 3_600_000, maxEntries: 5_000_000 });
    const memory = await measure(memoryStore, redisMessages);
    await memoryStore.close();
    const redisStore = createRedisStore({ url: redis.url, keyPrefix: redis.prefix(), ttlMs: 3_600_000 });
    await run(redisStore, 5_000, 0, IN_FLIGHT); // warm up: scripts loaded, connection ready
    const onRedis = await measure(redisStore, redisMessages);
    const stats = await redisStore.stats();
    await redisStore.close();

    const cell = (n: number) => Math.round(n).toLocaleString('en').padStart(12);
    console.log(`\nmemory vs redis, ${redisMessages.toLocaleString('en')} messages each (store ops/s = messages/s x 3):`);
    console.log(`${'backend'.padEnd(8)} ${'msg/s 1-by-1'.padStart(12)} ${`msg/s ${IN_FLIGHT} fly`.padStart(12)} ${'dlv/s'.padStart(12)}`);
    for (const [name, f] of [['memory', memory], ['redis', onRedis]] as const) {
      console.log(`${name.padEnd(8)} ${cell(f.sequential)} ${cell(f.inFlight)} ${cell(f.deliveries)}`);
    }
    console.log(
      `redis: ${(stats.memory.approxBytes / 1e6).toFixed(1)} MB used_memory for ~${stats.entries.toLocaleString('en')} messages` +
        ` (${Math.round(stats.memory.approxBytes / Math.max(1, stats.entries))} bytes each, index keys included)`,
    );
  } finally {
    await redis.close();
  }
}

await main();
