/**
 * Gradient saliency (LeaF §1.2): loss = mean next-token cross-entropy over the loss positions;
 * one forward and one backward to the input embeddings (no parameter gradients); per-token score =
 * the L2 norm over the hidden dimension of d loss / d e_i. Logits are computed only for the rows
 * the loss (and, for the ppl baseline, the surprisal) needs.
 */
import { LeafError } from '../errors.js';
import { backward } from '../model/backward.js';
import type { CausalLM } from '../model/causal-lm.js';
import { meanCrossEntropy } from '../model/loss.js';

export interface SaliencyResult {
  /** Per scored position, ‖d loss / d e‖₂. */
  norms: number[];
  /** The mean cross-entropy over the loss positions. */
  loss: number;
  /** Per scored position, −log p(token | prefix) (only when asked; NaN at position 0). */
  surprisal: number[] | null;
  /** Time in the model's forward and backward, ms. */
  computeMs: number;
  /** Of which the backward pass, ms. */
  backwardMs: number;
}

/**
 * Runs `model` on `ids` (batch 1) and returns the input-embedding gradient norms at `scored`
 * positions of the loss over `lossPositions` (each t ≥ 1 predicted from row t − 1).
 * The sequence is cut after the last position any output depends on.
 */
export function inputSaliency(model: CausalLM, ids: readonly number[], scored: readonly number[], lossPositions: readonly number[], withSurprisal = false): SaliencyResult {
  if (lossPositions.length === 0) throw new LeafError('saliency: no tokens to take the loss on (empty response?)');
  for (const t of lossPositions) if (!(t >= 1 && t < ids.length)) throw new LeafError(`saliency: loss position ${t} outside 1..${ids.length - 1}`);
  const T = Math.max(...lossPositions, ...scored) + 1;
  const V = model.config.vocabSize, hid = model.config.hiddenSize;
  const input = Int32Array.from(ids.slice(0, T));
  const lossRows = lossPositions.map((t) => t - 1);
  const surpRows = withSurprisal ? scored.filter((t) => t >= 1).map((t) => t - 1) : [];
  const rows = Int32Array.from([...lossRows, ...surpRows]);
  const t0 = performance.now();
  const out = model.forward({ batch: 1, seqLen: T, inputIds: input, logitRows: rows, saveForBackward: true });
  const logits = out.logits!;
  let surprisal: number[] | null = null;
  if (withSurprisal) {
    const targets = new Int32Array(rows.length).fill(-1);
    surpRows.forEach((r, i) => (targets[lossRows.length + i] = input[r + 1]));
    const per = new Float64Array(rows.length);
    const lossBuf = model.alloc(rows.length);
    model.kernels.crossEntropy(logits, targets, rows.length, V, lossBuf, null);
    per.set(lossBuf);
    const byPos = new Map<number, number>();
    surpRows.forEach((r, i) => byPos.set(r + 1, per[lossRows.length + i]));
    surprisal = scored.map((t) => byPos.get(t) ?? NaN);
  }
  const targets = new Int32Array(rows.length).fill(-1);
  lossRows.forEach((r, i) => (targets[i] = input[r + 1]));
  const { loss } = meanCrossEntropy(model.kernels, logits, targets, V, true);
  const t1 = performance.now();
  const dEmb = backward(model, out.tape!, logits, { inputGrad: true, paramGrads: null })!;
  const t2 = performance.now();
  const computeMs = t2 - t0, backwardMs = t2 - t1;
  const norms = scored.map((t) => {
    let s = 0;
    for (let j = t * hid, e = j + hid; j < e; j++) s += dEmb[j] * dEmb[j];
    return Math.sqrt(s);
  });
  if (!Number.isFinite(loss) || norms.some((x) => !Number.isFinite(x))) throw new LeafError(`saliency: the loss or its gradient is not finite (loss ${loss})`);
  return { norms, loss, surprisal, computeMs, backwardMs };
}

/**
 * Mean cross-entropy over each sequence's loss positions, forward only, sequences left-padded
 * into batches of `batchSize` (occlusion scores).
 */
export function sequenceLosses(model: CausalLM, seqs: ReadonlyArray<{ ids: readonly number[]; lossPositions: readonly number[] }>, batchSize: number): number[] {
  const V = model.config.vocabSize;
  const out: number[] = [];
  for (let b0 = 0; b0 < seqs.length; b0 += batchSize) {
    const batch = seqs.slice(b0, b0 + batchSize);
    const lens = batch.map((s) => Math.max(...s.lossPositions) + 1);
    const T = Math.max(...lens);
    const B = batch.length;
    const ids = new Int32Array(B * T), mask = new Uint8Array(B * T);
    const rows: number[] = [], targets: number[] = [], owner: number[] = [];
    batch.forEach((s, b) => {
      if (s.lossPositions.length === 0) throw new LeafError('occlusion: a sequence without loss tokens');
      const pad = T - lens[b];
      for (let t = 0; t < lens[b]; t++) {
        ids[b * T + pad + t] = s.ids[t];
        mask[b * T + pad + t] = 1;
      }
      for (const t of s.lossPositions) {
        rows.push(b * T + pad + t - 1);
        targets.push(s.ids[t]);
        owner.push(b);
      }
    });
    const res = model.forward({ batch: B, seqLen: T, inputIds: ids, attentionMask: mask, logitRows: Int32Array.from(rows) });
    const per = model.alloc(rows.length);
    model.kernels.crossEntropy(res.logits!, Int32Array.from(targets), rows.length, V, per, null);
    const sum = new Float64Array(B), cnt = new Float64Array(B);
    owner.forEach((b, i) => {
      sum[b] += per[i];
      cnt[b]++;
    });
    for (let b = 0; b < B; b++) out.push(sum[b] / cnt[b]);
  }
  return out;
}
