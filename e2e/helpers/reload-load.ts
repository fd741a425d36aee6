// Steady open-loop submit_sm load for the reload and shutdown acceptance tests, over our own session
// engine (windowed, thousands per second): counts every response by status, every request that got
// none (by session error), responses that matched no request (a duplicate shows up there), and the
// sessions that closed or were unbound by the server while the load ran.

import { connectBound } from '../bench/connect.js';
import { isSessionError, type OutgoingRequest, type Session } from '../../proxy/session/index.js';
import { Status } from '../../proxy/smpp/index.js';

export interface LoadOptions {
  port: number;
  systemId?: string;
  password?: string;
  binds: number;
  /** Messages per second over all binds. */
  rate: number;
  /** Outstanding requests per session before the next ones wait in its queue. */
  window?: number;
  /** Destinations are this prefix plus a counter. */
  destinationPrefix?: string;
}

export interface LoadResult {
  sent: number;
  responses: number;
  byStatus: Map<number, number>;
  /** Requests that got no response, by session error code (CLOSED, UNBOUND, TIMEOUT, ...). */
  failures: Record<string, number>;
  /** Responses whose sequence number matched no outstanding request (duplicates). */
  unmatchedResponses: number;
  /** Sessions that the server closed or unbound while the load ran. */
  sessionsLost: number;
  /** unbind PDUs received from the server. */
  unbindsReceived: number;
}

/** Bound sessions take requests; one the server unbinds gets no more (as a client should). */
const canSend = (s: Session): boolean => s.state === 'bound_tx' || s.state === 'bound_trx';

export interface RunningLoad {
  /** Requests written and not answered yet. */
  readonly outstanding: number;
  readonly sent: number;
  /** Stops sending; resolves when every request is settled. Sessions stay open. */
  stop(): Promise<void>;
  /** Counts so far. */
  result(): LoadResult;
  /** How many of the first `n` requests have no response (yet). */
  unansweredAmong(n: number): number;
  /** Resolves when every session has been unbound or closed by the server. */
  allClosed(): Promise<void>;
  /** Unbinds what is still bound. */
  close(): Promise<void>;
}

function submit(n: number, prefix: string): OutgoingRequest {
  return {
    command: 'submit_sm',
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '258840000001',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: prefix + String(n % 100_000).padStart(5, '0'),
    esm_class: 0,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 0,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.from(`load message ${n}`),
  };
}

export async function startLoad(o: LoadOptions): Promise<RunningLoad> {
  const sessions: Session[] = await Promise.all(
    Array.from({ length: o.binds }, () =>
      connectBound({
        host: '127.0.0.1',
        port: o.port,
        systemId: o.systemId ?? 'acme',
        password: o.password ?? 'secret',
        bindType: 'transmitter',
        session: { window: o.window ?? 100, windowMode: 'wait', maxQueue: 1_000_000, queueTimeoutMs: 3_600_000, requestTimeoutMs: 30_000 },
      }),
    ),
  );
  const byStatus = new Map<number, number>();
  const failures: Record<string, number> = {};
  let sent = 0;
  let responses = 0;
  let outstanding = 0;
  let lost = 0;
  let unbinds = 0;
  let sending = true;
  let drained: (() => void) | undefined;
  const closedAll = Promise.all(sessions.map((s) => s.closed));
  for (const s of sessions) {
    s.on('unbind', () => unbinds++);
    void s.closed.then(() => {
      if (sending) lost++;
    });
  }
  const prefix = o.destinationPrefix ?? '2588410';
  const answered: boolean[] = [];
  const started = performance.now();
  const interval = 1000 / o.rate;
  let turn = 0;
  const settle = (): void => {
    outstanding--;
    if (!sending && outstanding === 0) drained?.();
  };
  const tick = (): void => {
    if (!sending) return;
    const due = Math.floor((performance.now() - started) / interval) + 1;
    while (sent < due) {
      let s: Session | undefined;
      for (let k = 0; k < sessions.length && s === undefined; k++) {
        const candidate = sessions[turn++ % sessions.length]!;
        if (canSend(candidate)) s = candidate;
      }
      if (s === undefined) break; // every session unbound or closed: nothing to send on
      const n = sent++;
      outstanding++;
      answered.push(false);
      s.request(submit(n, prefix)).then(
        (resp) => {
          answered[n] = true;
          responses++;
          byStatus.set(resp.command_status, (byStatus.get(resp.command_status) ?? 0) + 1);
          settle();
        },
        (err: unknown) => {
          const code = isSessionError(err) ? err.code : 'ERROR';
          failures[code] = (failures[code] ?? 0) + 1;
          settle();
        },
      );
    }
    setTimeout(tick, 2);
  };
  tick();

  const result = (): LoadResult => ({
    sent,
    responses,
    byStatus: new Map(byStatus),
    failures: { ...failures },
    unmatchedResponses: sessions.reduce((n, s) => n + s.stats().droppedResponses, 0),
    sessionsLost: lost,
    unbindsReceived: unbinds,
  });

  return {
    get outstanding() {
      return outstanding;
    },
    get sent() {
      return sent;
    },
    stop() {
      sending = false;
      if (outstanding === 0) return Promise.resolve();
      return new Promise<void>((resolve) => (drained = resolve));
    },
    result,
    unansweredAmong(n) {
      let missing = 0;
      for (let i = 0; i < n && i < answered.length; i++) if (!answered[i]) missing++;
      return missing;
    },
    allClosed: () => closedAll.then(() => undefined),
    async close() {
      sending = false;
      await Promise.all(sessions.map((s) => s.unbind()));
    },
  };
}

/** Responses with ESME_ROK in a result. */
export const okCount = (r: LoadResult): number => r.byStatus.get(Status.ESME_ROK) ?? 0;
