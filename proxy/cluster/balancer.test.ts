import { describe, expect, it } from 'vitest';
import { BALANCER_KINDS, createBalancer, type Candidate, type Rng } from './balancer.js';

const ep = (id: string, over: Partial<Candidate> = {}): Candidate => ({
  id,
  weight: 1,
  inFlight: 0,
  available: true,
  ...over,
});

// Deterministic uniform rng (mulberry32) so statistical tests never flake.
function seeded(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function counts(ids: (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) out[id ?? 'none'] = (out[id ?? 'none'] ?? 0) + 1;
  return out;
}

function picks(kind: (typeof BALANCER_KINDS)[number], list: Candidate[], n: number, rng?: Rng): (string | undefined)[] {
  const b = createBalancer(kind, rng ?? seeded(1));
  return Array.from({ length: n }, () => b.pick(list)?.id);
}

describe.each(BALANCER_KINDS)('%s balancer', (kind) => {
  it('returns undefined for an empty list', () => {
    expect(createBalancer(kind, seeded(1)).pick([])).toBeUndefined();
  });

  it('returns undefined when no candidate is available', () => {
    const list = [ep('a', { available: false }), ep('b', { available: false })];
    expect(picks(kind, list, 10)).toEqual(Array(10).fill(undefined));
  });

  it('never picks an unavailable candidate and still uses every available one', () => {
    const list = [ep('a'), ep('b', { available: false }), ep('c'), ep('d', { available: false })];
    const c = counts(picks(kind, list, 400));
    expect(Object.keys(c).sort()).toEqual(['a', 'c']);
  });

  it('picks the only available candidate', () => {
    const list = [ep('a', { available: false }), ep('b', { inFlight: 50 })];
    expect(picks(kind, list, 5)).toEqual(Array(5).fill('b'));
  });
});

describe('round_robin', () => {
  it('cycles in list order', () => {
    expect(picks('round_robin', [ep('a'), ep('b'), ep('c')], 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('shares a down endpoint\'s turns fairly among the others', () => {
    const list = [ep('a'), ep('b', { available: false }), ep('c')];
    expect(picks('round_robin', list, 6)).toEqual(['a', 'c', 'a', 'c', 'a', 'c']);
  });
});

describe('weighted (smooth weighted round-robin)', () => {
  it('2:1 weights give 2:1 over 3000 picks', () => {
    const c = counts(picks('weighted', [ep('a', { weight: 2 }), ep('b', { weight: 1 })], 3000));
    expect(c['a']).toBeGreaterThanOrEqual(1980);
    expect(c['a']).toBeLessThanOrEqual(2020);
    expect(c['a']! + c['b']!).toBe(3000);
    // Smooth WRR is exact, not just close.
    expect(c).toEqual({ a: 2000, b: 1000 });
  });

  it('interleaves instead of bursting (nginx sequence for 5:1:1)', () => {
    const list = [ep('a', { weight: 5 }), ep('b', { weight: 1 }), ep('c', { weight: 1 })];
    expect(picks('weighted', list, 7)).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
  });

  it('redistributes an unavailable endpoint\'s share by the remaining weights', () => {
    const list = [ep('a', { weight: 3 }), ep('b', { weight: 1 }), ep('c', { weight: 4, available: false })];
    expect(counts(picks('weighted', list, 400))).toEqual({ a: 300, b: 100 });
  });

  it('weight 0 drains an endpoint; all-zero weights share equally', () => {
    expect(counts(picks('weighted', [ep('a', { weight: 1 }), ep('b', { weight: 0 })], 10))).toEqual({ a: 10 });
    expect(counts(picks('weighted', [ep('a', { weight: 0 }), ep('b', { weight: 0 })], 10))).toEqual({ a: 5, b: 5 });
  });

  it('keeps the ratio when candidate objects are rebuilt on every pick', () => {
    const b = createBalancer('weighted');
    const ids = Array.from({ length: 300 }, () => b.pick([ep('a', { weight: 2 }), ep('b', { weight: 1 })])?.id);
    expect(counts(ids)).toEqual({ a: 200, b: 100 });
  });

  it('forgets endpoints removed from the list (e.g. by a reload) and balances the new ones', () => {
    const b = createBalancer('weighted');
    for (let i = 0; i < 100; i++) b.pick([ep(`old-${i}`)]);
    const ids = Array.from({ length: 30 }, () => b.pick([ep('x', { weight: 2 }), ep('y', { weight: 1 })])?.id);
    expect(counts(ids)).toEqual({ x: 20, y: 10 });
  });
});

describe('least_connections', () => {
  it('picks the endpoint with the fewest requests in flight', () => {
    const list = [ep('a', { inFlight: 5 }), ep('b', { inFlight: 1 }), ep('c', { inFlight: 3 })];
    expect(picks('least_connections', list, 3)).toEqual(['b', 'b', 'b']);
  });

  it('breaks ties round-robin', () => {
    const list = [ep('a', { inFlight: 2 }), ep('b', { inFlight: 2 }), ep('c', { inFlight: 9 })];
    expect(picks('least_connections', list, 4)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('spreads load evenly when the caller counts what it sends', () => {
    const inFlight: Record<string, number> = { a: 0, b: 4, c: 0 };
    const b = createBalancer('least_connections');
    for (let i = 0; i < 14; i++) {
      const id = b.pick(Object.keys(inFlight).map((k) => ep(k, { inFlight: inFlight[k]! })))!.id;
      inFlight[id]!++;
    }
    expect(inFlight).toEqual({ a: 6, b: 6, c: 6 });
  });
});

describe('random', () => {
  it('spreads roughly uniformly with a uniform rng', () => {
    const c = counts(picks('random', [ep('a'), ep('b'), ep('c')], 3000, seeded(7)));
    for (const id of ['a', 'b', 'c']) {
      expect(c[id]).toBeGreaterThan(900);
      expect(c[id]).toBeLessThan(1100);
    }
  });

  it('stays in range when the rng returns its extremes', () => {
    const list = [ep('a'), ep('b', { available: false }), ep('c')];
    expect(picks('random', list, 1, () => 0)).toEqual(['a']);
    expect(picks('random', list, 1, () => 0.9999999)).toEqual(['c']);
    expect(picks('random', list, 1, () => 1)).toEqual(['c']);
  });
});

describe('p2c', () => {
  it('sends to the less loaded of the two sampled endpoints', () => {
    const list = [ep('a', { inFlight: 7 }), ep('b', { inFlight: 1 }), ep('c', { inFlight: 4 })];
    // Samples a (index 0) then c (second draw 0.9 of the two remaining -> index 2).
    const draws = [0, 0.9];
    expect(picks('p2c', list, 1, () => draws.shift()!)).toEqual(['c']);
  });

  it('samples two distinct endpoints, so the most loaded one is never chosen', () => {
    const list = [ep('idle'), ep('busy', { inFlight: 100 }), ep('mid', { inFlight: 50 })];
    const c = counts(picks('p2c', list, 3000, seeded(3)));
    expect(c['busy']).toBeUndefined();
    // idle is in the sampled pair 2/3 of the time and then always wins.
    expect(c['idle']).toBeGreaterThan(1900);
    expect(c['idle']).toBeLessThan(2100);
  });

  it('prefers the less loaded endpoint overall', () => {
    const list = [ep('a', { inFlight: 10 }), ep('b', { inFlight: 0 })];
    expect(counts(picks('p2c', list, 100, seeded(5)))).toEqual({ b: 100 });
  });
});
