// A small seeded PRNG (mulberry32) so error/throttle injection and receipt session choice are
// reproducible in tests: the same seed gives the same sequence of decisions.

export type Rng = () => number;

/** Uniform floats in [0, 1) from a 32-bit seed. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomSeed(): number {
  return (Math.random() * 0x100000000) >>> 0;
}
