/**
 * Statistics for benchmark reports: accuracy with a 95% Wilson score interval, mean ± standard
 * deviation over seeds, and the unbiased pass@k estimator.
 */
import { LeafError } from '../errors.js';

/** The two-sided 95% normal quantile, Φ⁻¹(0.975). */
export const Z_95 = 1.959963984540054;

export interface Accuracy {
  correct: number;
  total: number;
  /** correct / total (NaN when total is 0). */
  accuracy: number;
  /** Lower and upper ends of the confidence interval (0 and 1 when total is 0). */
  lower: number;
  upper: number;
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new LeafError(`stats: ${name} must be a non-negative integer, got ${v}`);
}

/**
 * Wilson score interval for a binomial proportion (Wilson 1927): with p̂ = correct / total, n = total
 * and z the normal quantile (1.96 for 95%),
 *
 *     centre = (p̂ + z²/2n) / (1 + z²/n)
 *     half   = z · √(p̂(1 − p̂)/n + z²/4n²) / (1 + z²/n)
 *     [centre − half, centre + half]
 *
 * Unlike the normal (Wald) interval p̂ ± z√(p̂(1−p̂)/n) it stays inside [0, 1] and does not collapse
 * to a point at 0 or n successes, which matters for small benchmarks. Example: 8/10 → [0.490, 0.943].
 */
export function wilsonInterval(correct: number, total: number, z = Z_95): { lower: number; upper: number } {
  checkCount('correct', correct);
  checkCount('total', total);
  if (correct > total) throw new LeafError(`stats: correct (${correct}) exceeds total (${total})`);
  if (!(z > 0)) throw new LeafError(`stats: z must be positive, got ${z}`);
  if (total === 0) return { lower: 0, upper: 1 };
  const n = total;
  const p = correct / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // Exact at the ends (the formula gives them up to rounding).
  const lower = correct === 0 ? 0 : Math.max(0, centre - half);
  const upper = correct === total ? 1 : Math.min(1, centre + half);
  return { lower, upper };
}

/** Accuracy with its 95% Wilson score interval ({@link wilsonInterval}). */
export function accuracy(correct: number, total: number, z = Z_95): Accuracy {
  const { lower, upper } = wilsonInterval(correct, total, z);
  return { correct, total, accuracy: total === 0 ? NaN : correct / total, lower, upper };
}

/** Accuracy of a list of per-problem outcomes. */
export function accuracyOf(outcomes: readonly boolean[], z = Z_95): Accuracy {
  return accuracy(outcomes.filter(Boolean).length, outcomes.length, z);
}

export interface MeanStd {
  mean: number;
  /** Sample standard deviation (n − 1 denominator) by default; 0 for a single value. */
  std: number;
  n: number;
}

/**
 * Mean and standard deviation of `values` (e.g. one accuracy per seed). `sample` (default true)
 * uses the n − 1 denominator (Bessel's correction), as reported for runs over seeds; false gives
 * the population value. One value gives std 0; none is an error.
 */
export function meanStd(values: readonly number[], opts: { sample?: boolean } = {}): MeanStd {
  const n = values.length;
  if (n === 0) throw new LeafError('stats: mean ± std of no values');
  for (const v of values) if (!Number.isFinite(v)) throw new LeafError(`stats: non-finite value ${v}`);
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  const sample = opts.sample ?? true;
  const denom = sample ? n - 1 : n;
  return { mean, std: denom > 0 ? Math.sqrt(ss / denom) : 0, n };
}

/** `mean ± std` with `digits` decimals, values multiplied by `scale` (e.g. 100 for percentages). */
export function formatMeanStd(m: MeanStd, digits = 1, scale = 1): string {
  return `${(m.mean * scale).toFixed(digits)} ± ${(m.std * scale).toFixed(digits)}`;
}

/**
 * Unbiased pass@k estimator (Chen et al. 2021, "Evaluating Large Language Models Trained on Code"):
 * with n samples of which c are correct,
 *
 *     pass@k = 1 − C(n − c, k) / C(n, k) = 1 − ∏_{i = n−c+1}^{n} (1 − k / i)
 *
 * computed as the product (numerically stable); 1 when n − c < k. Requires 1 ≤ k ≤ n, 0 ≤ c ≤ n.
 */
export function passAtK(n: number, c: number, k: number): number {
  checkCount('n', n);
  checkCount('c', c);
  checkCount('k', k);
  if (c > n) throw new LeafError(`stats: pass@k: correct samples c=${c} exceeds samples n=${n}`);
  if (k < 1 || k > n) throw new LeafError(`stats: pass@k needs 1 ≤ k ≤ n, got k=${k}, n=${n}`);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/** Mean pass@k over problems, each given as its sample count n and correct count c. */
export function meanPassAtK(problems: readonly { n: number; c: number }[], k: number): number {
  if (problems.length === 0) throw new LeafError('stats: pass@k over no problems');
  let sum = 0;
  for (const p of problems) sum += passAtK(p.n, p.c, k);
  return sum / problems.length;
}
