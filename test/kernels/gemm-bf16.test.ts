/**
 * gemmBf16 (float A and C, bfloat16 B) against a float64 reference computed by direct summation on the
 * same values (B's bf16 bits widened exactly): the native addon on every instruction set the CPU has
 * (its streaming GEMV for m ≤ 4 with op(B) = Bᵀ, and its widen-then-sgemm blocks otherwise), and the
 * TypeScript kernels in float32 (WebAssembly) and float64.
 *
 * Error measure: max |got − reference| / max |reference| over C's whole buffer (padding must come
 * back untouched). Tolerances, about 3× the worst measured (printed by the last test): 2e-6 native
 * (measured 5.3e-7), 5e-6 WebAssembly float32 (1.6e-6), 1e-14 float64 (1.7e-16).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bf16BitsToNumber, f32ToBf16Array } from '../../src/io/dtype.js';
import { jsKernels } from '../../src/kernels/js/index.js';
import { loadNativeKernels } from '../../src/kernels/native.js';
import type { FArray, Kernels } from '../../src/kernels/types.js';
import { randF32, rng } from '../helpers/random-arrays.js';
import { maxRelErr } from '../helpers/rel-err.js';

const native = loadNativeKernels().kernels;
const defaultIsa = native?.isa() ?? 'none';
const worst = new Map<string, number>();

/** C = alpha·op(A)·op(B) + beta·C in float64 by direct sums (B as bf16 bits). */
function reference(
  tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number, a: ArrayLike<number>, lda: number,
  b: Uint16Array, ldb: number, beta: number, c: Float64Array, ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[tA ? p * lda + i : i * lda + p] * bf16BitsToNumber(b[tB ? j * ldb + p : p * ldb + j]);
      const o = i * ldc + j;
      c[o] = alpha * s + (beta === 0 ? 0 : beta * c[o]);
    }
  }
}

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 37, 19], [2, 9, 64], [3, 130, 77], [4, 21, 1030], [5, 33, 17], [17, 40, 65], [64, 48, 130],
  [5, 1030, 1030], [130, 7, 31], [200, 1, 50],
];

interface Case {
  what: string; tA: boolean; tB: boolean; m: number; n: number; k: number; alpha: number; beta: number;
  a: Float32Array; lda: number; b: Uint16Array; ldb: number; c0: Float32Array; ldc: number; want: Float64Array;
}

let built: Case[] | null = null;
/** Every shape × transposition × (alpha, beta), with its float64 reference (built once, shared by all runs). */
function cases(): Case[] {
  if (built) return built;
  const r = rng(7);
  built = [];
  for (const [m, n, k] of SHAPES) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        for (const [alpha, beta] of [[1, 0], [-0.75, 0.5]] as const) {
          const pad = 3;
          const lda = (tA ? m : k) + pad, ldb = (tB ? k : n) + pad, ldc = n + pad;
          // Subarrays with a byteOffset, to check that the offset is honoured.
          const a = randF32((tA ? k : m) * lda + 5, r).subarray(5);
          const b = f32ToBf16Array(randF32((tB ? n : k) * ldb + 3, r)).subarray(3);
          const c0 = randF32(m * ldc, r);
          if (beta === 0) for (let i = 0; i < m; i++) c0.fill(NaN, i * ldc, i * ldc + n);
          const want = Float64Array.from(c0);
          reference(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc);
          const what = `${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} ${m}x${n}x${k} alpha=${alpha} beta=${beta}`;
          built.push({ what, tA, tB, m, n, k, alpha, beta, a, lda, b, ldb, c0, ldc, want });
        }
      }
    }
  }
  return built;
}

function runCases(K: Kernels, label: string, float64: boolean, tol: number): void {
  const all = cases();
  for (const x of all) {
    const a: FArray = float64 ? Float64Array.from(x.a) : x.a;
    const got: FArray = float64 ? Float64Array.from(x.c0) : x.c0.slice();
    K.gemmBf16(x.tA, x.tB, x.m, x.n, x.k, x.alpha, a, x.lda, x.b, x.ldb, x.beta, got, x.ldc);
    const e = maxRelErr(got, x.want);
    assert.ok(e <= tol, `${label} ${x.what}: relative error ${e.toExponential(2)} > ${tol.toExponential(0)}`);
    worst.set(label, Math.max(worst.get(label) ?? 0, e));
  }
  assert.equal(all.length, SHAPES.length * 8);
}

for (const isa of ['avx512', 'avx2', 'base']) {
  test(`native gemmBf16 vs float64 reference [${isa}]`, (t) => {
    if (!native) return t.skip('native addon not built');
    const got = native.setIsa(isa);
    try {
      if (got !== isa && !(isa === 'base' && got === 'sse2')) return t.skip(`this CPU has no ${isa}`);
      runCases(native, `native-${got}`, false, 2e-6);
    } finally {
      native.setIsa(defaultIsa === 'sse2' ? 'base' : defaultIsa);
    }
  });
}

test('js gemmBf16 (float32 through WebAssembly) vs float64 reference', () => runCases(jsKernels, 'js-f32', false, 5e-6));

test('js gemmBf16 in float64 vs float64 reference', () => runCases(jsKernels, 'js-f64', true, 1e-14));

test('gemmBf16: k = 0 scales C; a wrong B type is refused by the native addon', (t) => {
  for (const K of native ? [jsKernels, native] : [jsKernels]) {
    const c = new Float32Array([1, 2, NaN, 4]);
    K.gemmBf16(false, false, 2, 2, 0, 1, new Float32Array(0), 0, new Uint16Array(0), 2, 0, c, 2);
    assert.deepEqual([...c], [0, 0, 0, 0]);
  }
  if (!native) return t.skip('native addon not built');
  assert.throws(() => native.gemmBf16(false, true, 1, 1, 1, 1, new Float32Array(1), 1, new Float32Array(1) as unknown as Uint16Array, 1, 0, new Float32Array(1), 1), /Uint16Array/);
  assert.throws(() => native.gemmBf16(false, true, 2, 2, 2, 1, new Float32Array(4), 2, new Uint16Array(3), 2, 0, new Float32Array(4), 2), /too short/);
});

test('gemmBf16: worst relative errors seen', () => {
  assert.ok(worst.size > 0);
  console.log(`gemmBf16 worst relative error: ${[...worst].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
});
