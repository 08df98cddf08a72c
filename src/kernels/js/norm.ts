import type { FArray } from '../types.js';

export function rmsnorm(x: FArray, w: FArray, out: FArray, rstd: FArray, rows: number, dim: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[o + i] * x[o + i];
    const rs = 1 / Math.sqrt(ss / dim + eps);
    rstd[r] = rs;
    for (let i = 0; i < dim; i++) out[o + i] = x[o + i] * rs * w[i];
  }
}

export function rmsnormBackward(
  dy: FArray, x: FArray, w: FArray, rstd: FArray, dx: FArray, dw: FArray | null, rows: number, dim: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    const rs = rstd[r];
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += dy[o + i] * w[i] * x[o + i];
    const coef = (rs * rs * rs * dot) / dim;
    if (dw) for (let i = 0; i < dim; i++) dw[i] += dy[o + i] * x[o + i] * rs;
    for (let i = 0; i < dim; i++) dx[o + i] = dy[o + i] * w[i] * rs - x[o + i] * coef;
  }
}
