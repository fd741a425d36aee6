import { describe, expect, it } from 'vitest';
import { MAX_NAMES, createFeedback } from './feedback.js';

function setup() {
  const clock = { t: Date.UTC(2025, 0, 1, 12, 0, 0) };
  const fb = createFeedback({ now: () => clock.t });
  return { clock, fb };
}

describe('feedback', () => {
  it('starts empty', () => {
    const { fb } = setup();
    expect(fb.snapshot()).toEqual({
      since: '2025-01-01T12:00:00.000Z',
      at: '2025-01-01T12:00:00.000Z',
      routes: {},
      clusters: {},
    });
  });

  it('reports decisions, outcomes, latency and receipts after a known sequence', () => {
    const { clock, fb } = setup();
    fb.recordDecision('default', 'eu', 'ESME_ROK', 12);
    fb.recordDecision('default', 'eu', 'ESME_ROK', 14);
    fb.recordDecision('default', 'us', 'ESME_RTHROTTLED', 900);
    fb.recordDecision('premium', 'eu', 'timeout', 5000);
    for (let i = 0; i < 8; i++) fb.recordOutcome('eu', 'smsc-1', 'ESME_ROK', 10);
    fb.recordOutcome('eu', 'smsc-1', 'ESME_RTHROTTLED', 40);
    fb.recordOutcome('eu', 'smsc-2', 'timeout', 5000);
    fb.recordOutcome('eu', 'smsc-2', 'disconnect');
    fb.recordReceipt('eu', 'DELIVRD');
    fb.recordReceipt('eu', 'DELIVRD');
    fb.recordReceipt('eu', 'UNDELIV');
    fb.recordMatchedReceipt('default', 'eu', 'smsc-1', 'DELIVRD');
    fb.recordMatchedReceipt('default', 'eu', 'smsc-1', 'DELIVRD');
    fb.recordMatchedReceipt('premium', 'eu', undefined, 'UNDELIV');
    clock.t += 60_000;

    const snap = fb.snapshot();
    expect(snap.since).toBe('2025-01-01T12:00:00.000Z');
    expect(snap.at).toBe('2025-01-01T12:01:00.000Z');
    expect(snap.routes).toEqual({
      default: {
        decisions: 3,
        clusters: { eu: 2, us: 1 },
        outcomes: { ESME_ROK: 2, ESME_RTHROTTLED: 1 },
        latencyMs: expect.objectContaining({ count: 3, max: 900 }) as unknown,
        receipts: { DELIVRD: 2 },
      },
      premium: {
        decisions: 1,
        clusters: { eu: 1 },
        outcomes: { timeout: 1 },
        latencyMs: expect.objectContaining({ count: 1, max: 5000 }) as unknown,
        receipts: { UNDELIV: 1 },
      },
    });
    expect(snap.clusters.us).toMatchObject({ decisions: 1, requests: 0, outcomes: {}, receipts: {}, endpoints: {} });

    const eu = snap.clusters.eu;
    expect(eu.decisions).toBe(3);
    expect(eu.requests).toBe(11);
    expect(eu.outcomes).toEqual({ ESME_ROK: 8, ESME_RTHROTTLED: 1, timeout: 1, disconnect: 1 });
    expect(eu.receipts).toEqual({ DELIVRD: 2, UNDELIV: 1 });
    // 10 latencies: 8 x 10 ms, 40 ms, 5000 ms (the disconnect carried none).
    expect(eu.latencyMs).toMatchObject({ count: 10, mean: 512, max: 5000 });
    expect(eu.latencyMs.p50).toBeGreaterThanOrEqual(10);
    expect(eu.latencyMs.p50).toBeLessThanOrEqual(10 * 2 ** (1 / 8));
    expect(eu.latencyMs.p90).toBeGreaterThanOrEqual(40);
    expect(eu.latencyMs.p90).toBeLessThanOrEqual(40 * 2 ** (1 / 8));
    expect(eu.latencyMs.p99).toBe(5000);

    expect(eu.endpoints['smsc-1']).toEqual({
      requests: 9,
      outcomes: { ESME_ROK: 8, ESME_RTHROTTLED: 1 },
      latencyMs: expect.objectContaining({ count: 9, mean: 13.333, max: 40 }),
      receipts: { DELIVRD: 2 },
    });
    expect(eu.endpoints['smsc-2']).toEqual({
      requests: 2,
      outcomes: { timeout: 1, disconnect: 1 },
      latencyMs: { count: 1, mean: 5000, p50: 5000, p90: 5000, p99: 5000, max: 5000 },
      receipts: {},
    });
    // The cluster's receipts are every one it sent, matched or not.
    expect(eu.receipts).toEqual({ DELIVRD: 2, UNDELIV: 1 });
  });

  it('a snapshot is plain JSON and does not change with later records', () => {
    const { fb } = setup();
    fb.recordOutcome('eu', 'smsc-1', 'ESME_ROK', 3);
    const snap = fb.snapshot();
    fb.recordOutcome('eu', 'smsc-1', 'ESME_ROK', 3);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(snap.clusters.eu.requests).toBe(1);
  });

  it('caps distinct status and stat names, counting the rest as other', () => {
    const { fb } = setup();
    for (let i = 0; i < MAX_NAMES + 10; i++) {
      fb.recordOutcome('eu', 'smsc-1', `0x${(0x400 + i).toString(16)}`, 1);
      fb.recordReceipt('eu', `VENDOR${i}`);
    }
    const eu = fb.snapshot().clusters.eu;
    expect(Object.keys(eu.outcomes)).toHaveLength(MAX_NAMES + 1);
    expect(eu.outcomes.other).toBe(10);
    expect(eu.endpoints['smsc-1'].outcomes.other).toBe(10);
    expect(Object.keys(eu.receipts)).toHaveLength(MAX_NAMES + 1);
    expect(eu.receipts.other).toBe(10);
    expect(eu.requests).toBe(MAX_NAMES + 10);
  });
});
