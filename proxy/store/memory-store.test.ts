import { afterEach, describe, expect, it, vi } from 'vitest';
import { runStoreContract } from './contract.js';
import { createMemoryStore, type MemoryStoreOptions } from './memory-store.js';
import { createMessageIdGenerator } from './message-id.js';
import { STORE_DONE, STORE_NO_ORPHANS, StoreErrorCode, isStoreError, type DeliveryItem, type MessageRecord } from './store.js';

runStoreContract('memory', (options) => createMemoryStore(options));

const T0 = Date.UTC(2025, 5, 1);

function record(id: string): MessageRecord {
  return { id, client: 'acme', cluster: 'vodacom', createdAt: T0 };
}

function delivery(text: string): DeliveryItem {
  return { kind: 'mo', pdu: { short_message: Buffer.from(text) }, createdAt: T0 };
}

function makeClockedStore(options: Partial<MemoryStoreOptions> = {}) {
  const time = { now: T0 };
  const store = createMemoryStore({ ttlMs: 60_000, clock: () => time.now, ...options });
  return { store, time };
}

describe('memory store', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers the per-message calls with the settled STORE_DONE / STORE_NO_ORPHANS (no promise made per call)', async () => {
    const { store } = makeClockedStore();
    expect(store.save(record('m1'))).toBe(STORE_DONE);
    expect(store.setUpstreamId('m1', 'vodacom', '7', ['dec:7'])).toBe(STORE_NO_ORPHANS);
    // Failures still reject (never the shared promises).
    await expect(store.setUpstreamId('nope', 'vodacom', '8', ['dec:8'])).rejects.toMatchObject({ code: StoreErrorCode.NOT_FOUND });
    await store.holdOrphan('vodacom', ['dec:9'], { pdu: {}, receivedAt: T0 }, 1000);
    await store.save(record('m2'));
    const withOrphan = store.setUpstreamId('m2', 'vodacom', '9', ['dec:9']);
    expect(withOrphan).not.toBe(STORE_NO_ORPHANS);
    expect(await withOrphan).toHaveLength(1);
  });

  it('keeps smppd ids and numeric upstream keys as numbers inside, and tells every id and key apart', async () => {
    // recordKey/indexKey: ids of one generator's prefix and canonical numbers are held as numbers;
    // look-alikes (another prefix, upper case, a leading zero, non-canonical numbers) stay distinct.
    const { store } = makeClockedStore();
    const ids = createMessageIdGenerator({ prefix: 'abcdefghijklmn' });
    const other = createMessageIdGenerator({ prefix: 'zyxwvutsrqponm' });
    const own = Array.from({ length: 40 }, () => ids.next());
    const p = ids.prefix;
    const lookAlikes = [other.next(), `${p}A`, `${p}0a`, `${p}00`, `${p}`, `${p}zzzzzzzzzzz`, 'm1'];
    for (const id of [...own, ...lookAlikes]) await store.save({ ...record(id), routeName: id });
    for (const id of [...own, ...lookAlikes]) expect(await store.get(id)).toMatchObject({ id, routeName: id });
    expect(await store.get(`${p}a`)).toMatchObject({ id: `${p}a` }); // own[10]: the counter's 'a'
    expect(await store.get(`${p}zz`)).toBeUndefined();

    await store.setUpstreamId(own[1]!, 'vodacom', '7', ['7']);
    await store.setUpstreamId(own[2]!, 'vodacom', '007', ['007']);
    await store.setUpstreamId(own[3]!, 'vodacom', 'big', ['1234567890123456789']);
    await store.setUpstreamId(`${p}A`, 'vodacom', '4294967295', ['4294967295', 'B8BE19']);
    expect((await store.findByUpstream('vodacom', ['7']))?.id).toBe(own[1]);
    expect((await store.findByUpstream('vodacom', ['007']))?.id).toBe(own[2]);
    expect((await store.findByUpstream('vodacom', ['1234567890123456789']))?.id).toBe(own[3]);
    expect((await store.findByUpstream('vodacom', ['4294967295']))?.id).toBe(`${p}A`);
    expect((await store.findByUpstream('vodacom', ['B8BE19']))?.id).toBe(`${p}A`);
    expect(await store.findByUpstream('vodacom', ['07'])).toBeUndefined();
    expect(await store.findByUpstream('mcel', ['7'])).toBeUndefined();
    expect((await store.stats()).memory.upstreamKeys).toBe(5);
  });

  it('evicts the oldest messages beyond max_entries, with their upstream keys, and counts them', async () => {
    const { store } = makeClockedStore({ maxEntries: 3 });
    for (let i = 1; i <= 5; i++) {
      await store.save(record(`m${i}`));
      await store.setUpstreamId(`m${i}`, 'vodacom', String(i), [`dec:${i}`]);
    }
    expect(await store.get('m1')).toBeUndefined();
    expect(await store.get('m2')).toBeUndefined();
    expect(await store.findByUpstream('vodacom', ['dec:1'])).toBeUndefined();
    expect((await store.get('m5'))?.upstreamId).toBe('5');
    const stats = await store.stats();
    expect(stats).toMatchObject({ entries: 3, evictions: 2, expirations: 0 });
    expect(stats.memory.upstreamKeys).toBe(3);
  });

  it('a message saved again counts as the newest for eviction', async () => {
    const { store } = makeClockedStore({ maxEntries: 2 });
    await store.save(record('m1'));
    await store.save(record('m2'));
    await store.save(record('m1'));
    await store.save(record('m3'));
    expect(await store.get('m1')).toBeDefined();
    expect(await store.get('m2')).toBeUndefined();
  });

  it('expires messages after the ttl without being asked for them, and counts them', async () => {
    const { store, time } = makeClockedStore();
    await store.save(record('m1'));
    await store.setUpstreamId('m1', 'vodacom', '1', ['hex:1', 'dec:1']);
    time.now += 30_000;
    await store.save(record('m2'));
    time.now += 30_000;
    const stats = await store.stats();
    expect(stats).toMatchObject({ entries: 1, expirations: 1, evictions: 0 });
    expect(stats.memory.upstreamKeys).toBe(0);
    expect((await store.get('m2'))?.id).toBe('m2');
  });

  it('keeps an upstream key that a newer message took over when the older one expires', async () => {
    const { store, time } = makeClockedStore();
    await store.save(record('old'));
    await store.setUpstreamId('old', 'vodacom', '5', ['dec:5']);
    time.now += 10_000;
    await store.save(record('new'));
    await store.setUpstreamId('new', 'vodacom', '5', ['dec:5']);
    time.now += 50_000;
    expect(await store.get('old')).toBeUndefined();
    expect((await store.findByUpstream('vodacom', ['dec:5']))?.id).toBe('new');
  });

  it('expires orphan receipts after their own ttl and counts them as unmatched', async () => {
    const { store, time } = makeClockedStore();
    await store.holdOrphan('vodacom', ['hex:9', 'dec:9'], { pdu: {}, receivedAt: T0 }, 2_000);
    time.now += 1_999;
    expect((await store.stats()).orphans).toBe(1);
    time.now += 1;
    const stats = await store.stats();
    expect(stats).toMatchObject({ orphans: 0, orphansExpired: 1 });
  });

  it('counts an expired orphan found by setUpstreamId before a sweep reached it', async () => {
    const { store, time } = makeClockedStore({ sweepIntervalMs: 60_000 });
    await store.save(record('m1'));
    await store.holdOrphan('vodacom', ['dec:9'], { pdu: {}, receivedAt: T0 }, 1_000);
    time.now += 1_000;
    expect(await store.setUpstreamId('m1', 'vodacom', '9', ['dec:9'])).toEqual([]);
    expect((await store.stats()).orphansExpired).toBe(1);
  });

  it('bounds orphan receipts, dropping the oldest', async () => {
    const { store } = makeClockedStore({ maxOrphans: 2 });
    for (let i = 1; i <= 3; i++) {
      await store.holdOrphan('vodacom', [`dec:${i}`], { pdu: { i }, receivedAt: T0 }, 5_000);
    }
    await store.save(record('m1'));
    expect(await store.setUpstreamId('m1', 'vodacom', '1', ['dec:1'])).toEqual([]);
    expect(await store.setUpstreamId('m1', 'vodacom', '3', ['dec:3'])).toEqual([{ pdu: { i: 3 }, receivedAt: T0 }]);
    expect((await store.stats()).orphansEvicted).toBe(1);
  });

  it('bounds pending deliveries, dropping the oldest of any client', async () => {
    const { store } = makeClockedStore({ maxDeliveries: 2 });
    await store.enqueueDelivery('acme', delivery('a1'));
    await store.enqueueDelivery('beta', delivery('b1'));
    await store.enqueueDelivery('beta', delivery('b2'));
    expect(await store.pendingCount('acme')).toBe(0);
    expect(await store.pendingCount('beta')).toBe(2);
    expect((await store.stats()).deliveriesEvicted).toBe(1);
  });

  it('counts deliveries that expired undelivered', async () => {
    const { store, time } = makeClockedStore();
    await store.enqueueDelivery('acme', delivery('a1'));
    await store.enqueueDelivery('acme', delivery('a2'));
    time.now += 60_000;
    expect((await store.stats()).deliveriesExpired).toBe(2);
  });

  it('stays correct under churn behind a long-lived head (acked deliveries, saved-again messages)', async () => {
    const { store, time } = makeClockedStore({ maxEntries: 10 });
    await store.enqueueDelivery('offline', delivery('old'));
    for (let i = 0; i < 5000; i++) {
      const id = await store.enqueueDelivery('online', delivery(`d${i}`));
      await store.takeDeliveries('online', 1);
      await store.ackDelivery('online', id);
      await store.save(record(`m${i % 5}`));
    }
    expect(await store.pendingCount()).toBe(1);
    expect((await store.stats()).entries).toBe(5);
    time.now += 60_000;
    const stats = await store.stats();
    expect(stats).toMatchObject({ pendingDeliveries: 0, deliveriesExpired: 1, entries: 0, expirations: 5, evictions: 0 });
  });

  it('sets no timers, whatever it holds', async () => {
    vi.useFakeTimers();
    const { store } = makeClockedStore();
    await store.save(record('m1'));
    await store.setUpstreamId('m1', 'vodacom', '1', ['dec:1']);
    await store.holdOrphan('vodacom', ['dec:2'], { pdu: {}, receivedAt: T0 }, 1_000);
    await store.enqueueDelivery('acme', delivery('a1'));
    await store.takeDeliveries('acme', 1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('estimates its memory from what it holds', async () => {
    const { store, time } = makeClockedStore();
    const empty = (await store.stats()).memory.approxBytes;
    await store.save(record('m1'));
    await store.setUpstreamId('m1', 'vodacom', '1', ['dec:1']);
    await store.enqueueDelivery('acme', delivery('a1'));
    const full = (await store.stats()).memory.approxBytes;
    expect(full).toBeGreaterThan(empty);
    time.now += 60_000;
    expect((await store.stats()).memory.approxBytes).toBe(empty);
  });

  it('tells delivery listeners which client has a delivery waiting, until they stop listening', async () => {
    const { store } = makeClockedStore();
    const heard: string[] = [];
    const stop = store.onDeliveryQueued?.((client) => heard.push(client));
    await store.enqueueDelivery('acme', delivery('a1'));
    await store.enqueueDelivery('beta', delivery('b1'));
    stop?.();
    await store.enqueueDelivery('acme', delivery('a2'));
    await Promise.resolve();
    expect(heard).toEqual(['acme', 'beta']);
  });

  it('is healthy until closed', async () => {
    const { store } = makeClockedStore();
    expect(store.healthy?.()).toBe(true);
    await store.close();
    expect(store.healthy?.()).toBe(false);
  });

  it('refuses nonsensical options with INVALID_ARGUMENT', () => {
    for (const options of [{ ttlMs: 0 }, { ttlMs: 1000, maxEntries: 0 }, { ttlMs: 1000, maxEntries: 1.5 }, { ttlMs: 1000, leaseMs: -1 }]) {
      let code: string | undefined;
      try {
        createMemoryStore(options);
      } catch (err) {
        code = isStoreError(err) ? err.code : 'other';
      }
      expect(code).toBe(StoreErrorCode.INVALID_ARGUMENT);
    }
  });
});
