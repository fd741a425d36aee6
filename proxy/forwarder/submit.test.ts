import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigSchema, type ConfigInput } from '../config/schema.js';
import { compileRoutes } from '../router/route-table.js';
import { Status } from '../smpp/index.js';
import type { DataSm, Pdu, SubmitMulti, SubmitMultiResp, SubmitSmResp } from '../smpp/index.js';
import { buildConcatUdh } from '../smpp/concat.js';
import { messageIdKeys } from '../smpp/dlr.js';
import type { MessageStore } from '../store/store.js';
import { createMemoryStore } from '../store/memory-store.js';
import {
  FakeCluster,
  FakeClusterError,
  ID_PREFIX,
  deferred,
  harness,
  respond,
  submitSm,
  type Harness,
} from './testing.js';
import type { SendOptions, SendResult, SendWaiter, UpstreamRequest } from './ports.js';

type RetryInput = NonNullable<NonNullable<ConfigInput['clusters']>[number]['retry']>;

function config(retry: RetryInput = {}, extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    clients: [
      { system_id: 'acme', password: 'x' },
      { system_id: 'beta', password: 'y' },
    ],
    clusters: [
      { name: 'voda', mock: {}, retry },
      { name: 'mcel', mock: {}, retry },
    ],
    routes: [
      { name: 'voda-route', match: { destination: { prefix: '+25884' } }, cluster: 'voda', fallback: ['mcel'], priority: 1 },
      { name: 'mcel-route', match: { destination: { prefix: '25882' } }, cluster: 'mcel', priority: 1 },
    ],
    ...extra,
  };
}

const acme = { systemId: 'acme' };
const far = () => Date.now() + 30_000;

let h: Harness | undefined;
afterEach(() => {
  h?.forwarder.close();
  h = undefined;
  vi.useRealTimers();
});

function setup(cfg: ConfigInput, clusters: FakeCluster[], store?: MessageStore): Harness {
  h = harness({ config: cfg, clusters, store });
  return h;
}

describe('submit_sm routing', () => {
  it('sends to the route cluster and answers with smppd id, the record holding the upstream id', async () => {
    const voda: FakeCluster = new FakeCluster('voda');
    const mcel: FakeCluster = new FakeCluster('mcel');
    const { forwarder, store, feedback } = setup(config(), [voda, mcel]);

    const resp = (await forwarder.handleRequest(acme, submitSm({ destination_addr: '25882555' }), { deadline: far() })) as SubmitSmResp;
    expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: 0, sequence_number: 7 });
    expect(resp.message_id.startsWith(ID_PREFIX)).toBe(true);
    expect(mcel.calls).toHaveLength(1);
    expect(voda.calls).toHaveLength(0);

    const record = await store.get(resp.message_id);
    expect(record).toMatchObject({ client: 'acme', cluster: 'mcel', routeName: 'mcel-route', upstreamId: 'A1', endpoint: 'ep1' });
    expect(feedback.snapshot().routes['mcel-route']).toMatchObject({ decisions: 1, clusters: { mcel: 1 }, outcomes: { ESME_ROK: 1 }, latencyMs: { count: 1 } });
  });

  it('answers ESME_RINVDSTADR when no route matches, sending nothing', async () => {
    const voda: FakeCluster = new FakeCluster('voda');
    const { forwarder, metrics } = setup(config(), [voda, new FakeCluster('mcel')]);
    const resp = await forwarder.handleRequest(acme, submitSm({ destination_addr: '1555' }), { deadline: far() });
    expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: Status.ESME_RINVDSTADR, message_id: '' });
    expect(voda.calls).toHaveLength(0);
    expect((await metrics.submitResponses.get()).values).toEqual([
      expect.objectContaining({ labels: { status: 'ESME_RINVDSTADR' }, value: 1 }),
    ]);
  });

  it('answers data_sm with data_sm_resp carrying smppd id and the upstream TLVs', async () => {
    const voda: FakeCluster = new FakeCluster('voda', (pdu) => ({
      response: { ...respond(pdu, 0, 'FF01'), tlvs: { dpf_result: 0 } },
      endpoint: 'ep1',
      latencyMs: 1,
    }));
    const { forwarder } = setup(config(), [voda, new FakeCluster('mcel')]);
    const data: DataSm = {
      command: 'data_sm',
      command_status: 0,
      sequence_number: 11,
      service_type: '',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '258840000001',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '258841111111',
      esm_class: 0,
      registered_delivery: 1,
      data_coding: 0,
      tlvs: { message_payload: Buffer.from('hi') },
    };
    const resp = await forwarder.handleRequest(acme, data, { deadline: far() });
    expect(resp).toMatchObject({ command: 'data_sm_resp', command_status: 0, sequence_number: 11, tlvs: { dpf_result: 0 } });
    expect((resp as SubmitSmResp).message_id.startsWith(ID_PREFIX)).toBe(true);
  });
});

describe('submit_sm retries', () => {
  it('retries ESME_RTHROTTLED after a jittered backoff, then answers the success', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const voda: FakeCluster = new FakeCluster('voda', (pdu, _o, call) =>
      call === 1 ? voda.refuse(pdu, Status.ESME_RTHROTTLED) : voda.accept(pdu),
    );
    const { forwarder, metrics } = setup(config({ initial_backoff: '200ms', max_backoff: '1s' }), [voda, new FakeCluster('mcel')]);

    const pending = forwarder.handleRequest(acme, submitSm(), { deadline: Date.now() + 10_000 });
    await vi.advanceTimersByTimeAsync(99);
    expect(voda.calls).toHaveLength(1);
    // full jitter with rng 0.5: floor(0.5 * (200 + 1)) = 100 ms
    await vi.advanceTimersByTimeAsync(1);
    const resp = await pending;
    expect(resp).toMatchObject({ command_status: 0 });
    expect(voda.calls).toHaveLength(2);
    expect(voda.calls[1]!.at - voda.calls[0]!.at).toBe(100);
    expect((await metrics.retries.get()).values).toEqual([
      expect.objectContaining({ labels: { cluster: 'voda', reason: 'ESME_RTHROTTLED' }, value: 1 }),
    ]);
  });

  it('a cluster that answers inside sendWith: a refusal, then the retry, and one answer to the client', async () => {
    // The real cluster calls back before sendWith returns when it refuses at once (queue full, no
    // time left): the retry must still go once, after that call, and the client hear one answer.
    class AnswersAtOnce extends FakeCluster {
      override sendWith(pdu: UpstreamRequest, opts: SendOptions, waiter: SendWaiter): void {
        this.calls.push({ pdu: { ...pdu }, opts: { ...opts }, at: Date.now() });
        if (this.calls.length === 1) waiter.rejected(new FakeClusterError('QUEUE_FULL', false, 'ep1'));
        else if (this.calls.length === 2) waiter.resolved(this.refuse(pdu, Status.ESME_RTHROTTLED, 'ep2'));
        else waiter.resolved(this.accept(pdu, 'ep1'));
      }
    }
    const mcel = new AnswersAtOnce('mcel');
    const { forwarder, store } = setup(config({ max_attempts: 5, initial_backoff: '0ms' }), [new FakeCluster('voda'), mcel]);
    const answers: Pdu[] = [];
    forwarder.handleRequestWith(acme, submitSm({ destination_addr: '258820', sequence_number: 42 }), { deadline: far() }, {
      answered: (resp) => answers.push(resp),
      failed: (err) => answers.push({ command: 'generic_nack', command_status: -1, sequence_number: 0, err } as never),
    });
    await vi.waitFor(() => expect(answers).toHaveLength(1));
    expect(answers[0]).toMatchObject({ command: 'submit_sm_resp', command_status: 0, sequence_number: 42 });
    expect(mcel.calls).toHaveLength(3);
    expect(await store.get((answers[0] as SubmitSmResp).message_id)).toMatchObject({ cluster: 'mcel', endpoint: 'ep1' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answers).toHaveLength(1);
  });

  it('after max_attempts answers the upstream status (no fallback configured)', async () => {
    const mcel: FakeCluster = new FakeCluster('mcel', (pdu) => mcel.refuse(pdu, Status.ESME_RMSGQFUL));
    const { forwarder } = setup(config({ max_attempts: 3, initial_backoff: '0ms' }), [new FakeCluster('voda'), mcel]);
    const resp = await forwarder.handleRequest(acme, submitSm({ destination_addr: '258820000' }), { deadline: far() });
    expect(resp).toMatchObject({ command_status: Status.ESME_RMSGQFUL, message_id: '' });
    expect(mcel.calls).toHaveLength(3);
  });

  it('does not retry a status outside retry.on', async () => {
    const mcel: FakeCluster = new FakeCluster('mcel', (pdu) => mcel.refuse(pdu, Status.ESME_RINVDSTADR));
    const { forwarder } = setup(config({ initial_backoff: '0ms' }), [new FakeCluster('voda'), mcel]);
    const resp = await forwarder.handleRequest(acme, submitSm({ destination_addr: '258820000' }), { deadline: far() });
    expect(resp).toMatchObject({ command_status: Status.ESME_RINVDSTADR });
    expect(mcel.calls).toHaveLength(1);
  });

  it('uses the fallback cluster when the route cluster is unavailable', async () => {
    const voda: FakeCluster = new FakeCluster('voda');
    voda.up = false;
    const mcel: FakeCluster = new FakeCluster('mcel');
    const { forwarder, store, feedback } = setup(config(), [voda, mcel]);
    const resp = (await forwarder.handleRequest(acme, submitSm(), { deadline: far() })) as SubmitSmResp;
    expect(resp.command_status).toBe(0);
    expect(voda.calls).toHaveLength(0);
    expect(mcel.calls).toHaveLength(1);
    expect(await store.get(resp.message_id)).toMatchObject({ cluster: 'mcel', routeName: 'voda-route' });
    expect(feedback.snapshot().routes['voda-route']?.clusters).toEqual({ mcel: 1 });
  });

  it('uses the fallback cluster when send rejects UNAVAILABLE and when retries are exhausted', async () => {
    const voda: FakeCluster = new FakeCluster('voda', () => {
      throw new FakeClusterError('UNAVAILABLE', false);
    });
    const mcel: FakeCluster = new FakeCluster('mcel');
    const { forwarder } = setup(config({ initial_backoff: '0ms' }), [voda, mcel]);
    expect(await forwarder.handleRequest(acme, submitSm(), { deadline: far() })).toMatchObject({ command_status: 0 });
    expect(voda.calls).toHaveLength(1);
    expect(mcel.calls).toHaveLength(1);

    voda.handler = (pdu) => voda.refuse(pdu, Status.ESME_RTHROTTLED);
    expect(await forwarder.handleRequest(acme, submitSm(), { deadline: far() })).toMatchObject({ command_status: 0 });
    expect(voda.calls).toHaveLength(1 + 3);
    expect(mcel.calls).toHaveLength(2);
  });

  it('answers ESME_RSYSERR when every cluster is unavailable', async () => {
    const voda: FakeCluster = new FakeCluster('voda');
    const mcel: FakeCluster = new FakeCluster('mcel');
    voda.up = false;
    mcel.up = false;
    const { forwarder } = setup(config(), [voda, mcel]);
    expect(await forwarder.handleRequest(acme, submitSm(), { deadline: far() })).toMatchObject({
      command_status: Status.ESME_RSYSERR,
    });
  });

  it('retries a timeout or disconnect that may have reached the SMSC only when listed in retry.on', async () => {
    const timeout = (): never => {
      throw new FakeClusterError('TIMEOUT', true, 'ep1');
    };
    const optedOut: FakeCluster = new FakeCluster('mcel', timeout);
    const h1 = setup(config({ initial_backoff: '0ms', on: [0x58] }), [new FakeCluster('voda'), optedOut]);
    expect(await h1.forwarder.handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: far() })).toMatchObject({
      command_status: Status.ESME_RSYSERR,
    });
    expect(optedOut.calls).toHaveLength(1);
    h1.forwarder.close();

    const lost: FakeCluster = new FakeCluster('mcel', () => {
      throw new FakeClusterError('DISCONNECT', true, 'ep1');
    });
    const h3 = setup(config({ initial_backoff: '0ms', on: [0x58, 'timeout'] }), [new FakeCluster('voda'), lost]);
    await h3.forwarder.handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: far() });
    expect(lost.calls).toHaveLength(1);
    h3.forwarder.close();

    const optedIn: FakeCluster = new FakeCluster('mcel', timeout);
    const h2 = setup(config({ initial_backoff: '0ms', on: [0x58, 'timeout'] }), [new FakeCluster('voda'), optedIn]);
    await h2.forwarder.handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: far() });
    expect(optedIn.calls).toHaveLength(3);
  });

  it('always retries a request that never left smppd (queue full), even with an empty retry.on', async () => {
    const mcel: FakeCluster = new FakeCluster('mcel', (pdu, _o, call) => {
      if (call === 1) throw new FakeClusterError('QUEUE_FULL', false, 'ep1');
      return mcel.accept(pdu);
    });
    const { forwarder } = setup(config({ initial_backoff: '0ms', on: [] }), [new FakeCluster('voda'), mcel]);
    expect(await forwarder.handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: far() })).toMatchObject({
      command_status: 0,
    });
    expect(mcel.calls).toHaveLength(2);
  });

  it('retries on another endpoint of a multi-endpoint cluster', async () => {
    const cfg: ConfigInput = {
      clients: [{ system_id: 'acme', password: 'x' }],
      clusters: [
        {
          name: 'big',
          endpoints: [
            { address: '10.0.0.1:2775', system_id: 'a' },
            { address: '10.0.0.2:2775', system_id: 'a' },
          ],
          retry: { initial_backoff: '0ms' },
        },
      ],
      routes: [{ name: 'all', cluster: 'big' }],
    };
    const big: FakeCluster = new FakeCluster('big', (pdu, _o, call) =>
      call === 1 ? big.refuse(pdu, Status.ESME_RTHROTTLED, '10.0.0.1:2775') : big.accept(pdu, '10.0.0.2:2775'),
    );
    const { forwarder } = setup(cfg, [big]);
    await forwarder.handleRequest(acme, submitSm(), { deadline: far() });
    expect(big.calls[0]!.opts.exclude).toBeUndefined();
    expect([...(big.calls[1]!.opts.exclude ?? [])]).toEqual(['10.0.0.1:2775']);
  });

  it('gives every request exactly one response when the deadline passes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    // The cluster honours the attempt budget: it rejects with TIMEOUT when timeoutMs has passed.
    const mcel: FakeCluster = new FakeCluster(
      'mcel',
      (_pdu, opts) =>
        new Promise<SendResult>((_resolve, reject) => {
          setTimeout(() => reject(new FakeClusterError('TIMEOUT', true, 'ep1')), Math.min(opts.timeoutMs, 400));
        }),
    );
    const { forwarder } = setup(config({ max_attempts: 10, initial_backoff: '100ms', max_backoff: '100ms' }), [
      new FakeCluster('voda'),
      mcel,
    ]);
    const start = Date.now();
    const answers: unknown[] = [];
    const pending = forwarder
      .handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: start + 1000 })
      .then((r) => answers.push(r));
    await vi.advanceTimersByTimeAsync(999);
    expect(answers).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(answers).toEqual([expect.objectContaining({ command_status: Status.ESME_RSYSERR })]);
    // Attempts at 0, 450 (400 + 50 backoff), 900 (its budget ends at the deadline).
    expect(mcel.calls.map((c) => c.at - start)).toEqual([0, 450, 900]);
    expect(mcel.calls[2]!.opts.timeoutMs).toBe(100);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(answers).toHaveLength(1);
  });

  it('answers the last upstream status when a backoff would pass the deadline', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const mcel: FakeCluster = new FakeCluster('mcel', (pdu) => mcel.refuse(pdu, Status.ESME_RTHROTTLED));
    const { forwarder } = setup(config({ max_attempts: 5, initial_backoff: '2s', max_backoff: '2s' }), [new FakeCluster('voda'), mcel]);
    // Backoff 1000 ms (rng 0.5 of 2 s) ends at the deadline: no second attempt.
    const resp = await forwarder.handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: Date.now() + 1000 });
    expect(resp).toMatchObject({ command_status: Status.ESME_RTHROTTLED });
    expect(mcel.calls).toHaveLength(1);
  });
});

describe('submit_sm acknowledgement', () => {
  it('acknowledges only after the upstream accepted, writing the record with its upstream id then', async () => {
    const answer = deferred<SendResult>();
    const sent = deferred<void>();
    const mcel: FakeCluster = new FakeCluster('mcel', () => {
      sent.resolve();
      return answer.promise;
    });
    const { forwarder, store } = setup(config(), [new FakeCluster('voda'), mcel]);
    let settled = false;
    // Read before the call: the forwarder reads its clock as the submit arrives, inside it.
    const arrived = Date.now();
    const pending = forwarder.handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: far() });
    void pending.then(() => (settled = true));
    await sent.promise;
    expect(settled).toBe(false);
    const id = `${ID_PREFIX}0`;
    // One store write per message, after the upstream accepted (submit.ts).
    expect(await store.get(id)).toBeUndefined();

    answer.resolve(mcel.accept(mcel.calls[0]!.pdu));
    const resp = (await pending) as SubmitSmResp;
    expect(resp).toMatchObject({ command_status: 0, message_id: id });
    const record = await store.get(id);
    expect(record).toMatchObject({ upstreamId: 'A1', cluster: 'mcel', endpoint: 'ep1', routeName: 'mcel-route' });
    // The time the submit arrived, not the time it was written.
    expect(record!.createdAt).toBeGreaterThanOrEqual(arrived);
    expect(record!.createdAt).toBeLessThanOrEqual(mcel.calls[0]!.at);
  });

  it('writes nothing when the upstream refuses the message', async () => {
    const mcel: FakeCluster = new FakeCluster('mcel', (pdu) => mcel.refuse(pdu, Status.ESME_RINVSRCADR));
    const { forwarder, store } = setup(config(), [new FakeCluster('voda'), mcel]);
    const resp = await forwarder.handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: far() });
    expect(resp).toMatchObject({ command_status: Status.ESME_RINVSRCADR, message_id: '' });
    expect((await store.stats()).entries).toBe(0);
  });

  it("answers with the client's sequence number though the upstream numbers the PDU in place", async () => {
    // The PDU goes upstream as it came, not copied (bench: `npm run bench`); the client session
    // answers with the sequence number it received (IncomingRequest.sequenceNumber).
    const mcel: FakeCluster = new FakeCluster('mcel', (pdu) => {
      pdu.sequence_number = 12345; // what the upstream session does
      return mcel.accept(pdu);
    });
    const { forwarder } = setup(config(), [new FakeCluster('voda'), mcel]);
    const pdu = submitSm({ destination_addr: '258820', sequence_number: 42 });
    const resp = await forwarder.handleRequest(acme, pdu, { deadline: far() });
    expect(resp.sequence_number).toBe(42);
  });

  it('answers a retriable ESME_RMSGQFUL, not ESME_ROK, when the store is unavailable; nothing is sent', async () => {
    const store = createMemoryStore({ ttlMs: 60_000 });
    let healthy = false;
    store.healthy = () => healthy;
    const mcel: FakeCluster = new FakeCluster('mcel');
    const { forwarder, metrics } = setup(config(), [new FakeCluster('voda'), mcel], store);
    const resp = await forwarder.handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: far() });
    expect(resp).toMatchObject({ command_status: Status.ESME_RMSGQFUL, message_id: '' });
    expect(mcel.calls).toHaveLength(0);
    expect((await metrics.submitResponses.get()).values).toEqual([
      expect.objectContaining({ labels: { status: 'ESME_RMSGQFUL' }, value: 1 }),
    ]);

    healthy = true;
    expect(await forwarder.handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: far() })).toMatchObject({
      command_status: 0,
    });
    expect(mcel.calls).toHaveLength(1);
  });

  it('answers ESME_RSYSERR when the store cannot write the accepted message', async () => {
    const store = createMemoryStore({ ttlMs: 60_000 });
    store.saveAcceptedWith = (_record, _cluster, _upstreamId, _keys, _endpoint, done) => done.notStored(new Error('down'));
    const mcel: FakeCluster = new FakeCluster('mcel');
    const { forwarder } = setup(config(), [new FakeCluster('voda'), mcel], store);
    const resp = await forwarder.handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: far() });
    expect(resp).toMatchObject({ command_status: Status.ESME_RSYSERR, message_id: '' });
    expect(mcel.calls).toHaveLength(1);
  });

  it('answers submit_multi ESME_RMSGQFUL when the store fails to save, and ESME_RSYSERR when it cannot record the upstream id', async () => {
    const multi: SubmitMulti = {
      ...submitSm(),
      command: 'submit_multi',
      dest_addresses: [{ dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '258820' }],
    };
    const store = createMemoryStore({ ttlMs: 60_000 });
    const { save, setUpstreamId } = store;
    store.save = () => Promise.reject(new Error('down'));
    const mcel: FakeCluster = new FakeCluster('mcel');
    const { forwarder } = setup(config(), [new FakeCluster('voda'), mcel], store);
    expect(await forwarder.handleRequest(acme, multi, { deadline: far() })).toMatchObject({ command_status: Status.ESME_RMSGQFUL });
    expect(mcel.calls).toHaveLength(0);

    store.save = save;
    store.setUpstreamId = () => Promise.reject(new Error('down'));
    expect(await forwarder.handleRequest(acme, multi, { deadline: far() })).toMatchObject({ command_status: Status.ESME_RSYSERR });
    expect(mcel.calls).toHaveLength(1);
    store.setUpstreamId = setUpstreamId;
  });
});

describe('multipart', () => {
  it('gives every part of one concatenated message the same affinity key (UDH and SAR)', async () => {
    const mcel: FakeCluster = new FakeCluster('mcel');
    const { forwarder } = setup(config(), [new FakeCluster('voda'), mcel]);
    const part = (ref: number, seq: number) =>
      submitSm({
        destination_addr: '258820',
        esm_class: 0x40,
        short_message: Buffer.concat([buildConcatUdh(ref, 3, seq), Buffer.from(`part ${seq}`)]),
      });
    for (const seq of [1, 2, 3]) await forwarder.handleRequest(acme, part(0x2a, seq), { deadline: far() });
    await forwarder.handleRequest(acme, part(0x2b, 1), { deadline: far() });
    const sar = (seq: number) =>
      submitSm({ destination_addr: '258820', tlvs: { sar_msg_ref_num: 77, sar_total_segments: 2, sar_segment_seqnum: seq } });
    for (const seq of [1, 2]) await forwarder.handleRequest(acme, sar(seq), { deadline: far() });
    await forwarder.handleRequest(acme, submitSm({ destination_addr: '258820' }), { deadline: far() });

    const keys = mcel.calls.map((c) => c.opts.affinity);
    expect(keys[0]).toBe('acme|258840000001|258820|42');
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[0]);
    expect(keys[4]).toBe(keys[5]);
    expect(keys[4]).not.toBe(keys[0]);
    expect(keys[6]).toBeUndefined();
  });
});

describe('submit_multi', () => {
  it('splits destinations by route and lists the unsuccessful ones in one response', async () => {
    const voda: FakeCluster = new FakeCluster('voda', (pdu) => {
      const resp = respond(pdu, 0, 'B00') as SubmitMultiResp;
      resp.unsuccess_smes = [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '258841000002', error_status_code: 0x0b }];
      return { response: resp, endpoint: 'ep1', latencyMs: 1 };
    });
    const mcel: FakeCluster = new FakeCluster('mcel', (pdu) => mcel.refuse(pdu, Status.ESME_RINVSRCADR));
    const { forwarder, store } = setup(config(), [voda, mcel]);
    const dest = (addr: string) => ({ dest_flag: 1 as const, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: addr });
    const multi: SubmitMulti = {
      ...submitSm(),
      command: 'submit_multi',
      sequence_number: 5,
      dest_addresses: [dest('258841000001'), dest('258820000001'), dest('258841000002'), dest('1999'), dest('258820000002')],
    };
    const resp = (await forwarder.handleRequest(acme, multi, { deadline: far() })) as SubmitMultiResp;

    expect(voda.calls).toHaveLength(1);
    expect((voda.calls[0]!.pdu as SubmitMulti).dest_addresses.map((d) => d.dest_flag === 1 && d.destination_addr)).toEqual([
      '258841000001',
      '258841000002',
    ]);
    expect((mcel.calls[0]!.pdu as SubmitMulti).dest_addresses).toHaveLength(2);
    expect(resp).toMatchObject({ command: 'submit_multi_resp', command_status: 0, sequence_number: 5 });
    expect(resp.message_id.startsWith(ID_PREFIX)).toBe(true);
    expect(resp.unsuccess_smes.map((u) => [u.destination_addr, u.error_status_code]).sort()).toEqual(
      [
        ['1999', Status.ESME_RINVDSTADR],
        ['258820000001', Status.ESME_RINVSRCADR],
        ['258820000002', Status.ESME_RINVSRCADR],
        ['258841000002', 0x0b],
      ].sort(),
    );
    expect(await store.get(resp.message_id)).toMatchObject({ cluster: 'voda', upstreamId: 'B00', parts: 2 });
  });

  it('answers an error without a message id when no destination was accepted', async () => {
    const voda: FakeCluster = new FakeCluster('voda', (pdu) => voda.refuse(pdu, Status.ESME_RINVSRCADR));
    const { forwarder } = setup(config(), [voda, new FakeCluster('mcel')]);
    const multi: SubmitMulti = {
      ...submitSm(),
      command: 'submit_multi',
      dest_addresses: [{ dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '258841' }],
    };
    expect(await forwarder.handleRequest(acme, multi, { deadline: far() })).toMatchObject({
      command_status: Status.ESME_RINVSRCADR,
      message_id: '',
    });
    const unroutable: SubmitMulti = { ...multi, dest_addresses: [{ dest_flag: 2, dl_name: 'friends' }] };
    expect(await forwarder.handleRequest(acme, unroutable, { deadline: far() })).toMatchObject({
      command_status: Status.ESME_RINVDSTADR,
    });
  });
});

describe('submit_multi to an SMSC without it (cluster submit_multi)', () => {
  const dest = (addr: string) => ({ dest_flag: 1 as const, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: addr });
  const multiTo = (...addrs: string[]): SubmitMulti => ({
    ...submitSm(),
    command: 'submit_multi',
    sequence_number: 9,
    dest_addresses: addrs.map(dest),
  });
  /** A cluster config with `submit_multi` set on voda, which also takes what no prefix matches (distribution lists). */
  const withMode = (mode: 'auto' | 'native' | 'split'): ConfigInput => {
    const cfg = config();
    cfg.clusters = cfg.clusters!.map((c) => (c.name === 'voda' ? { ...c, submit_multi: mode } : c));
    cfg.routes = [...cfg.routes!, { name: 'rest', match: {}, cluster: 'voda', priority: 9 }];
    return cfg;
  };
  /** An SMSC that answers submit_multi ESME_RINVCMDID, refuses one destination and accepts the rest. */
  const noMulti = (): FakeCluster => {
    const voda: FakeCluster = new FakeCluster('voda', (pdu) => {
      if (pdu.command === 'submit_multi') return voda.refuse(pdu, Status.ESME_RINVCMDID);
      const to = (pdu as { destination_addr: string }).destination_addr;
      return to === '258841000009' ? voda.refuse(pdu, Status.ESME_RINVDSTADR) : voda.accept(pdu);
    });
    return voda;
  };

  it('split: one submit_sm per destination, one response, every upstream id finds the message', async () => {
    const voda = noMulti();
    const { forwarder, store } = setup(withMode('split'), [voda, new FakeCluster('mcel')]);
    const multi: SubmitMulti = {
      ...multiTo('258841000001', '258841000002', '258841000009'),
      dest_addresses: [dest('258841000001'), dest('258841000002'), dest('258841000009'), { dest_flag: 2, dl_name: 'friends' }],
    };
    const resp = (await forwarder.handleRequest(acme, multi, { deadline: far() })) as SubmitMultiResp;

    expect(voda.calls.map((c) => [c.pdu.command, (c.pdu as { destination_addr: string }).destination_addr])).toEqual([
      ['submit_sm', '258841000001'],
      ['submit_sm', '258841000002'],
      ['submit_sm', '258841000009'],
    ]);
    expect(voda.calls[0]!.pdu).toMatchObject({ source_addr: multi.source_addr, short_message: multi.short_message, registered_delivery: multi.registered_delivery });
    expect(resp).toMatchObject({ command: 'submit_multi_resp', command_status: 0, sequence_number: 9 });
    expect(resp.unsuccess_smes.map((u) => [u.destination_addr, u.error_status_code]).sort()).toEqual(
      [
        ['258841000009', Status.ESME_RINVDSTADR],
        ['friends', Status.ESME_RINVDLNAME],
      ].sort(),
    );
    // The accepted destinations' ids (A1, A2): a receipt for either finds smppd's one message.
    for (const upstreamId of ['A1', 'A2']) {
      expect(await store.findByUpstream('voda', messageIdKeys(upstreamId, 'auto'))).toMatchObject({ id: resp.message_id, parts: 3 });
    }
  });

  it('auto: the first ESME_RINVCMDID turns that message and every later one into submit_sm, until a reload', async () => {
    const voda = noMulti();
    const { forwarder } = setup(withMode('auto'), [voda, new FakeCluster('mcel')]);
    const first = (await forwarder.handleRequest(acme, multiTo('258841000001', '258841000002'), { deadline: far() })) as SubmitMultiResp;
    expect(first).toMatchObject({ command_status: 0, unsuccess_smes: [] });
    const second = (await forwarder.handleRequest(acme, multiTo('258841000003'), { deadline: far() })) as SubmitMultiResp;
    expect(second).toMatchObject({ command_status: 0, unsuccess_smes: [] });
    expect(voda.calls.map((c) => c.pdu.command)).toEqual(['submit_multi', 'submit_sm', 'submit_sm', 'submit_sm']);

    // A reload may point the cluster at another SMSC: submit_multi is tried again.
    const reloaded = ConfigSchema.parse(withMode('auto'));
    forwarder.update({ router: compileRoutes(reloaded.routes), config: reloaded });
    voda.calls.length = 0;
    await forwarder.handleRequest(acme, multiTo('258841000004'), { deadline: far() });
    expect(voda.calls.map((c) => c.pdu.command)).toEqual(['submit_multi', 'submit_sm']);
  });

  /**
   * A submit_multi to two destinations, routed to `voda` with fallback mcel on `split` (mcel refuses
   * submit_multi): the response, and the commands mcel got.
   */
  async function viaSplitFallback(voda: FakeCluster): Promise<{ resp: SubmitMultiResp; mcelCommands: string[] }> {
    const mcel: FakeCluster = new FakeCluster('mcel', (pdu) => (pdu.command === 'submit_multi' ? mcel.refuse(pdu, Status.ESME_RINVCMDID) : mcel.accept(pdu)));
    const cfg = config();
    cfg.clusters = cfg.clusters!.map((c) => (c.name === 'mcel' ? { ...c, submit_multi: 'split' as const } : c));
    const { forwarder } = setup(cfg, [voda, mcel]);
    const resp = (await forwarder.handleRequest(acme, multiTo('258841000001', '258841000002'), { deadline: far() })) as SubmitMultiResp;
    return { resp, mcelCommands: mcel.calls.map((c) => c.pdu.command) };
  }

  it('a fallback cluster on split gets submit_sm per destination when the primary is down, and no submit_multi to refuse', async () => {
    const voda = new FakeCluster('voda');
    voda.up = false;
    const { resp, mcelCommands } = await viaSplitFallback(voda);
    expect(resp).toMatchObject({ command_status: 0, unsuccess_smes: [] });
    expect(mcelCommands).toEqual(['submit_sm', 'submit_sm']);
  });

  it('a fallback on split that takes over only when the primary fails the send still splits, after refusing the submit_multi', async () => {
    // The primary is up when the mode is decided, then fails the send: the fallback gets the
    // submit_multi, refuses it, and the destinations go as submit_sm.
    const voda = new FakeCluster('voda', () => {
      throw new FakeClusterError('UNAVAILABLE', false);
    });
    const { resp, mcelCommands } = await viaSplitFallback(voda);
    expect(resp).toMatchObject({ command_status: 0, unsuccess_smes: [] });
    expect(mcelCommands).toEqual(['submit_multi', 'submit_sm', 'submit_sm']);
  });

  it('native: the SMSC\'s ESME_RINVCMDID is the answer', async () => {
    const voda = noMulti();
    const { forwarder } = setup(withMode('native'), [voda, new FakeCluster('mcel')]);
    const resp = await forwarder.handleRequest(acme, multiTo('258841000001'), { deadline: far() });
    expect(resp).toMatchObject({ command_status: Status.ESME_RINVCMDID, message_id: '' });
    expect(voda.calls.map((c) => c.pdu.command)).toEqual(['submit_multi']);
  });
});
