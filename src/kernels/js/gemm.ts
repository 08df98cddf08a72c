import type { FArray } from '../types.js';
import { gemmScalar, scaleBlock } from './gemm-scalar.js';
import { wasmGemm } from './wasm/gemm.js';

/**
 * Below this many multiply-adds (m·n·k) the scalar TypeScript GEMM is used even for float32: the
 * copies into WebAssembly memory would cost more than they save.
 */
const WASM_MIN_WORK = 4096;

/**
 * Row-major GEMM: C = alpha·op(A)·op(B) + beta·C. Float32 operands go to the WebAssembly SIMD kernel
 * (float32 accumulation, as BLAS) when it is available and the product is not tiny; everything else —
 * float64 in particular — to the scalar TypeScript kernel (double-precision accumulation).
 */
export function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: FArray, lda: number, b: FArray, ldb: number,
  beta: number, c: FArray, ldc: number,
): void {
  if (m <= 0 || n <= 0) return;
  if (alpha === 0 || k <= 0) {
    scaleBlock(m, n, beta, c, ldc);
    return;
  }
  if (m * n * k >= WASM_MIN_WORK && a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array) {
    const w = wasmGemm();
    if (w) {
      w.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
  }
  gemmScalar(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
