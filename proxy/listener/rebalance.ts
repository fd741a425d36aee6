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
// moved again), one per client per tick, first of the clients with the most binds on this replica (a
// client with several keeps the others while it rebinds one), oldest first; never one already being
// unbound (its drain may outlast an interval). Receipts and MO for a client with no receiver bound
// meanwhile are kept and delivered when it binds again (SPEC §4). Nothing happens while Redis is
// unreachable, or while fewer than two replicas report.
//
// It relies on the clients coming back through something that spreads connections. Behind a load
// balancer that sends a client back to the same replica (source-IP affinity, a pinned address) the
// replica would keep unbinding sessions that come straight back: once CHURN_MOVES sessions have been
// moved and the replica holds no fewer than before the first of them, it warns and moves none for
// CHURN_PAUSE_INTERVALS intervals, then tries again. Leave `rebalance` off behind such a balancer.

import type { RebalanceConfig } from '../config/schema.js';
import type { SessionLogger, Timers, TimerHandle } from '../session/index.js';
import type { FleetSessions } from '../store/fleet-sessions.js';
import type { ClientSession } from './types.js';

/** Reports older than this many intervals are a replica that stopped. */
const STALE_INTERVALS = 3;
/** Moves after which a replica that holds no fewer sessions than before them pauses (see above). */
const CHURN_MOVES = 3;
/** How long that pause lasts, in intervals. */
const CHURN_PAUSE_INTERVALS = 20;

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

/**
 * Up to `n` of `sessions` to unbind: bound at or before `boundBefore`, not in `leaving`, one per
 * client (see the top of this file).
 */
export function sessionsToMove(
  sessions: readonly ClientSession[],
  n: number,
  boundBefore: number,
  leaving: ReadonlySet<string> = NONE,
): ClientSession[] {
  if (n <= 0) return [];
  const bindsOf = new Map<string, number>();
  for (const s of sessions) bindsOf.set(s.systemId, (bindsOf.get(s.systemId) ?? 0) + 1);
  const ordered = sessions
    .filter((s) => s.boundAt <= boundBefore && !leaving.has(s.id))
    .sort((a, b) => bindsOf.get(b.systemId)! - bindsOf.get(a.systemId)! || a.boundAt - b.boundAt);
  const picked: ClientSession[] = [];
  const clients = new Set<string>();
  for (const s of ordered) {
    if (picked.length === n) break;
    if (clients.has(s.systemId)) continue;
    clients.add(s.systemId);
    picked.push(s);
  }
  return picked;
}

const NONE: ReadonlySet<string> = new Set();

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
  /** The config section changed (a reload): the next tick comes one new interval from now. */
  reconfigured(): void;
  /** No more ticks (a tick in progress finishes); this replica's report leaves Redis. */
  stop(): Promise<void>;
  /** One tick now (tests): resolves with the sessions it unbound. */
  tick(): Promise<readonly ClientSession[]>;
}

export function createRebalancer(deps: RebalancerDeps): Rebalancer {
  let timer: TimerHandle | undefined;
  let stopped = false;
  /** Sessions this replica is unbinding (until they leave the registry). */
  let leaving = new Set<string>();
  /** Moves since the replica last held its share, and what it held before the first of them. */
  let streakMoves = 0;
  let streakBaseline = 0;
  /** No moves before this time (clock ms): the moved sessions came back (see the top of this file). */
  let pausedUntil = 0;

  async function tick(): Promise<readonly ClientSession[]> {
    const cfg = deps.config();
    if (!cfg.enabled) return [];
    const sessions = deps.sessions();
    if (leaving.size > 0) {
      const still = new Set<string>();
      for (const s of sessions) if (leaving.has(s.id)) still.add(s.id);
      leaving = still;
    }
    // Sessions being unbound are on their way out: not this replica's any more.
    const own = sessions.length - leaving.size;
    let counts: number[];
    try {
      counts = await deps.fleet.report(deps.replica, own, STALE_INTERVALS * cfg.interval);
    } catch (err) {
      deps.logger.debug({ err }, 'rebalance: cannot reach the fleet counts; nothing moved');
      return [];
    }
    const excess = excessSessions(own, counts, cfg.tolerance);
    const now = deps.timers.now();
    if (excess === 0) streakMoves = 0;
    else if (streakMoves >= CHURN_MOVES && own >= streakBaseline) {
      streakMoves = 0;
      pausedUntil = now + CHURN_PAUSE_INTERVALS * cfg.interval;
      deps.logger.warn(
        { sessions: own, before: streakBaseline, pauseMs: pausedUntil - now },
        'rebalance: the sessions this replica unbinds come back to it (a load balancer with source-IP affinity?); moving none for a while',
      );
    }
    if (now < pausedUntil) return [];
    const moving = sessionsToMove(sessions, Math.min(excess, cfg.max_unbinds), now - cfg.min_session_age, leaving);
    if (moving.length === 0) return moving;
    if (streakMoves === 0) streakBaseline = own;
    streakMoves += moving.length;
    deps.logger.info(
      { sessions: own, fleet: counts, moving: moving.map((s) => ({ sessionId: s.id, systemId: s.systemId })) },
      'rebalance: this replica holds more than its share of client sessions; unbinding some to move them',
    );
    for (const s of moving) {
      leaving.add(s.id);
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

  function cancel(): void {
    if (timer !== undefined) deps.timers.clearTimeout(timer);
    timer = undefined;
  }

  let started = false;
  return {
    start() {
      if (started || stopped) return;
      started = true;
      schedule();
    },
    reconfigured() {
      // A tick in progress schedules the next one itself when it ends.
      if (!started || stopped || timer === undefined) return;
      cancel();
      schedule();
    },
    async stop() {
      stopped = true;
      cancel();
      if (!started) return;
      try {
        await deps.fleet.leave(deps.replica);
      } catch (err) {
        // Its report ages out after three intervals.
        deps.logger.debug({ err }, 'rebalance: could not remove this replica from the fleet counts');
      }
    },
    tick,
  };
}
