// The behaviour every MessageStore backend must show, as a vitest suite. A backend's test file calls
// runStoreContract('memory', (options) => createMemoryStore(options)) and adds its own tests.
// makeStore is called once per test and must return an empty store (Redis: a fresh key prefix);
// the suite closes every store it made. Time moves only through the injected clock.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMessageIdGenerator } from './message-id.js';
import {
  MAX_MESSAGE_ID_LENGTH,
  StoreErrorCode,
  isStoreError,
  type Clock,
  type DeliveryItem,
  type MessageRecord,
  type MessageStore,
  type OrphanReceipt,
} from './store.js';

export interface ContractStoreOptions {
  readonly ttlMs: number;
  readonly leaseMs: number;
  readonly clock: Clock;
}

export type MakeStore = (options: ContractStoreOptions) => MessageStore | Promise<MessageStore>;

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const TTL_MS = 72 * 60 * 60 * 1000;
const LEASE_MS = 30_000;
const ORPHAN_TTL_MS = 5_000;

function record(id: string, overrides: Partial<MessageRecord> = {}): MessageRecord {
  return { id, client: 'acme', cluster: 'vodacom', routeName: 'vodacom-route', createdAt: T0, ...overrides };
}

function receiptPdu(upstreamId: string) {
  return {
    source_addr: '258840001',
    destination_addr: '258841234',
    esm_class: 0x04,
    short_message: Buffer.from(`id:${upstreamId} sub:001 dlvrd:001 submit date:2506011200 done date:2506011201 stat:DELIVRD err:000 text:`),
    tlvs: [{ tag: 0x001e, value: Buffer.from(`${upstreamId}\0`) }],
  };
}

function orphan(upstreamId: string): OrphanReceipt {
  return { pdu: receiptPdu(upstreamId), receivedAt: T0 };
}

/** The receipts as held: without the `token` a shared store adds to those it hands out. */
function held(orphans: readonly OrphanReceipt[]): OrphanReceipt[] {
  return orphans.map(({ pdu, receivedAt }) => ({ pdu, receivedAt }));
}

function delivery(text: string, kind: DeliveryItem['kind'] = 'receipt'): DeliveryItem {
  return { kind, pdu: { destination_addr: '258841234', short_message: Buffer.from(text) }, createdAt: T0 };
}

function texts(claimed: readonly { item: DeliveryItem }[]): string[] {
  return claimed.map((c) => (c.item.pdu as { short_message: Buffer }).short_message.toString());
}

async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return isStoreError(err) ? err.code : `not a StoreError: ${String(err)}`;
  }
  return undefined;
}

export function runStoreContract(name: string, makeStore: MakeStore): void {
  describe(`MessageStore contract: ${name}`, () => {
    let now = T0;
    const clock: Clock = () => now;
    let opened: MessageStore[] = [];

    async function open(options: Partial<ContractStoreOptions> = {}): Promise<MessageStore> {
      const store = await makeStore({ ttlMs: TTL_MS, leaseMs: LEASE_MS, clock, ...options });
      opened.push(store);
      return store;
    }

    beforeEach(() => {
      now = T0;
      opened = [];
    });

    afterEach(async () => {
      for (const store of opened) await store.close();
    });

    describe('records', () => {
      it('gets a saved record back by id, and nothing for an unknown id', async () => {
        const store = await open();
        const saved = record('m1', { endpoint: 'smsc.vodacom.mz:2775', parts: 2 });
        await store.save(saved);
        expect(await store.get('m1')).toEqual(saved);
        expect(await store.get('m2')).toBeUndefined();
      });

      it('keeps what was saved even if the caller changes its object afterwards', async () => {
        const store = await open();
        const saved = { ...record('m1') };
        await store.save(saved);
        (saved as { client: string }).client = 'changed';
        expect((await store.get('m1'))?.client).toBe('acme');
      });

      it('replaces the record when an id is saved again', async () => {
        const store = await open();
        await store.save(record('m1'));
        await store.save(record('m1', { cluster: 'mcel' }));
        expect((await store.get('m1'))?.cluster).toBe('mcel');
      });

      it('accepts a 64-character id and rejects an empty or longer one with INVALID_ARGUMENT', async () => {
        const store = await open();
        const longest = 'x'.repeat(MAX_MESSAGE_ID_LENGTH);
        await store.save(record(longest));
        expect((await store.get(longest))?.id).toBe(longest);
        expect(await rejectionCode(store.save(record('')))).toBe(StoreErrorCode.INVALID_ARGUMENT);
        expect(await rejectionCode(store.save(record(`${longest}y`)))).toBe(StoreErrorCode.INVALID_ARGUMENT);
      });
    });

    describe('upstream ids', () => {
      it('finds the message by either normalised key (hex and decimal readings)', async () => {
        const store = await open();
        await store.save(record('m1'));
        const orphans = await store.setUpstreamId('m1', 'vodacom', '00B8BE19', ['hex:b8be19', 'dec:12107289']);
        expect(orphans).toEqual([]);
        const expected = { ...record('m1'), upstreamId: '00B8BE19' };
        expect(await store.findByUpstream('vodacom', ['hex:b8be19'])).toEqual(expected);
        expect(await store.findByUpstream('vodacom', ['dec:12107289'])).toEqual(expected);
        expect(await store.findByUpstream('vodacom', ['dec:1', 'dec:12107289'])).toEqual(expected);
        expect(await store.get('m1')).toEqual(expected);
      });

      it('keeps the index per cluster', async () => {
        const store = await open();
        await store.save(record('m1'));
        await store.setUpstreamId('m1', 'vodacom', '42', ['dec:42']);
        expect(await store.findByUpstream('mcel', ['dec:42'])).toBeUndefined();
        expect(await store.findByUpstream('vodacom', ['dec:43'])).toBeUndefined();
        expect(await store.findByUpstream('vodacom', [])).toBeUndefined();
      });

      it('moves the message to the cluster that answered, keeping the endpoint only on the same cluster', async () => {
        const store = await open();
        await store.save(record('m1', { endpoint: 'a:2775' }));
        await store.save(record('m2', { endpoint: 'a:2775' }));
        await store.save(record('m3', { endpoint: 'a:2775' }));
        await store.setUpstreamId('m1', 'vodacom', '1', ['dec:1']);
        await store.setUpstreamId('m2', 'mcel', '2', ['dec:2']);
        await store.setUpstreamId('m3', 'mcel', '3', ['dec:3'], 'b:2775');
        expect(await store.get('m1')).toMatchObject({ cluster: 'vodacom', endpoint: 'a:2775' });
        expect((await store.get('m2'))?.cluster).toBe('mcel');
        expect((await store.get('m2'))?.endpoint).toBeUndefined();
        expect(await store.get('m3')).toMatchObject({ cluster: 'mcel', endpoint: 'b:2775', upstreamId: '3' });
        expect((await store.findByUpstream('mcel', ['dec:2']))?.id).toBe('m2');
        expect(await store.findByUpstream('vodacom', ['dec:2'])).toBeUndefined();
      });

      it('does not change a record it handed out earlier', async () => {
        const store = await open();
        await store.save(record('m1'));
        const before = await store.get('m1');
        await store.setUpstreamId('m1', 'vodacom', '7', ['dec:7']);
        expect(before?.upstreamId).toBeUndefined();
      });

      it('maps every part of a message to it when setUpstreamId is called per part', async () => {
        const store = await open();
        await store.save(record('m1', { parts: 2 }));
        await store.setUpstreamId('m1', 'vodacom', '100', ['dec:100']);
        await store.setUpstreamId('m1', 'vodacom', '101', ['dec:101']);
        expect((await store.findByUpstream('vodacom', ['dec:100']))?.id).toBe('m1');
        expect((await store.findByUpstream('vodacom', ['dec:101']))?.id).toBe('m1');
        expect((await store.get('m1'))?.upstreamId).toBe('101');
      });

      it('finds the newer message when the upstream reuses an id', async () => {
        const store = await open();
        await store.save(record('old'));
        await store.setUpstreamId('old', 'vodacom', '5', ['dec:5']);
        await store.save(record('new'));
        await store.setUpstreamId('new', 'vodacom', '5', ['dec:5']);
        expect((await store.findByUpstream('vodacom', ['dec:5']))?.id).toBe('new');
      });

      it('goes on to the next key when the message under the first one has expired', async () => {
        const store = await open({ ttlMs: 60_000 });
        await store.saveAccepted(record('old'), 'vodacom', '7', ['dec:7']);
        now += 30_000;
        await store.saveAccepted(record('new'), 'vodacom', '8', ['dec:8']);
        now += 30_000;
        // dec:7 still names 'old', whose record has just expired: the lookup must reach dec:8.
        expect((await store.findByUpstream('vodacom', ['dec:7', 'dec:8']))?.id).toBe('new');
        expect(await store.findByUpstream('vodacom', ['dec:7'])).toBeUndefined();
        // A batch of lookups on Redis: decided and undecided ones together, each answered as alone.
        const found = await Promise.all([
          store.findByUpstream('vodacom', ['dec:8']),
          store.findByUpstream('vodacom', ['dec:7', 'dec:8']),
          store.findByUpstream('vodacom', ['dec:6']),
        ]);
        expect(found.map((r) => r?.id)).toEqual(['new', 'new', undefined]);
      });

      it('rejects setUpstreamId for an unknown message with NOT_FOUND', async () => {
        const store = await open();
        expect(await rejectionCode(store.setUpstreamId('nope', 'vodacom', '1', ['dec:1']))).toBe(
          StoreErrorCode.NOT_FOUND,
        );
        expect(await store.findByUpstream('vodacom', ['dec:1'])).toBeUndefined();
      });
    });

    describe('saveAccepted (save and setUpstreamId in one step)', () => {
      it('leaves the record, index and counts that save then setUpstreamId leave', async () => {
        const twoSteps = await open();
        const oneStep = await open();
        // Same cluster (saved endpoint kept), another cluster (dropped), an endpoint given (it wins).
        const cases = [
          { saved: record('m1', { endpoint: 'a:2775', parts: 2 }), cluster: 'vodacom', up: '00B8BE19', keys: ['hex:b8be19', 'dec:12107289'] },
          { saved: record('m2', { endpoint: 'a:2775' }), cluster: 'mcel', up: '2', keys: ['dec:2'] },
          { saved: record('m3', { endpoint: 'a:2775' }), cluster: 'mcel', up: '3', keys: ['dec:3'], endpoint: 'b:2775' },
          { saved: record('m4', { routeName: undefined }), cluster: 'vodacom', up: 'x4', keys: ['string:x4'], endpoint: 'c:2775' },
        ];
        for (const c of cases) {
          await twoSteps.save(c.saved);
          expect(await twoSteps.setUpstreamId(c.saved.id, c.cluster, c.up, c.keys, c.endpoint)).toEqual([]);
          expect(await oneStep.saveAccepted(c.saved, c.cluster, c.up, c.keys, c.endpoint)).toEqual([]);
        }
        for (const c of cases) {
          const expected = await twoSteps.get(c.saved.id);
          expect(expected).toMatchObject({ cluster: c.cluster, upstreamId: c.up });
          expect(await oneStep.get(c.saved.id)).toEqual(expected);
          for (const key of c.keys) expect(await oneStep.findByUpstream(c.cluster, [key])).toEqual(expected);
          const other = c.cluster === 'mcel' ? 'vodacom' : 'mcel';
          expect(await oneStep.findByUpstream(other, c.keys)).toBeUndefined();
        }
        const [a, b] = [await twoSteps.stats(), await oneStep.stats()];
        expect(b).toMatchObject({ entries: 4, orphans: 0 });
        expect(b.entries).toBe(a.entries);
        expect(b.memory.upstreamKeys).toBe(a.memory.upstreamKeys);
      });

      it('returns the receipts held under its keys once, oldest first, and only those of its cluster', async () => {
        const store = await open();
        const first = { pdu: { n: 1 }, receivedAt: T0 };
        const second = orphan('12107289');
        await store.holdOrphan('vodacom', ['hex:b8be19', 'dec:12107289'], first, ORPHAN_TTL_MS);
        await store.holdOrphan('mcel', ['dec:12107289'], { pdu: { n: 3 }, receivedAt: T0 }, ORPHAN_TTL_MS);
        await store.holdOrphan('vodacom', ['dec:12107289'], second, ORPHAN_TTL_MS);
        const orphans = await store.saveAccepted(record('m1'), 'vodacom', 'B8BE19', ['hex:b8be19', 'dec:12107289']);
        expect(held(orphans)).toEqual([first, second]);
        expect(Buffer.isBuffer((orphans[1]?.pdu as ReturnType<typeof receiptPdu>).short_message)).toBe(true);
        expect((await store.stats()).orphans).toBe(1);
        expect(await store.saveAccepted(record('m2'), 'vodacom', 'B8BE19', ['hex:b8be19', 'dec:12107289'])).toEqual([]);
      });

      it('does not return a receipt whose orphan ttl has passed', async () => {
        const store = await open();
        await store.holdOrphan('vodacom', ['dec:9'], orphan('9'), ORPHAN_TTL_MS);
        now += ORPHAN_TTL_MS;
        expect(await store.saveAccepted(record('m1'), 'vodacom', '9', ['dec:9'])).toEqual([]);
        expect((await store.stats()).orphans).toBe(0);
      });

      it('hands each orphan that expired unmatched to takeOrphansExpired once, and none that was taken', async () => {
        const store = await open();
        expect(await store.takeOrphansExpired()).toBe(0);
        await store.holdOrphan('vodacom', ['dec:9'], orphan('9'), ORPHAN_TTL_MS);
        await store.holdOrphan('vodacom', ['dec:10'], orphan('10'), ORPHAN_TTL_MS);
        await store.holdOrphan('vodacom', ['dec:11'], orphan('11'), ORPHAN_TTL_MS);
        expect(held(await store.saveAccepted(record('m1'), 'vodacom', '10', ['dec:10']))).toEqual([orphan('10')]);
        expect(await store.takeOrphansExpired()).toBe(0);
        now += ORPHAN_TTL_MS;
        expect(await store.takeOrphansExpired()).toBe(2);
        expect(await store.takeOrphansExpired()).toBe(0);
        expect((await store.stats()).orphansExpired).toBe(2);
      });

      it('makes a later holdOrphan find the message instead of holding the receipt', async () => {
        const store = await open();
        await store.saveAccepted(record('m1'), 'vodacom', '9', ['hex:9', 'dec:9']);
        expect((await store.holdOrphan('vodacom', ['dec:9'], orphan('9'), ORPHAN_TTL_MS))?.id).toBe('m1');
        expect((await store.stats()).orphans).toBe(0);
      });

      it('keeps the message and its keys for the ttl, then forgets them', async () => {
        const store = await open({ ttlMs: 60_000 });
        await store.saveAccepted(record('m1'), 'vodacom', '9', ['dec:9']);
        now += 59_999;
        expect((await store.findByUpstream('vodacom', ['dec:9']))?.id).toBe('m1');
        now += 1;
        expect(await store.get('m1')).toBeUndefined();
        expect(await store.findByUpstream('vodacom', ['dec:9'])).toBeUndefined();
      });

      it('keeps messages whose ids end in any character, saved together or one by one', async () => {
        const store = await open();
        const ids = ['mé', 'm€', 'm😀', 'ü', 'm1é', 'm2é', 'plain'];
        // Together: one batch on Redis.
        const together = ids.map((id, i) => store.saveAccepted(record(id), 'vodacom', String(i), [`dec:${i}`]));
        expect(await Promise.all(together)).toEqual(ids.map(() => []));
        for (const [i, id] of ids.entries()) {
          expect((await store.get(id))?.id).toBe(id);
          expect((await store.findByUpstream('vodacom', [`dec:${i}`]))?.id).toBe(id);
        }
        expect((await store.stats()).entries).toBe(ids.length);
        // With an orphan held (Redis: the operations go one at a time).
        const receipt = orphan('100');
        await store.holdOrphan('vodacom', ['dec:100'], receipt, ORPHAN_TTL_MS);
        const [first, second] = await Promise.all([
          store.saveAccepted(record('né'), 'vodacom', '100', ['dec:100']),
          store.saveAccepted(record('pé'), 'vodacom', '101', ['dec:101']),
        ]);
        expect([held(first ?? []), second]).toEqual([[receipt], []]);
        expect((await store.findByUpstream('vodacom', ['dec:100']))?.id).toBe('né');
        expect((await store.get('pé'))?.id).toBe('pé');
      });

      it('answers saveAcceptedWith as saveAccepted resolves or rejects, through the callback, exactly once', async () => {
        const store = await open();
        const calls: string[] = [];
        const via = (r: MessageRecord, keys: string[]) =>
          new Promise<readonly OrphanReceipt[]>((resolve, reject) =>
            store.saveAcceptedWith(r, 'vodacom', '1', keys, 'a:2775', {
              stored: (orphans) => {
                calls.push(`stored ${r.id}`);
                resolve(orphans);
              },
              notStored: (err) => {
                calls.push(`notStored ${r.id}`);
                reject(err as Error);
              },
            }),
          );
        const receipt = orphan('1');
        await store.holdOrphan('vodacom', ['dec:1'], receipt, ORPHAN_TTL_MS);
        expect(held(await via(record('m1'), ['dec:1']))).toEqual([receipt]);
        expect(await rejectionCode(via(record(''), ['dec:2']))).toBe(StoreErrorCode.INVALID_ARGUMENT);
        expect(await via(record('m3'), ['dec:3'])).toEqual([]);
        expect(await store.get('m1')).toMatchObject({ cluster: 'vodacom', endpoint: 'a:2775', upstreamId: '1' });
        expect((await store.findByUpstream('vodacom', ['dec:3']))?.id).toBe('m3');
        expect(calls).toEqual(['stored m1', 'notStored ', 'stored m3']);
      });

      it('answers findByUpstreamWith as findByUpstream resolves or rejects, through the callback, exactly once', async () => {
        const store = await open();
        const calls: string[] = [];
        const via = (keys: string[]) =>
          new Promise<MessageRecord | undefined>((resolve, reject) =>
            store.findByUpstreamWith('vodacom', keys, {
              found: (r) => {
                calls.push(`found ${r?.id ?? 'none'}`);
                resolve(r);
              },
              findFailed: (err) => {
                calls.push('findFailed');
                reject(err as Error);
              },
            }),
          );
        await store.saveAccepted(record('m1'), 'vodacom', '7', ['dec:7'], 'a:2775');
        expect(await via(['dec:6', 'dec:7'])).toEqual(await store.get('m1'));
        expect(await via(['dec:8'])).toBeUndefined();
        expect(await via([])).toBeUndefined();
        await store.close();
        expect(await rejectionCode(via(['dec:7']))).toBe(StoreErrorCode.CLOSED);
        expect(calls).toEqual(['found m1', 'found none', 'found none', 'findFailed']);
      });

      it('rejects an empty or over-long id with INVALID_ARGUMENT, storing and indexing nothing', async () => {
        const store = await open();
        const longest = 'x'.repeat(MAX_MESSAGE_ID_LENGTH);
        await store.holdOrphan('vodacom', ['dec:1'], orphan('1'), ORPHAN_TTL_MS);
        expect(await rejectionCode(store.saveAccepted(record(''), 'vodacom', '1', ['dec:1']))).toBe(
          StoreErrorCode.INVALID_ARGUMENT,
        );
        expect(await rejectionCode(store.saveAccepted(record(`${longest}y`), 'vodacom', '1', ['dec:1']))).toBe(
          StoreErrorCode.INVALID_ARGUMENT,
        );
        expect(await store.findByUpstream('vodacom', ['dec:1'])).toBeUndefined();
        expect(await store.stats()).toMatchObject({ entries: 0, orphans: 1 });
        expect(await store.saveAccepted(record(longest), 'vodacom', '1', ['dec:1'])).toHaveLength(1);
        expect((await store.findByUpstream('vodacom', ['dec:1']))?.id).toBe(longest);
      });
    });

    describe('orphan receipts', () => {
      it('returns a receipt that beat the submit response once, when the upstream id arrives', async () => {
        const store = await open();
        await store.save(record('m1'));
        const kept = orphan('00B8BE19');
        expect(await store.holdOrphan('vodacom', ['hex:b8be19', 'dec:12107289'], kept, ORPHAN_TTL_MS)).toBeUndefined();
        expect((await store.stats()).orphans).toBe(1);

        const orphans = await store.setUpstreamId('m1', 'vodacom', 'B8BE19', ['hex:b8be19', 'dec:12107289']);
        expect(held(orphans)).toEqual([kept]);
        expect((await store.stats()).orphans).toBe(0);

        await store.save(record('m2'));
        expect(await store.setUpstreamId('m2', 'vodacom', 'B8BE19', ['hex:b8be19'])).toEqual([]);
      });

      it('matches an orphan held under one reading to a message indexed under the other', async () => {
        const store = await open();
        await store.save(record('m1'));
        await store.holdOrphan('vodacom', ['dec:12107289'], orphan('12107289'), ORPHAN_TTL_MS);
        const orphans = await store.setUpstreamId('m1', 'vodacom', 'B8BE19', ['hex:b8be19', 'dec:12107289']);
        expect(orphans).toHaveLength(1);
      });

      it('returns orphans oldest first, and only those of the same cluster', async () => {
        const store = await open();
        await store.save(record('m1'));
        const first = { pdu: { n: 1 }, receivedAt: T0 };
        const second = { pdu: { n: 2 }, receivedAt: T0 + 1 };
        await store.holdOrphan('vodacom', ['dec:9'], first, ORPHAN_TTL_MS);
        await store.holdOrphan('mcel', ['dec:9'], { pdu: { n: 3 }, receivedAt: T0 }, ORPHAN_TTL_MS);
        await store.holdOrphan('vodacom', ['dec:9'], second, ORPHAN_TTL_MS);
        expect(held(await store.setUpstreamId('m1', 'vodacom', '9', ['dec:9']))).toEqual([first, second]);
        expect((await store.stats()).orphans).toBe(1);
      });

      it('holds nothing when the message was indexed meanwhile, and returns the message instead', async () => {
        const store = await open();
        await store.save(record('m1'));
        await store.setUpstreamId('m1', 'vodacom', '9', ['dec:9']);
        const found = await store.holdOrphan('vodacom', ['hex:9', 'dec:9'], orphan('9'), ORPHAN_TTL_MS);
        expect(found?.id).toBe('m1');
        expect((await store.stats()).orphans).toBe(0);
      });

      it('drops an orphan once its ttl has passed', async () => {
        const store = await open();
        await store.save(record('m1'));
        await store.holdOrphan('vodacom', ['dec:9'], orphan('9'), ORPHAN_TTL_MS);
        now += ORPHAN_TTL_MS;
        expect(await store.setUpstreamId('m1', 'vodacom', '9', ['dec:9'])).toEqual([]);
        expect((await store.stats()).orphans).toBe(0);
      });

      it('gives back the receipt fields as held, Buffers included', async () => {
        const store = await open();
        await store.save(record('m1'));
        const kept = orphan('abc');
        await store.holdOrphan('vodacom', ['string:abc'], kept, ORPHAN_TTL_MS);
        const [back] = held(await store.setUpstreamId('m1', 'vodacom', 'abc', ['string:abc']));
        const pdu = back?.pdu as ReturnType<typeof receiptPdu>;
        expect(Buffer.isBuffer(pdu.short_message)).toBe(true);
        expect(Buffer.isBuffer(pdu.tlvs[0]?.value)).toBe(true);
        expect(back).toEqual(kept);
      });

      it('rejects holding a receipt under no key with INVALID_ARGUMENT', async () => {
        const store = await open();
        expect(await rejectionCode(store.holdOrphan('vodacom', [], orphan('x'), ORPHAN_TTL_MS))).toBe(
          StoreErrorCode.INVALID_ARGUMENT,
        );
      });
    });

    describe('pending deliveries', () => {
      it('hands out each client its own deliveries, oldest first', async () => {
        const store = await open();
        await store.enqueueDelivery('acme', delivery('a1'));
        await store.enqueueDelivery('beta', delivery('b1', 'mo'));
        await store.enqueueDelivery('acme', delivery('a2', 'mo'));
        await store.enqueueDelivery('acme', delivery('a3'));

        expect(texts(await store.takeDeliveries('acme', 2))).toEqual(['a1', 'a2']);
        expect(texts(await store.takeDeliveries('acme', 10))).toEqual(['a3']);
        const beta = await store.takeDeliveries('beta', 10);
        expect(beta.map((c) => c.item.kind)).toEqual(['mo']);
        expect(await store.takeDeliveries('nobody', 10)).toEqual([]);
      });

      it('gives back the item as enqueued, with a delivery id and the attempt number', async () => {
        const store = await open();
        const item = delivery('hello');
        const deliveryId = await store.enqueueDelivery('acme', item);
        const [claimed] = await store.takeDeliveries('acme', 1);
        expect(claimed).toEqual({ deliveryId, item, attempts: 1 });
        expect(Buffer.isBuffer((claimed?.item.pdu as { short_message: unknown }).short_message)).toBe(true);
      });

      it('does not hand out a claimed delivery again while its lease runs', async () => {
        const store = await open();
        await store.enqueueDelivery('acme', delivery('a1'));
        await store.enqueueDelivery('acme', delivery('a2'));
        expect(texts(await store.takeDeliveries('acme', 1))).toEqual(['a1']);
        now += LEASE_MS - 1;
        expect(texts(await store.takeDeliveries('acme', 10))).toEqual(['a2']);
        expect(await store.takeDeliveries('acme', 10)).toEqual([]);
      });

      it('returns an unacknowledged delivery to its place in the queue when the lease runs out', async () => {
        const store = await open();
        await store.enqueueDelivery('acme', delivery('a1'));
        const [first] = await store.takeDeliveries('acme', 1);
        await store.enqueueDelivery('acme', delivery('a2'));
        now += LEASE_MS;
        const again = await store.takeDeliveries('acme', 10);
        expect(texts(again)).toEqual(['a1', 'a2']);
        expect(again[0]).toMatchObject({ deliveryId: first?.deliveryId, attempts: 2 });
        expect(again[1]?.attempts).toBe(1);
      });

      it('uses the lease given to takeDeliveries over the default', async () => {
        const store = await open();
        await store.enqueueDelivery('acme', delivery('a1'));
        await store.takeDeliveries('acme', 1, 1_000);
        now += 1_000;
        expect(texts(await store.takeDeliveries('acme', 1))).toEqual(['a1']);
      });

      it('forgets a delivery once acknowledged, and only the owner can acknowledge it once', async () => {
        const store = await open();
        const id1 = await store.enqueueDelivery('acme', delivery('a1'));
        await store.enqueueDelivery('acme', delivery('a2'));
        await store.takeDeliveries('acme', 2);
        expect(await store.ackDelivery('beta', id1)).toBe(false);
        expect(await store.ackDelivery('acme', id1)).toBe(true);
        expect(await store.ackDelivery('acme', id1)).toBe(false);
        expect(await store.ackDelivery('acme', 'no-such-delivery')).toBe(false);
        now += LEASE_MS;
        expect(texts(await store.takeDeliveries('acme', 10))).toEqual(['a2']);
      });

      it('accepts a late acknowledgement after the lease ran out', async () => {
        const store = await open();
        const id1 = await store.enqueueDelivery('acme', delivery('a1'));
        await store.takeDeliveries('acme', 1);
        now += LEASE_MS;
        expect(await store.ackDelivery('acme', id1)).toBe(true);
        expect(await store.takeDeliveries('acme', 10)).toEqual([]);
      });

      it('hands a released delivery out again at once', async () => {
        const store = await open();
        const id1 = await store.enqueueDelivery('acme', delivery('a1'));
        await store.takeDeliveries('acme', 1);
        expect(await store.releaseDelivery('beta', id1)).toBe(false);
        expect(await store.releaseDelivery('acme', id1)).toBe(true);
        const [again] = await store.takeDeliveries('acme', 1);
        expect(again).toMatchObject({ deliveryId: id1, attempts: 2 });
        await store.ackDelivery('acme', id1);
        expect(await store.releaseDelivery('acme', id1)).toBe(false);
      });

      it('counts unacknowledged deliveries, claimed ones included, per client and in total', async () => {
        const store = await open();
        expect(await store.pendingCount()).toBe(0);
        const id1 = await store.enqueueDelivery('acme', delivery('a1'));
        await store.enqueueDelivery('acme', delivery('a2'));
        await store.enqueueDelivery('beta', delivery('b1'));
        await store.takeDeliveries('acme', 1);
        expect(await store.pendingCount('acme')).toBe(2);
        expect(await store.pendingCount('beta')).toBe(1);
        expect(await store.pendingCount('nobody')).toBe(0);
        expect(await store.pendingCount()).toBe(3);
        await store.ackDelivery('acme', id1);
        expect(await store.pendingCount('acme')).toBe(1);
        expect((await store.stats()).pendingDeliveries).toBe(2);
      });

      it('hands out nothing for a max below one', async () => {
        const store = await open();
        await store.enqueueDelivery('acme', delivery('a1'));
        expect(await store.takeDeliveries('acme', 0)).toEqual([]);
        expect(await store.pendingCount('acme')).toBe(1);
      });
    });

    describe('ttl', () => {
      it('keeps a message until its ttl, then forgets it and its upstream keys', async () => {
        const store = await open({ ttlMs: 60_000 });
        await store.save(record('m1'));
        await store.setUpstreamId('m1', 'vodacom', '9', ['dec:9']);
        now += 59_999;
        expect((await store.get('m1'))?.id).toBe('m1');
        expect((await store.findByUpstream('vodacom', ['dec:9']))?.id).toBe('m1');
        now += 1;
        expect(await store.get('m1')).toBeUndefined();
        expect(await store.findByUpstream('vodacom', ['dec:9'])).toBeUndefined();
        expect(await rejectionCode(store.setUpstreamId('m1', 'vodacom', '9', ['dec:9']))).toBe(StoreErrorCode.NOT_FOUND);
      });

      it('restarts the ttl when a message is saved again', async () => {
        const store = await open({ ttlMs: 60_000 });
        await store.save(record('m1'));
        now += 30_000;
        await store.save(record('m1'));
        expect((await store.stats()).entries).toBe(1);
        now += 45_000;
        expect((await store.get('m1'))?.id).toBe('m1');
        // Counted once, until its last save expires (not with its first).
        expect((await store.stats()).entries).toBe(1);
        now += 16_000;
        expect((await store.stats()).entries).toBe(0);
      });

      it('drops undelivered deliveries after the ttl, claimed or not', async () => {
        const store = await open({ ttlMs: 60_000 });
        const id1 = await store.enqueueDelivery('acme', delivery('a1'));
        await store.enqueueDelivery('acme', delivery('a2'));
        await store.takeDeliveries('acme', 1);
        now += 60_000;
        expect(await store.pendingCount('acme')).toBe(0);
        expect(await store.pendingCount()).toBe(0);
        expect(await store.takeDeliveries('acme', 10)).toEqual([]);
        expect(await store.ackDelivery('acme', id1)).toBe(false);
      });
    });

    describe('stats and close', () => {
      it('reports counts as numbers', async () => {
        const store = await open();
        await store.save(record('m1'));
        await store.setUpstreamId('m1', 'vodacom', '9', ['hex:9', 'dec:9']);
        await store.enqueueDelivery('acme', delivery('a1'));
        const stats = await store.stats();
        expect(stats).toMatchObject({ entries: 1, pendingDeliveries: 1, orphans: 0 });
        expect(stats.memory.upstreamKeys).toBe(2);
        for (const value of [
          stats.evictions,
          stats.expirations,
          stats.deliveriesExpired,
          stats.deliveriesEvicted,
          stats.orphansExpired,
          stats.orphansEvicted,
          stats.memory.approxBytes,
        ]) {
          expect(Number.isFinite(value)).toBe(true);
        }
      });

      it('rejects every call after close with CLOSED; close twice is fine', async () => {
        const store = await open();
        await store.save(record('m1'));
        await store.close();
        await store.close();
        const calls: Promise<unknown>[] = [
          store.save(record('m2')),
          store.get('m1'),
          store.setUpstreamId('m1', 'vodacom', '1', ['dec:1']),
          store.saveAccepted(record('m2'), 'vodacom', '1', ['dec:1']),
          store.findByUpstream('vodacom', ['dec:1']),
          store.holdOrphan('vodacom', ['dec:1'], orphan('1'), ORPHAN_TTL_MS),
          store.enqueueDelivery('acme', delivery('a1')),
          store.takeDeliveries('acme', 1),
          store.ackDelivery('acme', '1'),
          store.releaseDelivery('acme', '1'),
          store.pendingCount(),
          store.stats(),
        ];
        for (const call of calls) expect(await rejectionCode(call)).toBe(StoreErrorCode.CLOSED);
      });
    });

    describe('message ids', () => {
      it('gives 1e6 distinct ids of at most 64 characters from two generators', () => {
        const a = createMessageIdGenerator();
        const b = createMessageIdGenerator();
        expect(a.prefix).not.toBe(b.prefix);
        const seen = new Set<string>();
        let longest = 0;
        for (let i = 0; i < 500_000; i++) {
          const x = a.next();
          const y = b.next();
          seen.add(x);
          seen.add(y);
          if (x.length > longest) longest = x.length;
          if (y.length > longest) longest = y.length;
        }
        expect(seen.size).toBe(1_000_000);
        expect(longest).toBeLessThanOrEqual(MAX_MESSAGE_ID_LENGTH);
      });

      it('saves and finds messages under generated ids', async () => {
        const store = await open();
        const ids = createMessageIdGenerator();
        const id = ids.next();
        await store.save(record(id));
        expect((await store.get(id))?.id).toBe(id);
      });
    });
  });
}
