// Load for the data-plane e2e tests: windowed submit_sm traffic from a node-smpp client (the
// independent `smpp` npm package) that counts every submit_sm_resp on the wire by sequence number, so
// a test can assert "every submit got exactly one response"; and small simulator tallies.

import { createRequire } from 'node:module';
import type { SmppClient, NodeSmppPdu } from '../../proxy/listener/testing.js';
import type { Simulator, SubmitEvent } from '../sim/index.js';

interface NodeSmppPduCtor {
  PDU: new (command: string, options?: Record<string, unknown>) => NodeSmppPdu;
}
const smpp = createRequire(import.meta.url)('smpp') as NodeSmppPduCtor;

export interface SubmitRun {
  /** Requests written. */
  sent: number;
  /** submit_sm_resp PDUs seen on the wire for each request sequence number. */
  responsesBySeq: Map<number, number>;
  /** Responses (first per sequence number) by command_status. */
  statuses: Map<number, number>;
  /** message_id of every accepted submit, in answer order. */
  messageIds: string[];
  /** Requests still waiting for their response. */
  readonly outstanding: number;
}

export interface WindowedOptions {
  /** Requests kept outstanding at once. */
  window: number;
  /** Send at least this many. */
  count: number;
  /** When given, keep sending past `count` until it returns true (checked before each new request). */
  until?: () => boolean;
  /** Hard cap on requests, whatever `until` says. */
  max?: number;
  /** submit_sm fields of request number i (0-based). */
  fields?: (i: number) => Record<string, unknown>;
  /** Called with each first response. */
  onResponse?: (pdu: NodeSmppPdu, i: number) => void;
  /**
   * Wait this long before the next request after an error response, as a client backing off does.
   * Without it, a proxy that fails fast (no upstream) answers thousands of requests a second and
   * the load can reach `max` before the upstream is back.
   */
  errorDelayMs?: number;
}

/**
 * Submits with `window` requests outstanding until `count` were sent (and `until()` holds), then
 * waits for every response and for an enquire_link round trip, so that a duplicate response written
 * before it would have been counted. Rejects if the connection closes first.
 */
export async function submitWindowed(client: SmppClient, opts: WindowedOptions): Promise<SubmitRun> {
  const session = client.session;
  const run: SubmitRun = {
    sent: 0,
    responsesBySeq: new Map(),
    statuses: new Map(),
    messageIds: [],
    get outstanding() {
      return pending;
    },
  };
  let pending = 0;
  const onPdu = (pdu: NodeSmppPdu): void => {
    if (pdu.command !== 'submit_sm_resp') return;
    run.responsesBySeq.set(pdu.sequence_number, (run.responsesBySeq.get(pdu.sequence_number) ?? 0) + 1);
  };
  session.on('pdu', onPdu);
  const max = opts.max ?? Infinity;
  const more = (): boolean =>
    run.sent < max && (run.sent < opts.count || (opts.until !== undefined && !opts.until()));

  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      void client.closed.then(() => {
        failed = true;
        reject(new Error(`connection closed after ${run.sent} submits, ${pending} unanswered`));
      });
      const sendOne = (): void => {
        const i = run.sent++;
        pending++;
        const pdu = new smpp.PDU('submit_sm', {
          source_addr: '12345',
          destination_addr: '258840000001',
          short_message: `m${i}`,
          ...opts.fields?.(i),
        });
        const ok = session.send(pdu, (resp) => {
          pending--;
          run.statuses.set(resp.command_status, (run.statuses.get(resp.command_status) ?? 0) + 1);
          if (resp.command_status === 0 && typeof resp.message_id === 'string') run.messageIds.push(resp.message_id);
          opts.onResponse?.(resp, i);
          if (failed) return;
          if (!more()) {
            if (pending === 0) resolve();
          } else if (resp.command_status !== 0 && opts.errorDelayMs !== undefined) {
            // Counted as pending while it waits, so the run cannot finish in between.
            pending++;
            setTimeout(() => {
              pending--;
              if (failed) return;
              if (more()) sendOne();
              else if (pending === 0) resolve();
            }, opts.errorDelayMs);
          } else {
            sendOne();
          }
        });
        if (!ok) {
          failed = true;
          reject(new Error('socket not writable'));
        }
      };
      for (let k = 0; k < opts.window && more(); k++) sendOne();
      if (run.sent === 0) resolve();
    });
    // Barrier: a duplicate submit_sm_resp written before this answer is in the counts now.
    await client.request('enquire_link');
  } finally {
    session.off('pdu', onPdu);
  }
  return run;
}

/** Sequence numbers that got more than one response, and how many requests got none. */
export function responseProblems(run: SubmitRun): { duplicated: number[]; unanswered: number } {
  const duplicated = [...run.responsesBySeq].filter(([, n]) => n > 1).map(([seq]) => seq);
  return { duplicated, unanswered: run.sent - run.responsesBySeq.size };
}

/** Collects what a simulator accepted: submit events with ESME_ROK, by destination and text. */
export class SimTally {
  readonly accepted: SubmitEvent[] = [];
  readonly texts = new Set<string>();
  constructor(readonly sim: Simulator) {
    sim.on('submit', (e) => {
      if (e.status !== 0) return;
      this.accepted.push(e);
      const pdu = e.pdu as { short_message?: Buffer };
      if (pdu.short_message !== undefined) this.texts.add(pdu.short_message.toString('latin1'));
    });
  }
  get count(): number {
    return this.accepted.length;
  }
}
