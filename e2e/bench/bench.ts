// smppd-bench: a load generator for SMPP servers (smppd, the simulator, any SMSC).
//
// Closed loop (no rate): every bind keeps `window` requests outstanding, sending the next as soon as
// a response comes; latency is response time minus send time.
// Open loop (rate): messages are due on a fixed schedule whatever the server does; one that cannot go
// out at once waits in the session's queue, and its latency counts from the time it was due, so a
// stalled server shows up in the percentiles instead of silently lowering the offered load
// (coordinated omission).

import type { LatencySummary } from '../../proxy/feedback/latency-histogram.js';
import { createLatencyHistogram } from '../../proxy/feedback/latency-histogram.js';
import { isSessionError, type BindType, type OutgoingCall, type OutgoingRequest, type Session } from '../../proxy/session/index.js';
import { Status, statusName, type Pdu, type PduOf, type RequestPdu } from '../../proxy/smpp/index.js';
import { connectBound } from './connect.js';
import { ReceiptMatcher, type ReceiptCounts } from './receipt-matcher.js';

export const BENCH_COMMANDS = ['submit_sm', 'data_sm', 'submit_multi'] as const;
export type BenchCommand = (typeof BENCH_COMMANDS)[number];

export interface BenchOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType: string;
  /** Sessions that submit. */
  binds: number;
  /** Outstanding requests per submitting session. */
  window: number;
  /** Messages to send (default 10,000 when neither count nor durationMs is given). */
  count: number | undefined;
  /** Or send for this long. */
  durationMs: number | undefined;
  /** Messages per second over all binds: open loop. undefined: closed loop. */
  rate: number | undefined;
  /** Ask for receipts (registered_delivery 1) and wait for one per accepted message. */
  receipts: boolean;
  /** Extra receiver sessions; 0 with receipts makes the submitting sessions transceivers. */
  receiverBinds: number;
  /** Weights of the commands sent, e.g. { submit_sm: 9, data_sm: 1 }. */
  mix: Partial<Record<BenchCommand, number>>;
  textLength: number;
  sourceAddr: string;
  /** Destinations are this prefix plus a 4-digit counter. */
  destinationPrefix: string;
  /** Destinations per submit_multi. */
  multiDestinations: number;
  /** Response timeout per request. */
  requestTimeoutMs: number;
  /** After the last response, give up waiting for receipts when none came for this long. */
  receiptTimeoutMs: number;
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  host: '127.0.0.1',
  port: 2775,
  systemId: 'acme',
  password: 'secret',
  systemType: '',
  binds: 4,
  window: 100,
  count: undefined,
  durationMs: undefined,
  rate: undefined,
  receipts: false,
  receiverBinds: 0,
  mix: { submit_sm: 1 },
  textLength: 70,
  sourceAddr: '258840000001',
  destinationPrefix: '25884100',
  multiDestinations: 2,
  requestTimeoutMs: 30_000,
  receiptTimeoutMs: 30_000,
};

export interface BenchResult {
  mode: 'closed' | 'open';
  binds: number;
  window: number;
  /** Offered rate (open loop). */
  rate: number | undefined;
  sent: number;
  /** Responses of any status. */
  responses: number;
  /** Responses with ESME_ROK. */
  ok: number;
  byStatus: Record<string, number>;
  /** Requests that got no response, by session error code (TIMEOUT, CLOSED, ...). */
  failures: Record<string, number>;
  /** First send to last response, ms. */
  elapsedMs: number;
  /** Responses per second over elapsedMs. */
  msgPerSec: number;
  okPerSec: number;
  /** Response latency, ms. */
  latency: LatencySummary;
  receipts:
    | (ReceiptCounts & {
        /** First send to the last receipt, ms. */
        elapsedMs: number;
        /** Matched receipts per second over that time: messages fully done end to end. */
        perSec: number;
      })
    | undefined;
}

const TEXT = 'The quick brown fox jumps over the lazy dog 0123456789 ';

function textOf(length: number): Buffer {
  return Buffer.from(TEXT.repeat(Math.ceil(length / TEXT.length)).slice(0, length), 'latin1');
}

/** A deterministic cycle of commands with the given weights (9:1 -> 9 submit_sm then 1 data_sm). */
function commandCycle(mix: Partial<Record<BenchCommand, number>>): BenchCommand[] {
  const cycle: BenchCommand[] = [];
  for (const c of BENCH_COMMANDS) {
    const w = Math.round(mix[c] ?? 0);
    for (let i = 0; i < w; i++) cycle.push(c);
  }
  if (cycle.length === 0) throw new RangeError('mix must give at least one command a weight of 1 or more');
  // Interleave so a 9:1 mix does not send data_sm in bursts: sort by each item's position within its own kind.
  const seen = new Map<BenchCommand, number>();
  return cycle
    .map((c) => {
      const k = seen.get(c) ?? 0;
      seen.set(c, k + 1);
      return { c, key: (k + 0.5) / Math.round(mix[c] ?? 1) };
    })
    .sort((a, b) => a.key - b.key)
    .map((x) => x.c);
}

type MessageFactory = (n: number) => { pdu: OutgoingRequest; receipts: number };

function messageFactory(o: BenchOptions): MessageFactory {
  const text = textOf(o.textLength);
  const payload = o.textLength > 254;
  const rd = o.receipts ? 1 : 0;
  const cycle = commandCycle(o.mix);
  const dest = (n: number): string => o.destinationPrefix + String(n % 10_000).padStart(4, '0');
  const common = {
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: o.sourceAddr,
    esm_class: 0,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: rd,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: payload ? Buffer.alloc(0) : text,
    tlvs: payload ? { message_payload: text } : undefined,
  };
  return (n) => {
    const command = cycle[n % cycle.length];
    switch (command) {
      case 'submit_sm':
        return {
          pdu: { command, ...common, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: dest(n) },
          receipts: 1,
        };
      case 'data_sm':
        return {
          pdu: {
            command,
            service_type: '',
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: o.sourceAddr,
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: dest(n),
            esm_class: 0,
            registered_delivery: rd,
            data_coding: 0,
            tlvs: { message_payload: text },
          },
          receipts: 1,
        };
      case 'submit_multi': {
        const dests = Array.from({ length: o.multiDestinations }, (_, i) => ({
          dest_flag: 1 as const,
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: dest(n * o.multiDestinations + i),
        }));
        return { pdu: { command, ...common, dest_addresses: dests }, receipts: dests.length };
      }
    }
  };
}

function check(o: BenchOptions): void {
  const positiveInt = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be an integer >= 1, got ${v}`);
  };
  positiveInt('binds', o.binds);
  positiveInt('window', o.window);
  positiveInt('multiDestinations', o.multiDestinations);
  if (o.count !== undefined) positiveInt('count', o.count);
  if (o.count !== undefined && o.durationMs !== undefined) throw new RangeError('give count or durationMs, not both');
  if (o.durationMs !== undefined && !(o.durationMs > 0)) throw new RangeError('durationMs must be > 0');
  if (o.rate !== undefined && !(o.rate > 0 && Number.isFinite(o.rate))) throw new RangeError('rate must be > 0');
  if (!Number.isInteger(o.receiverBinds) || o.receiverBinds < 0) throw new RangeError('receiverBinds must be >= 0');
  if (!Number.isInteger(o.textLength) || o.textLength < 0 || o.textLength > 65_535) {
    throw new RangeError('textLength must be between 0 and 65535');
  }
}

const perSec = (n: number, ms: number): number => (ms > 0 ? Math.round((n * 1000) / ms) : 0);

/** What a run does with each request's outcome (runBench). */
interface SendOutcomes {
  answered(send: Send, resp: Pdu): void;
  failed(send: Send, err: Error): void;
}

/**
 * One request in flight: the session's window entry itself (Session.requestWith), so a message
 * costs this object instead of a promise, its derived promise and their closures: the load
 * generator shares the machine's cores with what it measures.
 */
class Send implements OutgoingCall {
  pdu: RequestPdu | undefined;
  seq = 0;
  responseId = 0;
  deadline = 0;

  constructor(
    private readonly outcomes: SendOutcomes,
    readonly session: Session,
    pdu: OutgoingRequest,
    /** Receipts the message asks for (one per destination). */
    readonly receipts: number,
    /** Latency counts from here. */
    readonly dueAt: number,
    /** Runs once this request has settled (closed loop); undefined in open loop. */
    readonly next: ((s: Session) => void) | undefined,
  ) {
    this.pdu = pdu as unknown as RequestPdu;
  }

  resolve(resp: Pdu): void {
    this.outcomes.answered(this, resp);
  }

  reject(err: Error): void {
    this.outcomes.failed(this, err);
  }
}

/** Binds, sends, waits for responses (and receipts), unbinds. Rejects with BindError when a bind fails. */
export async function runBench(options: Partial<BenchOptions> = {}): Promise<BenchResult> {
  const o: BenchOptions = { ...DEFAULT_BENCH_OPTIONS, ...options };
  check(o);
  const openLoop = o.rate !== undefined;
  const total = o.count ?? (o.durationMs === undefined ? 10_000 : openLoop ? Math.ceil((o.rate! * o.durationMs) / 1000) : Infinity);
  const makeMessage = messageFactory(o);

  const matcher = new ReceiptMatcher();

  const txType: BindType = o.receipts && o.receiverBinds === 0 ? 'transceiver' : 'transmitter';
  const common = { host: o.host, port: o.port, systemId: o.systemId, password: o.password, systemType: o.systemType };
  const sessionOptions = {
    window: o.window,
    windowMode: openLoop ? ('wait' as const) : ('reject' as const),
    maxQueue: 10_000_000,
    queueTimeoutMs: 3_600_000,
    requestTimeoutMs: o.requestTimeoutMs,
  };
  const settled = await Promise.allSettled([
    ...Array.from({ length: o.binds }, () => connectBound({ ...common, bindType: txType, session: sessionOptions })),
    ...Array.from({ length: o.receiverBinds }, () => connectBound({ ...common, bindType: 'receiver' })),
  ]);
  const all = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(all.map((s) => s.close()));
    throw failed.reason;
  }
  const senders = all.slice(0, o.binds);
  for (const s of all) {
    s.on('request', (req) => {
      if (req.command === 'deliver_sm' || req.command === 'data_sm') {
        if (o.receipts) matcher.onReceipt(req.pdu, performance.now());
        req.respond(Status.ESME_ROK);
      } else {
        req.respond(Status.ESME_RINVCMDID);
      }
    });
  }

  const histogram = createLatencyHistogram();
  const byStatus: Record<string, number> = {};
  const failures: Record<string, number> = {};
  let sent = 0;
  let responses = 0;
  let ok = 0;
  let outstanding = 0;
  let lastResponseAt = 0;
  const startAt = performance.now();
  const endAt = o.durationMs === undefined ? Infinity : startAt + o.durationMs;

  let finish: () => void = () => {};
  const loadDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let sending = true;
  const maybeDone = (): void => {
    if (outstanding === 0 && (!sending || senders.every((s) => s.state === 'closed'))) finish();
  };

  const outcomes: SendOutcomes = {
    answered(send, resp) {
      const now = performance.now();
      outstanding--;
      responses++;
      lastResponseAt = now;
      histogram.record(now - send.dueAt);
      const status = resp.command_status;
      if (status === Status.ESME_ROK) {
        ok++;
        if (o.receipts) matcher.expect((resp as PduOf<'submit_sm_resp'>).message_id, send.receipts, send.dueAt);
      }
      const name = status === Status.ESME_ROK ? 'ESME_ROK' : statusName(status);
      byStatus[name] = (byStatus[name] ?? 0) + 1;
      if (send.next !== undefined) send.next(send.session);
      else maybeDone();
    },
    failed(send, err) {
      outstanding--;
      lastResponseAt = performance.now();
      const code = isSessionError(err) ? err.code : 'ERROR';
      failures[code] = (failures[code] ?? 0) + 1;
      // Not at once: a session that refuses to send (unbinding) refuses in requestWith itself,
      // and the next send would recurse.
      const next = send.next;
      if (next !== undefined && send.session.state !== 'closed') queueMicrotask(() => next(send.session));
      else maybeDone();
    },
  };

  /** Sends message number `n` on `s`; latency counts from `dueAt`. `next` runs once it has settled. */
  const send = (s: Session, n: number, dueAt: number, next: ((s: Session) => void) | undefined): void => {
    const { pdu, receipts } = makeMessage(n);
    sent++;
    outstanding++;
    s.requestWith(new Send(outcomes, s, pdu, receipts, dueAt, next));
  };

  if (!openLoop) {
    const next = (s: Session): void => {
      if (sent >= total || (endAt !== Infinity && performance.now() >= endAt)) {
        sending = false;
        maybeDone();
        return;
      }
      send(s, sent, performance.now(), next);
    };
    for (const s of senders) for (let i = 0; i < o.window; i++) next(s);
  } else {
    const interval = 1000 / o.rate!;
    let turn = 0;
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - startAt) / interval) + 1);
      while (sent < due) {
        const s = senders[turn++ % senders.length];
        send(s, sent, startAt + sent * interval, undefined);
      }
      if (sent < total) setTimeout(tick, 1);
      else {
        sending = false;
        maybeDone();
      }
    };
    tick();
  }
  await loadDone;

  if (o.receipts && !matcher.complete) {
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const idleSince = Math.max(matcher.lastReceiptAt, lastResponseAt);
        if (matcher.complete || performance.now() - idleSince > o.receiptTimeoutMs) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
    });
  }
  await Promise.all(all.map((s) => s.unbind()));

  const elapsedMs = lastResponseAt - startAt;
  let receipts: BenchResult['receipts'];
  if (o.receipts) {
    const receiptsElapsed = Math.max(matcher.lastReceiptAt, lastResponseAt) - startAt;
    const counts = matcher.counts();
    receipts = { ...counts, elapsedMs: Math.round(receiptsElapsed), perSec: perSec(counts.matched, receiptsElapsed) };
  }
  return {
    mode: openLoop ? 'open' : 'closed',
    binds: o.binds,
    window: o.window,
    rate: o.rate,
    sent,
    responses,
    ok,
    byStatus,
    failures,
    elapsedMs: Math.round(elapsedMs),
    msgPerSec: perSec(responses, elapsedMs),
    okPerSec: perSec(ok, elapsedMs),
    latency: histogram.summary(),
    receipts,
  };
}
