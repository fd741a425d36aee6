// Moving client binds off a replica that holds more than its share (config `rebalance`, beyond SPEC
// §3; FIELD-NOTES §3.7, §5: "rebalance binds on scale-out").
//
// A Kubernetes Service spreads new TCP connections over the replicas, but an SMPP bind lives for
// days: after a scale-out the new replicas get only the binds made from then on, and the old ones
// keep the load. So every `interval` each replica reports its number of bound client sessions to
// Redis and reads everyone's (store/fleet-sessions.ts). A replica holding more than
// (1 + tolerance) × the fleet average (and at least one more than the average, rounded up) unbinds
// up to `max_unbinds` of its sessions, the way an admin unbind does: requests in flight are answered,
// then smppd sends unbind. The client binds again, through the Service, most likely elsewhere.
//
// Which sessions: only those bound for at least `min_session_age` (one that just moved here is not
// moved again), first those of the clients with the most binds on this replica (a client with
// several keeps the others while it rebinds one), oldest first. Receipts and MO for a client with no
// receiver bound meanwhile are kept and delivered when it binds again (SPEC §4). Nothing happens
// while Redis is unreachable, or while fewer than two replicas report.

import type { RebalanceConfig } from '../config/schema.js';
import type { SessionLogger, Timers, TimerHandle } from '../session/index.js';
import type { FleetSessions } from '../store/fleet-sessions.js';
import type { ClientSession } from './types.js';

/** Reports older than this many intervals are a replica that stopped. */
const STALE_INTERVALS = 3;

/**
 * How many sessions a replica holding `own` of the fleet's `counts` (every replica's, its own
 * included) holds beyond its share: 0 when balanced within `tolerance`.
 */
export function excessSessions(own: number, counts: readonly number[], tolerance: number): number {
  if (counts.length < 2) return 0;
  let total = 0;
  for (const n of counts) total += n;
  const fair = total / counts.length;
  const allowed = Math.max(Math.ceil(fair * (1 + tolerance)), Math.ceil(fair) + 1);
  return Math.max(0, own - allowed);
}

/** Up to `n` of `sessions` to unbind, bound at or before `boundBefore` (see the top of this file). */
export function sessionsToMove(sessions: readonly ClientSession[], n: number, boundBefore: number): ClientSession[] {
  if (n <= 0) return [];
  const bindsOf = new Map<string, number>();
  for (const s of sessions) bindsOf.set(s.systemId, (bindsOf.get(s.systemId) ?? 0) + 1);
  return sessions
    .filter((s) => s.boundAt <= boundBefore)
    .sort((a, b) => bindsOf.get(b.systemId)! - bindsOf.get(a.systemId)! || a.boundAt - b.boundAt)
    .slice(0, n);
}

export interface RebalancerDeps {
  /** This replica's name in Redis (unique per process). */
  readonly replica: string;
  readonly fleet: FleetSessions;
  /** This replica's bound client sessions. */
  sessions(): readonly ClientSession[];
  /** The running config's section: read at each tick, so a reload applies from the next one. */
  config(): RebalanceConfig;
  readonly timers: Timers;
  readonly logger: SessionLogger;
  /** A session is being unbound to move it (metrics). */
  onMove?(session: ClientSession): void;
}

export interface Rebalancer {
  start(): void;
  /** No more ticks (a tick in progress finishes). */
  stop(): void;
  /** One tick now (tests): resolves with the sessions it unbound. */
  tick(): Promise<readonly ClientSession[]>;
}

export function createRebalancer(deps: RebalancerDeps): Rebalancer {
  let timer: TimerHandle | undefined;
  let stopped = false;

  async function tick(): Promise<readonly ClientSession[]> {
    const cfg = deps.config();
    if (!cfg.enabled) return [];
    const sessions = deps.sessions();
    let counts: number[];
    try {
      counts = await deps.fleet.report(deps.replica, sessions.length, STALE_INTERVALS * cfg.interval);
    } catch (err) {
      deps.logger.debug({ err }, 'rebalance: cannot reach the fleet counts; nothing moved');
      return [];
    }
    const excess = excessSessions(sessions.length, counts, cfg.tolerance);
    const moving = sessionsToMove(sessions, Math.min(excess, cfg.max_unbinds), deps.timers.now() - cfg.min_session_age);
    if (moving.length === 0) return moving;
    deps.logger.info(
      { sessions: sessions.length, fleet: counts, moving: moving.map((s) => ({ sessionId: s.id, systemId: s.systemId })) },
      'rebalance: this replica holds more than its share of client sessions; unbinding some to move them',
    );
    for (const s of moving) {
      deps.onMove?.(s);
      s.unbind();
    }
    return moving;
  }

  /** The next tick, one interval (as the config says then) after the last one ended. */
  function schedule(): void {
    if (stopped) return;
    timer = deps.timers.setTimeout(() => {
      timer = undefined;
      tick()
        .catch((err: unknown) => deps.logger.error({ err }, 'rebalance tick failed'))
        .finally(schedule);
    }, deps.config().interval);
  }

  return {
    start() {
      if (timer === undefined && !stopped) schedule();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) deps.timers.clearTimeout(timer);
      timer = undefined;
    },
    tick,
  };
}
