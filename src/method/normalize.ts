/**
 * Per-unit normalisation of token scores and the candidate (confounder) rule of LeaF
 * (the paper's saliency difference and threshold rule, as the authors' reference code applies them).
 *
 *   ĝ_m = minmax(g_m) for m ∈ {student, teacher};  d = ĝ_T − w·ĝ_S;  D = minmax(d) ∈ [0, 1]
 *
 * with w = 1 in the paper (`--student-weight w`, default 1); w = 0 ranks by the teacher's saliency alone
 * (the tokens the teacher does not rely on), 0 < w < 1 in between.
 *
 * Low D = the student is relatively much more sensitive to the token than the teacher: a candidate
 * distractor. Two ways to flag candidates:
 *  - quantile q (the reference, default): thr = min(sorted(D)[floor(n·q)], 0.5), flag D_i ≤ thr;
 *  - absolute τ: flag D_i ≤ τ.
 * Protected tokens (whitespace-only, a lone backslash, an empty span) are never flagged, but they
 * take part in the normalisation and in n, as in the reference.
 *
 * A constant vector has no ranking: minmax returns all zeros and the candidate rules flag nothing
 * for a constant D (a single token, or equal normalised scores). The reference skips the min–max
 * step when max == min, so its D is then the raw difference and it flags every token when that is
 * ≤ 0.5 (a one-token prompt is cut whole) and none otherwise — an artefact of the raw scale, not a
 * ranking. A constant ĝ of one model only shifts d, so D agrees with the reference's otherwise.
 * mine.ts counts such units (summary counts.constantDiffUnits, noCandidates[].reason).
 */

/** Min–max rescaling to [0, 1]; a constant (or empty) vector maps to zeros. */
export function minMax(xs: readonly number[]): number[] {
  let lo = Infinity, hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const range = hi - lo;
  if (!(range > 0)) return xs.map(() => 0);
  return xs.map((x) => (x - lo) / range);
}

/** Whether every value is the same (or there are none): no token can be singled out. */
export function isConstant(xs: readonly number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i] !== xs[0]) return false;
  return true;
}

/** D = minmax(minmax(teacher) − w·minmax(student)) (w = `studentWeight`, 1 in the paper), with both normalised vectors. */
export function normalisedDiff(student: readonly number[], teacher: readonly number[], studentWeight = 1): { student: number[]; teacher: number[]; diff: number[] } {
  if (student.length !== teacher.length) throw new Error(`normalisedDiff: ${student.length} student scores vs ${teacher.length} teacher scores`);
  const s = minMax(student), t = minMax(teacher);
  return { student: s, teacher: t, diff: minMax(t.map((x, i) => x - studentWeight * s[i])) };
}

/** The reference's quantile threshold: min(sorted(D)[floor(n·q)], cap), the index clamped to n − 1. */
export function quantileThreshold(diff: readonly number[], q: number, cap = 0.5): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`quantileThreshold: q must be in [0, 1], got ${q}`);
  if (diff.length === 0) return 0;
  const sorted = [...diff].sort((a, b) => a - b);
  const at = Math.min(sorted.length - 1, Math.floor(sorted.length * q));
  return Math.min(sorted[at], cap);
}

/** A token whose text can never be a candidate: empty, whitespace only, or a lone backslash. */
export function isProtectedToken(text: string): boolean {
  const t = text.trim();
  return t === '' || t === '\\';
}

export type ThresholdRule = { kind: 'quantile'; q: number } | { kind: 'absolute'; tau: number };

/** Indices flagged by the rule (ascending), and the threshold used. */
export function flagCandidates(diff: readonly number[], protectedMask: readonly boolean[], rule: ThresholdRule): { threshold: number; candidates: number[] } {
  const threshold = rule.kind === 'quantile' ? quantileThreshold(diff, rule.q) : rule.tau;
  if (isConstant(diff)) return { threshold, candidates: [] };
  const candidates: number[] = [];
  diff.forEach((d, i) => {
    if (d <= threshold && !protectedMask[i]) candidates.push(i);
  });
  return { threshold, candidates };
}

/**
 * The `count` unprotected tokens with the lowest score (ties: lower index first), ascending by
 * index, and the largest score among them (the cut) — the random and ppl baselines' budget rule.
 */
export function lowestK(score: readonly number[], protectedMask: readonly boolean[], count: number): { threshold: number; candidates: number[] } {
  const order = score.map((_, i) => i).filter((i) => !protectedMask[i]).sort((a, b) => score[a] - score[b] || a - b);
  const chosen = order.slice(0, Math.max(0, count)).sort((a, b) => a - b);
  const threshold = chosen.length === 0 ? 0 : Math.max(...chosen.map((i) => score[i]));
  return { threshold, candidates: chosen };
}
