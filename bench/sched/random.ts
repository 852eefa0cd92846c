/**
 * A small seeded PRNG and the distributions the workload draws from. Own code rather than
 * a dependency so a seed means the same workload on every machine and Node version.
 */
import { mulberry32 } from '../../src/core/random.js';

export type Random = () => number;

export { mulberry32 };

/** An independent stream for each purpose, so adding draws to one leaves the others unchanged. */
export function substream(seed: number, purpose: string): Random {
  let hash = seed >>> 0;
  for (let i = 0; i < purpose.length; i++) hash = Math.imul(hash ^ purpose.charCodeAt(i), 0x9e3779b1) >>> 0;
  return mulberry32(hash);
}

export function exponential(random: Random, mean: number): number {
  return -mean * Math.log(1 - random());
}

export function normal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Lognormal by its median and sigma (of the underlying normal), clamped to [min, max], rounded. */
export function lognormal(random: Random, median: number, sigma: number, min: number, max: number): number {
  const value = median * Math.exp(sigma * normal(random));
  return Math.round(Math.min(max, Math.max(min, value)));
}

/** Gamma(shape, scale) by Marsaglia and Tsang; shape < 1 via the boost u^(1/shape). */
export function gamma(random: Random, shape: number, scale: number): number {
  if (shape < 1) return gamma(random, shape + 1, scale) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  while (true) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * scale;
  }
}

/**
 * Inter-arrival gaps with the given mean: exponential (Poisson arrivals) when cv = 1,
 * gamma with shape 1/cv² otherwise (cv > 1: bursts and lulls).
 */
export function interArrival(random: Random, mean: number, cv: number): number {
  if (cv === 1) return exponential(random, mean);
  const shape = 1 / (cv * cv);
  return gamma(random, shape, mean / shape);
}

/** Index drawn with probability proportional to weights (cumulative table, binary search). */
export class WeightedChoice {
  private readonly cumulative: Float64Array;

  constructor(weights: readonly number[]) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((weight, i) => {
      sum += weight;
      this.cumulative[i] = sum;
    });
  }

  pick(random: Random): number {
    const target = random() * this.cumulative[this.cumulative.length - 1]!;
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.cumulative[mid]! > target) high = mid;
      else low = mid + 1;
    }
    return low;
  }
}

/** Zipf weights 1/rank^s for ranks 1..n. */
export function zipfWeights(n: number, s: number): number[] {
  return Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, s));
}
