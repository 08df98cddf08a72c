import type { FArray } from '../types.js';
import { gemm } from './gemm.js';
import { scaleBlock } from './gemm-scalar.js';

/** Values of op(B) widened per block (the native addon's block size). */
const BLOCK = 1 << 20;
const BLOCK_K = 1024;

let scratch32 = new Float32Array(0);
let scratch64 = new Float64Array(0);

/** rows×cols of bfloat16 bits at src[off], row stride ld, widened into dst (row stride cols), exactly. */
function widen(src: Uint16Array, off: number, ld: number, rows: number, cols: number, dst: FArray): void {
  if (dst instanceof Float32Array) {
    const bits = new Uint32Array(dst.buffer, dst.byteOffset, rows * cols);
    for (let r = 0; r < rows; r++) {
      const s = off + r * ld, d = r * cols;
      for (let j = 0; j < cols; j++) bits[d + j] = src[s + j] << 16;
    }
    return;
  }
  const one = new Float32Array(1), oneBits = new Uint32Array(one.buffer);
  for (let r = 0; r < rows; r++) {
    const s = off + r * ld, d = r * cols;
    for (let j = 0; j < cols; j++) {
      oneBits[0] = src[s + j] << 16;
      dst[d + j] = one[0];
    }
  }
}

function scratchFor(c: FArray, n: number): FArray {
  if (c instanceof Float64Array) {
    if (scratch64.length < n) scratch64 = new Float64Array(n);
    return scratch64;
  }
  if (scratch32.length < n) scratch32 = new Float32Array(n);
  return scratch32;
}

/**
 * GEMM with a bfloat16 B (Kernels.gemmBf16): op(B) is widened block by block (kb ≤ 1024 rows of depth,
 * at most 2^20 values) into a float scratch of C's type, and each block goes through the float GEMM, so
 * the arithmetic is the float32 (or float64) GEMM's on the exact bf16 values, as in the native addon.
 */
export function gemmBf16(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: FArray, lda: number, b: Uint16Array, ldb: number,
  beta: number, c: FArray, ldc: number,
): void {
  if (m <= 0 || n <= 0) return;
  if (alpha === 0 || k <= 0) {
    scaleBlock(m, n, beta, c, ldc);
    return;
  }
  const kb = Math.min(k, BLOCK_K);
  const nb = Math.min(n, Math.max(16, Math.floor(BLOCK / kb / 16) * 16));
  const w = scratchFor(c, kb * nb);
  for (let j0 = 0; j0 < n; j0 += nb) {
    const cols = Math.min(nb, n - j0);
    for (let p0 = 0; p0 < k; p0 += kb) {
      const depth = Math.min(kb, k - p0);
      const aP = a.subarray(transA ? p0 * lda : p0), cJ = c.subarray(j0), b0 = p0 === 0 ? beta : 1;
      if (transB) {
        widen(b, j0 * ldb + p0, ldb, cols, depth, w);
        gemm(transA, true, m, cols, depth, alpha, aP, lda, w, depth, b0, cJ, ldc);
      } else {
        widen(b, p0 * ldb + j0, ldb, depth, cols, w);
        gemm(transA, false, m, cols, depth, alpha, aP, lda, w, cols, b0, cJ, ldc);
      }
    }
  }
}
