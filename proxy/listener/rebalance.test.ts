import { describe, expect, it } from 'vitest';
import { ConfigSchema, type RebalanceConfig } from '../config/schema.js';
import { silentLogger, type Timers } from '../session/index.js';
import type { FleetSessions } from '../store/fleet-sessions.js';
import { createRebalancer, excessSessions, sessionsToMove } from './rebalance.js';
import type { ClientSession } from './types.js';

const NOW = 1_800_000_000_000;
const MINUTE = 60_000;

function session(id: string, systemId: string, boundAt: number, unbound: string[] = []): ClientSession {
  return {
    id,
    systemId,
    boundAt,
    bindType: 'transceiver',
    listener: 'main',
    remoteAddress: '10.0.0.1',
    unbind: () => void unbound.push(id),
    canReceive: () => true,
    deliver: () => Promise.resolve(0),
    deliverWith: (_pdu, _timeoutMs, done) => done.delivered(0),
  };
}

function rebalanceConfig(input: Record<string, unknown>): RebalanceConfig {
  return ConfigSchema.parse({ store: { backend: 'redis' }, rebalance: input }).rebalance;
}

const timers: Timers = { now: () => NOW, setTimeout: () => 0, clearTimeout: () => {} };

describe('excessSessions', () => {
  it('is 0 while a replica holds about its share, or when it is the only one reporting', () => {
    expect(excessSessions(10, [10], 0.25)).toBe(0);
    expect(excessSessions(2, [2, 1], 0.25)).toBe(0); // one more than the average, rounded up, is allowed
    expect(excessSessions(6, [6, 5, 4], 0.25)).toBe(0);
  });

  it('is what the replica holds beyond (1 + tolerance) × the average', () => {
    expect(excessSessions(10, [10, 0], 0.25)).toBe(3); // average 5, allowed 7
    expect(excessSessions(10, [10, 0], 0)).toBe(4); // allowed 6: one more than the average
    expect(excessSessions(30, [30, 0, 0], 0.5)).toBe(15); // average 10, allowed 15
    expect(excessSessions(0, [30, 0, 0], 0.5)).toBe(0);
  });
});

describe('sessionsToMove', () => {
  it('takes sessions bound long enough, one per client, first of the clients with the most binds here, oldest first', () => {
    const sessions = [
      session('a1', 'alpha', NOW - 50 * MINUTE),
      session('b1', 'beta', NOW - 40 * MINUTE),
      session('b2', 'beta', NOW - 60 * MINUTE),
      session('b3', 'beta', NOW - 1 * MINUTE), // too young
      session('c1', 'gamma', NOW - 90 * MINUTE),
    ];
    const ids = (n: number, leaving?: Set<string>) => sessionsToMove(sessions, n, NOW - 5 * MINUTE, leaving).map((s) => s.id);
    expect(ids(1)).toEqual(['b2']);
    // One per client: beta keeps b1 (and b3) while b2 binds again.
    expect(ids(3)).toEqual(['b2', 'c1', 'a1']);
    expect(ids(10)).toEqual(['b2', 'c1', 'a1']);
    expect(ids(0)).toEqual([]);
    // Sessions already being unbound are not taken again.
    expect(ids(3, new Set(['b2', 'c1']))).toEqual(['b1', 'a1']);
  });
});

describe('rebalancer', () => {
  function setup(cfg: Record<string, unknown>, reply: (own: number) => Promise<number[]>) {
    const unbound: string[] = [];
    const reports: { replica: string; sessions: number; staleMs: number }[] = [];
    const left: string[] = [];
    const fleet: FleetSessions = {
      report: (replica, sessions, staleMs) => {
        reports.push({ replica, sessions, staleMs });
        return reply(sessions);
      },
      leave: async (replica) => void left.push(replica),
    };
    const sessions = Array.from({ length: 10 }, (_, i) => session(`s${i}`, `client${i % 4}`, NOW - (20 + i) * MINUTE, unbound));
    const moved: string[] = [];
    const rebalancer = createRebalancer({
      replica: 'pod-a',
      fleet,
      sessions: () => sessions,
      config: () => rebalanceConfig(cfg),
      timers,
      logger: silentLogger,
      onMove: (s) => moved.push(s.id),
    });
    return { rebalancer, unbound, reports, moved, left, sessions };
  }

  it('reports its sessions and unbinds at most max_unbinds of its excess per tick', async () => {
    const { rebalancer, unbound, reports, moved } = setup({ enabled: true, interval: '10s', max_unbinds: 2 }, async (own) => [own, 0]);
    const first = await rebalancer.tick();
    expect(reports).toEqual([{ replica: 'pod-a', sessions: 10, staleMs: 30_000 }]);
    // 10 of 10 on two replicas: 3 beyond the share (allowed 7), 2 per tick. client0 (s0, s4, s8)
    // and client1 (s1, s5, s9) have three binds here; s9 and s8 are their oldest.
    expect(first.map((s) => s.id)).toEqual(['s9', 's8']);
    expect(unbound).toEqual(['s9', 's8']);
    expect(moved).toEqual(['s9', 's8']);
    // s9 and s8 are still bound while they drain, but on their way out: this replica reports 8
    // (the fake fleet answers [8, 0]: allowed 5) and moves two others, the oldest of client1 and
    // client0 left.
    expect((await rebalancer.tick()).map((s) => s.id)).toEqual(['s5', 's4']);
    expect(reports.map((r) => r.sessions)).toEqual([10, 8]);
  });

  it('moves nothing when balanced, disabled, alone, or when Redis cannot be reached', async () => {
    expect(await setup({ enabled: true }, async (own) => [own, 9]).rebalancer.tick()).toEqual([]);
    const disabled = setup({ enabled: false }, async (own) => [own, 0]);
    expect(await disabled.rebalancer.tick()).toEqual([]);
    expect(disabled.reports).toEqual([]);
    expect(await setup({ enabled: true }, async (own) => [own]).rebalancer.tick()).toEqual([]);
    const down = setup({ enabled: true }, () => Promise.reject(new Error('redis is unreachable')));
    expect(await down.rebalancer.tick()).toEqual([]);
    expect(down.unbound).toEqual([]);
  });

  it('leaves sessions bound more recently than min_session_age', async () => {
    const { rebalancer, unbound } = setup({ enabled: true, max_unbinds: 5, min_session_age: '25m' }, async (own) => [own, 0]);
    // Only s5..s9 are 25 minutes old or more; 3 move (the excess), one per client: those of the
    // clients with three binds here first (s9 of client1, s8 of client0), then the oldest other (s7).
    expect((await rebalancer.tick()).map((s) => s.id)).toEqual(['s9', 's8', 's7']);
    expect(unbound).toHaveLength(3);
  });
});

describe('rebalancer behind a balancer that sends clients back', () => {
  it('pauses when the sessions it moves come back, warns, and tries again later', async () => {
    let now = NOW;
    const warnings: string[] = [];
    // Ten sessions; each one unbound binds again here at once (a new session, too young to move).
    const live = new Map<string, ClientSession>();
    const bind = (id: string, systemId: string, boundAt: number): void => {
      const s = session(id, systemId, boundAt);
      live.set(id, {
        ...s,
        unbind: () => {
          live.delete(id);
          bind(`${id}'`, systemId, now);
        },
      });
    };
    for (let i = 0; i < 10; i++) bind(`s${i}`, `client${i}`, NOW - 60 * MINUTE);
    const rebalancer = createRebalancer({
      replica: 'pod-a',
      fleet: { report: async (_replica, own) => [own, 0], leave: async () => {} },
      sessions: () => [...live.values()],
      config: () => rebalanceConfig({ enabled: true, interval: '10s' }),
      timers: { now: () => now, setTimeout: () => 0, clearTimeout: () => {} },
      logger: { ...silentLogger, warn: (_obj, msg) => void warnings.push(msg) },
    });
    const moved: number[] = [];
    for (let i = 0; i < 6; i++) {
      moved.push((await rebalancer.tick()).length);
      now += 10_000;
    }
    // Three moves, then the replica still holds ten: it stops moving.
    expect(moved).toEqual([1, 1, 1, 0, 0, 0]);
    expect(warnings).toEqual([expect.stringContaining('come back')]);
    now += 20 * 10_000;
    expect(await rebalancer.tick()).toHaveLength(1);
  });
});

describe('rebalancer lifecycle', () => {
  it('ticks every interval once started, again one new interval after a reconfiguration, and leaves the fleet on stop', async () => {
    const pending: { fn: () => void; ms: number }[] = [];
    const fakeTimers: Timers = {
      now: () => NOW,
      setTimeout: (fn, ms) => pending.push({ fn, ms }),
      clearTimeout: (handle) => {
        pending[(handle as number) - 1]!.fn = () => {};
      },
    };
    let cfg = rebalanceConfig({ enabled: true, interval: '1h' });
    const left: string[] = [];
    let reports = 0;
    const rebalancer = createRebalancer({
      replica: 'pod-a',
      fleet: { report: async () => [reports++, 0], leave: async (r) => void left.push(r) },
      sessions: () => [],
      config: () => cfg,
      timers: fakeTimers,
      logger: silentLogger,
    });
    rebalancer.start();
    expect(pending.map((p) => p.ms)).toEqual([3_600_000]);
    cfg = rebalanceConfig({ enabled: true, interval: '10s' });
    rebalancer.reconfigured();
    expect(pending.map((p) => p.ms)).toEqual([3_600_000, 10_000]);
    pending[1]!.fn();
    await new Promise((resolve) => setImmediate(resolve));
    expect(reports).toBe(1);
    expect(pending.map((p) => p.ms)).toEqual([3_600_000, 10_000, 10_000]);
    await rebalancer.stop();
    expect(left).toEqual(['pod-a']);
  });
});

describe('rebalance config', () => {
  it('needs the Redis store', () => {
    const result = ConfigSchema.safeParse({ rebalance: { enabled: true } });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([expect.objectContaining({ path: ['rebalance', 'enabled'], message: expect.stringContaining('store.backend: redis') })]);
    expect(ConfigSchema.parse({}).rebalance).toEqual({ enabled: false, interval: 30_000, tolerance: 0.25, max_unbinds: 1, min_session_age: 300_000 });
  });
});
