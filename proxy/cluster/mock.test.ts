import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClusterSchema } from '../config/cluster-schema.js';
import type { ClusterConfigInput } from '../config/schema.js';
import { systemTimers, type Timers } from '../session/index.js';
import { submitSm } from '../session/testing.js';
import {
  Status,
  type CancelSm,
  type DeliverSm,
  type PduOf,
  type QuerySm,
  type SubmitMulti,
  type SubmitSm,
} from '../smpp/index.js';
import { parseReceiptText } from '../smpp/dlr.js';
import { createCluster, MOCK_ENDPOINT, type ClusterDeps, type SendResult, type UpstreamDelivery } from './index.js';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

function mockCluster(mock: Record<string, unknown> = {}, extra: Partial<ClusterConfigInput> = {}, deps: Partial<ClusterDeps> = {}) {
  const deliveries: UpstreamDelivery[] = [];
  const config = ClusterSchema.parse({
    name: 'test',
    mock: { response: 'success', latency: '50ms', dlr: 'delivered', dlr_delay: '1s', ...mock },
    ...extra,
  });
  const cluster = createCluster(config, {
    onDelivery: async (d) => {
      deliveries.push(d);
      return Status.ESME_ROK;
    },
    ...deps,
  });
  cluster.start();
  return { cluster, deliveries };
}

function sm(fields: Partial<SubmitSm> = {}): SubmitSm {
  return { ...submitSm({ source_addr: '1000', destination_addr: '25884000001', ...fields }), sequence_number: 0, command_status: 0 };
}

function querySm(message_id: string): QuerySm {
  return { command: 'query_sm', command_status: 0, sequence_number: 0, message_id, source_addr_ton: 0, source_addr_npi: 0, source_addr: '' };
}

function cancelSm(message_id: string): CancelSm {
  return {
    command: 'cancel_sm',
    command_status: 0,
    sequence_number: 0,
    service_type: '',
    message_id,
    source_addr_ton: 0,
    source_addr_npi: 0,
    source_addr: '',
    dest_addr_ton: 0,
    dest_addr_npi: 0,
    destination_addr: '',
  };
}

function idOf(r: SendResult): string {
  return (r.response as PduOf<'submit_sm_resp'>).message_id;
}

describe('mock cluster', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers after `latency` with its own id, then sends a text + TLV receipt after `dlr_delay`', async () => {
    const { cluster, deliveries } = mockCluster();
    let result: SendResult | undefined;
    void cluster.send(sm({ short_message: Buffer.from('Hello from the test suite') }), { timeoutMs: 5000 }).then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(49);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(result).toMatchObject({ endpoint: MOCK_ENDPOINT, latencyMs: 50, response: { command: 'submit_sm_resp', command_status: 0 } });
    const id = idOf(result!);
    expect(id).toMatch(/^[0-9A-F]+$/);

    await vi.advanceTimersByTimeAsync(999);
    expect(deliveries).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    expect(deliveries).toHaveLength(1);
    const { cluster: name, endpoint, pdu } = deliveries[0]!;
    expect({ name, endpoint }).toEqual({ name: 'test', endpoint: MOCK_ENDPOINT });
    const receipt = pdu as DeliverSm;
    expect(receipt).toMatchObject({
      command: 'deliver_sm',
      esm_class: 0x04,
      source_addr: '25884000001',
      destination_addr: '1000',
      tlvs: { receipted_message_id: id, message_state: 2 },
    });
    const text = parseReceiptText(receipt.short_message);
    expect(text).toMatchObject({ ok: true, receipt: { id, stat: 'DELIVRD', dlvrd: '001', err: '000', text: 'Hello from the test ' } });
    expect(receipt.short_message.toString()).toContain('submit date:2501020304 done date:2501020304');
    await cluster.close();
  });

  it('query_sm reports the state; cancel_sm works on known ids in flight and stops the receipt', async () => {
    const { cluster, deliveries } = mockCluster({ latency: '0ms' });
    const first = cluster.send(sm(), { timeoutMs: 1000 });
    const second = cluster.send(sm(), { timeoutMs: 1000 });
    await vi.advanceTimersByTimeAsync(1);
    const [a, b] = [idOf(await first), idOf(await second)];
    expect(a).not.toBe(b);

    /** Sends and lets the (zero) latency pass. */
    const ask = async (pdu: QuerySm | CancelSm) => {
      const p = cluster.send(pdu, { timeoutMs: 1000 });
      await vi.advanceTimersByTimeAsync(1);
      return (await p).response;
    };
    expect(await ask(querySm(a))).toMatchObject({ command_status: 0, message_id: a, message_state: 1, final_date: '' });
    expect(await ask(querySm('nope'))).toMatchObject({ command_status: Status.ESME_RQUERYFAIL });
    expect(await ask(cancelSm(b))).toMatchObject({ command: 'cancel_sm_resp', command_status: 0 });
    expect(await ask(cancelSm('nope'))).toMatchObject({ command_status: Status.ESME_RCANCELFAIL });

    await vi.advanceTimersByTimeAsync(1100);
    expect(deliveries.map((d) => (d.pdu.tlvs ?? {}).receipted_message_id)).toEqual([a]);
    const state = await ask(querySm(a));
    expect(state).toMatchObject({ message_state: 2 });
    expect((state as PduOf<'query_sm_resp'>).final_date).toMatch(/^\d{12}\d00\+$/);
    expect(await ask(querySm(b))).toMatchObject({ message_state: 4 });
    expect(await ask(cancelSm(a))).toMatchObject({ command_status: Status.ESME_RCANCELFAIL });
    await cluster.close();
  });

  it('follows registered_delivery: none, on success or failure, on failure only', async () => {
    const delivered = mockCluster({ latency: '0ms' });
    const failed = mockCluster({ latency: '0ms', dlr: 'undeliverable' });
    for (const { cluster } of [delivered, failed]) {
      for (const rd of [0, 1, 2]) {
        void cluster.send(sm({ registered_delivery: rd, short_message: Buffer.from(`rd${rd}`) }), { timeoutMs: 1000 });
      }
    }
    await vi.advanceTimersByTimeAsync(1100);
    const stats = (ds: UpstreamDelivery[]) => ds.map((d) => parseReceiptText((d.pdu as DeliverSm).short_message));
    expect(stats(delivered.deliveries)).toMatchObject([{ ok: true, receipt: { stat: 'DELIVRD', text: 'rd1' } }]);
    expect(stats(failed.deliveries)).toMatchObject([
      { ok: true, receipt: { stat: 'UNDELIV', text: 'rd1' } },
      { ok: true, receipt: { stat: 'UNDELIV', text: 'rd2' } },
    ]);
    expect(failed.deliveries[0]!.pdu.tlvs).toMatchObject({ message_state: 5 });
    await delivered.cluster.close();
    await failed.cluster.close();
  });

  it('injects errors and throttling, and answers `response` when it is an error status', async () => {
    const errors = mockCluster({ latency: '0ms', error_rate: 1, error_status: 'ESME_RSUBMITFAIL' });
    const throttled = mockCluster({ latency: '0ms', throttle_rate: 1 });
    const refusing = mockCluster({ latency: '0ms', response: 'ESME_RINVDSTADR' });
    const rs = [errors, throttled, refusing].map(({ cluster }) => cluster.send(sm(), { timeoutMs: 1000 }));
    await vi.advanceTimersByTimeAsync(1);
    expect((await Promise.all(rs)).map((r) => r.response.command_status)).toEqual([
      Status.ESME_RSUBMITFAIL,
      Status.ESME_RTHROTTLED,
      Status.ESME_RINVDSTADR,
    ]);
    await vi.advanceTimersByTimeAsync(2000);
    expect([errors, throttled, refusing].flatMap((m) => m.deliveries)).toEqual([]);
  });

  it('submit_multi gets one id and a receipt per destination; data_sm is answered too', async () => {
    const { cluster, deliveries } = mockCluster({ latency: '0ms' }, { message_id: 'decimal' });
    const { command: _c, destination_addr: _d, dest_addr_ton: _t, dest_addr_npi: _n, ...rest } = sm();
    const multi: SubmitMulti = {
      ...rest,
      command: 'submit_multi',
      dest_addresses: [
        { dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '111' },
        { dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '222' },
      ],
    };
    const m = cluster.send(multi, { timeoutMs: 1000 });
    const d = cluster.send(
      {
        command: 'data_sm',
        command_status: 0,
        sequence_number: 0,
        service_type: '',
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: '1000',
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: '333',
        esm_class: 0,
        registered_delivery: 1,
        data_coding: 0,
      },
      { timeoutMs: 1000 },
    );
    await vi.advanceTimersByTimeAsync(1);
    const multiResp = (await m).response as PduOf<'submit_multi_resp'>;
    expect(multiResp).toMatchObject({ command: 'submit_multi_resp', command_status: 0, unsuccess_smes: [] });
    expect(multiResp.message_id).toMatch(/^\d+$/);
    expect((await d).response).toMatchObject({ command: 'data_sm_resp', command_status: 0 });
    await vi.advanceTimersByTimeAsync(1100);
    expect(deliveries.map((x) => (x.pdu as DeliverSm).source_addr).sort()).toEqual(['111', '222', '333']);
    await cluster.close();
  });

  it('a deadline shorter than the latency times out (sent); throughput waits or refuses', async () => {
    const slow = mockCluster({ latency: '500ms' });
    const late = slow.cluster.send(sm(), { timeoutMs: 100 });
    late.catch(() => {});
    await vi.advanceTimersByTimeAsync(100);
    await expect(late).rejects.toMatchObject({ code: 'TIMEOUT', sent: true });

    const limited = mockCluster({ latency: '0ms' }, { throughput: 2 });
    const outcomes = Promise.allSettled([0, 1, 2, 3].map(() => limited.cluster.send(sm(), { timeoutMs: 600 })));
    await vi.advanceTimersByTimeAsync(600);
    const settled = await outcomes;
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect(settled[3]).toMatchObject({ reason: { code: 'THROTTLED', sent: false } });
    await slow.cluster.close();
    await limited.cluster.close();
  });

  it('retries a receipt the forwarder refuses, up to 3 deliveries', async () => {
    const statuses = [Status.ESME_RX_T_APPN, Status.ESME_RX_T_APPN, Status.ESME_RX_T_APPN, Status.ESME_ROK];
    const calls: number[] = [];
    const { cluster } = mockCluster({ latency: '0ms', dlr_delay: '1s' }, {}, {
      onDelivery: async () => {
        calls.push(Date.now() - T0);
        return statuses.shift()!;
      },
    });
    void cluster.send(sm(), { timeoutMs: 1000 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(3);
    await cluster.close();
  });

  it('keeps its timers few: 1,000 messages cost a handful of timers, not thousands', async () => {
    let armed = 0;
    const timers: Timers = {
      now: () => systemTimers.now(),
      setTimeout: (fn, ms) => {
        armed++;
        return systemTimers.setTimeout(fn, ms);
      },
      clearTimeout: (h) => systemTimers.clearTimeout(h),
    };
    const { cluster, deliveries } = mockCluster({}, {}, { timers });
    const results = Promise.all(Array.from({ length: 1000 }, () => cluster.send(sm(), { timeoutMs: 5000 })));
    await vi.advanceTimersByTimeAsync(50);
    expect(new Set((await results).map(idOf)).size).toBe(1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(deliveries).toHaveLength(1000);
    expect(armed).toBeLessThanOrEqual(4);
    expect(cluster.health()).toMatchObject({ mock: true, available: true, endpoints: [{ name: MOCK_ENDPOINT, state: 'bound', inFlight: 0 }] });
    await cluster.close();
    expect(cluster.available()).toBe(false);
    await expect(cluster.send(sm(), { timeoutMs: 100 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('close() answers what is in flight', async () => {
    const { cluster } = mockCluster({ latency: '10s' });
    const pending = cluster.send(sm(), { timeoutMs: 60_000 });
    await cluster.close();
    expect((await pending).response.command_status).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
