// Load balancers over a cluster's endpoints (SPEC §3 `clusters[].load_balancer`).
//
// Pure: a balancer sees a list of candidates and returns one. The caller decides what "available"
// means (bound session with window room, circuit not open) and keeps `inFlight` current. pick() runs
// once per submit_sm, so it allocates nothing: no filtered copies of the list, two passes at most.
// Candidate lists are small (endpoints of one cluster), so linear scans beat any index here.

/** One endpoint as a balancer sees it. */
export interface Candidate {
  /** Stable across picks: the weighted balancer keys its state by it. */
  readonly id: string;
  /** Relative share for `weighted`; ignored by the others. */
  readonly weight: number;
  /** Requests sent and not yet answered. */
  readonly inFlight: number;
  readonly available: boolean;
}

export interface Balancer {
  /** An available candidate, or undefined when none is. */
  pick<T extends Candidate>(candidates: readonly T[]): T | undefined;
}

export const BALANCER_KINDS = ['round_robin', 'weighted', 'least_connections', 'random', 'p2c'] as const;
export type BalancerKind = (typeof BALANCER_KINDS)[number];

/** Uniform in [0, 1), like Math.random; injected so tests are deterministic. */
export type Rng = () => number;

function countAvailable(candidates: readonly Candidate[]): number {
  let n = 0;
  for (let i = 0; i < candidates.length; i++) if (candidates[i]!.available) n++;
  return n;
}

/** The k-th (0-based) available candidate, without building a filtered array. */
function nthAvailable<T extends Candidate>(candidates: readonly T[], k: number): T | undefined {
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (c.available && k-- === 0) return c;
  }
  return undefined;
}

function randomIndex(rng: Rng, n: number): number {
  // Clamp: a custom rng returning exactly 1 must not index past the end.
  return Math.min(n - 1, Math.floor(rng() * n));
}

/**
 * The next scan starts just after the last pick. Advancing from the pick (not by one per call) keeps
 * the rotation fair when endpoints are down: with A, B, C and B unavailable, A and C alternate,
 * instead of C taking B's turns too. Kept below the list length, so it never grows.
 */
function roundRobin(): Balancer {
  let next = 0;
  return {
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      const start = next % n;
      for (let k = 0; k < n; k++) {
        const idx = (start + k) % n;
        const c = candidates[idx]!;
        if (c.available) {
          next = (idx + 1) % n;
          return c;
        }
      }
      return undefined;
    },
  };
}

/**
 * Smooth weighted round-robin as nginx does it (ngx_http_upstream_get_peer): every pick adds each
 * weight to its endpoint's current weight, takes the largest, and subtracts the total from it. This is
 * deterministic (2:1 weights give exactly 2:1 over any 3 picks) and interleaves instead of sending
 * bursts (a, b, a rather than a, a, b). Unavailable endpoints keep their current weight untouched.
 * A weight <= 0 (or non-finite) takes no share; if no available endpoint has a positive weight, all
 * available ones count as weight 1, so a misconfigured cluster still serves traffic.
 */
function weighted(): Balancer {
  const current = new Map<string, number>();
  return {
    pick(candidates) {
      let total = 0;
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i]!;
        if (c.available) total += effectiveWeight(c.weight);
      }
      const allZero = total === 0;
      if (allZero) total = countAvailable(candidates);
      if (total === 0) return undefined;

      let best: (typeof candidates)[number] | undefined;
      let bestCurrent = -Infinity;
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i]!;
        if (!c.available) continue;
        const w = allZero ? 1 : effectiveWeight(c.weight);
        if (w === 0) continue;
        const cw = (current.get(c.id) ?? 0) + w;
        current.set(c.id, cw);
        if (cw > bestCurrent) {
          bestCurrent = cw;
          best = c;
        }
      }
      current.set(best!.id, bestCurrent - total);
      // Endpoints removed by a reload would otherwise stay in the map for the process lifetime.
      if (current.size > candidates.length * 2 + 8) prune(current, candidates);
      return best;
    },
  };
}

function effectiveWeight(w: number): number {
  return Number.isFinite(w) && w > 0 ? w : 0;
}

function prune(current: Map<string, number>, candidates: readonly Candidate[]): void {
  const live = new Set<string>();
  for (const c of candidates) live.add(c.id);
  for (const id of current.keys()) if (!live.has(id)) current.delete(id);
}

/** Fewest requests in flight; ties go round-robin so equal endpoints share the load. */
function leastConnections(): Balancer {
  let next = 0;
  return {
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      const start = next % n;
      let bestIdx = -1;
      for (let k = 0; k < n; k++) {
        const idx = (start + k) % n;
        const c = candidates[idx]!;
        // Strictly less: the first of equals after the rotating start wins, which is the tie-break.
        if (c.available && (bestIdx < 0 || c.inFlight < candidates[bestIdx]!.inFlight)) bestIdx = idx;
      }
      if (bestIdx < 0) return undefined;
      next = (bestIdx + 1) % n;
      return candidates[bestIdx];
    },
  };
}

function random(rng: Rng): Balancer {
  return {
    pick(candidates) {
      const n = countAvailable(candidates);
      return n === 0 ? undefined : nthAvailable(candidates, randomIndex(rng, n));
    },
  };
}

/**
 * Power of two choices: sample two distinct available endpoints, send to the less loaded one.
 * Nearly as good as least_connections at spreading load, without every replica herding onto the
 * same momentarily-idle endpoint (each replica sees only its own inFlight counts).
 */
function p2c(rng: Rng): Balancer {
  return {
    pick(candidates) {
      const n = countAvailable(candidates);
      if (n === 0) return undefined;
      if (n === 1) return nthAvailable(candidates, 0);
      const i = randomIndex(rng, n);
      let j = randomIndex(rng, n - 1);
      if (j >= i) j++; // distinct from i, still uniform
      const a = nthAvailable(candidates, i)!;
      const b = nthAvailable(candidates, j)!;
      return b.inFlight < a.inFlight ? b : a;
    },
  };
}

/** A balancer holds state (cursors, current weights): create one per cluster, not per message. */
export function createBalancer(kind: BalancerKind, rng: Rng = Math.random): Balancer {
  switch (kind) {
    case 'round_robin':
      return roundRobin();
    case 'weighted':
      return weighted();
    case 'least_connections':
      return leastConnections();
    case 'random':
      return random(rng);
    case 'p2c':
      return p2c(rng);
  }
}
