/**
 * Float32 GEMM on WebAssembly SIMD (the micro-kernel is in gemm-module.ts): the operands are copied into
 * the module's memory (one memcpy each in the usual case), op(B) is transposed there when transB, the
 * 4×8 micro-kernel computes a padded C block, and that block is copied back. Accumulation is in float32,
 * as in the native addon's BLAS.
 */
import { gemmScalar } from '../gemm-scalar.js';
import { Layout, wasmRuntime, type WasmRuntime } from './runtime.js';

/** Floats per operand block kept in the module's memory at once (larger problems are cut into blocks). */
const BLOCK_FLOATS = 1 << 22;

export class WasmGemm {
  constructor(private readonly rt: WasmRuntime) {}

  /**
   * C = alpha·op(A)·op(B) + beta·C as in Kernels.gemm, for m, n, k ≥ 1 and alpha ≠ 0. With beta = 0,
   * C is not read.
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number,
    beta: number, c: Float32Array, ldc: number,
  ): void {
    let nb = n, mb = m;
    if (k * n > BLOCK_FLOATS) nb = Math.max(8, Math.floor(BLOCK_FLOATS / k / 8) * 8);
    if (k * m > BLOCK_FLOATS) mb = Math.max(4, Math.floor(BLOCK_FLOATS / k / 4) * 4);
    if (mb * nb > BLOCK_FLOATS) mb = Math.max(4, Math.floor(BLOCK_FLOATS / nb / 4) * 4);
    for (let i0 = 0; i0 < m; i0 += mb) {
      for (let j0 = 0; j0 < n; j0 += nb) {
        this.block(
          transA, transB, Math.min(mb, m - i0), Math.min(nb, n - j0), k, alpha,
          a, transA ? i0 : i0 * lda, lda, b, transB ? j0 * ldb : j0, ldb, beta, c, i0 * ldc + j0, ldc,
        );
      }
    }
  }

  private block(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, aOff: number, lda: number, b: Float32Array, bOff: number, ldb: number,
    beta: number, c: Float32Array, cOff: number, ldc: number,
  ): void {
    const mPanels = Math.ceil(m / 4), nPanels = Math.ceil(n / 8);
    const mPad = 4 * mPanels, nPad = 8 * nPanels;
    // A as stored: rowsA rows of colsA used values, stride lda (likewise B).
    const rowsA = transA ? k : m, colsA = transA ? m : k;
    const rowsB = transB ? n : k, colsB = transB ? k : n;
    const sizeA = stagedSize(rowsA, colsA, lda), sizeB = stagedSize(rowsB, colsB, ldb);
    const compactC = ldc === n && nPad === n;
    const spanC = (m - 1) * ldc + n;
    const spanStaged = !compactC && spanIsCheap(spanC, m, n);
    // Regions: staged A, staged B, transposed B (transB only), C (padded), staged span of C. The staged
    // operands get room for the reads of a partial last tile (up to 3 rows of A / 7 columns of B past the end).
    const L = new Layout();
    const offA = L.take(sizeA, 3 * Math.max(lda, 1) + 16);
    const offB = L.take(sizeB, 8 * Math.max(ldb, 1) + 16);
    const offBt = transB ? L.take(nPad * k) : 0;
    const offC = L.take(mPad * nPad);
    const offSpan = spanStaged ? L.take(spanC) : 0;
    if (!this.rt.reserve(L.size)) {
      gemmScalar(transA, transB, m, n, k, alpha, a.subarray(aOff), lda, b.subarray(bOff), ldb, beta, c.subarray(cOff), ldc);
      return;
    }
    const mem = this.rt.f32, fns = this.rt.fns;
    const sa = stage(mem, offA, a, aOff, rowsA, colsA, lda);
    const sb = stage(mem, offB, b, bOff, rowsB, colsB, ldb);
    // op(A)[i, p] at byte 4·offA + i·aRow + p·aP; op(B)[p, j] at 4·bBase + p·bP + 4j.
    const aRow = 4 * (transA ? 1 : sa), aP = 4 * (transA ? sa : 1);
    let bBase = offB, bP = 4 * sb;
    if (transB) {
      fns.transpose(4 * offB, 4 * sb, 4 * offBt, 4 * nPad, n, k);
      bBase = offBt;
      bP = 4 * nPad;
    }
    if (spanStaged) mem.set(c.subarray(cOff, cOff + spanC), offSpan);
    if (beta !== 0) {
      if (compactC) mem.set(c.subarray(cOff, cOff + m * n), offC);
      else if (spanStaged) fns.copy2d(4 * offSpan, 4 * ldc, 4 * offC, 4 * nPad, m, n);
      else for (let i = 0; i < m; i++) mem.set(c.subarray(cOff + i * ldc, cOff + i * ldc + n), offC + i * nPad);
    }
    fns.kernel(4 * offA, aRow, aP, 4 * bBase, bP, 4 * offC, mPanels, nPanels, k, 4 * nPad, alpha, beta);
    if (compactC) {
      c.set(mem.subarray(offC, offC + m * n), cOff);
    } else if (spanStaged) {
      fns.copy2d(4 * offC, 4 * nPad, 4 * offSpan, 4 * ldc, m, n);
      c.set(mem.subarray(offSpan, offSpan + spanC), cOff);
    } else {
      for (let i = 0; i < m; i++) c.set(mem.subarray(offC + i * nPad, offC + i * nPad + n), cOff + i * ldc);
    }
  }
}

/**
 * Whether a rows×cols block of a larger matrix is better copied as one span (gaps between rows included)
 * than row by row: a memcpy of a few extra kilobytes is cheaper than a call per row.
 */
function spanIsCheap(span: number, rows: number, cols: number): boolean {
  return rows <= 1 || span <= 4 * rows * cols + 16384;
}

/** Floats that stage() writes for a rows×cols block of stride ld. */
function stagedSize(rows: number, cols: number, ld: number): number {
  const span = (rows - 1) * ld + cols;
  return spanIsCheap(span, rows, cols) ? span : rows * cols;
}

/**
 * Copies the rows×cols block at src[off], row stride ld, into mem[dst]: as one span (stride kept) when
 * spanIsCheap, else row by row (stride cols). Returns the stride of the copy.
 */
function stage(mem: Float32Array, dst: number, src: Float32Array, off: number, rows: number, cols: number, ld: number): number {
  const span = (rows - 1) * ld + cols;
  if (spanIsCheap(span, rows, cols)) {
    mem.set(src.subarray(off, off + span), dst);
    return ld;
  }
  for (let r = 0; r < rows; r++) mem.set(src.subarray(off + r * ld, off + r * ld + cols), dst + r * cols);
  return cols;
}

let instance: WasmGemm | null | undefined;

/** The WebAssembly GEMM of this thread, or null where WebAssembly SIMD is missing or LEAF_WASM=0. */
export function wasmGemm(): WasmGemm | null {
  if (instance === undefined) {
    const rt = wasmRuntime();
    instance = rt ? new WasmGemm(rt) : null;
  }
  return instance;
}
