// Circuit breaker for one upstream endpoint (SPEC §3 `clusters[].circuit_breaker: { threshold, timeout }`).
//
//   closed --threshold consecutive failures--> open --timeout elapsed--> half_open
//   half_open --probe succeeds--> closed;  half_open --probe fails--> open (timer restarts)
//
// Consecutive failures, not failures in a time window: the caller reports only failures that say the
// endpoint itself is unwell (timeouts, lost connections, bind failures, generic errors), not per-message
// rejections such as ESME_RINVDSTADR that a healthy SMSC returns. Under that rule "N in a row" reacts in
// N requests at any traffic level, needs no window tuning, and one success proves the endpoint answers.
//
// Time is read only through the injected `now()` (milliseconds, monotonic in production:
// performance.now) and the open -> half_open transition happens lazily when someone asks, so the
// breaker owns no timers and a test drives it with a fake clock.

export const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (>= 1). */
  threshold: number;
  /** How long the circuit stays open before one probe is let through (ms). */
  timeoutMs: number;
  /** Clock in ms; defaults to performance.now (monotonic: a wall-clock jump must not reopen traffic). */
  now?: () => number;
  /** Called on every transition, for metrics and logs. Must not throw. */
  onStateChange?: (state: CircuitState, previous: CircuitState) => void;
}

export interface CircuitBreaker {
  /** Current state; moves open -> half_open once the timeout has passed. */
  readonly state: CircuitState;
  /** Whether a request would be let through now, without taking the half-open probe slot (for balancers). */
  canRequest(): boolean;
  /** Ask to send one request. In half_open, the first caller gets the single probe and others are refused. */
  allowRequest(): boolean;
  /** Report the outcome of a request that allowRequest() let through. */
  onSuccess(): void;
  onFailure(): void;
  /** Back to closed with no failures counted (e.g. the endpoint was re-bound after a config change). */
  reset(): void;
  /** New threshold and timeout (config reload); the state and the failures counted so far stay. */
  update(limits: { threshold: number; timeoutMs: number }): void;
  /** Consecutive failures counted while closed. */
  readonly failures: number;
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const { onStateChange } = options;
  let { threshold, timeoutMs } = options;
  checkLimits(threshold, timeoutMs);
  const now = options.now ?? (() => performance.now());

  let state: CircuitState = 'closed';
  let failures = 0;
  let openedAt = 0;
  // When the half-open probe was let through; undefined while no probe is outstanding.
  let probeSentAt: number | undefined;

  function transition(to: CircuitState): void {
    const from = state;
    if (from === to) return;
    state = to;
    onStateChange?.(to, from);
  }

  function open(): void {
    openedAt = now();
    probeSentAt = undefined;
    failures = 0;
    transition('open');
  }

  function refresh(): void {
    if (state === 'open' && now() - openedAt >= timeoutMs) {
      probeSentAt = undefined;
      transition('half_open');
    }
  }

  // A probe whose outcome is never reported (caller bug, dropped promise) must not wedge the endpoint
  // in half_open forever: after another `timeout` a new probe may go.
  function probeSlotFree(): boolean {
    return probeSentAt === undefined || now() - probeSentAt >= timeoutMs;
  }

  return {
    get state() {
      refresh();
      return state;
    },
    get failures() {
      return failures;
    },
    canRequest() {
      refresh();
      if (state === 'closed') return true;
      return state === 'half_open' && probeSlotFree();
    },
    allowRequest() {
      refresh();
      if (state === 'closed') return true;
      if (state === 'half_open' && probeSlotFree()) {
        probeSentAt = now();
        return true;
      }
      return false;
    },
    onSuccess() {
      // While open, a success is a late answer to a request sent before the trip: ignored, since the
      // timeout, not stragglers, decides when to try again. In half_open any answer decides: it is
      // normally the probe's, and a straggler arriving after the timeout is just as fresh evidence.
      refresh();
      if (state === 'closed') failures = 0;
      else if (state === 'half_open') {
        probeSentAt = undefined;
        failures = 0;
        transition('closed');
      }
    },
    onFailure() {
      refresh();
      if (state === 'closed') {
        if (++failures >= threshold) open();
      } else if (state === 'half_open') {
        open();
      }
      // open: late failures of requests sent before the trip do not extend the open period.
    },
    reset() {
      failures = 0;
      probeSentAt = undefined;
      transition('closed');
    },
    update(limits) {
      checkLimits(limits.threshold, limits.timeoutMs);
      threshold = limits.threshold;
      timeoutMs = limits.timeoutMs;
      // A lower threshold already reached opens at the next failure, not retroactively.
    },
  };
}

function checkLimits(threshold: number, timeoutMs: number): void {
  if (!Number.isInteger(threshold) || threshold < 1) throw new RangeError(`threshold must be an integer >= 1, got ${threshold}`);
  if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
}
