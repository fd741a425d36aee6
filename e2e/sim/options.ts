// What the simulator does, as one plain object: startSimulator() takes it, setOptions() changes any
// part of it while running (the next request or receipt sees the change).

import { ID_FORMATS, RECEIPT_ID_STYLES, type IdFormat, type ReceiptIdStyle } from './message-ids.js';
import { DLR_OUTCOMES, type DlrOutcome } from './receipts.js';

export const RECEIPT_FORMS = ['text', 'tlv', 'both'] as const;
export type ReceiptForm = (typeof RECEIPT_FORMS)[number];

export const DLR_SESSIONS = ['same', 'random'] as const;
export type DlrSession = (typeof DLR_SESSIONS)[number];

export const RECEIPTS_WHEN = ['requested', 'always', 'never'] as const;
export type ReceiptsWhen = (typeof RECEIPTS_WHEN)[number];

export interface SimulatorBehaviour {
  /** Delay before answering submit_sm/data_sm/submit_multi/query_sm/cancel_sm/replace_sm (0 = at once, no timer). */
  latencyMs: number;
  /** Delay from the submit response to the receipt. */
  dlrDelayMs: number;
  /** Send the receipt before the submit response (an SMSC racing its own response, SPEC §4
   *  "A receipt that arrives before the submit response"); dlrDelayMs is then ignored. */
  receiptFirst: boolean;
  /** With receiptFirst: how long the receipt goes ahead of its response (0: in the same write, so
   *  the peer reads both at once; more: the peer has handled the receipt before the response comes). */
  receiptLeadMs: number;
  /** The receipt's outcome, or weights for a mix (`{ delivered: 9, undeliverable: 1 }`). */
  dlrOutcome: DlrOutcome | Partial<Record<DlrOutcome, number>>;
  ids: IdFormat;
  receiptIds: ReceiptIdStyle;
  receipts: ReceiptForm;
  /** 'requested' follows registered_delivery (SMPP 3.4 §5.2.17: 1 = always, 2 = on failure only). */
  receiptsWhen: ReceiptsWhen;
  /** Share of submits answered with `errorStatus`. */
  errorRate: number;
  errorStatus: number;
  /** Share of submits answered with ESME_RTHROTTLED (0x58). */
  throttleRate: number;
  /** Submits accepted per second, 0 = no limit: beyond it, ESME_RTHROTTLED until the second is over
   *  (fixed one-second windows from the first submit of each, as SMSCs count a TPS contract). */
  maxRate: number;
  /** 'same': the session that submitted (another receiver-capable session of its system_id if that one
   *  cannot take it); 'random': any bound receiver-capable session, chosen at random per receipt. */
  dlrSession: DlrSession;
  /** false: submit_multi is answered ESME_RINVCMDID, as by the many SMSCs that do not take it. */
  submitMulti: boolean;
  /** false: requests are read and never answered (a hung SMSC). enquire_link is still answered. */
  respond: boolean;
  /** Bind status: 0 accepts binds (subject to the credentials), anything else refuses with it. */
  bindStatus: number;
  /** Retry a receipt whose deliver_sm failed (error status, timeout) after this long. */
  receiptRetryMs: number;
  /** Attempts per receipt before it is dropped (counted in stats). */
  receiptAttempts: number;
}

export interface SimulatorOptions extends SimulatorBehaviour {
  host: string;
  /** Serve SMPP over TLS with this certificate and key (PEM); plain TCP when absent. */
  tls?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** 0 = any free port; see `simulator.port`. */
  port: number;
  /** system_id in our bind responses. */
  ownSystemId: string;
  /** When set, binds must use this system_id (else ESME_RINVSYSID) ... */
  systemId: string | undefined;
  /** ... and this password (else ESME_RINVPASWD). */
  password: string | undefined;
  /** Outstanding deliver_sm per session; more wait for a slot. */
  window: number;
  /** Unanswered requests a session may have; beyond it ESME_RMSGQFUL (0 = no limit). */
  incomingWindow: number;
  /** Messages kept for query_sm/cancel_sm/replace_sm; the oldest are forgotten beyond it. */
  maxMessages: number;
  /** Seed for error/throttle injection, outcome mixes and random receipt sessions. */
  seed: number | undefined;
}

export const DEFAULT_OPTIONS: SimulatorOptions = {
  host: '127.0.0.1',
  port: 0,
  ownSystemId: 'smppd-sim',
  systemId: undefined,
  password: undefined,
  window: 100,
  incomingWindow: 0,
  maxMessages: 500_000,
  seed: undefined,
  latencyMs: 0,
  dlrDelayMs: 0,
  receiptFirst: false,
  receiptLeadMs: 0,
  dlrOutcome: 'delivered',
  ids: 'hex',
  receiptIds: 'same',
  receipts: 'text',
  receiptsWhen: 'requested',
  errorRate: 0,
  errorStatus: 0x08,
  throttleRate: 0,
  maxRate: 0,
  submitMulti: true,
  dlrSession: 'same',
  respond: true,
  bindStatus: 0,
  receiptRetryMs: 1000,
  receiptAttempts: 10,
};

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): void {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${allowed.join(', ')}, got ${value}`);
  }
}

function range(name: string, value: number, min: number, max = Infinity): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${name} must be between ${min} and ${max}, got ${value}`);
  }
}

/** Throws a RangeError naming the first bad field. */
export function checkOptions(o: Partial<SimulatorOptions>): void {
  if (o.port !== undefined) range('port', o.port, 0, 65535);
  if (o.window !== undefined) range('window', o.window, 1);
  if (o.incomingWindow !== undefined) range('incomingWindow', o.incomingWindow, 0);
  if (o.maxMessages !== undefined) range('maxMessages', o.maxMessages, 1);
  if (o.latencyMs !== undefined) range('latencyMs', o.latencyMs, 0);
  if (o.dlrDelayMs !== undefined) range('dlrDelayMs', o.dlrDelayMs, 0);
  if (o.receiptLeadMs !== undefined) range('receiptLeadMs', o.receiptLeadMs, 0);
  if (o.errorRate !== undefined) range('errorRate', o.errorRate, 0, 1);
  if (o.throttleRate !== undefined) range('throttleRate', o.throttleRate, 0, 1);
  if (o.maxRate !== undefined) range('maxRate', o.maxRate, 0);
  if (o.errorRate !== undefined && o.throttleRate !== undefined && o.errorRate + o.throttleRate > 1) {
    throw new RangeError('errorRate + throttleRate must be at most 1');
  }
  if (o.errorStatus !== undefined) range('errorStatus', o.errorStatus, 0, 0xffffffff);
  if (o.bindStatus !== undefined) range('bindStatus', o.bindStatus, 0, 0xffffffff);
  if (o.receiptRetryMs !== undefined) range('receiptRetryMs', o.receiptRetryMs, 0);
  if (o.receiptAttempts !== undefined) range('receiptAttempts', o.receiptAttempts, 1);
  if (o.ids !== undefined) oneOf('ids', o.ids, ID_FORMATS);
  if (o.receiptIds !== undefined) oneOf('receiptIds', o.receiptIds, RECEIPT_ID_STYLES);
  if (o.receipts !== undefined) oneOf('receipts', o.receipts, RECEIPT_FORMS);
  if (o.receiptsWhen !== undefined) oneOf('receiptsWhen', o.receiptsWhen, RECEIPTS_WHEN);
  if (o.dlrSession !== undefined) oneOf('dlrSession', o.dlrSession, DLR_SESSIONS);
  if (o.dlrOutcome !== undefined) {
    if (typeof o.dlrOutcome === 'string') oneOf('dlrOutcome', o.dlrOutcome, DLR_OUTCOMES);
    else {
      let total = 0;
      for (const [k, w] of Object.entries(o.dlrOutcome)) {
        oneOf('dlrOutcome', k, DLR_OUTCOMES);
        range(`dlrOutcome.${k}`, w, 0);
        total += w;
      }
      if (!(total > 0)) throw new RangeError('dlrOutcome weights must add up to more than 0');
    }
  }
}
