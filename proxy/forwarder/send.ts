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
import { errorFailure, retryDelay, statusFailure, type Failure } from './policy.js';
import type { SendOptions, UpstreamRequest } from './ports.js';

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
  const timers = ctx.timers;
  let last: Failure | undefined;
  let lastResponse: Pdu | undefined;
  let lastCluster = primary;
  for (let c = 0; c <= fallback.length; c++) {
    const name = c === 0 ? primary : (fallback[c - 1] as string);
    const cluster = ctx.clusters.get(name);
    if (cluster === undefined || !cluster.available()) {
      // Keep a more telling earlier outcome (an upstream's ESME_RTHROTTLED) over "unavailable".
      if (last === undefined) last = unavailable();
      continue;
    }
    const policy = ctx.policy(name);
    const pinned = affinity !== undefined || endpoint !== undefined || policy.endpointCount < 2;
    let exclude: Set<string> | undefined;
    for (let attempt = 0; attempt < policy.maxAttempts; attempt++) {
      if (attempt > 0) {
        const delay = retryDelay(policy, attempt - 1, ctx.rng);
        if (delay > 0) {
          if (timers.now() + delay >= deadline) return failed(last, lastResponse, lastCluster);
          await sleep(timers, delay);
        }
      }
      const remaining = deadline - timers.now();
      if (remaining <= 0) return failed(last, lastResponse, lastCluster);
      if (last !== undefined) ctx.metrics?.retries.labels(name, last.reason).inc();
      const opts: SendOptions = { timeoutMs: remaining };
      if (affinity !== undefined) opts.affinity = affinity;
      if (endpoint !== undefined) opts.endpoint = endpoint;
      if (exclude !== undefined && exclude.size > 0) opts.exclude = exclude;
      lastCluster = name;
      try {
        const res = await cluster.send(pdu, opts);
        const status = res.response.command_status;
        if (status === Status.ESME_ROK) {
          return { status, response: res.response, cluster: name, endpoint: res.endpoint };
        }
        last = statusFailure(policy, status, res.endpoint);
        lastResponse = res.response;
      } catch (err) {
        const f = errorFailure(policy, err);
        if (f.unavailable) {
          if (last === undefined || last.unavailable) last = f;
          break;
        }
        last = f;
        lastResponse = undefined;
        if (f.reason === 'error') ctx.logger.error({ cluster: name, err }, 'cluster send failed unexpectedly');
      }
      if (!last.retriable) return failed(last, lastResponse, name);
      if (!pinned && last.endpoint !== undefined) {
        exclude ??= new Set();
        exclude.add(last.endpoint);
        // Every endpoint failed once: any of them may do better now than none at all.
        if (exclude.size >= policy.endpointCount) exclude.clear();
      }
    }
  }
  return failed(last, lastResponse, lastCluster);
}
