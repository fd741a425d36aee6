import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConfigInput } from '../config/schema.js';
import { silentLogger } from '../session/index.js';
import { Status } from '../smpp/index.js';
import type { DeliverSm, SubmitSmResp } from '../smpp/index.js';
import type { MessageStore } from '../store/store.js';
import { createMemoryStore } from '../store/memory-store.js';
import type { SendResult } from './ports.js';
import {
  FakeCluster,
  FakeSession,
  deferred,
  deliverSm,
  harness,
  respond,
  receiptText,
  submitSm,
  type Harness,
} from './testing.js';

function config(messageId: 'auto' | 'hex' | 'decimal' | 'string' = 'auto'): ConfigInput {
  return {
    clients: [
      { system_id: 'acme', password: 'x', mo_addresses: ['+258840001'] },
      { system_id: 'beta', password: 'y' },
    ],
    clusters: [{ name: 'voda', mock: {}, message_id: messageId }],
    routes: [{ name: 'all', cluster: 'voda' }],
  };
}

const acme = { systemId: 'acme' };
const far = () => Date.now() + 30_000;

/** The upstream answers with these ids in turn (hex, as some SMSCs write them). */
function upstreamIds(...ids: string[]): FakeCluster {
  let i = 0;
  const c: FakeCluster = new FakeCluster('voda', (pdu): SendResult => ({ response: respond(pdu, 0, ids[i++] ?? 'FFFF'), endpoint: 'ep1', latencyMs: 1 }));
  return c;
}

/** Resolves after the store method was called `n` times in total. */
function watch(store: MessageStore, method: 'ackDelivery' | 'releaseDelivery'): (n: number) => Promise<void> {
  const original = store[method].bind(store);
  let calls = 0;
  let waiters: { n: number; resolve: () => void }[] = [];
  store[method] = async (client: string, id: string) => {
    const result = await original(client, id);
    calls++;
    for (const w of waiters) if (calls >= w.n) w.resolve();
    waiters = waiters.filter((w) => calls < w.n);
    return result;
  };
  return (n) => (calls >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })));
}

let h: Harness | undefined;
afterEach(() => {
  h?.forwarder.close();
  h = undefined;
  vi.useRealTimers();
});

function setup(cluster: FakeCluster, messageId?: 'auto' | 'hex' | 'decimal' | 'string', store?: MessageStore): Harness {
  h = harness({ config: config(messageId), clusters: [cluster], store });
  return h;
}

async function submit(hh: Harness): Promise<string> {
  const resp = (await hh.forwarder.handleRequest(acme, submitSm(), { deadline: far() })) as SubmitSmResp;
  expect(resp.command_status).toBe(0);
  return resp.message_id;
}

describe('receipts', () => {
  it("rewrites text and TLV to smppd's id: hex id in submit_sm_resp, decimal in the receipt (auto)", async () => {
    const hh = setup(upstreamIds('1A2B3C'));
    const session = new FakeSession('acme');
    hh.registry.bind(session);
    const id = await submit(hh);

    const receipt = deliverSm({
      esm_class: 0x04,
      short_message: receiptText('1715004'), // 0x1A2B3C in decimal
      tlvs: { receipted_message_id: '001a2b3c', message_state: 2 },
    });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(Status.ESME_ROK);

    expect(session.delivered).toHaveLength(1);
    const got = session.delivered[0] as DeliverSm;
    expect(got.short_message.toString('latin1')).toBe(receiptText(id).toString('latin1'));
    expect(got.tlvs).toEqual({ receipted_message_id: id, message_state: 2 });
    expect((await hh.metrics.dlrReceived.get()).values).toEqual([
      expect.objectContaining({ labels: { cluster: 'voda', status: 'DELIVRD' }, value: 1 }),
    ]);
    expect(hh.feedback.snapshot().clusters.voda?.receipts).toEqual({ DELIVRD: 1 });
  });

  it("receipt_stats: the SMSC's own stat word reaches the client (and the metrics) as the stat it maps to", async () => {
    const cfg = config();
    cfg.clusters = [{ name: 'voda', mock: {}, receipt_stats: { failed: 'UNDELIV', DELIVERED: 'DELIVRD' } }];
    h = harness({ config: cfg, clusters: [upstreamIds('A1', 'A2', 'A3')] });
    const hh = h;
    const session = new FakeSession('acme');
    hh.registry.bind(session);
    const [failed, delivered, other] = [await submit(hh), await submit(hh), await submit(hh)];

    const receipt = (upstreamId: string, stat: string) =>
      deliverSm({ esm_class: 0x04, short_message: receiptText(upstreamId, stat) });
    for (const [upstreamId, stat] of [['A1', 'FAILED'], ['A2', 'Delivered'], ['A3', 'EXPIRED']] as const) {
      expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt(upstreamId, stat) })).toBe(0);
    }
    expect(session.delivered.map((d) => (d as DeliverSm).short_message.toString('latin1'))).toEqual([
      receiptText(failed, 'UNDELIV').toString('latin1'),
      receiptText(delivered, 'DELIVRD').toString('latin1'),
      receiptText(other, 'EXPIRED').toString('latin1'), // not in the map: as the SMSC wrote it
    ]);
    const byStatus = Object.fromEntries((await hh.metrics.dlrReceived.get()).values.map((v) => [v.labels.status, v.value]));
    expect(byStatus).toEqual({ UNDELIV: 1, DELIVRD: 1, EXPIRED: 1 });
  });

  it('receipt_stats maps the text\'s stat word when message_state says something else', async () => {
    const cfg = config();
    cfg.clusters = [{ name: 'voda', mock: {}, receipt_stats: { FAILED: 'REJECTD' } }];
    h = harness({ config: cfg, clusters: [upstreamIds('C1')] });
    const hh = h;
    const session = new FakeSession('acme');
    hh.registry.bind(session);
    const id = await submit(hh);
    // stat:FAILED in the text, message_state 5 (UNDELIVERABLE) beside it: the map's word is the text's.
    const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText('C1', 'FAILED'), tlvs: { receipted_message_id: 'C1', message_state: 5 } });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(0);
    const got = session.delivered[0] as DeliverSm;
    expect(got.short_message.toString('latin1')).toBe(receiptText(id, 'REJECTD').toString('latin1'));
    expect(got.tlvs).toEqual({ receipted_message_id: id, message_state: 8 });
  });

  it('receipt_stats rewrites message_state too, and a receipt held before its submit response is kept mapped', async () => {
    const answer = deferred<SendResult>();
    const cfg = config();
    cfg.clusters = [{ name: 'voda', mock: {}, receipt_stats: { UNKNOWN: 'UNDELIV' } }];
    h = harness({ config: cfg, clusters: [new FakeCluster('voda', () => answer.promise)] });
    const hh = h;
    const session = new FakeSession('acme');
    hh.registry.bind(session);
    const submitted = hh.forwarder.handleRequest(acme, submitSm(), { deadline: far() }) as Promise<SubmitSmResp>;

    // Before the submit response: held. message_state 7 (UNKNOWN) is what this SMSC says for a failure.
    const early = deliverSm({ esm_class: 0x04, short_message: receiptText('B7', 'UNKNOWN'), tlvs: { receipted_message_id: 'B7', message_state: 7 } });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: early })).toBe(0);
    expect(session.delivered).toHaveLength(0);

    answer.resolve({ response: respond(submitSm(), 0, 'B7'), endpoint: 'ep1', latencyMs: 1 });
    const id = (await submitted).message_id;
    await session.waitFor(1);
    const got = session.delivered[0] as DeliverSm;
    expect(got.short_message.toString('latin1')).toBe(receiptText(id, 'UNDELIV').toString('latin1'));
    expect(got.tlvs).toEqual({ receipted_message_id: id, message_state: 5 });
    // Feedback: the cluster counted it when it came, its route and endpoint once it found its message.
    const feedback = hh.feedback.snapshot();
    expect(feedback.clusters.voda?.receipts).toEqual({ UNDELIV: 1 });
    expect(feedback.routes.all?.receipts).toEqual({ UNDELIV: 1 });
    expect(feedback.clusters.voda?.endpoints.ep1?.receipts).toEqual({ UNDELIV: 1 });
  });

  it('matches a TLV-only receipt with a decimal id', async () => {
    const hh = setup(upstreamIds('00012345'), 'decimal');
    const session = new FakeSession('acme');
    hh.registry.bind(session);
    const id = await submit(hh);
    const receipt = deliverSm({ tlvs: { receipted_message_id: '12345', message_state: 5 } });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(0);
    expect(session.delivered[0]?.tlvs).toEqual({ receipted_message_id: id, message_state: 5 });
  });

  it('holds a receipt that arrives before the submit response and delivers it after the response', async () => {
    const answer = deferred<SendResult>();
    const sent = deferred<void>();
    const cluster: FakeCluster = new FakeCluster('voda', () => {
      sent.resolve();
      return answer.promise;
    });
    const hh = setup(cluster);
    const session = new FakeSession('acme');
    const events: string[] = [];
    session.handler = () => {
      events.push('receipt');
      return 0;
    };
    hh.registry.bind(session);

    const pending = hh.forwarder.handleRequest(acme, submitSm(), { deadline: far() }).then((r) => {
      events.push('response');
      return r as SubmitSmResp;
    });
    await sent.promise;
    const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText('C0FFEE') });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(0);
    expect(session.delivered).toHaveLength(0);
    expect((await hh.store.stats()).orphans).toBe(1);

    answer.resolve({ response: respond(cluster.calls[0]!.pdu, 0, 'c0ffee'), endpoint: 'ep1', latencyMs: 1 });
    const resp = await pending;
    await session.waitFor(1);
    expect(events).toEqual(['response', 'receipt']);
    expect((session.delivered[0] as DeliverSm).short_message.toString('latin1')).toContain(`id:${resp.message_id} `);
    expect((await hh.store.stats()).orphans).toBe(0);
  });

  it('keeps a receipt for a client with no receiver and delivers it when one binds', async () => {
    const hh = setup(upstreamIds('AA01'));
    const acked = watch(hh.store, 'ackDelivery');
    const id = await submit(hh);
    const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText('AA01') });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(0);
    expect(await hh.store.pendingCount('acme')).toBe(1);

    const session = new FakeSession('acme');
    hh.registry.bind(session);
    hh.forwarder.onReceiverBound('acme');
    await acked(1);
    expect((session.delivered[0] as DeliverSm).short_message.toString('latin1')).toContain(`id:${id} `);
    expect(await hh.store.pendingCount('acme')).toBe(0);
  });

  it('the periodic sweep delivers kept receipts to a receiver nobody announced', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    h = harness({ config: config(), clusters: [upstreamIds('AE01')], options: { sweepIntervalMs: 5_000 } });
    const hh = h;
    await submit(hh);
    const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText('AE01') });
    await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt });
    const session = new FakeSession('acme');
    hh.registry.bind(session); // e.g. bound on this replica while another replica kept the receipt
    await vi.advanceTimersByTimeAsync(4_999);
    expect(session.delivered).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await session.waitFor(1);
    expect((await hh.metrics.pendingDeliveries.get()).values[0]?.value).toBe(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await hh.store.pendingCount('acme')).toBe(0);
    expect((await hh.metrics.pendingDeliveries.get()).values[0]?.value).toBe(0);
  });

  it('releases a delivery the client refused and delivers it again later', async () => {
    const hh = setup(upstreamIds('AB01'));
    const released = watch(hh.store, 'releaseDelivery');
    const acked = watch(hh.store, 'ackDelivery');
    const session = new FakeSession('acme');
    session.handler = (_pdu, call) => (call <= 2 ? Status.ESME_RX_T_APPN : 0);
    hh.registry.bind(session);
    await submit(hh);

    const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText('AB01') });
    // Refused live: kept, and the upstream hears ESME_ROK.
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(0);
    // The immediate drain is refused too: released.
    await released(1);
    expect(await hh.store.pendingCount('acme')).toBe(1);

    await hh.forwarder.sweep();
    await acked(1);
    expect(session.delivered).toHaveLength(3);
    expect(await hh.store.pendingCount('acme')).toBe(0);
  });

  it('drops a delivery the client refuses for good and tells the upstream', async () => {
    const hh = setup(upstreamIds('AC01'));
    const session = new FakeSession('acme');
    session.handler = () => Status.ESME_RX_P_APPN;
    hh.registry.bind(session);
    await submit(hh);
    const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText('AC01') });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(
      Status.ESME_RX_P_APPN,
    );
    expect(await hh.store.pendingCount('acme')).toBe(0);
  });

  it('a held receipt the store cannot keep at first is tried again until it is kept', async () => {
    // Held receipts were answered ESME_ROK upstream already: a store failing for a moment must not lose them.
    const store = createMemoryStore({ ttlMs: 60_000 });
    const enqueue = store.enqueueDelivery.bind(store);
    let failures = 2;
    store.enqueueDelivery = (client, item) => (failures-- > 0 ? Promise.reject(new Error('down')) : enqueue(client, item));
    const answer = deferred<SendResult>();
    const sent = deferred<void>();
    const cluster: FakeCluster = new FakeCluster('voda', () => {
      sent.resolve();
      return answer.promise;
    });
    h = harness({ config: config(), clusters: [cluster], store, options: { sweepIntervalMs: 10 } });
    const pending = h.forwarder.handleRequest(acme, submitSm(), { deadline: far() });
    await sent.promise;
    const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText('C0FFEE') });
    expect(await h.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(0);
    answer.resolve({ response: respond(cluster.calls[0]!.pdu, 0, 'c0ffee'), endpoint: 'ep1', latencyMs: 1 });
    const resp = (await pending) as SubmitSmResp;
    // No receiver is bound: once the store takes it, the receipt waits there for one.
    await vi.waitFor(async () => expect(await store.pendingCount('acme')).toBe(1));
    expect(failures).toBe(-1);
    const [kept] = await store.takeDeliveries('acme', 10, 1_000);
    expect((kept!.item.pdu as DeliverSm).short_message.toString('latin1')).toContain(`id:${resp.message_id} `);
  });

  it('answers ESME_RX_T_APPN when the receipt can be neither delivered nor kept', async () => {
    const store = createMemoryStore({ ttlMs: 60_000 });
    store.enqueueDelivery = () => Promise.reject(new Error('down'));
    const hh = setup(upstreamIds('AD01'), 'auto', store);
    await submit(hh);
    const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText('AD01') });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(
      Status.ESME_RX_T_APPN,
    );
  });

  it('answers ESME_RX_T_APPN when the store cannot look the receipt up, so that the SMSC sends it again', async () => {
    const store = createMemoryStore({ ttlMs: 60_000 });
    const hh = setup(upstreamIds('AD02'), 'auto', store);
    const session = new FakeSession('acme');
    hh.registry.bind(session);
    await submit(hh);
    store.findByUpstreamWith = (_cluster, _keys, done) => done.findFailed(new Error('down'));
    const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText('AD02') });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(
      Status.ESME_RX_T_APPN,
    );
    expect(session.delivered).toHaveLength(0);
  });

  it('counts a receipt without a message id as unmatched and acknowledges it', async () => {
    const hh = setup(upstreamIds());
    const receipt = deliverSm({ esm_class: 0x04, short_message: Buffer.from('delivered') });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(0);
    expect((await hh.metrics.dlrUnmatched.get()).values).toEqual([
      expect.objectContaining({ labels: { cluster: 'voda' }, value: 1 }),
    ]);
  });

  it('logs receipts without a message id once per cluster and sweep, with their count', async () => {
    const warnings: { obj: object; msg: string }[] = [];
    h = harness({
      config: config(),
      clusters: [upstreamIds()],
      logger: { ...silentLogger, warn: (obj, msg) => void warnings.push({ obj, msg }) },
    });
    const receipt = deliverSm({ esm_class: 0x04, short_message: Buffer.from('delivered') });
    for (let i = 0; i < 3; i++) await h.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt });
    expect(warnings).toEqual([]);
    await h.forwarder.sweep();
    expect(warnings).toEqual([{ obj: { cluster: 'voda', count: 3 }, msg: expect.stringMatching(/without a message id dropped/) as unknown }]);
    await h.forwarder.sweep();
    expect(warnings).toHaveLength(1);
  });

  it('counts and logs a held receipt whose message never came (an unknown receipt) when its orphan ttl passed', async () => {
    let now = Date.now();
    const store = createMemoryStore({ ttlMs: 60_000, clock: () => now });
    const warnings: { obj: object; msg: string }[] = [];
    h = harness({
      config: config(),
      clusters: [upstreamIds()],
      store,
      options: { orphanTtlMs: 5_000 },
      logger: { ...silentLogger, warn: (obj, msg) => void warnings.push({ obj, msg }) },
    });
    const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText('BADC0DE') });
    expect(await h.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt })).toBe(0);
    expect((await h.metrics.dlrOrphanHeld.get()).values[0]?.value).toBe(1);
    await h.forwarder.sweep();
    expect((await h.metrics.dlrOrphanExpired.get()).values[0]?.value ?? 0).toBe(0);
    now += 5_000;
    await h.forwarder.sweep();
    expect((await h.metrics.dlrOrphanExpired.get()).values[0]?.value).toBe(1);
    expect(warnings).toEqual([{ obj: { count: 1 }, msg: 'unknown receipts expired unmatched' }]);
    await h.forwarder.sweep();
    expect((await h.metrics.dlrOrphanExpired.get()).values[0]?.value).toBe(1);
    expect(warnings).toHaveLength(1);
  });

  it('drains kept deliveries in order with at most drainConcurrency in flight, one drain at a time', async () => {
    const hh = setup(upstreamIds(...Array.from({ length: 25 }, (_, i) => (0x100 + i).toString(16))));
    const acked = watch(hh.store, 'ackDelivery');
    for (let i = 0; i < 25; i++) {
      await submit(hh);
      const receipt = deliverSm({ esm_class: 0x04, short_message: receiptText((0x100 + i).toString(16)) });
      await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: receipt });
    }
    const session = new FakeSession('acme');
    let inFlight = 0;
    let maxInFlight = 0;
    session.handler = async () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      for (let i = 0; i < 5; i++) await Promise.resolve();
      inFlight--;
      return 0;
    };
    hh.registry.bind(session);
    hh.forwarder.onReceiverBound('acme');
    hh.forwarder.onReceiverBound('acme');
    await acked(25);
    expect(session.delivered).toHaveLength(25);
    expect(maxInFlight).toBe(10);
    const ids = session.delivered.map((p) => /id:(\S+)/.exec((p as DeliverSm).short_message.toString('latin1'))![1]);
    expect(ids).toEqual([...ids].sort((a, b) => parseInt(a.slice(14), 36) - parseInt(b.slice(14), 36)));
    expect(await hh.store.pendingCount('acme')).toBe(0);
  });
});

describe('MO', () => {
  it('delivers MO to the client whose mo_addresses match, ignoring a leading +', async () => {
    const hh = setup(upstreamIds());
    const session = new FakeSession('acme');
    hh.registry.bind(session);
    const mo = deliverSm({ destination_addr: '258840001', short_message: Buffer.from('hi there') });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: mo })).toBe(0);
    expect((session.delivered[0] as DeliverSm).short_message.toString()).toBe('hi there');
    expect((await hh.metrics.moReceived.get()).values[0]?.value).toBe(1);
  });

  it('keeps MO for an offline client', async () => {
    const hh = setup(upstreamIds());
    const mo = deliverSm({ destination_addr: '+258840001', short_message: Buffer.from('later') });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: mo })).toBe(0);
    const [claim] = await hh.store.takeDeliveries('acme', 10);
    expect(claim?.item.kind).toBe('mo');
  });

  it('refuses MO for an address no client claims', async () => {
    const hh = setup(upstreamIds());
    const mo = deliverSm({ destination_addr: '999', short_message: Buffer.from('who?') });
    expect(await hh.forwarder.handleUpstreamDelivery({ cluster: 'voda', endpoint: 'ep1', pdu: mo })).toBe(
      Status.ESME_RINVDSTADR,
    );
  });
});
