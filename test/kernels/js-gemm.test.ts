/**
 * The TypeScript GEMMs (the scalar 4×4-tiled kernel, float32 and float64, and the WebAssembly SIMD
 * kernel behind jsKernels.gemm for float32) against a plain triple loop in float64 on the same inputs.
 *
 * Error measure: max |got − ref| / max |ref| over the whole C buffer (stride padding included: it must
 * come back untouched). Tolerances: 1e-13 for the float64 scalar kernel (only the summation order
 * differs), 2e-7 for the scalar float32 kernel (double accumulation, float32 rounding of C twice), 1e-5
 * for the WebAssembly kernel (float32 accumulation over k ≤ 300, the native-vs-js GEMM tolerance).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gemm } from '../../src/kernels/js/gemm.js';
import { gemmScalar } from '../../src/kernels/js/gemm-scalar.js';
import { wasmGemm } from '../../src/kernels/js/wasm/gemm.js';
import type { FArray } from '../../src/kernels/types.js';
import { rng } from '../helpers/random-arrays.js';

/** C = alpha·op(A)·op(B) + beta·C by the definition, in float64 (beta = 0 ignores C). */
function reference(
  tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number,
  a: ArrayLike<number>, lda: number, b: ArrayLike<number>, ldb: number, beta: number, c: Float64Array, ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (tA ? a[p * lda + i] : a[i * lda + p]) * (tB ? b[j * ldb + p] : b[p * ldb + j]);
      const o = i * ldc + j;
      c[o] = alpha * s + (beta === 0 ? 0 : beta * c[o]);
    }
  }
}

function relErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(got.length, ref.length);
  let num = 0, den = 0;
  for (let i = 0; i < got.length; i++) {
    if (Number.isNaN(got[i]) || Number.isNaN(ref[i])) {
      if (Number.isNaN(got[i]) && Number.isNaN(ref[i])) continue;
      return Infinity;
    }
    num = Math.max(num, Math.abs(got[i] - ref[i]));
    den = Math.max(den, Math.abs(ref[i]));
  }
  return den === 0 ? num : num / den;
}

type Gemm = (
  tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number,
  a: FArray, lda: number, b: FArray, ldb: number, beta: number, c: FArray, ldc: number,
) => void;

function random(Type: Float32ArrayConstructor | Float64ArrayConstructor, n: number, r: () => number): FArray {
  const x = new Type(n);
  for (let i = 0; i < n; i++) x[i] = r() * 2 - 1;
  return x;
}

/** Runs `fn` on every transpose case × sizes × strides × alpha/beta and compares with the reference. */
function check(label: string, fn: Gemm, Type: Float32ArrayConstructor | Float64ArrayConstructor, tol: number): void {
  const r = rng(7);
  const sizes: Array<[number, number, number]> = [
    [1, 1, 1], [1, 9, 5], [7, 1, 3], [4, 8, 16], [5, 9, 7], [13, 17, 1], [16, 24, 33], [37, 29, 300], [64, 40, 48], [3, 70, 2],
    // Fewer than 4 rows with k a multiple of 4: the dot-product kernel for x·Wᵀ.
    [1, 1, 4], [1, 13, 8], [2, 37, 64], [3, 5, 300],
  ];
  const ab: Array<[number, number, boolean]> = [[1, 0, true], [0.75, 0, false], [1, 1, false], [-1.5, 0.5, false]];
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      for (const [m, n, k] of sizes) {
        for (const pad of [0, 3]) {
          for (const [alpha, beta, nanC] of ab) {
            const lda = (tA ? m : k) + pad, ldb = (tB ? k : n) + pad, ldc = n + pad;
            const a = random(Type, (tA ? k : m) * lda, r), b = random(Type, (tB ? n : k) * ldb, r);
            const c0 = random(Type, m * ldc, r);
            if (nanC) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c0[i * ldc + j] = NaN;
            const ref = Float64Array.from(c0);
            reference(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, ref, ldc);
            const got = new Type(c0.length);
            got.set(c0);
            fn(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc);
            const err = relErr(got, ref);
            assert.ok(err <= tol, `${label} ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} ${m}x${n}x${k} pad ${pad} alpha ${alpha} beta ${beta}: error ${err}`);
          }
        }
      }
    }
  }
}

test('scalar GEMM, float64: all transposes, edges, strides, alpha/beta, NaN in C with beta = 0', () => {
  check('scalar f64', gemmScalar, Float64Array, 1e-13);
});

test('scalar GEMM, float32', () => {
  check('scalar f32', gemmScalar, Float32Array, 2e-7);
});

test('WebAssembly SIMD GEMM, float32', (t) => {
  const w = wasmGemm();
  if (!w) {
    t.skip('WebAssembly SIMD unavailable (or LEAF_WASM=0)');
    return;
  }
  check('wasm f32', (tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
    w.gemm(tA, tB, m, n, k, alpha, a as Float32Array, lda, b as Float32Array, ldb, beta, c as Float32Array, ldc), Float32Array, 1e-5);
});

test('jsKernels.gemm dispatch: float32 and float64, subarray operands, k = 0 and alpha = 0 scale C by beta', () => {
  check('dispatch f32', gemm, Float32Array, wasmGemm() ? 1e-5 : 2e-7);
  check('dispatch f64', gemm, Float64Array, 1e-13);
  // Subarray views (non-zero byteOffset) as operands and output.
  const r = rng(3);
  const big = Float32Array.from({ length: 4000 }, () => r() - 0.5);
  const a = big.subarray(5, 5 + 20 * 30), b = big.subarray(700, 700 + 30 * 24);
  const c = new Float32Array(20 * 24 + 11).fill(7), cv = c.subarray(11);
  const ref = new Float64Array(20 * 24);
  reference(false, false, 20, 24, 30, 1, a, 30, b, 24, 0, ref, 24);
  gemm(false, false, 20, 24, 30, 1, a, 30, b, 24, 0, cv, 24);
  assert.ok(relErr(cv, ref) <= 1e-5);
  assert.deepEqual([...c.subarray(0, 11)], new Array(11).fill(7), 'C outside the view untouched');
  const d = new Float32Array([1, 2, NaN, 4]);
  gemm(false, false, 2, 2, 0, 1, new Float32Array(0), 0, new Float32Array(0), 2, 0, d, 2);
  assert.deepEqual([...d], [0, 0, 0, 0]);
  const e = new Float64Array([1, 2, 3, 4]);
  gemm(false, true, 2, 2, 3, 0, new Float64Array(6), 3, new Float64Array(6), 3, 0.5, e, 2);
  assert.deepEqual([...e], [0.5, 1, 1.5, 2]);
});

test('WebAssembly GEMM: blocks larger than its staging limit (k·n above 4M floats) are cut correctly', (t) => {
  const w = wasmGemm();
  if (!w) {
    t.skip('WebAssembly SIMD unavailable (or LEAF_WASM=0)');
    return;
  }
  // op(B) is k×n with k·n = 2^22 + extra, so B is staged in column blocks; m small keeps the test fast.
  const m = 3, k = 1100, n = 3900;
  const r = rng(11);
  const a = Float32Array.from({ length: m * k }, () => r() - 0.5);
  const b = Float32Array.from({ length: n * k }, () => r() - 0.5);
  const ref = new Float64Array(m * n);
  reference(false, true, m, n, k, 1, a, k, b, k, 0, ref, n);
  const got = new Float32Array(m * n);
  w.gemm(false, true, m, n, k, 1, a, k, b, k, 0, got, n);
  assert.ok(relErr(got, ref) <= 1e-5, `error ${relErr(got, ref)}`);
});
