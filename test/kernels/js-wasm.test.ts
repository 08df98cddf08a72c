/**
 * The WebAssembly SIMD float32 paths of the TypeScript kernels (swiglu, attention forward and backward)
 * against the same kernels on float64 buffers (the scalar TypeScript code: the reference), on the same
 * float32 inputs. Attention cases cover left padding and fully masked rows, holes in the mask, a KV cache
 * (past > 0, keyCapacity > keys), GQA, head sizes that are not multiples of 4 or 8, more keys than
 * past + queries, and sizes that leave partial 4×8 tiles.
 *
 * Error measure: max |wasm − reference| / max |reference| over the whole buffer (for rmsnorm's dx, which
 * can cancel far below its terms, against the size of its first term). Tolerances (those of the
 * native-vs-js test): 2e-6 for swiglu, 1e-5 for rmsnorm and attention forward, 2e-5 for attention backward.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsKernels } from '../../src/kernels/js/index.js';
import { wasmLimits, wasmRuntime } from '../../src/kernels/js/wasm/runtime.js';
import { rng, randF32, f64 } from '../helpers/random-arrays.js';
import { attnInputs, attnShape, type AttnCase } from '../helpers/attention-cases.js';

const available = wasmRuntime() !== null;
const skip = available ? false : 'WebAssembly SIMD unavailable (or LEAF_WASM=0)';


function close(got: ArrayLike<number>, ref: ArrayLike<number>, tol: number, what: string, scale = 0): void {
  assert.equal(got.length, ref.length, `${what}: length`);
  let num = 0, den = 0;
  for (let i = 0; i < got.length; i++) {
    assert.ok(Number.isFinite(got[i]), `${what}: element ${i} is ${got[i]}`);
    num = Math.max(num, Math.abs(got[i] - ref[i]));
    den = Math.max(den, Math.abs(ref[i]));
  }
  den = Math.max(den, scale);
  const e = den === 0 ? num : num / den;
  assert.ok(e <= tol, `${what}: relative error ${e.toExponential(2)} > ${tol}`);
}

test('swiglu and swigluBackward on WebAssembly (tails, extreme inputs, dg aliasing dh)', { skip }, () => {
  const r = rng(5);
  for (const n of [256, 257, 259, 1000, 100003]) {
    const g = randF32(n, r, -10, 10), u = randF32(n, r, -2, 2);
    g[0] = 30; g[1] = -30; g[2] = 0; g[3] = -87; g[4] = 95; g[5] = -100;
    const h = new Float32Array(n + 3).fill(7), hJ = new Float64Array(n);
    jsKernels.swiglu(g, u, h, n);
    jsKernels.swiglu(f64(g), f64(u), hJ, n);
    close(h.subarray(0, n), hJ, 2e-6, `swiglu n=${n}`);
    assert.deepEqual([...h.subarray(n)], [7, 7, 7], 'swiglu writes only n elements');
    const dh = randF32(n, r);
    for (const alias of [false, true]) {
      const dhA = dh.slice();
      const dg = alias ? dhA : new Float32Array(n).fill(NaN), du = new Float32Array(n).fill(NaN);
      const dgJ = new Float64Array(n), duJ = new Float64Array(n);
      jsKernels.swigluBackward(dhA, g, u, dg, du, n);
      jsKernels.swigluBackward(f64(dh), f64(g), f64(u), dgJ, duJ, n);
      close(dg, dgJ, 2e-6, `swigluBackward dg n=${n} alias=${alias}`);
      close(du, duJ, 2e-6, `swigluBackward du n=${n} alias=${alias}`);
    }
  }
});

test('rmsnorm and rmsnormBackward on WebAssembly (with and without dw, aliasing)', { skip }, () => {
  const r = rng(3);
  for (const [rows, dim] of [[1, 256], [3, 100], [5, 576], [33, 48], [300, 64]]) {
    const x = randF32(rows * dim, r, -3, 3), w = randF32(dim, r, 0.5, 1.5), eps = 1e-5;
    const out = new Float32Array(rows * dim).fill(NaN), rstd = new Float32Array(rows).fill(NaN);
    const outJ = new Float64Array(rows * dim), rstdJ = new Float64Array(rows);
    jsKernels.rmsnorm(x, w, out, rstd, rows, dim, eps);
    jsKernels.rmsnorm(f64(x), f64(w), outJ, rstdJ, rows, dim, eps);
    close(out, outJ, 1e-5, `rmsnorm out ${rows}x${dim}`);
    close(rstd, rstdJ, 1e-5, `rmsnorm rstd ${rows}x${dim}`);
    const xa = x.slice();
    jsKernels.rmsnorm(xa, w, xa, rstd, rows, dim, eps);
    close(xa, outJ, 1e-5, `rmsnorm in place ${rows}x${dim}`);
    const dy = randF32(rows * dim, r), dw0 = randF32(dim, r);
    let termScale = 0;
    for (let i = 0; i < rows * dim; i++) termScale = Math.max(termScale, Math.abs(dy[i] * w[i % dim] * rstd[Math.floor(i / dim)]));
    for (const withDw of [true, false]) {
      for (const alias of [false, true]) {
        const dyA = dy.slice();
        const dx = alias ? dyA : new Float32Array(rows * dim).fill(NaN);
        const dw = withDw ? dw0.slice() : null;
        const dxJ = new Float64Array(rows * dim), dwJ = withDw ? f64(dw0) : null;
        jsKernels.rmsnormBackward(dyA, x, w, rstd, dx, dw, rows, dim);
        jsKernels.rmsnormBackward(f64(dy), f64(x), f64(w), f64(rstd), dxJ, dwJ, rows, dim);
        const tag = `${rows}x${dim} dw=${withDw} alias=${alias}`;
        close(dx, dxJ, 1e-5, `rmsnormBackward dx ${tag}`, termScale);
        if (dw && dwJ) close(dw, dwJ, 1e-5, `rmsnormBackward dw ${tag}`);
      }
    }
  }
});

const cases: AttnCase[] = [
  { name: 'demo-like: 16 rows × 37 tokens, 4 heads / 2 kv heads, headDim 16, left padding', shape: attnShape(16, 37, 37, 37, 0, 4, 2, 16),
    masked: (b, s) => s < (b * 5) % 11 },
  { name: 'left padding with fully masked rows', shape: attnShape(3, 7, 7, 7, 0, 4, 2, 16), masked: (b, s) => (b === 1 && s < 3) || (b === 2 && s < 1) },
  { name: 'past > 0, keyCapacity > keys, random holes', shape: attnShape(2, 5, 10, 14, 5, 4, 2, 16), masked: (b, s) => (b * 7 + s * 3) % 5 === 0 && s !== 9 },
  { name: 'prefill 70 tokens, 6 heads / 3 kv heads, headDim 64', shape: attnShape(1, 70, 70, 70, 0, 6, 3, 64), masked: (_b, s) => s < 2 },
  { name: 'odd headDim 6, keyCapacity 23', shape: attnShape(2, 20, 20, 23, 0, 2, 1, 6) },
  { name: 'headDim 10, past 4, 3 heads / 1 kv head', shape: attnShape(1, 13, 17, 17, 4, 3, 1, 10) },
  { name: 'fewer keys than past + queries', shape: attnShape(1, 4, 5, 6, 2, 2, 2, 8) },
  { name: 'keys beyond the last query', shape: attnShape(1, 4, 9, 9, 2, 2, 1, 8) },
  { name: 'chunked prefill: 40 queries after 24 cached keys', shape: attnShape(2, 40, 64, 80, 24, 4, 4, 16), masked: (b, s) => b === 1 && s < 10 },
  { name: 'no keys at all', shape: attnShape(2, 5, 0, 2, 0, 2, 1, 4) },
];

test('attention forward on WebAssembly: outputs and probabilities (with and without probs)', { skip }, () => {
  let seed = 100;
  for (const c of cases) {
    const s = c.shape;
    const { q, k, v, keyMask, qn, probsLen } = attnInputs(c, seed++);
    const out = new Float32Array(qn).fill(NaN), probs = new Float32Array(probsLen).fill(NaN);
    const outJ = new Float64Array(qn), probsJ = new Float64Array(probsLen);
    jsKernels.attention(q, k, v, keyMask, out, probs, s);
    jsKernels.attention(f64(q), f64(k), f64(v), keyMask, outJ, probsJ, s);
    close(out, outJ, 1e-5, `attention out: ${c.name}`);
    close(probs, probsJ, 1e-5, `attention probs: ${c.name}`);
    for (let i = 0; i < probsLen; i++) if (probsJ[i] === 0) assert.equal(probs[i], 0, `${c.name}: masked probability ${i} not exactly 0`);
    const out2 = new Float32Array(qn).fill(NaN);
    jsKernels.attention(q, k, v, keyMask, out2, null, s);
    assert.deepEqual(out2, out, `${c.name}: output without probs differs`);
  }
});

test('attention backward on WebAssembly: dq, dk, dv (rows beyond keys zeroed)', { skip }, () => {
  let seed = 200;
  for (const c of cases) {
    const s = c.shape;
    const { q, k, v, keyMask, qn, kn, probsLen, dOut } = attnInputs(c, seed++);
    const probsJ = new Float64Array(probsLen);
    jsKernels.attention(f64(q), f64(k), f64(v), keyMask, new Float64Array(qn), probsJ, s);
    const probs = Float32Array.from(probsJ);
    const dq = new Float32Array(qn).fill(NaN), dk = new Float32Array(kn).fill(NaN), dv = new Float32Array(kn).fill(NaN);
    const dqJ = new Float64Array(qn), dkJ = new Float64Array(kn), dvJ = new Float64Array(kn);
    jsKernels.attentionBackward(dOut, q, k, v, probs, dq, dk, dv, s);
    jsKernels.attentionBackward(f64(dOut), f64(q), f64(k), f64(v), f64(probs), dqJ, dkJ, dvJ, s);
    close(dq, dqJ, 2e-5, `attentionBackward dq: ${c.name}`);
    close(dk, dkJ, 2e-5, `attentionBackward dk: ${c.name}`);
    close(dv, dvJ, 2e-5, `attentionBackward dv: ${c.name}`);
  }
});

test('WebAssembly kernels cut large calls into chunks (limit lowered for the test) with the same results', { skip }, () => {
  const saved = wasmLimits.chunkFloats;
  const r = rng(17);
  try {
    for (const chunk of [2000, 3001]) {
      wasmLimits.chunkFloats = chunk;
      const n = 10007;
      const g = randF32(n, r, -6, 6), u = randF32(n, r), dh = randF32(n, r);
      const h = new Float32Array(n), hJ = new Float64Array(n);
      jsKernels.swiglu(g, u, h, n);
      jsKernels.swiglu(f64(g), f64(u), hJ, n);
      close(h, hJ, 2e-6, `chunked swiglu (${chunk})`);
      const dg = new Float32Array(n), du = new Float32Array(n), dgJ = new Float64Array(n), duJ = new Float64Array(n);
      jsKernels.swigluBackward(dh, g, u, dg, du, n);
      jsKernels.swigluBackward(f64(dh), f64(g), f64(u), dgJ, duJ, n);
      close(dg, dgJ, 2e-6, `chunked swigluBackward dg (${chunk})`);
      close(du, duJ, 2e-6, `chunked swigluBackward du (${chunk})`);

      const rows = 300, dim = 64;
      const x = randF32(rows * dim, r, -3, 3), w = randF32(dim, r, 0.5, 1.5);
      const out = new Float32Array(rows * dim), rstd = new Float32Array(rows);
      const outJ = new Float64Array(rows * dim), rstdJ = new Float64Array(rows);
      jsKernels.rmsnorm(x, w, out, rstd, rows, dim, 1e-5);
      jsKernels.rmsnorm(f64(x), f64(w), outJ, rstdJ, rows, dim, 1e-5);
      close(out, outJ, 1e-5, `chunked rmsnorm (${chunk})`);
      const dy = randF32(rows * dim, r), dx = new Float32Array(rows * dim), dw = new Float32Array(dim);
      const dxJ = new Float64Array(rows * dim), dwJ = new Float64Array(dim);
      jsKernels.rmsnormBackward(dy, x, w, rstd, dx, dw, rows, dim);
      jsKernels.rmsnormBackward(f64(dy), f64(x), f64(w), f64(rstd), dxJ, dwJ, rows, dim);
      close(dx, dxJ, 1e-5, `chunked rmsnormBackward dx (${chunk})`, 1);
      close(dw, dwJ, 1e-5, `chunked rmsnormBackward dw (${chunk})`);

      const c = cases[0];
      const s = c.shape;
      const { q, k, v, keyMask, qn, kn, probsLen, dOut } = attnInputs(c, 5);
      const o = new Float32Array(qn), p = new Float32Array(probsLen), oJ = new Float64Array(qn), pJ = new Float64Array(probsLen);
      jsKernels.attention(q, k, v, keyMask, o, p, s);
      jsKernels.attention(f64(q), f64(k), f64(v), keyMask, oJ, pJ, s);
      close(o, oJ, 1e-5, `chunked attention out (${chunk})`);
      close(p, pJ, 1e-5, `chunked attention probs (${chunk})`);
      const dq = new Float32Array(qn), dk = new Float32Array(kn), dv = new Float32Array(kn);
      const dqJ = new Float64Array(qn), dkJ = new Float64Array(kn), dvJ = new Float64Array(kn);
      jsKernels.attentionBackward(dOut, q, k, v, p, dq, dk, dv, s);
      jsKernels.attentionBackward(f64(dOut), f64(q), f64(k), f64(v), f64(p), dqJ, dkJ, dvJ, s);
      close(dq, dqJ, 2e-5, `chunked attentionBackward dq (${chunk})`);
      close(dk, dkJ, 2e-5, `chunked attentionBackward dk (${chunk})`);
      close(dv, dvJ, 2e-5, `chunked attentionBackward dv (${chunk})`);
    }
  } finally {
    wasmLimits.chunkFloats = saved;
  }
});

test('when the module memory cannot grow, the kernels fall back to the scalar path (same results)', { skip }, () => {
  const saved = wasmLimits.maxBytes;
  try {
    wasmLimits.maxBytes = 1;
    // Larger than anything staged so far in this file, so the memory would have to grow.
    const n = 3_000_001;
    const r = rng(23);
    const g = randF32(n, r, -6, 6), u = randF32(n, r);
    const h = new Float32Array(n), hJ = new Float64Array(n);
    jsKernels.swiglu(g, u, h, n);
    jsKernels.swiglu(f64(g), f64(u), hJ, n);
    close(h, hJ, 2e-7, 'swiglu after a failed reserve (scalar: double precision, one float32 rounding)');
    const m = 1500, kk = 700, nn = 64;
    const a = randF32(m * kk, r), b = randF32(kk * nn, r);
    const c = new Float32Array(m * nn), cJ = new Float64Array(m * nn);
    jsKernels.gemm(false, false, m, nn, kk, 1, a, kk, b, nn, 0, c, nn);
    jsKernels.gemm(false, false, m, nn, kk, 1, f64(a), kk, f64(b), nn, 0, cJ, nn);
    close(c, cJ, 2e-7, 'gemm after a failed reserve (scalar)');
  } finally {
    wasmLimits.maxBytes = saved;
  }
});
