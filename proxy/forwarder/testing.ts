// In-process fakes of the forwarder's ports (cluster, client session, registry) and a harness that
// builds a forwarder on the real router, memory store and config schema. For tests only.

import { ConfigSchema, type ConfigInput } from '../config/schema.js';
import { createFeedback, type Feedback } from '../feedback/feedback.js';
import { compileRoutes } from '../router/route-table.js';
import { silentLogger, type SessionLogger } from '../session/index.js';
import type { DataSm, DeliverSm, Pdu, SubmitSm } from '../smpp/index.js';
import { createMemoryStore } from '../store/memory-store.js';
import { createMessageIdGenerator } from '../store/message-id.js';
import type { MessageStore } from '../store/store.js';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';
import type { ForwarderOptions } from './context.js';
import { createForwarder, type Forwarder } from './forwarder.js';
import type { ClientSession, DeliverDone } from '../listener/index.js';
import type {
  ClientRegistryPort,
  ClientSessionPort,
  ClusterErrorCode,
  ClusterPort,
  SendOptions,
  SendResult,
  SendWaiter,
  UpstreamRequest,
} from './ports.js';
import { sendWithPromise } from '../cluster/index.js';

export const ID_PREFIX = 'testprefix0000';

export class FakeClusterError extends Error {
  readonly code: ClusterErrorCode;
  readonly sent: boolean;
  readonly endpoint: string | undefined;
  constructor(code: ClusterErrorCode, sent: boolean, endpoint?: string) {
    super(code);
    this.code = code;
    this.sent = sent;
    this.endpoint = endpoint;
  }
}

export interface SendCall {
  /** A snapshot of the PDU as sent. */
  pdu: UpstreamRequest;
  opts: SendOptions;
  at: number;
}

export type SendHandler = (pdu: UpstreamRequest, opts: SendOptions, call: number) => Promise<SendResult> | SendResult;

/** A cluster whose answers the test scripts; records every send. */
export class FakeCluster implements ClusterPort {
  readonly name: string;
  up = true;
  readonly calls: SendCall[] = [];
  handler: SendHandler;
  private nextId = 1;

  constructor(name: string, handler?: SendHandler) {
    this.name = name;
    this.handler = handler ?? ((pdu) => this.accept(pdu));
  }

  available(): boolean {
    return this.up;
  }

  async send(pdu: UpstreamRequest, opts: SendOptions): Promise<SendResult> {
    this.calls.push({ pdu: { ...pdu }, opts: { ...opts }, at: Date.now() });
    return this.handler(pdu, opts, this.calls.length);
  }

  sendWith(pdu: UpstreamRequest, opts: SendOptions, waiter: SendWaiter): void {
    sendWithPromise(this.send(pdu, opts), waiter);
  }

  /** The accepting answer: upstream ids are hex (`${name}-` free: just a hex counter from 0xA0). */
  accept(pdu: UpstreamRequest, endpoint = 'ep1'): SendResult {
    const id = (0xa0 + this.nextId++).toString(16).toUpperCase();
    return { response: respond(pdu, 0, id), endpoint, latencyMs: 1 };
  }

  refuse(pdu: UpstreamRequest, status: number, endpoint = 'ep1'): SendResult {
    return { response: respond(pdu, status, ''), endpoint, latencyMs: 1 };
  }
}

/** A response PDU to `pdu` with `status` and, where the command has one, message_id. */
export function respond(pdu: UpstreamRequest, status: number, messageId: string): Pdu {
  const base = { command_status: status, sequence_number: pdu.sequence_number };
  switch (pdu.command) {
    case 'submit_sm':
      return { ...base, command: 'submit_sm_resp', message_id: messageId };
    case 'data_sm':
      return { ...base, command: 'data_sm_resp', message_id: messageId };
    case 'submit_multi':
      return { ...base, command: 'submit_multi_resp', message_id: messageId, unsuccess_smes: [] };
    case 'query_sm':
      return { ...base, command: 'query_sm_resp', message_id: pdu.message_id, final_date: '', message_state: 2, error_code: 0 };
    case 'cancel_sm':
      return { ...base, command: 'cancel_sm_resp' };
    case 'replace_sm':
      return { ...base, command: 'replace_sm_resp' };
  }
}

export type DeliverHandler = (pdu: DeliverSm | DataSm, call: number) => Promise<number> | number;

/** A bound client session; records what it was given. */
export class FakeSession implements ClientSession {
  readonly id: string;
  readonly systemId: string;
  readonly bindType = 'transceiver';
  readonly listener = 'test';
  readonly remoteAddress = '127.0.0.1:40000';
  readonly boundAt = Date.now();
  receiver = true;
  /** unbind() calls. */
  unbinds = 0;
  readonly delivered: (DeliverSm | DataSm)[] = [];
  handler: DeliverHandler = () => 0;
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(systemId: string, id = `${systemId}-1`) {
    this.systemId = systemId;
    this.id = id;
  }

  unbind(): void {
    this.unbinds++;
  }

  canReceive(): boolean {
    return this.receiver;
  }

  async deliver(pdu: DeliverSm | DataSm): Promise<number> {
    this.delivered.push(pdu);
    const status = await this.handler(pdu, this.delivered.length);
    for (const w of this.waiters.filter((w) => this.delivered.length >= w.count)) w.resolve();
    this.waiters = this.waiters.filter((w) => this.delivered.length < w.count);
    return status;
  }

  deliverWith(pdu: DeliverSm | DataSm, _timeoutMs: number, done: DeliverDone): void {
    this.deliver(pdu).then(
      (status) => done.delivered(status),
      (err: unknown) => done.notDelivered(err as Error),
    );
  }

  /** Resolves once `count` deliveries have been answered. */
  waitFor(count: number): Promise<void> {
    if (this.delivered.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}

export class FakeRegistry implements ClientRegistryPort {
  readonly sessions = new Map<string, FakeSession>();

  bind(session: FakeSession): void {
    this.sessions.set(session.systemId, session);
  }

  unbind(systemId: string): void {
    this.sessions.delete(systemId);
  }

  receiverFor(systemId: string): ClientSessionPort | undefined {
    const s = this.sessions.get(systemId);
    return s !== undefined && s.canReceive() ? s : undefined;
  }
}

export interface Harness {
  forwarder: Forwarder;
  store: MessageStore;
  registry: FakeRegistry;
  clusters: Map<string, FakeCluster>;
  metrics: Metrics;
  feedback: Feedback;
}

export interface HarnessOptions {
  config: ConfigInput;
  clusters: FakeCluster[];
  store?: MessageStore;
  options?: ForwarderOptions;
  rng?: () => number;
  /** Default: silent. */
  logger?: SessionLogger;
}

export function harness(o: HarnessOptions): Harness {
  const config = ConfigSchema.parse(o.config);
  const store = o.store ?? createMemoryStore({ ttlMs: config.store.ttl });
  const registry = new FakeRegistry();
  const clusters = new Map(o.clusters.map((c) => [c.name, c]));
  const metrics = createMetrics({ defaultMetrics: false });
  const feedback = createFeedback();
  const forwarder = createForwarder({
    router: compileRoutes(config.routes),
    clusters,
    store,
    registry,
    config,
    logger: o.logger ?? silentLogger,
    metrics,
    feedback,
    ids: createMessageIdGenerator({ prefix: ID_PREFIX }),
    rng: o.rng ?? (() => 0.5),
    options: { sweepIntervalMs: 3_600_000, ...o.options },
  });
  return { forwarder, store, registry, clusters, metrics, feedback };
}

export function submitSm(fields: Partial<SubmitSm> = {}): SubmitSm {
  return {
    command: 'submit_sm',
    command_status: 0,
    sequence_number: 7,
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '258840000001',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '+258841234567',
    esm_class: 0,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 1,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.from('hello'),
    ...fields,
  };
}

export function deliverSm(fields: Partial<DeliverSm> = {}): DeliverSm {
  return {
    command: 'deliver_sm',
    command_status: 0,
    sequence_number: 99,
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '258841234567',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '258840000001',
    esm_class: 0,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 0,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.alloc(0),
    ...fields,
  };
}

/** An Appendix B receipt text for `id`. */
export function receiptText(id: string, stat = 'DELIVRD'): Buffer {
  return Buffer.from(
    `id:${id} sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:${stat} err:000 text:hello`,
    'latin1',
  );
}

/** A deferred promise, for answering a send at a moment the test chooses. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
