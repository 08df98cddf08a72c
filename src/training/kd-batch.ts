/**
 * The distillation losses over a block of logit rows, on the model's kernels (the batched, fast
 * counterpart of test/helpers/kd-loss-reference.ts, the row-by-row float64 reference the tests compare against).
 *
 * Per row r with weight w_r: loss_r = T² · D(p_T ‖ p_S) with p = softmax(z / T) (D = forward KL, reverse
 * KL or JSD(β)), or the cross-entropy of the reference token for 'ce'. The result is Σ_r w_r·loss_r and,
 * with `grad`, the student logits are overwritten with d(Σ_r w_r·loss_r)/d logits.
 *
 * The log-softmaxes run on the kernels (native: SIMD, multi-threaded); the probabilities come from
 * the cross-entropy kernel's gradient (softmax − one-hot at column 0, the one-hot put back from the
 * log-probability), so each vocabulary entry costs no transcendental function in JavaScript for the
 * forward and reverse KL (JSD needs one log per entry).
 *
 * Teacher rows are either logits (online: [rows, teacherVocab ≥ vocab], truncated to the student's
 * vocabulary) or a top-K cache (teacher-cache.ts): the K most likely tokens' log-probabilities and
 * the log of the remaining mass r. With a cache the teacher distribution is completed by spreading r
 * over the other tokens in proportion to the student's own probabilities; every divergence is then
 * exactly the divergence between the two distributions coarsened to K + 1 outcomes (the K tokens and
 * "any other token"), and the gradient below is its exact gradient (the imputed part of the teacher
 * depends on the student, but its contribution to the gradient vanishes: on the tail the log-ratio is
 * constant and the imputed mass is fixed). For the forward KL the coarsened value underestimates the
 * exact one by r · KL(p_T,tail ‖ p_S,tail) ≥ 0, the tails normalised (see docs/distill.md).
 *
 * Both the student and the teacher logit buffers are used as scratch (overwritten).
 */
import { LeafError } from '../errors.js';
import type { FArray, Kernels } from '../kernels/types.js';
import type { KdLossOptions } from './kd-loss.js';

/** Teacher rows for a block of student rows. */
export type TeacherRows =
  | { kind: 'logits'; logits: FArray; vocab: number }
  | {
    kind: 'topk';
    k: number;
    /** [rows, k] token ids. */
    ids: Int32Array;
    /** [rows, k] teacher log-probabilities (at the run's temperature). */
    logProbs: Float32Array;
    /** [rows] log of the teacher's probability mass outside the k tokens (−Infinity when none). */
    logRest: Float32Array;
  };

/** The smallest student tail mass used in a log (a tail that underflowed to 0 in float32). */
const MIN_TAIL = 1e-30;

export class BatchKdLoss {
  private ls: FArray;
  private lt: FArray;
  private zeros = new Int32Array(0);
  private ones: FArray;
  private lossRows: FArray;
  private scale: FArray;
  private mask: Uint8Array;
  readonly temperature: number;
  readonly beta: number;

  constructor(readonly kernels: Kernels, readonly vocab: number, readonly options: KdLossOptions, readonly floatType: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array) {
    this.temperature = options.temperature ?? 1;
    this.beta = options.beta ?? 0.5;
    if (!(this.temperature > 0)) throw new LeafError(`distillation temperature must be > 0, got ${this.temperature}`);
    if (options.kind === 'jsd' && !(this.beta > 0 && this.beta < 1)) throw new LeafError(`JSD beta must be in (0, 1), got ${this.beta}`);
    this.ls = new floatType(0);
    this.lt = new floatType(0);
    this.ones = new floatType(0);
    this.lossRows = new floatType(0);
    this.scale = new floatType(0);
    this.mask = new Uint8Array(vocab);
  }

  private ensure(rows: number): void {
    const n = rows * this.vocab;
    if (this.ls.length < n) {
      this.ls = new this.floatType(n);
      if (this.options.kind !== 'ce') this.lt = new this.floatType(n);
    }
    if (this.zeros.length < rows) {
      this.zeros = new Int32Array(rows);
      this.ones = new this.floatType(rows).fill(1);
      this.lossRows = new this.floatType(rows);
      this.scale = new this.floatType(rows);
    }
  }

  /** log-softmax of x/T into out, and x overwritten with softmax(x/T). */
  private probs(x: FArray, out: FArray, rows: number): void {
    const K = this.kernels, V = this.vocab, invT = 1 / this.temperature;
    if (invT !== 1) for (let i = 0; i < rows * V; i++) x[i] *= invT;
    K.logSoftmax(x, out, rows, V);
    K.crossEntropy(x, this.zeros, rows, V, this.lossRows, this.ones);
    for (let r = 0; r < rows; r++) x[r * V] = Math.exp(out[r * V]);
  }

  /**
   * Σ_r weights[r]·loss_r over `rows` student rows (logits [rows, vocab]); per-row losses (unweighted,
   * T² included) into `rowLoss`. `targets` are the reference tokens ('ce'); `teacher` is needed otherwise.
   */
  compute(
    student: FArray, rows: number, weights: Float64Array, teacher: TeacherRows | null, targets: Int32Array | null,
    grad: boolean, rowLoss: Float64Array,
  ): number {
    const V = this.vocab, kind = this.options.kind;
    if (student.length < rows * V) throw new LeafError(`distillation loss: ${student.length} student logits for ${rows} rows × ${V}`);
    this.ensure(rows);
    if (kind === 'ce') {
      if (!targets) throw new LeafError('loss ce needs reference targets');
      for (let r = 0; r < rows; r++) this.scale[r] = weights[r];
      this.kernels.crossEntropy(student, targets, rows, V, this.lossRows, grad ? this.scale : null);
      let total = 0;
      for (let r = 0; r < rows; r++) {
        rowLoss[r] = this.lossRows[r];
        if (weights[r] !== 0) total += weights[r] * rowLoss[r];
      }
      return total;
    }
    if (!teacher) throw new LeafError(`loss ${kind} needs the teacher`);
    const ls = this.ls, lt = this.lt;
    this.probs(student, ls, rows);
    if (teacher.kind === 'logits') {
      const tv = teacher.vocab, t = teacher.logits;
      if (tv < V) throw new LeafError(`teacher vocabulary (${tv}) is smaller than the student's (${V})`);
      if (t.length < rows * tv) throw new LeafError(`distillation loss: ${t.length} teacher logits for ${rows} rows × ${tv}`);
      if (tv !== V) for (let r = 1; r < rows; r++) t.copyWithin(r * V, r * tv, r * tv + V);
      this.probs(t, lt, rows);
    }
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const w = weights[r];
      const o = r * V;
      let loss: number;
      if (teacher.kind === 'logits') loss = this.onlineRow(student, ls, teacher.logits, lt, o, w, grad);
      else loss = this.cachedRow(student, ls, teacher, r, o, w, grad);
      rowLoss[r] = loss;
      if (w !== 0) total += w * loss;
      else if (grad) student.fill(0, o, o + V);
    }
    return total;
  }

  /** One row against full teacher probabilities pt / log-probabilities lt. Returns T²·D. */
  private onlineRow(ps: FArray, ls: FArray, pt: FArray, lt: FArray, o: number, w: number, grad: boolean): number {
    const V = this.vocab, T = this.temperature, c = w * T, kind = this.options.kind;
    let loss = 0;
    if (kind === 'fkl') {
      for (let i = o; i < o + V; i++) {
        const p = pt[i];
        if (p !== 0) loss += p * (lt[i] - ls[i]);
      }
      if (grad && w !== 0) for (let i = o; i < o + V; i++) ps[i] = c * (ps[i] - pt[i]);
    } else if (kind === 'rkl') {
      for (let i = o; i < o + V; i++) {
        const p = ps[i];
        if (p !== 0) loss += p * (ls[i] - lt[i]);
      }
      if (grad && w !== 0) {
        for (let i = o; i < o + V; i++) {
          const p = ps[i];
          ps[i] = p !== 0 ? c * p * (ls[i] - lt[i] - loss) : 0;
        }
      }
    } else {
      const b = this.beta, nb = 1 - b;
      let dot = 0;
      for (let i = o; i < o + V; i++) {
        const p = pt[i], q = ps[i];
        const lm = Math.log(b * p + nb * q);
        if (p !== 0) loss += b * p * (lt[i] - lm);
        let g = 0;
        if (q !== 0) {
          g = nb * (ls[i] - lm);
          loss += q * g;
          dot += q * g;
        }
        lt[i] = g;
      }
      if (grad && w !== 0) for (let i = o; i < o + V; i++) ps[i] = c * ps[i] * (lt[i] - dot);
    }
    return loss * T * T;
  }

  /** One row against a top-K teacher row completed in proportion to the student's tail. Returns T²·D. */
  private cachedRow(ps: FArray, ls: FArray, t: Extract<TeacherRows, { kind: 'topk' }>, r: number, o: number, w: number, grad: boolean): number {
    const V = this.vocab, T = this.temperature, c = w * T, kind = this.options.kind, K = t.k, mask = this.mask;
    const ko = r * K;
    const logRest = t.logRest[r];
    const rest = Math.exp(logRest);
    for (let j = 0; j < K; j++) mask[t.ids[ko + j]] = 1;
    let tail = 0;
    for (let i = 0; i < V; i++) if (!mask[i]) tail += ps[o + i];
    for (let j = 0; j < K; j++) mask[t.ids[ko + j]] = 0;
    const hasTail = K < V;
    const sTail = Math.max(tail, MIN_TAIL);
    const logSTail = Math.log(sTail);
    let loss = 0;
    if (kind === 'fkl') {
      for (let j = 0; j < K; j++) {
        const lp = t.logProbs[ko + j], p = Math.exp(lp);
        if (p !== 0) loss += p * (lp - ls[o + t.ids[ko + j]]);
      }
      if (hasTail && rest > 0) loss += rest * (logRest - logSTail);
      if (grad && w !== 0) {
        const f = hasTail && rest > 0 ? c * (1 - rest / sTail) : c;
        const keep = new Float64Array(K);
        for (let j = 0; j < K; j++) keep[j] = ps[o + t.ids[ko + j]];
        for (let i = o; i < o + V; i++) ps[i] *= f;
        for (let j = 0; j < K; j++) ps[o + t.ids[ko + j]] = c * (keep[j] - Math.exp(t.logProbs[ko + j]));
      }
    } else if (kind === 'rkl') {
      const gTail = logSTail - logRest;
      const gTop = new Float64Array(K);
      for (let j = 0; j < K; j++) {
        const id = t.ids[ko + j], q = ps[o + id];
        gTop[j] = ls[o + id] - t.logProbs[ko + j];
        if (q !== 0) loss += q * gTop[j];
      }
      if (hasTail && tail > 0) loss += tail * gTail;
      if (grad && w !== 0) {
        const keep = new Float64Array(K);
        for (let j = 0; j < K; j++) keep[j] = ps[o + t.ids[ko + j]];
        const f = c * (gTail - loss);
        for (let i = o; i < o + V; i++) ps[i] *= f;
        for (let j = 0; j < K; j++) ps[o + t.ids[ko + j]] = keep[j] !== 0 ? c * keep[j] * (gTop[j] - loss) : 0;
      }
    } else {
      const b = this.beta, nb = 1 - b;
      const a = b * (rest / sTail) + nb; // m = a · p_S on the tail
      const logA = Math.log(a);
      const gTail = -nb * logA;
      let dot = 0;
      if (hasTail) {
        if (rest > 0) loss += b * rest * (logRest - logSTail - logA);
        if (tail > 0) {
          loss += tail * gTail;
          dot += tail * gTail;
        }
      }
      const gTop = new Float64Array(K), keep = new Float64Array(K);
      for (let j = 0; j < K; j++) {
        const id = t.ids[ko + j], q = ps[o + id], lp = t.logProbs[ko + j], p = Math.exp(lp);
        keep[j] = q;
        const lm = Math.log(b * p + nb * q);
        if (p !== 0) loss += b * p * (lp - lm);
        if (q !== 0) {
          gTop[j] = nb * (ls[o + id] - lm);
          loss += q * gTop[j];
          dot += q * gTop[j];
        }
      }
      if (grad && w !== 0) {
        const f = c * (gTail - dot);
        for (let i = o; i < o + V; i++) ps[i] *= f;
        for (let j = 0; j < K; j++) ps[o + t.ids[ko + j]] = c * keep[j] * (gTop[j] - dot);
      }
    }
    return loss * T * T;
  }
}
