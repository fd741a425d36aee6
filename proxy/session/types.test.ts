import { afterEach, describe, expect, it, vi } from 'vitest';
import { holdNow, restoreNow, systemTimers } from './types.js';

describe('systemTimers.now with a held reading', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers the held reading until it is given back, then the clock again; holds nest', () => {
    vi.useFakeTimers({ now: 1_000 });
    const outer = holdNow(500);
    vi.advanceTimersByTime(10);
    expect(systemTimers.now()).toBe(500);
    const inner = holdNow(700);
    expect(systemTimers.now()).toBe(700);
    restoreNow(inner);
    expect(systemTimers.now()).toBe(500);
    restoreNow(outer);
    expect(systemTimers.now()).toBe(1_010);
  });
});
