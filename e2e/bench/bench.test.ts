import { afterEach, describe, expect, it } from 'vitest';
import { Status, type PduOf } from '../../proxy/smpp/index.js';
import { UsageError } from '../sim/cli-values.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../sim/index.js';
import { BindError, ReceiptMatcher, openIdleSessions, runBench } from './index.js';
import { parseBenchArgs } from './cli.js';
import { formatResult } from './report.js';

const sims: Simulator[] = [];

afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function sim(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const s = await startSimulator({ seed: 11, ...options });
  sims.push(s);
  return s;
}

function deliver(short: string, tlvs?: PduOf<'deliver_sm'>['tlvs']): PduOf<'deliver_sm'> {
  return {
    command: 'deliver_sm',
    command_status: 0,
    sequence_number: 1,
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '1',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '2',
    esm_class: 4,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 0,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.from(short, 'latin1'),
    tlvs,
  };
}

describe('runBench against the simulator', () => {
  it('counts every response (closed loop)', async () => {
    const s = await sim();
    const r = await runBench({ port: s.port, count: 2000, binds: 2, window: 50 });
    expect(r).toMatchObject({ mode: 'closed', sent: 2000, responses: 2000, ok: 2000, byStatus: { ESME_ROK: 2000 }, failures: {} });
    expect(r.latency.count).toBe(2000);
    expect(r.msgPerSec).toBeGreaterThan(0);
    expect(r.receipts).toBeUndefined();
    expect(s.stats()).toMatchObject({ submitSm: 2000, binds: 2, receiptsSent: 0 });
    const printed = formatResult(r);
    expect(printed).toContain('ESME_ROK 2,000');
    expect(printed).toMatch(/^throughput +[\d,]+ msg\/s/m);
    // The percentiles as the run measured them.
    const percentiles = /^latency ms +p50 ([\d.]+) +p90 ([\d.]+) +p99 ([\d.]+) +max ([\d.]+)$/m.exec(printed)?.slice(1).map(Number);
    const measured = [r.latency.p50, r.latency.p90, r.latency.p99, r.latency.max];
    expect(percentiles).toHaveLength(4);
    percentiles!.forEach((printedMs, i) => expect(printedMs).toBeCloseTo(measured[i]!, measured[i]! < 100 ? 1 : 0));
  });

  it('matches a text receipt with a hex id to every accepted submit', async () => {
    const s = await sim({ ids: 'hex', receipts: 'text' });
    const r = await runBench({ port: s.port, count: 2000, binds: 2, window: 50, receipts: true });
    expect(r.ok).toBe(2000);
    expect(r.receipts).toMatchObject({ expected: 2000, received: 2000, matched: 2000, unmatched: 0, duplicates: 0, missing: 0, conflicting: 0 });
  });

  it('matches TLV-only receipts with decimal ids on separate receivers, with a data_sm/submit_multi mix', async () => {
    const s = await sim({ ids: 'decimal', receipts: 'tlv', dlrSession: 'random' });
    const r = await runBench({
      port: s.port,
      count: 2000,
      binds: 2,
      receiverBinds: 2,
      receipts: true,
      mix: { submit_sm: 8, data_sm: 1, submit_multi: 1 },
    });
    expect(s.stats()).toMatchObject({ submitSm: 1600, dataSm: 200, submitMulti: 200 });
    // submit_multi has two destinations: one receipt each.
    expect(r.receipts).toMatchObject({ expected: 2200, matched: 2200, unmatched: 0, duplicates: 0, missing: 0 });
  });

  it('counts refusals by status and expects no receipt for them', async () => {
    const s = await sim({ throttleRate: 0.25 });
    const r = await runBench({ port: s.port, count: 2000, receipts: true });
    const throttled = s.stats().throttled;
    expect(throttled).toBeGreaterThan(0);
    expect(r.byStatus).toEqual({ ESME_ROK: 2000 - throttled, ESME_RTHROTTLED: throttled });
    expect(r.receipts).toMatchObject({ expected: 2000 - throttled, matched: 2000 - throttled, missing: 0 });
  });

  it('sends on schedule in open loop', async () => {
    const s = await sim({ latencyMs: 2 });
    const r = await runBench({ port: s.port, count: 300, rate: 2000, binds: 2 });
    expect(r).toMatchObject({ mode: 'open', rate: 2000, sent: 300, ok: 300 });
    // 300 messages at 2,000/s are spread over ~150 ms, not sent at once.
    expect(r.elapsedMs).toBeGreaterThanOrEqual(140);
    expect(r.latency.p50).toBeGreaterThanOrEqual(1.9);
  });

  it('reports a refused bind', async () => {
    const s = await sim({ systemId: 'acme', password: 'secret' });
    await expect(runBench({ port: s.port, password: 'nope', count: 1 })).rejects.toBeInstanceOf(BindError);
    await expect(runBench({ port: s.port, password: 'nope', count: 1 })).rejects.toMatchObject({ status: Status.ESME_RINVPASWD });
    expect(s.stats().bound).toBe(0);
  });

  it('holds idle sessions open', async () => {
    const s = await sim();
    const idle = await openIdleSessions({ host: '127.0.0.1', port: s.port, systemId: 'acme', password: 'x', count: 30, concurrency: 8 });
    expect(idle.bound).toBe(30);
    expect(s.stats().bound).toBe(30);
    await idle.close();
    expect(idle.bound).toBe(0);
  });
});

describe('ReceiptMatcher', () => {
  it('matches a receipt that came before its response, and counts duplicates, strangers and conflicts', () => {
    const m = new ReceiptMatcher();
    m.onReceipt(deliver('id:AB12 sub:001 dlvrd:001 submit date:2501011200 done date:2501011200 stat:DELIVRD err:000 text:'), 5);
    m.expect('AB12', 1, 1);
    m.onReceipt(deliver('', { receipted_message_id: 'AB12' }), 6);
    m.onReceipt(deliver('', { receipted_message_id: 'ZZ99' }), 7);
    m.expect('CD34', 1, 1);
    m.onReceipt(deliver('id:XX sub:001 dlvrd:001 submit date: done date: stat:DELIVRD err:000 text:', { receipted_message_id: 'CD34' }), 9);
    m.onReceipt(deliver('', { receipted_message_id: 'CD34' }), 10);
    m.onReceipt(deliver('hello, this is MO'), 9);
    expect(m.counts()).toMatchObject({
      expected: 2,
      received: 6,
      matched: 2,
      duplicates: 2,
      unmatched: 1,
      conflicting: 1,
      notReceipts: 1,
      missing: 0,
      latency: { count: 2, max: 8 },
    });
  });
});

describe('smppd-bench command line', () => {
  it('parses the options', () => {
    const r = parseBenchArgs([
      '--port', '2775', '--system-id', 'acme', '--password', 'secret', '--binds', '4', '--window', '100', '--duration', '10s',
      '--rate', '10000', '--receipts', '--receiver-binds', '2', '--mix', 'submit_sm:9,data_sm:1', '--text-length', '160', '--json',
    ]);
    expect(r).toMatchObject({
      kind: 'run',
      json: true,
      options: { port: 2775, binds: 4, window: 100, durationMs: 10_000, rate: 10_000, receipts: true, receiverBinds: 2, mix: { submit_sm: 9, data_sm: 1 }, textLength: 160 },
    });
    expect(parseBenchArgs(['--help'])).toEqual({ kind: 'help' });
  });

  it('rejects contradictions and bad values', () => {
    for (const argv of [['--count', '5', '--duration', '1s'], ['--receiver-binds', '2'], ['--mix', 'deliver_sm:1'], ['--binds', '0'], ['--rate', '0'], ['-x']]) {
      expect(() => parseBenchArgs(argv)).toThrow(UsageError);
    }
  });
});
