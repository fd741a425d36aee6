// The Redis store's per-message write alone, as smppd makes it under load: saveAcceptedWith in
// batches of BATCH messages with one clock reading (the submit_sm_resp of one upstream socket read),
// BATCHES_IN_FLIGHT batches at a time, hex upstream ids counting up under `message_id: auto`, against a
// private redis-server (REDIS_URL overrides). Prints this process's and redis-server's CPU per
// message and msg/s, after a warm-up.
//
// This is scenario (f)'s store path without the SMPP around it (bench/README.md, "The Redis store,
// (f)"): smppd's thread bounds (f), and this path is what (f) does beyond (b). CPU times move with the
// machine; for a change that must be measured finer than that, count instructions instead, which
// stay put (bench/README.md, "Measuring a change"):
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node dist/bench/accept.js 20000
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node dist/bench/accept.js 80000
// and divide the difference of the two totals ("I refs") by 60,000.
//
// Run: npm run bench:accept [-- messages [warm-up messages]]

import { Redis } from 'ioredis';
import { useRedis } from '../e2e/helpers/redis-server.js';
import { messageIdKeys } from '../proxy/smpp/dlr.js';
import { createMessageIdGenerator } from '../proxy/store/message-id.js';
import { createRedisStore, type RedisMessageStore } from '../proxy/store/redis-store.js';
import type { SaveAcceptedDone } from '../proxy/store/store.js';

const messages = Number(process.argv[2] ?? 600_000);
const warmup = Number(process.argv[3] ?? 20_000);
/** Messages per batch: what one socket read of submit_sm_resp brings under `npm run bench` (f). */
const BATCH = 65;
const BATCHES_IN_FLIGHT = 3;
const CLUSTER = 'sim';
const ENDPOINT = '127.0.0.1:2775';

/** Writes `count` messages; resolves when the store answered every one. */
function run(store: RedisMessageStore, count: number, ids: { next(): string }, upstream: { next: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    if (count <= 0) {
      resolve();
      return;
    }
    let sent = 0;
    let answered = 0;
    let inFlight = 0;
    const pump = (): void => {
      while (inFlight < BATCHES_IN_FLIGHT && sent < count) {
        inFlight++;
        const size = Math.min(BATCH, count - sent);
        let left = size;
        const done: SaveAcceptedDone = {
          stored() {
            answered++;
            if (--left > 0) return;
            inFlight--;
            if (answered === count) resolve();
            else setImmediate(pump);
          },
          notStored: reject,
        };
        const createdAt = Date.now();
        for (let i = 0; i < size; i++) {
          const upstreamId = (upstream.next++).toString(16);
          const record = { id: ids.next(), client: 'acme', cluster: CLUSTER, routeName: 'all', createdAt };
          store.saveAcceptedWith(record, CLUSTER, upstreamId, messageIdKeys(upstreamId, 'auto'), ENDPOINT, done);
        }
        sent += size;
      }
    };
    pump();
  });
}

/** redis-server's CPU seconds so far (INFO cpu). */
async function redisCpu(probe: Redis): Promise<number> {
  const info = await probe.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

async function main(): Promise<void> {
  const redis = await useRedis();
  const store = createRedisStore({ url: redis.url, keyPrefix: redis.prefix(), ttlMs: 3_600_000 });
  const probe = new Redis(redis.url);
  try {
    const ids = createMessageIdGenerator();
    const upstream = { next: 0xb8be19 };
    await run(store, warmup, ids, upstream);
    const cpu = process.cpuUsage();
    const redisBefore = await redisCpu(probe);
    const started = performance.now();
    await run(store, messages, ids, upstream);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const redisUsed = (await redisCpu(probe)) - redisBefore;
    const perMessage = (us: number): string => `${(us / messages).toFixed(2)} µs`;
    console.log(
      `${messages.toLocaleString('en')} saveAccepted after ${warmup.toLocaleString('en')}: ` +
        `${Math.round(messages / seconds).toLocaleString('en')} msg/s; CPU per message: ` +
        `this process ${perMessage(used.user + used.system)}, redis-server ${perMessage(redisUsed * 1e6)}`,
    );
  } finally {
    probe.disconnect();
    await store.close();
    await redis.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 2;
});
