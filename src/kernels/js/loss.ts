import type { FArray } from '../types.js';

function rowLogSumExp(x: FArray, o: number, n: number): number {
  let mx = -Infinity;
  for (let i = 0; i < n; i++) if (x[o + i] > mx) mx = x[o + i];
  if (mx === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(x[o + i] - mx);
  return mx + Math.log(s);
}

export function crossEntropy(
  logits: FArray, targets: Int32Array, rows: number, vocab: number, loss: FArray, gradScale: FArray | null,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    const t = targets[r];
    if (t < 0) {
      loss[r] = 0;
      if (gradScale) logits.fill(0, o, o + vocab);
      continue;
    }
    const lse = rowLogSumExp(logits, o, vocab);
    loss[r] = lse - logits[o + t];
    if (gradScale) {
      const g = gradScale[r];
      for (let i = 0; i < vocab; i++) logits[o + i] = Math.exp(logits[o + i] - lse) * g;
      logits[o + t] -= g;
    }
  }
}

export function logSoftmax(x: FArray, out: FArray, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    const lse = rowLogSumExp(x, o, n);
    for (let i = 0; i < n; i++) out[o + i] = x[o + i] - lse;
  }
}
