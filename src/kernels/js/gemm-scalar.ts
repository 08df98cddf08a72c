import type { FArray } from '../types.js';

/**
 * C = beta · C over the m×n block (beta = 0 clears it, NaNs included; beta = 1 leaves it untouched).
 */
export function scaleBlock(m: number, n: number, beta: number, c: FArray, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < m; i++) {
    const row = i * ldc;
    if (beta === 0) c.fill(0, row, row + n);
    else for (let j = 0; j < n; j++) c[row + j] *= beta;
  }
}

/**
 * Row-major GEMM in plain TypeScript: C = alpha·op(A)·op(B) + beta·C, any transposes, Float32Array or
 * Float64Array (arithmetic in double precision either way).
 *
 * One strided formulation covers all four transpose cases: op(A)[i,p] = a[i·sai + p·sap] and
 * op(B)[p,j] = b[p·sbp + j·sbj]. The m×n block is computed in 4×4 register tiles (16 accumulators, the
 * whole k loop inside, each C element written once), the last m mod 4 rows and n mod 4 columns by dot
 * products.
 */
export function gemmScalar(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: FArray, lda: number, b: FArray, ldb: number,
  beta: number, c: FArray, ldc: number,
): void {
  scaleBlock(m, n, beta, c, ldc);
  if (alpha === 0 || k === 0) return;
  const sai = transA ? 1 : lda, sap = transA ? lda : 1;
  const sbp = transB ? 1 : ldb, sbj = transB ? ldb : 1;
  const sai2 = 2 * sai, sai3 = 3 * sai, sbj2 = 2 * sbj, sbj3 = 3 * sbj;
  const m4 = m - (m & 3), n4 = n - (n & 3);
  for (let i = 0; i < m4; i += 4) {
    for (let j = 0; j < n4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let ia = i * sai, ib = j * sbj;
      for (let p = 0; p < k; p++) {
        const x0 = a[ia], x1 = a[ia + sai], x2 = a[ia + sai2], x3 = a[ia + sai3];
        const y0 = b[ib], y1 = b[ib + sbj], y2 = b[ib + sbj2], y3 = b[ib + sbj3];
        ia += sap;
        ib += sbp;
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      let o = i * ldc + j;
      c[o] += alpha * c00; c[o + 1] += alpha * c01; c[o + 2] += alpha * c02; c[o + 3] += alpha * c03;
      o += ldc;
      c[o] += alpha * c10; c[o + 1] += alpha * c11; c[o + 2] += alpha * c12; c[o + 3] += alpha * c13;
      o += ldc;
      c[o] += alpha * c20; c[o + 1] += alpha * c21; c[o + 2] += alpha * c22; c[o + 3] += alpha * c23;
      o += ldc;
      c[o] += alpha * c30; c[o + 1] += alpha * c31; c[o + 2] += alpha * c32; c[o + 3] += alpha * c33;
    }
  }
  // Edges: columns n4..n of the first m4 rows, then all columns of rows m4..m.
  if (n4 < n) edge(0, m4, n4, n, k, alpha, a, sai, sap, b, sbp, sbj, c, ldc);
  if (m4 < m) edge(m4, m, 0, n, k, alpha, a, sai, sap, b, sbp, sbj, c, ldc);
}

/** C[i,j] += alpha · Σ_p op(A)[i,p]·op(B)[p,j] for i0 ≤ i < i1, j0 ≤ j < j1, by dot products. */
function edge(
  i0: number, i1: number, j0: number, j1: number, k: number, alpha: number,
  a: FArray, sai: number, sap: number, b: FArray, sbp: number, sbj: number, c: FArray, ldc: number,
): void {
  for (let i = i0; i < i1; i++) {
    for (let j = j0; j < j1; j++) {
      let s0 = 0, s1 = 0;
      let ia = i * sai, ib = j * sbj, p = 0;
      for (; p + 1 < k; p += 2) {
        s0 += a[ia] * b[ib];
        s1 += a[ia + sap] * b[ib + sbp];
        ia += 2 * sap;
        ib += 2 * sbp;
      }
      if (p < k) s0 += a[ia] * b[ib];
      c[i * ldc + j] += alpha * (s0 + s1);
    }
  }
}
