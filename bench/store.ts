// Memory MessageStore on the per-message path: save + setUpstreamId + findByUpstream, awaited one
// after the other as the forwarder does, with two upstream keys per message (message_id: auto).
// Also measures the heap cost per stored message (the figures behind memory-store.ts approxBytes).
// Run: tsc -p tsconfig.build.json && node dist/bench/store.js [messages]

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createMessageIdGenerator } from '../proxy/store/message-id.js';
import { createMemoryStore } from '../proxy/store/memory-store.js';
import type { MessageStore } from '../proxy/store/store.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const messages = Number(process.argv[2] ?? 1_000_000);
const CLIENT = 'acme';
const CLUSTER = 'vodacom';

async function run(store: MessageStore, count: number, firstUpstream: number): Promise<number> {
  const ids = createMessageIdGenerator();
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const id = ids.next();
    const upstream = firstUpstream + i;
    const hexKey = 'hex:' + upstream.toString(16);
    const decKey = 'dec:' + upstream;
    await store.save({ id, client: CLIENT, cluster: CLUSTER, routeName: 'r1', createdAt: Date.now() });
    await store.setUpstreamId(id, CLUSTER, String(upstream), [hexKey, decKey]);
    const found = await store.findByUpstream(CLUSTER, [hexKey, decKey]);
    if (found?.id !== id) throw new Error(`lookup failed for ${id}`);
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
}

await main();
