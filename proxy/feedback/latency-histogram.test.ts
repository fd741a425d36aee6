import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLatencyHistogram } from './latency-histogram.js';

const PRECISION = 2 ** (1 / 8);

describe('latency histogram', () => {
  it('is all zeros when empty', () => {
    expect(createLatencyHistogram().summary()).toEqual({ count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it('summarises 1..100 ms within one bucket of the exact percentiles', () => {
    const h = createLatencyHistogram();
    for (let ms = 1; ms <= 100; ms++) h.record(ms);
    const s = h.summary();
    expect(s.count).toBe(100);
    expect(s.mean).toBe(50.5);
    expect(s.max).toBe(100);
    for (const [got, exact] of [
      [s.p50, 50],
      [s.p90, 90],
      [s.p99, 99],
    ]) {
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got).toBeLessThanOrEqual(exact * PRECISION);
    }
  });

  it('reports a constant latency exactly, since percentiles are capped at the max', () => {
    const h = createLatencyHistogram();
    for (let i = 0; i < 10; i++) h.record(20);
    expect(h.summary()).toEqual({ count: 10, mean: 20, p50: 20, p90: 20, p99: 20, max: 20 });
  });

  it('keeps sub-millisecond, zero and very long latencies', () => {
    const h = createLatencyHistogram();
    h.record(0);
    h.record(0.3);
    h.record(500_000);
    expect(h.percentile(0.3)).toBeLessThan(0.0625 + 1e-9);
    expect(h.percentile(0.5)).toBeGreaterThanOrEqual(0.3);
    expect(h.percentile(0.5)).toBeLessThanOrEqual(0.3 * PRECISION);
    expect(h.percentile(1)).toBe(500_000);
  });

  it('never under-reports and stays within one bucket for any sample', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.07, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (values, q) => {
          const h = createLatencyHistogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[Math.max(1, Math.ceil(q * values.length)) - 1];
          const got = h.percentile(q);
          expect(got).toBeGreaterThanOrEqual(exact);
          expect(got).toBeLessThanOrEqual(exact * PRECISION * (1 + 1e-12));
        },
      ),
    );
  });
});
