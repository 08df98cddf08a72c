import type { FArray, Kernels } from '../kernels/types.js';

/**
 * Next-token targets per row of a [batch, seqLen] input: row t predicts ids[t+1]. A target is kept
 * (≥ 0) only when both position t and t+1 are real tokens (mask 1) and, if `supervised` is given,
 * position t+1 is supervised (e.g. a response token). Others are −1.
 */
export function shiftedTargets(ids: Int32Array, mask: Uint8Array | null, batch: number, seqLen: number, supervised?: Uint8Array): Int32Array {
  const targets = new Int32Array(batch * seqLen).fill(-1);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t + 1 < seqLen; t++) {
      const i = b * seqLen + t;
      if (mask && (!mask[i] || !mask[i + 1])) continue;
      if (supervised && !supervised[i + 1]) continue;
      targets[i] = ids[i + 1];
    }
  }
  return targets;
}

/**
 * Mean cross-entropy over rows with a target ≥ 0. With `grad`, the logits buffer is overwritten in
 * place with d mean / d logits. Returns the mean (NaN when no row has a target) and the row count.
 */
export function meanCrossEntropy(
  kernels: Kernels, logits: FArray, targets: Int32Array, vocab: number, grad: boolean,
): { loss: number; count: number } {
  const rows = targets.length;
  let count = 0;
  for (let r = 0; r < rows; r++) if (targets[r] >= 0) count++;
  const perRow = new Float64Array(rows);
  const lossRows = logits instanceof Float64Array ? perRow : new Float32Array(rows);
  let scale: FArray | null = null;
  if (grad) {
    scale = logits instanceof Float64Array ? new Float64Array(rows) : new Float32Array(rows);
    if (count > 0) for (let r = 0; r < rows; r++) scale[r] = targets[r] >= 0 ? 1 / count : 0;
  }
  kernels.crossEntropy(logits, targets, rows, vocab, lossRows, scale);
  let sum = 0;
  for (let r = 0; r < rows; r++) sum += lossRows[r];
  return { loss: count > 0 ? sum / count : NaN, count };
}
