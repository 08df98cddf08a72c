import type { FArray } from '../types.js';

/** Row-major GEMM in plain TypeScript: C = alpha·op(A)·op(B) + beta·C. Loop orders keep the inner loop contiguous. */
export function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: FArray, lda: number, b: FArray, ldb: number,
  beta: number, c: FArray, ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    const row = i * ldc;
    if (beta === 0) c.fill(0, row, row + n);
    else if (beta !== 1) for (let j = 0; j < n; j++) c[row + j] *= beta;
  }
  if (alpha === 0 || k === 0) return;
  if (!transA && transB) {
    for (let i = 0; i < m; i++) {
      const ai = i * lda;
      for (let j = 0; j < n; j++) {
        const bj = j * ldb;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let p = 0;
        for (; p + 3 < k; p += 4) {
          s0 += a[ai + p] * b[bj + p];
          s1 += a[ai + p + 1] * b[bj + p + 1];
          s2 += a[ai + p + 2] * b[bj + p + 2];
          s3 += a[ai + p + 3] * b[bj + p + 3];
        }
        for (; p < k; p++) s0 += a[ai + p] * b[bj + p];
        c[i * ldc + j] += alpha * (s0 + s1 + s2 + s3);
      }
    }
  } else if (!transA && !transB) {
    for (let i = 0; i < m; i++) {
      const ci = i * ldc;
      for (let p = 0; p < k; p++) {
        const aip = alpha * a[i * lda + p];
        if (aip === 0) continue;
        const bp = p * ldb;
        for (let j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
      }
    }
  } else if (transA && !transB) {
    for (let p = 0; p < k; p++) {
      const ap = p * lda, bp = p * ldb;
      for (let i = 0; i < m; i++) {
        const api = alpha * a[ap + i];
        if (api === 0) continue;
        const ci = i * ldc;
        for (let j = 0; j < n; j++) c[ci + j] += api * b[bp + j];
      }
    }
  } else {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[p * lda + i] * b[j * ldb + p];
        c[i * ldc + j] += alpha * s;
      }
    }
  }
}
