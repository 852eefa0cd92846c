/**
 * mulberry32: a tiny, fully specified 32-bit PRNG. Own code rather than a dependency so a
 * seed gives the same numbers on every machine and Node version (test fixtures, the tiny
 * model's weights, benchmark workloads).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
