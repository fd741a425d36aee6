// One request upstream with retries (SPEC §4 Submit: "transient failures retried within
// request_timeout ... on another endpoint or cluster where one is available").
//
// Order of tries: the route's cluster, then each fallback cluster in order. A cluster is left for the
// next one when it is unavailable (available() false, or send() rejects UNAVAILABLE: circuit open, no
// bound session), or when its `retry.max_attempts` are used up and the last outcome was still
// retriable. Between attempts on one cluster: full-jitter backoff (initial_backoff..max_backoff), and
// the endpoint that failed is avoided (unless the request is pinned to a session by multipart affinity
// or to an endpoint, or every endpoint already failed). Nothing waits past the deadline: when a
// backoff would end after it, the last outcome is the answer.

import { Status } from '../smpp/index.js';
import type { Pdu } from '../smpp/index.js';
import { sleep, type ForwarderContext } from './context.js';
import { errorFailure, retryDelay, statusFailure, type ClusterPolicy, type Failure } from './policy.js';
import type { ClusterPort, SendOptions, SendResult, UpstreamRequest } from './ports.js';

export interface SendOutcome {
  /** 0 when the upstream accepted; else the status to give the client. */
  status: number;
  /** The upstream's last response, when the last word was one (accepted or refused). */
  response: Pdu | undefined;
  /** Cluster of the last attempt (the route's cluster when none was tried). */
  cluster: string;
  /** Endpoint that answered, when known. */
  endpoint: string | undefined;
}

export const NO_FALLBACK: readonly string[] = Object.freeze([]);

function unavailable(): Failure {
  return { status: Status.ESME_RSYSERR, retriable: true, unavailable: true, reason: 'unavailable', endpoint: undefined };
}

function failed(f: Failure | undefined, response: Pdu | undefined, cluster: string): SendOutcome {
  // No attempt at all (every cluster unavailable, or the deadline had passed): the upstream is not
  // reachable now, a transient condition.
  return { status: f?.status ?? Status.ESME_RSYSERR, response, cluster, endpoint: f?.endpoint };
}

/**
 * The loop of sendWithRetry as a state machine, so the submit path can drive it with callbacks
 * (SubmitJob, submit.ts, extends it): one object per message instead of a second async frame (bench:
 * `npm run bench`, through smppd). Drive it as sendWithRetry does: next() says what to do; after
 * 'wait' sleep delayMs and call afterWait(); after 'send' call cluster.send(pdu, opts) and report
 * with answered() or failed(); 'done' leaves the result in `outcome`.
 */
export class Attempts {
  /** Set once the sending is over (accepted, refused for good, or out of time or clusters). */
  outcome: SendOutcome | undefined = undefined;
  /** For 'send': where and how. */
  cluster: ClusterPort | undefined = undefined;
  opts: SendOptions | undefined = undefined;
  /** For 'wait': the backoff before the next attempt. */
  delayMs = 0;

  /** Index of the cluster being tried: 0 the primary, then the fallbacks; -1 before the first. */
  private c = -1;
  private name = '';
  private policy: ClusterPolicy | undefined = undefined;
  /** Attempts made on the current cluster. */
  private attempts = 0;
  /** Attempts made in all. */
  private attemptsMade = 0;
  /** The current cluster is done with (unavailable). */
  private leave = true;
  private pinned = false;
  private exclude: Set<string> | undefined = undefined;
  private last: Failure | undefined = undefined;
  private lastResponse: Pdu | undefined = undefined;
  private lastCluster: string;

  constructor(
    protected readonly ctx: ForwarderContext,
    private readonly primary: string,
    private readonly fallback: readonly string[],
    private readonly deadline: number,
    private readonly affinity: string | undefined,
    private readonly endpoint: string | undefined,
    /** The clock as the caller read it just before (spares a read for the first attempt; bench). */
    private readonly startedAt?: number,
  ) {
    this.lastCluster = primary;
  }

  next(): 'send' | 'wait' | 'done' {
    if (this.outcome !== undefined) return 'done';
    for (;;) {
      if (this.leave || this.attempts >= this.policy!.maxAttempts) {
        if (++this.c > this.fallback.length) return this.finish(failed(this.last, this.lastResponse, this.lastCluster));
        const name = this.c === 0 ? this.primary : (this.fallback[this.c - 1] as string);
        const cluster = this.ctx.clusters.get(name);
        if (cluster === undefined || !cluster.available()) {
          // Keep a more telling earlier outcome (an upstream's ESME_RTHROTTLED) over "unavailable".
          if (this.last === undefined) this.last = unavailable();
          continue;
        }
        const policy = this.ctx.policy(name);
        this.name = name;
        this.cluster = cluster;
        this.policy = policy;
        this.attempts = 0;
        this.leave = false;
        this.pinned = this.affinity !== undefined || this.endpoint !== undefined || policy.endpointCount < 2;
        this.exclude = undefined;
      }
      if (this.attempts > 0) {
        const delay = retryDelay(this.policy!, this.attempts - 1, this.ctx.rng);
        if (delay > 0) {
          if (this.ctx.timers.now() + delay >= this.deadline) {
            return this.finish(failed(this.last, this.lastResponse, this.lastCluster));
          }
          this.delayMs = delay;
          return 'wait';
        }
      }
      return this.prepare();
    }
  }

  afterWait(): 'send' | 'done' {
    return this.prepare();
  }

  /** The attempt got an answer over the wire (any status). */
  answered(res: SendResult): void {
    const status = res.response.command_status;
    if (status === Status.ESME_ROK) {
      this.outcome = { status, response: res.response, cluster: this.name, endpoint: res.endpoint };
      return;
    }
    this.last = statusFailure(this.policy!, status, res.endpoint);
    this.lastResponse = res.response;
    this.afterFailure();
  }

  /** The attempt's send() rejected. */
  failed(err: unknown): void {
    const f = errorFailure(this.policy!, err);
    if (f.unavailable) {
      if (this.last === undefined || this.last.unavailable) this.last = f;
      this.leave = true;
      return;
    }
    this.last = f;
    this.lastResponse = undefined;
    if (f.reason === 'error') this.ctx.logger.error({ cluster: this.name, err }, 'cluster send failed unexpectedly');
    this.afterFailure();
  }

  private prepare(): 'send' | 'done' {
    // The first attempt goes at once: the caller's clock reading (`startedAt`) still holds.
    const now = this.attemptsMade === 0 && this.startedAt !== undefined ? this.startedAt : this.ctx.timers.now();
    this.attemptsMade++;
    const remaining = this.deadline - now;
    if (remaining <= 0) return this.finish(failed(this.last, this.lastResponse, this.lastCluster));
    if (this.last !== undefined) this.ctx.metrics?.retries.labels(this.name, this.last.reason).inc();
    const exclude = this.exclude;
    // One shape for every attempt (absent options are undefined).
    this.opts = {
      timeoutMs: remaining,
      affinity: this.affinity,
      endpoint: this.endpoint,
      exclude: exclude !== undefined && exclude.size > 0 ? exclude : undefined,
      now,
    };
    this.lastCluster = this.name;
    this.attempts++;
    return 'send';
  }

  private afterFailure(): void {
    const last = this.last!;
    if (!last.retriable) {
      this.outcome = failed(last, this.lastResponse, this.name);
      return;
    }
    if (!this.pinned && last.endpoint !== undefined) {
      const exclude = (this.exclude ??= new Set());
      exclude.add(last.endpoint);
      // Every endpoint failed once: any of them may do better now than none at all.
      if (exclude.size >= this.policy!.endpointCount) exclude.clear();
    }
  }

  private finish(outcome: SendOutcome): 'done' {
    this.outcome = outcome;
    return 'done';
  }
}

/**
 * Sends `pdu` (an object the caller owns: the session assigns its sequence_number in place) to
 * `primary`, then `fallback` clusters, until accepted, refused for good, or out of time. Never rejects.
 */
export async function sendWithRetry(
  ctx: ForwarderContext,
  primary: string,
  fallback: readonly string[],
  pdu: UpstreamRequest,
  deadline: number,
  affinity: string | undefined,
  endpoint: string | undefined,
): Promise<SendOutcome> {
  const a = new Attempts(ctx, primary, fallback, deadline, affinity, endpoint);
  for (let step = a.next(); step !== 'done'; step = a.next()) {
    if (step === 'wait') {
      await sleep(ctx.timers, a.delayMs);
      if (a.afterWait() === 'done') break;
    }
    try {
      a.answered(await a.cluster!.send(pdu, a.opts!));
    } catch (err) {
      a.failed(err);
    }
  }
  return a.outcome!;
}
