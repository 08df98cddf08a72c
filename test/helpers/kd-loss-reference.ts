/**
 * The distillation losses row by row in float64: the reference the tests check the trainer's batched
 * losses (src/training/kd-batch.ts) against — not part of the product.
 */
import { LeafError } from '../../src/errors.js';
import type { FArray } from '../../src/kernels/types.js';
import type { KdLossOptions } from '../../src/training/kd-loss.js';

function logSoftmaxRow(x: FArray, o: number, n: number, invT: number, out: Float64Array): void {
  let mx = -Infinity;
  for (let i = 0; i < n; i++) if (x[o + i] * invT > mx) mx = x[o + i] * invT;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(x[o + i] * invT - mx);
  const lse = mx + Math.log(s);
  for (let i = 0; i < n; i++) out[i] = x[o + i] * invT - lse;
}

/**
 * Per-token distillation loss over rows of student logits [rows, vocab] against teacher log-probabilities
 * given by `teacherRow(r, out)` (which fills `out` with log p_T at temperature 1 — or pass teacher logits with
 * {@link teacherFromLogits}). Rows with weight 0 are skipped. Returns Σ_r weight[r]·loss_r; with `grad`,
 * student logits are overwritten in place with d(Σ weight·loss)/d logits (zero rows where weight is 0).
 * For 'ce', `targets[r]` is the reference token (teacher unused).
 */
export function kdLoss(
  student: FArray, rows: number, vocab: number, weights: Float64Array,
  teacherRow: ((r: number, outLogProbs: Float64Array, temperature: number) => void) | null,
  targets: Int32Array | null, options: KdLossOptions, grad: boolean,
): number {
  const T = options.temperature ?? 1;
  const beta = options.beta ?? 0.5;
  if (!(T > 0)) throw new LeafError(`distillation temperature must be > 0, got ${T}`);
  if (options.kind === 'jsd' && !(beta > 0 && beta < 1)) throw new LeafError(`JSD beta must be in (0, 1), got ${beta}`);
  if (options.kind !== 'ce' && !teacherRow) throw new LeafError(`loss ${options.kind} needs teacher log-probabilities`);
  if (options.kind === 'ce' && !targets) throw new LeafError('loss ce needs reference targets');
  const invT = 1 / T;
  const ls = new Float64Array(vocab), lt = new Float64Array(vocab), g = new Float64Array(vocab);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const w = weights[r];
    const o = r * vocab;
    if (w === 0) {
      if (grad) student.fill(0, o, o + vocab);
      continue;
    }
    let loss = 0;
    if (options.kind === 'ce') {
      logSoftmaxRow(student, o, vocab, 1, ls);
      const t = targets![r];
      loss = -ls[t];
      if (grad) {
        for (let i = 0; i < vocab; i++) student[o + i] = w * Math.exp(ls[i]);
        student[o + t] -= w;
      }
      total += w * loss;
      continue;
    }
    logSoftmaxRow(student, o, vocab, invT, ls);
    teacherRow!(r, lt, T);
    // g = d loss / d log p_S (before the softmax Jacobian), loss in units of T².
    if (options.kind === 'fkl') {
      for (let i = 0; i < vocab; i++) {
        const pt = Math.exp(lt[i]);
        if (pt > 0) loss += pt * (lt[i] - ls[i]);
      }
      if (grad) {
        // d/dz_S = (p_S − p_T)/T, times T².
        for (let i = 0; i < vocab; i++) student[o + i] = w * T * (Math.exp(ls[i]) - Math.exp(lt[i]));
      }
    } else if (options.kind === 'rkl') {
      for (let i = 0; i < vocab; i++) {
        const ps = Math.exp(ls[i]);
        g[i] = ps > 0 ? ls[i] - lt[i] : 0;
        loss += ps * g[i];
      }
      if (grad) for (let i = 0; i < vocab; i++) student[o + i] = w * T * Math.exp(ls[i]) * (g[i] - loss);
    } else {
      for (let i = 0; i < vocab; i++) {
        const pt = Math.exp(lt[i]), ps = Math.exp(ls[i]);
        const m = beta * pt + (1 - beta) * ps;
        const lm = Math.log(m);
        if (pt > 0) loss += beta * pt * (lt[i] - lm);
        if (ps > 0) loss += (1 - beta) * ps * (ls[i] - lm);
        g[i] = ps > 0 ? (1 - beta) * (ls[i] - lm) : 0; // d JSD / d p_S,i
      }
      if (grad) {
        let dot = 0;
        for (let i = 0; i < vocab; i++) dot += Math.exp(ls[i]) * g[i];
        for (let i = 0; i < vocab; i++) student[o + i] = w * T * Math.exp(ls[i]) * (g[i] - dot);
      }
    }
    total += w * loss * T * T;
  }
  return total;
}

/** Teacher log-probabilities at temperature T from a teacher logits buffer [rows, teacherVocab], truncated to `vocab` columns. */
export function teacherFromLogits(teacher: FArray, teacherVocab: number, vocab: number): (r: number, out: Float64Array, temperature: number) => void {
  if (teacherVocab < vocab) throw new LeafError(`teacher vocabulary (${teacherVocab}) is smaller than the student's (${vocab})`);
  return (r, out, T) => logSoftmaxRow(teacher.subarray(r * teacherVocab, r * teacherVocab + vocab), 0, vocab, 1 / T, out);
}
