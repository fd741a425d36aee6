// Jittered exponential backoff (SPEC §3 `retry.initial_backoff/max_backoff`, §4 re-bind "with jittered
// exponential backoff").
//
// Jitter matters more than the curve: after an SMSC restart every replica's sessions reconnect at once,
// and without jitter they keep retrying in lockstep. Two flavours, after the AWS Architecture Blog
// "Exponential Backoff And Jitter" (Brooker, 2015):
// - full jitter, stateless by attempt number: random in [0, min(max, initial * 2^attempt)]. Spreads
//   load best; may return ~0, which suits retrying a submit on another endpoint within request_timeout.
// - decorrelated jitter, stateful: next = min(max, random in [initial, previous * 3]). Never below
//   `initial`, which suits reconnect loops: a flapping SMSC is never hammered with immediate re-binds.

/** Uniform in [0, 1), like Math.random; injected so tests are deterministic. */
export type Rng = () => number;

export interface BackoffOptions {
  /** First delay / smallest base, ms (> 0). */
  initialMs: number;
  /** Cap, ms (>= initialMs). */
  maxMs: number;
}

export const BACKOFF_STRATEGIES = ['full', 'decorrelated'] as const;
export type BackoffStrategy = (typeof BACKOFF_STRATEGIES)[number];

// 2^30 * any sane initial delay is far past any cap; clamping keeps the product finite for huge attempts.
const MAX_EXPONENT = 30;

function check({ initialMs, maxMs }: BackoffOptions): void {
  if (!(initialMs > 0) || !Number.isFinite(initialMs)) throw new RangeError(`initialMs must be > 0, got ${initialMs}`);
  if (!(maxMs >= initialMs)) throw new RangeError(`maxMs must be >= initialMs, got ${maxMs}`);
}

/** Full-jitter delay (whole ms) before retry number `attempt` (0 = the first retry). */
export function fullJitterDelay(attempt: number, options: BackoffOptions, rng: Rng = Math.random): number {
  check(options);
  const exp = Math.min(Math.max(0, Math.floor(attempt)), MAX_EXPONENT);
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** exp);
  return uniformInt(rng, 0, ceiling);
}

// Uniform whole ms in [low, high]; the min() guards an rng that returns exactly 1.
function uniformInt(rng: Rng, low: number, high: number): number {
  return Math.min(high, Math.floor(low + rng() * (high - low + 1)));
}

export interface Backoff {
  /** Delay (whole ms) before the next attempt; advances the sequence. */
  next(): number;
  /** Start over after a success (e.g. the session bound). */
  reset(): void;
  /** Delays handed out since the last reset. */
  readonly attempts: number;
}

export function createBackoff(
  options: BackoffOptions & { strategy?: BackoffStrategy; rng?: Rng },
): Backoff {
  check(options);
  const { initialMs, maxMs, strategy = 'decorrelated', rng = Math.random } = options;
  let attempts = 0;
  let previous = initialMs;
  return {
    next() {
      let delay: number;
      if (strategy === 'full') {
        delay = fullJitterDelay(attempts, options, rng);
      } else {
        const high = Math.min(maxMs, previous * 3);
        delay = uniformInt(rng, initialMs, high);
        previous = delay;
      }
      attempts++;
      return delay;
    },
    reset() {
      attempts = 0;
      previous = initialMs;
    },
    get attempts() {
      return attempts;
    },
  };
}
