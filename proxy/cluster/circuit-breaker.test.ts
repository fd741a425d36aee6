import { describe, expect, it } from 'vitest';
import { createCircuitBreaker, type CircuitState } from './circuit-breaker.js';

function setup(threshold = 3, timeoutMs = 30_000) {
  const clock = { t: 1_000 };
  const changes: [CircuitState, CircuitState][] = [];
  const cb = createCircuitBreaker({
    threshold,
    timeoutMs,
    now: () => clock.t,
    onStateChange: (to, from) => changes.push([from, to]),
  });
  const fail = (n: number) => {
    for (let i = 0; i < n; i++) {
      expect(cb.allowRequest()).toBe(true);
      cb.onFailure();
    }
  };
  return { clock, changes, cb, fail };
}

describe('circuit breaker', () => {
  it('starts closed and lets requests through', () => {
    const { cb, changes } = setup();
    expect(cb.state).toBe('closed');
    expect(cb.canRequest()).toBe(true);
    expect(cb.allowRequest()).toBe(true);
    expect(changes).toEqual([]);
  });

  it('opens after `threshold` consecutive failures and refuses requests', () => {
    const { cb, fail, changes } = setup(3);
    fail(2);
    expect(cb.state).toBe('closed');
    expect(cb.failures).toBe(2);
    fail(1);
    expect(cb.state).toBe('open');
    expect(cb.canRequest()).toBe(false);
    expect(cb.allowRequest()).toBe(false);
    expect(changes).toEqual([['closed', 'open']]);
  });

  it('a success in between resets the count: failures must be consecutive', () => {
    const { cb, fail } = setup(3);
    fail(2);
    cb.onSuccess();
    fail(2);
    expect(cb.state).toBe('closed');
    fail(1);
    expect(cb.state).toBe('open');
  });

  it('threshold 1 opens on the first failure', () => {
    const { cb, fail } = setup(1);
    fail(1);
    expect(cb.state).toBe('open');
  });

  it('stays open until the timeout, then lets exactly one probe through', () => {
    const { cb, fail, clock, changes } = setup(3, 30_000);
    fail(3);
    clock.t += 29_999;
    expect(cb.allowRequest()).toBe(false);
    clock.t += 1;
    expect(cb.state).toBe('half_open');
    expect(cb.canRequest()).toBe(true);
    expect(cb.canRequest()).toBe(true); // peeking does not take the probe slot
    expect(cb.allowRequest()).toBe(true);
    expect(cb.canRequest()).toBe(false);
    expect(cb.allowRequest()).toBe(false);
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
    ]);
  });

  it('a successful probe closes the circuit', () => {
    const { cb, fail, clock, changes } = setup(3, 1_000);
    fail(3);
    clock.t += 1_000;
    expect(cb.allowRequest()).toBe(true);
    cb.onSuccess();
    expect(cb.state).toBe('closed');
    expect(cb.failures).toBe(0);
    expect(cb.allowRequest()).toBe(true);
    expect(changes.at(-1)).toEqual(['half_open', 'closed']);
    // Counting starts afresh.
    fail(2);
    expect(cb.state).toBe('closed');
  });

  it('a failed probe re-opens the circuit for another full timeout', () => {
    const { cb, fail, clock, changes } = setup(3, 1_000);
    fail(3);
    clock.t += 1_000;
    expect(cb.allowRequest()).toBe(true);
    clock.t += 200;
    cb.onFailure();
    expect(cb.state).toBe('open');
    clock.t += 999;
    expect(cb.allowRequest()).toBe(false);
    clock.t += 1;
    expect(cb.allowRequest()).toBe(true);
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'open'],
      ['open', 'half_open'],
    ]);
  });

  it('late answers to requests sent before the trip do not change an open circuit', () => {
    const { cb, fail, clock } = setup(2, 1_000);
    fail(2);
    cb.onSuccess();
    expect(cb.state).toBe('open');
    clock.t += 500;
    cb.onFailure(); // does not extend the open period
    clock.t += 500;
    expect(cb.state).toBe('half_open');
  });

  it('a probe whose outcome is never reported does not wedge the circuit', () => {
    const { cb, fail, clock } = setup(1, 1_000);
    fail(1);
    clock.t += 1_000;
    expect(cb.allowRequest()).toBe(true);
    clock.t += 999;
    expect(cb.allowRequest()).toBe(false);
    clock.t += 1;
    expect(cb.allowRequest()).toBe(true);
  });

  it('reset() closes the circuit and reports the change', () => {
    const { cb, fail, changes } = setup(1);
    fail(1);
    cb.reset();
    expect(cb.state).toBe('closed');
    expect(cb.allowRequest()).toBe(true);
    expect(changes.at(-1)).toEqual(['open', 'closed']);
  });

  it('rejects a nonsensical threshold', () => {
    expect(() => createCircuitBreaker({ threshold: 0, timeoutMs: 1 })).toThrow(RangeError);
    expect(() => createCircuitBreaker({ threshold: 1, timeoutMs: -1 })).toThrow(RangeError);
  });

  it('update() changes threshold and timeout of a live breaker, keeping its state', () => {
    const { cb, clock, fail } = setup(5, 30_000);
    fail(2);
    cb.update({ threshold: 3, timeoutMs: 1000 });
    expect(cb.state).toBe('closed');
    fail(1);
    expect(cb.state).toBe('open');
    clock.t += 1000;
    expect(cb.state).toBe('half_open');
    expect(() => cb.update({ threshold: 0, timeoutMs: 1 })).toThrow(RangeError);
  });
});
