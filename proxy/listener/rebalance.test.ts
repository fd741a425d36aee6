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
  it('takes sessions bound long enough, first of the clients with the most binds here, oldest first', () => {
    const sessions = [
      session('a1', 'alpha', NOW - 50 * MINUTE),
      session('b1', 'beta', NOW - 40 * MINUTE),
      session('b2', 'beta', NOW - 60 * MINUTE),
      session('b3', 'beta', NOW - 1 * MINUTE), // too young
      session('c1', 'gamma', NOW - 90 * MINUTE),
    ];
    const ids = (n: number) => sessionsToMove(sessions, n, NOW - 5 * MINUTE).map((s) => s.id);
    expect(ids(1)).toEqual(['b2']);
    expect(ids(3)).toEqual(['b2', 'b1', 'c1']);
    expect(ids(10)).toEqual(['b2', 'b1', 'c1', 'a1']);
    expect(ids(0)).toEqual([]);
  });
});

describe('rebalancer', () => {
  function setup(cfg: Record<string, unknown>, reply: (own: number) => Promise<number[]>) {
    const unbound: string[] = [];
    const reports: { replica: string; sessions: number; staleMs: number }[] = [];
    const fleet: FleetSessions = {
      report: (replica, sessions, staleMs) => {
        reports.push({ replica, sessions, staleMs });
        return reply(sessions);
      },
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
    return { rebalancer, unbound, reports, moved };
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
    // Only s5..s9 are 25 minutes old or more; 3 move (the excess): those of the clients with three
    // binds here (s9, s8, s5) before those with two (s7, s6).
    expect((await rebalancer.tick()).map((s) => s.id)).toEqual(['s9', 's8', 's5']);
    expect(unbound).toHaveLength(3);
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
