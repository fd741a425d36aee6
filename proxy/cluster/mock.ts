// The embedded `mock` cluster (SPEC §3 `clusters[].mock`): an SMSC inside the process, no sockets,
// behind the same Cluster interface, so `npm start` works with nothing else running.
//
// It answers submit_sm, data_sm and submit_multi with `response` after `latency` (or, per message,
// ESME_RTHROTTLED with probability throttle_rate and error_status with probability error_rate),
// gives accepted messages its own ids, and after `dlr_delay` hands the forwarder a receipt for each
// (deliver_sm, esm_class 0x04, Appendix B text plus receipted_message_id and message_state TLVs)
// when the submit's registered_delivery asks for one. query_sm, cancel_sm and replace_sm work on the
// ids it gave out.
//
// Timers: one per queue (responses, receipts), armed for the earliest due bucket (DueQueue), so a
// million messages in flight cost two timers, not a million.

import type { ClusterConfig, MockConfig } from '../config/schema.js';
import { silentLogger, systemTimers, type Timers } from '../session/index.js';
import {
  Status,
  isSubmission,
  responseFor,
  statusName,
  type DataSm,
  type DeliverSm,
  type Pdu,
  type RequestPdu,
  type SubmitMulti,
  type SubmitSm,
} from '../smpp/index.js';
import { MESSAGE_STATE, STAT_OF_STATE, formatReceiptText, type MessageState } from '../smpp/dlr.js';
import type { EndpointMetrics } from '../telemetry/metrics.js';
import { DueQueue } from './due-queue.js';
import { ClusterError } from './errors.js';
import { Throttle } from './throttle.js';
import type {
  Cluster,
  ClusterDeps,
  ClusterHealth,
  ClusterLogger,
  SendOptions,
  SendResult,
  SendWaiter,
  UpstreamRequest,
} from './types.js';
import { sendWithPromise } from './pending.js';

/** The endpoint name the mock reports in results, feedback and metrics. */
export const MOCK_ENDPOINT = 'mock';
/** Ids remembered for query_sm/cancel_sm/replace_sm; the oldest are forgotten first. */
export const MOCK_MAX_MESSAGES = 100_000;
/** Deliveries of one receipt when the forwarder answers with an error (a real SMSC retries too). */
const RECEIPT_ATTEMPTS = 3;
const RECEIPT_GRANULARITY_MS = 10;

const FINAL_STATE: Readonly<Record<Exclude<MockConfig['dlr'], 'none'>, MessageState>> = {
  delivered: MESSAGE_STATE.DELIVERED,
  expired: MESSAGE_STATE.EXPIRED,
  deleted: MESSAGE_STATE.DELETED,
  undeliverable: MESSAGE_STATE.UNDELIVERABLE,
  accepted: MESSAGE_STATE.ACCEPTED,
  unknown: MESSAGE_STATE.UNKNOWN,
  rejected: MESSAGE_STATE.REJECTED,
};

/** data_coding values whose bytes read as latin1 text (SMSC default, IA5, Latin-1) for the receipt's `text:`. */
const TEXT_CODINGS: ReadonlySet<number> = new Set([0, 1, 3]);

const WAITING = 0;
const SCHEDULED = 1;
const DONE = 2;

class MockJob {
  state = WAITING;
  dueKey = -1;
  /** The answer is due at the deadline, not after `latency`: it times out. */
  timesOut = false;
  constructor(
    readonly pdu: UpstreamRequest,
    readonly started: number,
    readonly deadline: number,
    readonly resolve: (r: SendResult) => void,
    readonly reject: (e: Error) => void,
  ) {}
}

class MockMessage {
  cancelled = false;
  constructor(
    readonly id: string,
    readonly submitted: number,
    /** When it reaches finalState; Infinity with `dlr: none`. */
    readonly doneAt: number,
    readonly finalState: MessageState,
    readonly source: { ton: number; npi: number; addr: string },
    readonly text: string,
  ) {}

  stateAt(now: number): number {
    if (this.cancelled) return MESSAGE_STATE.DELETED;
    return now >= this.doneAt ? this.finalState : MESSAGE_STATE.ENROUTE;
  }
}

/** Where a receipt comes from: the destination of the submit. */
interface Destination {
  dest_addr_ton: number;
  dest_addr_npi: number;
  destination_addr: string;
}

class MockReceipt {
  attempts = 0;
  constructor(
    readonly message: MockMessage,
    /** The handset: the receipt's source address. */
    readonly ton: number,
    readonly npi: number,
    readonly addr: string,
  ) {}
}

/** SMPP 3.4 §7.1.1 absolute time, UTC: YYMMDDhhmmsst00+. */
function smppTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    two(d.getUTCFullYear() % 100) +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes()) +
    two(d.getUTCSeconds()) +
    String(Math.floor(d.getUTCMilliseconds() / 100)) +
    '00+'
  );
}

/** Receipt `text:` value: the first 20 characters of a text message, printable ASCII only. */
function receiptText(pdu: UpstreamRequest): string {
  if (pdu.command !== 'submit_sm' && pdu.command !== 'submit_multi') return '';
  if (!TEXT_CODINGS.has(pdu.data_coding)) return '';
  return pdu.short_message.subarray(0, 20).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
}

class MockCluster implements Cluster {
  readonly name: string;
  private mock: MockConfig;
  private config: ClusterConfig;
  private readonly deps: ClusterDeps;
  private readonly timers: Timers;
  private readonly log: ClusterLogger;
  private readonly rng: () => number;
  private readonly metrics: EndpointMetrics | undefined;
  private readonly responses: DueQueue<MockJob>;
  private readonly receipts: DueQueue<MockReceipt>;
  private throttle: Throttle<MockJob> | undefined;
  private readonly messages = new Map<string, MockMessage>();
  /** Ids in the order given out, MOCK_MAX_MESSAGES at most; orderPos is the oldest once full. */
  private readonly order: string[] = [];
  private orderPos = 0;
  private decimalIds: boolean;
  private nextId: number;
  private closed = false;

  constructor(config: ClusterConfig, deps: ClusterDeps) {
    if (config.mock === undefined) throw new RangeError(`cluster ${config.name} has no mock config`);
    this.name = config.name;
    this.config = config;
    this.mock = config.mock;
    this.deps = deps;
    this.timers = deps.timers ?? systemTimers;
    this.log = deps.logger?.child?.({ endpoint: MOCK_ENDPOINT }) ?? deps.logger ?? silentLogger;
    this.rng = deps.rng ?? Math.random;
    this.metrics = deps.metrics?.endpointMetrics(config.name, MOCK_ENDPOINT);
    this.responses = new DueQueue(this.timers, (job) => this.onResponseDue(job));
    this.receipts = new DueQueue(this.timers, (r) => void this.deliver(r), RECEIPT_GRANULARITY_MS);
    this.throttle = config.throughput > 0 ? this.createThrottle(config.throughput) : undefined;
    // Hex like many SMSCs write them, unless the cluster says its ids are decimal. Starting from the
    // clock keeps ids unique across restarts (below 1000 ids per ms).
    this.decimalIds = config.message_id === 'decimal';
    this.nextId = Math.floor(this.timers.now()) * 1000;
  }

  private createThrottle(rate: number): Throttle<MockJob> {
    return new Throttle<MockJob>(
      rate,
      this.timers,
      (job) => job.state === WAITING,
      (job) => this.release(job),
    );
  }

  private release(job: MockJob): void {
    this.responses.delete(job, job.dueKey);
    this.schedule(job);
  }

  start(): void {
    this.metrics?.sessions('bound', 1);
  }

  /** Config reload: the new behaviour applies to requests from now on; those scheduled keep theirs. */
  update(config: ClusterConfig): Promise<void> {
    if (config.mock === undefined) throw new RangeError(`cluster ${this.name}: endpoints need a new cluster`);
    this.config = config;
    this.mock = config.mock;
    this.decimalIds = config.message_id === 'decimal';
    if (config.throughput > 0) {
      if (this.throttle === undefined) this.throttle = this.createThrottle(config.throughput);
      else this.throttle.setRate(config.throughput);
    } else if (this.throttle !== undefined) {
      const waiting = this.throttle.drain();
      this.throttle = undefined;
      for (const job of waiting) this.release(job);
    }
    return Promise.resolve();
  }

  /** Like close(): what is in flight is answered at once. */
  retire(): Promise<void> {
    return this.close();
  }

  sendWith(pdu: UpstreamRequest, opts: SendOptions, waiter: SendWaiter): void {
    sendWithPromise(this.send(pdu, opts), waiter);
  }

  send(pdu: UpstreamRequest, opts: SendOptions): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const now = this.timers.now();
      if (this.closed) {
        reject(new ClusterError('UNAVAILABLE', 'cluster is closed', { sent: false }));
        return;
      }
      if (opts.endpoint !== undefined && opts.endpoint !== MOCK_ENDPOINT) {
        reject(new ClusterError('UNAVAILABLE', `no endpoint ${opts.endpoint} in the cluster`, { sent: false }));
        return;
      }
      if (!(opts.timeoutMs > 0)) {
        reject(new ClusterError('TIMEOUT', 'no time left for the request', { sent: false }));
        return;
      }
      const job = new MockJob(pdu, now, now + opts.timeoutMs, resolve, reject);
      if (this.throttle !== undefined && isSubmission(pdu)) {
        const admission = this.throttle.admit(job);
        if (admission === 'reject') {
          const message = `cluster throughput of ${this.config.throughput}/s reached`;
          reject(new ClusterError('THROTTLED', message, { sent: false }));
          return;
        }
        if (admission === 'wait') {
          // Due at its deadline while waiting for a token; release() reschedules it.
          job.dueKey = this.responses.add(job, job.deadline);
          return;
        }
      }
      this.schedule(job);
    });
  }

  available(): boolean {
    return !this.closed;
  }

  health(): ClusterHealth {
    return {
      name: this.name,
      mock: true,
      available: !this.closed,
      endpoints: [
        {
          name: MOCK_ENDPOINT,
          address: MOCK_ENDPOINT,
          systemId: '',
          state: this.closed ? 'closed' : 'bound',
          circuit: 'closed',
          sessions: this.closed ? 0 : 1,
          binds: 1,
          inFlight: this.responses.size - (this.throttle?.waiting ?? 0),
          queued: this.throttle?.waiting ?? 0,
          throttled: false,
        },
      ],
    };
  }

  /** Answers what is in flight at once (as an SMSC answers before unbind_resp); pending receipts are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.throttle?.drain() ?? []) {
      job.state = DONE;
      job.reject(new ClusterError('UNAVAILABLE', 'cluster closed', { sent: false }));
    }
    for (const job of this.responses.drain()) this.onResponseDue(job);
    this.receipts.clear();
    this.metrics?.sessions('bound', 0);
  }

  // ---- responses --------------------------------------------------------------------------------

  private schedule(job: MockJob): void {
    job.state = SCHEDULED;
    const answerAt = this.timers.now() + this.mock.latency;
    job.timesOut = answerAt > job.deadline;
    job.dueKey = this.responses.add(job, job.timesOut ? job.deadline : answerAt);
    this.metrics?.requests.inc();
  }

  private onResponseDue(job: MockJob): void {
    const state = job.state;
    job.state = DONE;
    if (state === WAITING) {
      this.throttle?.forget();
      job.reject(new ClusterError('THROTTLED', 'no throughput token before the deadline', { sent: false }));
      return;
    }
    if (state === DONE) return;
    const now = this.timers.now();
    const latencyMs = now - job.started;
    if (job.timesOut && !this.closed) {
      this.deps.feedback?.recordOutcome(this.name, MOCK_ENDPOINT, 'timeout', latencyMs);
      const err = new ClusterError('TIMEOUT', 'no response before the deadline', { sent: true, endpoint: MOCK_ENDPOINT });
      job.reject(err);
      return;
    }
    const response = this.answer(job.pdu, now);
    this.metrics?.latency.observe(latencyMs / 1000);
    this.deps.feedback?.recordOutcome(this.name, MOCK_ENDPOINT, statusName(response.command_status), latencyMs);
    job.resolve({ response, endpoint: MOCK_ENDPOINT, latencyMs });
  }

  private answer(pdu: UpstreamRequest, now: number): Pdu {
    switch (pdu.command) {
      case 'submit_sm':
      case 'data_sm': {
        const status = this.submitStatus();
        if (status !== Status.ESME_ROK) return responseFor(pdu, status);
        const message = this.accept(pdu, now);
        this.scheduleReceipt(pdu.registered_delivery, message, pdu);
        return responseFor(pdu, Status.ESME_ROK, { message_id: message.id });
      }
      case 'submit_multi': {
        const status = this.submitStatus();
        if (status !== Status.ESME_ROK) return responseFor(pdu, status);
        const message = this.accept(pdu, now);
        for (const d of pdu.dest_addresses) {
          if (d.dest_flag === 1) {
            this.scheduleReceipt(pdu.registered_delivery, message, d);
          }
        }
        return responseFor(pdu, Status.ESME_ROK, { message_id: message.id, unsuccess_smes: [] });
      }
      case 'query_sm': {
        const message = this.messages.get(pdu.message_id);
        if (message === undefined) return responseFor(pdu, Status.ESME_RQUERYFAIL);
        const state = message.stateAt(now);
        return responseFor(pdu, Status.ESME_ROK, {
          message_id: pdu.message_id,
          message_state: state,
          final_date: state === MESSAGE_STATE.ENROUTE ? '' : smppTime(Math.min(now, message.doneAt)),
          error_code: 0,
        });
      }
      case 'cancel_sm': {
        const message = this.messages.get(pdu.message_id);
        if (message === undefined || message.stateAt(now) !== MESSAGE_STATE.ENROUTE) {
          return responseFor(pdu, Status.ESME_RCANCELFAIL);
        }
        message.cancelled = true; // its receipt is not sent
        return responseFor(pdu, Status.ESME_ROK);
      }
      case 'replace_sm': {
        const message = this.messages.get(pdu.message_id);
        if (message === undefined || message.stateAt(now) !== MESSAGE_STATE.ENROUTE) {
          return responseFor(pdu, Status.ESME_RREPLACEFAIL);
        }
        return responseFor(pdu, Status.ESME_ROK);
      }
    }
    // Not reachable with the typed request union; a cast-in caller still gets an answer.
    return responseFor(pdu as RequestPdu, Status.ESME_RINVCMDID);
  }

  private submitStatus(): number {
    const m = this.mock;
    if (m.throttle_rate > 0 || m.error_rate > 0) {
      const r = this.rng();
      if (r < m.throttle_rate) return Status.ESME_RTHROTTLED;
      if (r < m.throttle_rate + m.error_rate) return m.error_status;
    }
    return m.response;
  }

  private newId(): string {
    const n = this.nextId++;
    return this.decimalIds ? String(n) : n.toString(16).toUpperCase();
  }

  /** Records an accepted message under a new id (for query_sm, cancel_sm, replace_sm and its receipts). */
  private accept(pdu: SubmitSm | DataSm | SubmitMulti, now: number): MockMessage {
    const dlr = this.mock.dlr;
    const message = new MockMessage(
      this.newId(),
      now,
      dlr === 'none' ? Infinity : now + this.mock.dlr_delay,
      dlr === 'none' ? MESSAGE_STATE.ENROUTE : FINAL_STATE[dlr],
      { ton: pdu.source_addr_ton, npi: pdu.source_addr_npi, addr: pdu.source_addr },
      receiptText(pdu),
    );
    // A ring of ids forgets the oldest in O(1) (iterating a Map from its start after many deletes
    // walks their tombstones: that made the mock 3x slower at the cap).
    const forgotten = this.order[this.orderPos];
    if (forgotten !== undefined) this.messages.delete(forgotten);
    this.order[this.orderPos] = message.id;
    this.orderPos = (this.orderPos + 1) % MOCK_MAX_MESSAGES;
    this.messages.set(message.id, message);
    return message;
  }

  // ---- receipts --------------------------------------------------------------------------------

  /** SMPP 3.4 §5.2.17 registered_delivery bits 1-0: 01 receipt on success or failure, 10 on failure only. */
  private scheduleReceipt(registeredDelivery: number, message: MockMessage, to: Destination): void {
    if (this.mock.dlr === 'none') return;
    const wanted = registeredDelivery & 0x03;
    if (wanted !== 1 && !(wanted === 2 && message.finalState !== MESSAGE_STATE.DELIVERED)) return;
    const receipt = new MockReceipt(message, to.dest_addr_ton, to.dest_addr_npi, to.destination_addr);
    this.receipts.add(receipt, message.doneAt);
  }

  private receiptPdu(r: MockReceipt, now: number): DeliverSm {
    const m = r.message;
    const state = m.finalState;
    const stat = STAT_OF_STATE[state];
    const text = formatReceiptText({
      id: m.id,
      stat,
      submitDate: new Date(m.submitted),
      doneDate: new Date(now),
      err: state === MESSAGE_STATE.DELIVERED ? 0 : 1,
      text: m.text,
    });
    return {
      command: 'deliver_sm',
      command_status: 0,
      sequence_number: 0,
      service_type: '',
      source_addr_ton: r.ton,
      source_addr_npi: r.npi,
      source_addr: r.addr,
      dest_addr_ton: m.source.ton,
      dest_addr_npi: m.source.npi,
      destination_addr: m.source.addr,
      esm_class: 0x04, // SMPP 3.4 §5.2.12: SMSC delivery receipt
      protocol_id: 0,
      priority_flag: 0,
      schedule_delivery_time: '',
      validity_period: '',
      registered_delivery: 0,
      replace_if_present_flag: 0,
      data_coding: 0,
      sm_default_msg_id: 0,
      short_message: Buffer.from(text, 'latin1'),
      tlvs: { receipted_message_id: m.id, message_state: state },
    };
  }

  private async deliver(r: MockReceipt): Promise<void> {
    if (this.closed || r.message.cancelled) return;
    let status: number;
    try {
      status = await this.deps.onDelivery({
        cluster: this.name,
        endpoint: MOCK_ENDPOINT,
        pdu: this.receiptPdu(r, this.timers.now()),
      });
    } catch (err) {
      this.log.error({ err }, 'delivery handler failed');
      status = Status.ESME_RX_T_APPN;
    }
    if (status === Status.ESME_ROK || this.closed) return;
    if (++r.attempts >= RECEIPT_ATTEMPTS) {
      this.log.warn({ messageId: r.message.id, status: statusName(status) }, 'receipt refused, dropped');
      return;
    }
    this.receipts.add(r, this.timers.now() + Math.max(this.mock.dlr_delay, 1000));
  }
}

export function createMockCluster(config: ClusterConfig, deps: ClusterDeps): Cluster {
  return new MockCluster(config, deps);
}
