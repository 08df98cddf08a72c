/**
 * Paired comparisons of two training recipes evaluated on the same problems at the same seeds.
 *
 *  - over seeds (the headline): d_s = acc(method, seed s) − acc(baseline, seed s); mean d̄, sample
 *    standard deviation s_d, standard error s_d/√n, and the two-sided 95% Student t interval
 *    d̄ ± t_{0.975, n−1}·s_d/√n. It covers the spread between training runs (seed, data order,
 *    rounding), with few degrees of freedom (n = 3 seeds: t = 4.303).
 *  - over problems (paired bootstrap): per problem j, δ_j = mean over seeds of correct(method, s, j)
 *    − mean over seeds of correct(baseline, s, j); B resamples of the problems with replacement; the
 *    2.5% and 97.5% percentiles of the resampled mean δ. It covers the sampling of the test problems
 *    for these trained models, not the spread between training runs.
 */
import { LeafError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { meanStd } from './stats.js';

/** t_{0.975, df} for df = 1..30 (two-sided 95%). */
const T_975 = [
  12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
  2.200985, 2.178813, 2.160369, 2.144787, 2.13145, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
  2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.04523, 2.042272,
];

/** The two-sided 95% Student t quantile for `df` degrees of freedom (beyond 30: 1.96 + 2.4/df, within 0.002). */
export function t975(df: number): number {
  if (!(Number.isInteger(df) && df >= 1)) throw new LeafError(`stats: t quantile needs df ≥ 1, got ${df}`);
  return df <= 30 ? T_975[df - 1] : 1.959964 + 2.4 / df;
}

export interface PairedT {
  n: number;
  mean: number;
  sd: number;
  se: number;
  /** 95% t interval (NaN with a single pair). */
  lower: number;
  upper: number;
  /** Pairs with d > 0. */
  positive: number;
}

/** Mean, standard error and 95% t interval of paired differences (one per seed). */
export function pairedT(diffs: readonly number[]): PairedT {
  const m = meanStd(diffs);
  const se = m.n > 1 ? m.std / Math.sqrt(m.n) : NaN;
  const half = m.n > 1 ? t975(m.n - 1) * se : NaN;
  return { n: m.n, mean: m.mean, sd: m.std, se, lower: m.mean - half, upper: m.mean + half, positive: diffs.filter((d) => d > 0).length };
}

/**
 * Paired bootstrap over problems: `method[s][j]` and `baseline[s][j]` are the verdicts at seed s on
 * problem j (same problems, same seeds). Returns the mean difference and its 95% percentile interval.
 */
export function pairedBootstrap(method: readonly (readonly boolean[])[], baseline: readonly (readonly boolean[])[], resamples = 2000, seed = 1): { mean: number; lower: number; upper: number } {
  if (method.length === 0 || method.length !== baseline.length) throw new LeafError(`stats: paired bootstrap needs the same seeds on both sides (${method.length} vs ${baseline.length})`);
  const n = method[0].length;
  if (n === 0 || [...method, ...baseline].some((v) => v.length !== n)) throw new LeafError('stats: paired bootstrap needs the same problems at every seed on both sides');
  const seeds = method.length;
  const delta = Array.from({ length: n }, (_, j) => {
    let d = 0;
    for (let s = 0; s < seeds; s++) d += Number(method[s][j]) - Number(baseline[s][j]);
    return d / seeds;
  });
  const mean = delta.reduce((a, b) => a + b, 0) / n;
  const rng = new Rng(seed);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += delta[Math.floor(rng.next() * n)];
    means[b] = sum / n;
  }
  means.sort();
  const at = (p: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(p * (resamples - 1))))];
  return { mean, lower: at(0.025), upper: at(0.975) };
}
