import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatReceiptText, parseReceiptText } from '../../proxy/smpp/dlr.js';
import { Status, type PduOf } from '../../proxy/smpp/index.js';
import type { BindType, OutgoingRequest, Session } from '../../proxy/session/index.js';
import { BindError, connectBound } from '../bench/connect.js';
import { parseSimArgs, UsageError } from './cli.js';
import { DelayQueue } from './delay-queue.js';
import { startSimulator, type Simulator, type SimulatorOptions } from './index.js';

const open: Array<Simulator | Session> = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function sim(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const s = await startSimulator({ seed: 7, ...options });
  open.push(s);
  return s;
}

type Deliver = PduOf<'deliver_sm'>;

/** A bound client that collects the deliver_sm it receives. */
async function client(s: Simulator, bindType: BindType = 'transceiver', systemId = 'acme') {
  const session = await connectBound({ host: '127.0.0.1', port: s.port, systemId, password: 'secret', bindType, session: { window: 100, windowMode: 'wait', maxQueue: 100_000 } });
  open.push(session);
  const received: Deliver[] = [];
  const waiters: Array<() => void> = [];
  session.on('request', (req) => {
    if (req.command === 'deliver_sm') received.push(req.pdu);
    req.respond(Status.ESME_ROK);
    for (const w of waiters.splice(0)) w();
  });
  const until = async (done: () => boolean): Promise<void> => {
    while (!done()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const receipts = async (n: number): Promise<Deliver[]> => {
    await until(() => received.length >= n);
    return received;
  };
  return { session, received, receipts, until };
}

/** Resolves after `n` receipts were acknowledged by their client. */
function acks(s: Simulator, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    s.on('receipt_ack', () => {
      if (++seen === n) resolve();
    });
  });
}

function submit(destination = '258841000001', rd = 1, text = 'Hello from the simulator test'): OutgoingRequest {
  return {
    command: 'submit_sm',
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '25884000001',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: destination,
    esm_class: 0,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: rd,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.from(text, 'latin1'),
  };
}

async function submitMany(session: Session, n: number, rd = 0): Promise<PduOf<'submit_sm_resp'>[]> {
  return Promise.all(Array.from({ length: n }, () => session.request(submit('258841000001', rd)) as Promise<PduOf<'submit_sm_resp'>>));
}

describe('smppd-sim responses', () => {
  it('answers submit_sm with unique hex ids', async () => {
    const s = await sim({ ids: 'hex' });
    const { session } = await client(s);
    const resps = await submitMany(session, 50);
    const ids = resps.map((r) => r.message_id);
    expect(resps.every((r) => r.command_status === Status.ESME_ROK)).toBe(true);
    expect(ids.every((id) => /^[0-9A-F]{8}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(50);
  });

  it('answers with decimal ids and with UUIDs', async () => {
    const s = await sim({ ids: 'decimal' });
    const { session } = await client(s);
    const [dec] = await submitMany(session, 1);
    expect(dec.message_id).toMatch(/^\d{10}$/);
    s.setOptions({ ids: 'uuid' });
    const [uuid] = await submitMany(session, 1);
    expect(uuid.message_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('answers data_sm and submit_multi, listing failed destinations per destination', async () => {
    const s = await sim({ errorRate: 1, errorStatus: Status.ESME_RSYSERR });
    const { session } = await client(s);
    const multi = await session.request({
      ...(submit() as PduOf<'submit_sm'>),
      command: 'submit_multi',
      dest_addresses: ['258841', '258842', '258843'].map((d) => ({ dest_flag: 1 as const, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: d })),
    } as OutgoingRequest);
    expect(multi.command_status).toBe(Status.ESME_ROK);
    const m = multi as PduOf<'submit_multi_resp'>;
    expect(m.unsuccess_smes.map((u) => [u.destination_addr, u.error_status_code])).toEqual([
      ['258841', Status.ESME_RSYSERR],
      ['258842', Status.ESME_RSYSERR],
      ['258843', Status.ESME_RSYSERR],
    ]);
    s.setOptions({ errorRate: 0 });
    const data = await session.request({
      command: 'data_sm',
      service_type: '',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '1',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '2',
      esm_class: 0,
      registered_delivery: 0,
      data_coding: 0,
      tlvs: { message_payload: Buffer.from('hi') },
    });
    expect(data.command_status).toBe(Status.ESME_ROK);
    expect((data as PduOf<'data_sm_resp'>).message_id).toMatch(/^[0-9A-F]{8}$/);
  });

  it('injects ESME_RTHROTTLED and errors for about the share given', async () => {
    const s = await sim({ throttleRate: 0.2, errorRate: 0.1, errorStatus: 0x45 });
    const { session } = await client(s);
    const resps = await submitMany(session, 2000);
    const throttled = resps.filter((r) => r.command_status === Status.ESME_RTHROTTLED).length;
    const failed = resps.filter((r) => r.command_status === 0x45).length;
    expect(throttled / 2000).toBeGreaterThan(0.17);
    expect(throttled / 2000).toBeLessThan(0.23);
    expect(failed / 2000).toBeGreaterThan(0.08);
    expect(failed / 2000).toBeLessThan(0.12);
    expect(resps.filter((r) => r.command_status !== 0).every((r) => r.message_id === '')).toBe(true);
    expect(s.stats()).toMatchObject({ submits: 2000, throttled, errors: failed, accepted: 2000 - throttled - failed });
  });

  it('accepts --max-rate submits per second and throttles the rest until the second is over', async () => {
    // Only Date is faked: the sockets and the session's timers run for real.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const s = await sim({ maxRate: 50 });
      const { session } = await client(s);
      const burst = (await submitMany(session, 80)).map((r) => r.command_status);
      expect(burst.filter((st) => st === Status.ESME_ROK)).toHaveLength(50);
      expect(burst.filter((st) => st === Status.ESME_RTHROTTLED)).toHaveLength(30);
      expect(burst.slice(0, 50).every((st) => st === Status.ESME_ROK)).toBe(true); // the first 50 of the second
      vi.setSystemTime(Date.now() + 999);
      expect((await submitMany(session, 1))[0]!.command_status).toBe(Status.ESME_RTHROTTLED);
      vi.setSystemTime(Date.now() + 1);
      expect((await submitMany(session, 50)).every((r) => r.command_status === Status.ESME_ROK)).toBe(true);
      expect(s.stats()).toMatchObject({ submits: 131, accepted: 100, throttled: 31 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('changes behaviour live: throttles everything, then stops answering', async () => {
    const s = await sim();
    const { session } = await client(s);
    s.setOptions({ throttleRate: 1 });
    expect((await submitMany(session, 3)).map((r) => r.command_status)).toEqual([0x58, 0x58, 0x58]);
    s.setOptions({ throttleRate: 0, respond: false });
    const pending = session.request(submit());
    let settled = false;
    void pending.then(() => (settled = true), () => (settled = true));
    // The simulator reads in order: by the enquire_link_resp, an answer to the submit would have come.
    await session.enquireLink();
    expect(s.stats().unanswered).toBe(1);
    expect(settled).toBe(false);
    expect(() => s.setOptions({ errorRate: 2 })).toThrow(RangeError);
  });

  it('delays responses by the latency, batched on one timer', async () => {
    const s = await sim({ latencyMs: 30 });
    const { session } = await client(s);
    const t0 = performance.now();
    const resps = await submitMany(session, 200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
    expect(resps.every((r) => r.command_status === 0)).toBe(true);
  });

  it('checks credentials when given and refuses binds with bindStatus', async () => {
    const s = await sim({ systemId: 'acme', password: 'secret' });
    await expect(connectBound({ host: '127.0.0.1', port: s.port, systemId: 'acme', password: 'wrong', bindType: 'transmitter' })).rejects.toMatchObject({
      status: Status.ESME_RINVPASWD,
    });
    await expect(connectBound({ host: '127.0.0.1', port: s.port, systemId: 'other', password: 'secret', bindType: 'transmitter' })).rejects.toBeInstanceOf(
      BindError,
    );
    await client(s);
    s.setOptions({ bindStatus: Status.ESME_RBINDFAIL });
    await expect(connectBound({ host: '127.0.0.1', port: s.port, systemId: 'acme', password: 'secret', bindType: 'transmitter' })).rejects.toMatchObject({
      status: Status.ESME_RBINDFAIL,
    });
    expect(s.stats()).toMatchObject({ binds: 1, bindsRefused: 3, bound: 1 });
  });
});

describe('smppd-sim receipts', () => {
  it('sends a text receipt carrying the id of the response', async () => {
    const s = await sim({ receipts: 'text', dlrOutcome: 'undeliverable' });
    const c = await client(s);
    const [resp] = await submitMany(c.session, 1, 1);
    const [dlr] = await c.receipts(1);
    expect(dlr.esm_class).toBe(0x04);
    expect(dlr.tlvs).toBeUndefined();
    expect(dlr.source_addr).toBe('258841000001');
    expect(dlr.destination_addr).toBe('25884000001');
    const parsed = parseReceiptText(dlr.short_message);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.receipt).toMatchObject({ id: resp.message_id, stat: 'UNDELIV', sub: '001', dlvrd: '000', err: '001', text: 'Hello from the simul' });
    expect(parsed.receipt.submitDate).toMatch(/^\d{10}$/);
    // The simulator formats by hand for speed; it must write exactly what the codec's formatter writes.
    const { submitDate, doneDate } = parsed.receipt;
    expect(dlr.short_message.toString('latin1')).toBe(
      formatReceiptText({ id: resp.message_id, stat: 'UNDELIV', submitDate, doneDate, err: 1, text: 'Hello from the simulator test' }),
    );
  });

  it('sends TLV-only receipts (empty short_message) with decimal ids', async () => {
    const s = await sim({ receipts: 'tlv', ids: 'decimal' });
    const c = await client(s);
    const [resp] = await submitMany(c.session, 1, 1);
    const [dlr] = await c.receipts(1);
    expect(resp.message_id).toMatch(/^\d{10}$/);
    expect(dlr.short_message.length).toBe(0);
    expect(dlr.esm_class).toBe(0x04);
    expect(dlr.tlvs).toMatchObject({ receipted_message_id: resp.message_id, message_state: 2 });
    expect([...dlr.tlvs!.network_error_code!]).toEqual([3, 0, 0]);
  });

  it('sends both forms, and writes hex ids in decimal when asked', async () => {
    const s = await sim({ receipts: 'both', receiptIds: 'decimal' });
    const c = await client(s);
    const [resp] = await submitMany(c.session, 1, 1);
    const [dlr] = await c.receipts(1);
    const decimal = BigInt(`0x${resp.message_id}`).toString();
    expect(dlr.tlvs?.receipted_message_id).toBe(decimal);
    const parsed = parseReceiptText(dlr.short_message);
    expect(parsed.ok && parsed.receipt.id).toBe(decimal);
  });

  it('follows registered_delivery: none for 0, only failures for 2', async () => {
    const s = await sim({ dlrOutcome: { delivered: 1, undeliverable: 1 } });
    const c = await client(s);
    await submitMany(c.session, 20, 0);
    const resps = await submitMany(c.session, 40, 2);
    // Receipts leave in order on this session: once the sentinel's (registered_delivery 1) is here, all are.
    const [sentinel] = await submitMany(c.session, 1, 1);
    await c.until(() => c.received.some((d) => d.short_message.includes(`id:${sentinel.message_id} `)));
    const failures = c.received.slice(0, -1);
    expect(failures.length).toBeGreaterThan(5);
    expect(failures.length).toBeLessThan(35);
    expect(failures.every((d) => d.short_message.includes('stat:UNDELIV'))).toBe(true);
    const ids = new Set(resps.map((r) => r.message_id));
    expect(failures.every((d) => ids.has(d.short_message.toString('latin1').slice(3, 11)))).toBe(true);
  });

  it('sends one receipt per destination of a submit_multi', async () => {
    const s = await sim();
    const c = await client(s);
    const resp = (await c.session.request({
      ...(submit() as PduOf<'submit_sm'>),
      command: 'submit_multi',
      dest_addresses: ['2588411', '2588412'].map((d) => ({ dest_flag: 1 as const, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: d })),
    } as OutgoingRequest)) as PduOf<'submit_multi_resp'>;
    const dlrs = await c.receipts(2);
    expect(dlrs.map((d) => d.source_addr).sort()).toEqual(['2588411', '2588412']);
    expect(dlrs.every((d) => d.short_message.toString('latin1').startsWith(`id:${resp.message_id} `))).toBe(true);
  });

  it('dlr-session random spreads receipts over all bound receiver-capable sessions', async () => {
    const s = await sim({ dlrSession: 'random' });
    const tx = await client(s, 'transmitter');
    const rx = [await client(s, 'transceiver'), await client(s, 'receiver'), await client(s, 'receiver', 'other')];
    const acked = acks(s, 600);
    await submitMany(tx.session, 600, 1);
    await acked;
    expect(rx.reduce((n, c) => n + c.received.length, 0)).toBe(600);
    expect(tx.received.length).toBe(0);
    for (const c of rx) expect(c.received.length).toBeGreaterThan(150);
  });

  it('dlr-session same keeps receipts on the submitting session', async () => {
    const s = await sim({ dlrSession: 'same' });
    const a = await client(s);
    const b = await client(s);
    const acked = acks(s, 100);
    const resps = await submitMany(a.session, 100, 1);
    await acked;
    expect(a.received.map((d) => d.short_message.toString('latin1').slice(3, 11)).sort()).toEqual(resps.map((r) => r.message_id).sort());
    expect(b.received.length).toBe(0);
  });

  it('holds receipts until a receiver of the submitting account binds', async () => {
    const s = await sim();
    const tx = await client(s, 'transmitter');
    const resps = await submitMany(tx.session, 5, 1);
    expect(s.stats().receiptsPending).toBe(5);
    await client(s, 'receiver', 'other'); // another account: not for it
    const rx = await client(s, 'receiver');
    const dlrs = await rx.receipts(5);
    expect(dlrs.map((d) => d.short_message.toString('latin1').slice(3, 11)).sort()).toEqual(resps.map((r) => r.message_id).sort());
  });

  it('sends the receipts in flight on a session that goes away to a live one, not to the gone one again', async () => {
    // Two attempts per receipt: one spent on the session that goes away, one left. Retried at once
    // on a session picked at random, a receipt must not land on the gone session again: it is
    // still listed until its socket's close event, after its requests have failed.
    const s = await sim({ dlrSession: 'random', receiptAttempts: 2 });
    const tx = await client(s, 'transmitter');
    const live = await client(s, 'receiver');
    const going = await connectBound({ host: '127.0.0.1', port: s.port, systemId: 'acme', password: 'x', bindType: 'receiver' });
    open.push(going);
    let held = 0;
    const holding: Array<() => void> = [];
    const half = new Promise<void>((resolve) => holding.push(resolve));
    going.on('request', () => {
      // Never answered: these receipts are in flight on this session when it unbinds.
      if (++held === 50) for (const wake of holding.splice(0)) wake();
    });
    await submitMany(tx.session, 200, 1);
    await half;
    await going.close();
    // Each receipt ends acknowledged or given up.
    while (s.stats().receiptsAcked + s.stats().receiptsDropped < 200) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(s.stats()).toMatchObject({ receiptsAcked: 200, receiptsDropped: 0 });
    expect(live.received).toHaveLength(200);
    expect(held).toBeGreaterThanOrEqual(50);
  });

  it('redelivers a receipt the client refused, after receiptRetryMs', async () => {
    const s = await sim({ receiptRetryMs: 10 });
    const session = await connectBound({ host: '127.0.0.1', port: s.port, systemId: 'acme', password: 'x', bindType: 'transceiver' });
    open.push(session);
    let refusals = 0;
    const acked = new Promise<void>((resolve) => s.once('receipt_ack', () => resolve()));
    session.on('request', (req) => req.respond(refusals++ < 2 ? Status.ESME_RX_T_APPN : Status.ESME_ROK));
    await submitMany(session, 1, 1);
    await acked;
    expect(s.stats()).toMatchObject({ receiptsSent: 3, receiptsFailed: 2, receiptsAcked: 1, receiptsPending: 0 });
  });
});

describe('smppd-sim query_sm, cancel_sm, replace_sm', () => {
  it('answers for known ids and refuses unknown or final ones', async () => {
    const s = await sim({ dlrDelayMs: 60_000 });
    const c = await client(s);
    const [resp] = await submitMany(c.session, 1, 1);
    const id = resp.message_id;
    const q = (messageId: string) =>
      c.session.request({ command: 'query_sm', message_id: messageId, source_addr_ton: 1, source_addr_npi: 1, source_addr: '25884000001' }) as Promise<
        PduOf<'query_sm_resp'>
      >;
    const cancel = (messageId: string) =>
      c.session.request({
        command: 'cancel_sm',
        service_type: '',
        message_id: messageId,
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: '25884000001',
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: '258841000001',
      });
    expect(await q(id)).toMatchObject({ command_status: 0, message_id: id, message_state: 1, final_date: '' });
    const replaced = await c.session.request({
      command: 'replace_sm',
      message_id: id,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '25884000001',
      schedule_delivery_time: '',
      validity_period: '',
      registered_delivery: 1,
      sm_default_msg_id: 0,
      short_message: Buffer.from('new text'),
    });
    expect(replaced.command_status).toBe(Status.ESME_ROK);
    expect((await cancel(id)).command_status).toBe(Status.ESME_ROK);
    const after = await q(id);
    expect(after).toMatchObject({ message_state: 4 });
    expect(after.final_date).toMatch(/^\d{12}000\+$/);
    expect((await cancel(id)).command_status).toBe(Status.ESME_RCANCELFAIL);
    expect((await cancel('FFFFFFFF')).command_status).toBe(Status.ESME_RINVMSGID);
    expect((await q('FFFFFFFF')).command_status).toBe(Status.ESME_RQUERYFAIL);
    expect(s.stats()).toMatchObject({ queries: 3, cancels: 3, replaces: 1 });
  });
});

describe('smppd-sim memory bound', () => {
  it('forgets the oldest messages beyond maxMessages', async () => {
    const s = await sim({ maxMessages: 3, dlrDelayMs: 60_000 });
    const c = await client(s);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submitMany(c.session, 1))[0].message_id);
    const q = (id: string) => c.session.request({ command: 'query_sm', message_id: id, source_addr_ton: 1, source_addr_npi: 1, source_addr: '1' });
    const statuses = await Promise.all(ids.map(q));
    expect(statuses.map((r) => r.command_status)).toEqual([Status.ESME_RQUERYFAIL, Status.ESME_RQUERYFAIL, 0, 0, 0]);
    expect(s.stats().messages).toBe(3);
  });
});

describe('DelayQueue', () => {
  it('releases items in due order across delays, in batches', () => {
    vi.useFakeTimers();
    try {
      const batches: string[][] = [];
      const q = new DelayQueue<string>((b) => batches.push(b), () => Date.now());
      q.push('a50', 50);
      q.push('b10', 10);
      q.push('c50', 50);
      q.push('d10', 10);
      expect(q.size).toBe(4);
      vi.advanceTimersByTime(10);
      expect(batches).toEqual([['b10', 'd10']]);
      vi.advanceTimersByTime(40);
      expect(batches).toEqual([['b10', 'd10'], ['a50', 'c50']]);
      expect(q.size).toBe(0);
      q.push('e', 5);
      expect(q.drain()).toEqual(['e']);
      vi.advanceTimersByTime(10);
      expect(batches.length).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('smppd-sim command line', () => {
  it('parses every option into simulator options', () => {
    const r = parseSimArgs([
      '--port', '0', '--latency', '5ms', '--dlr-delay', '2s', '--dlr-outcome', 'delivered:9,undeliverable:1',
      '--ids', 'decimal', '--receipts', 'tlv', '--error-rate', '0.01', '--error-status', '0x45',
      '--throttle-rate', '0.1', '--max-rate', '300', '--no-submit-multi', '--system-id', 'x', '--password', 'y', '--window', '7', '--dlr-session', 'random', '--seed', '3',
    ]);
    expect(r.kind).toBe('run');
    if (r.kind !== 'run') return;
    expect(r.cli.options).toMatchObject({
      port: 0, latencyMs: 5, dlrDelayMs: 2000, dlrOutcome: { delivered: 9, undeliverable: 1 }, ids: 'decimal', receipts: 'tlv',
      errorRate: 0.01, errorStatus: 0x45, throttleRate: 0.1, maxRate: 300, submitMulti: false, systemId: 'x', password: 'y', window: 7, dlrSession: 'random', seed: 3,
    });
    expect(parseSimArgs([]).kind === 'run' && parseSimArgs([])).toMatchObject({ cli: { options: { port: 2776, dlrDelayMs: 1000 } } });
    expect(parseSimArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseSimArgs(['--error-status', 'ESME_RTHROTTLED'])).toMatchObject({ cli: { options: { errorStatus: 0x58 } } });
    expect(parseSimArgs(['--receipt-first', '--receipt-lead', '20ms'])).toMatchObject({ cli: { options: { receiptFirst: true, receiptLeadMs: 20 } } });
  });

  it('rejects unknown options and bad values with a usage error', () => {
    for (const argv of [['--nope'], ['--ids', 'octal'], ['--latency', 'soon'], ['--receipt-lead', 'soon'], ['--error-rate', '1.5'], ['--max-rate', '2.5'], ['--error-rate', '0.6', '--throttle-rate', '0.6']]) {
      expect(() => parseSimArgs(argv)).toThrow(UsageError);
    }
  });
});
