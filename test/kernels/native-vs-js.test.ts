/**
 * The native kernels against the TypeScript kernels run in float64 (the reference: exact arithmetic
 * on the same float32 inputs, up to double rounding).
 *
 * Error measure: max |native − reference| / max |reference| over the whole output buffer (padding
 * included: it must come back untouched). Tolerances: 2e-6 for elementwise kernels, 1e-5 for GEMM,
 * the norms, softmax-based losses and attention forward, 2e-5 for attention backward (it subtracts
 * rowsum(P∘dP) from dP).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { jsKernels } from '../../src/kernels/js/index.js';
import { loadNativeKernels, type NativeKernels } from '../../src/kernels/native.js';
import type { AttentionShape, FArray } from '../../src/kernels/types.js';
import { rng, randF32, f64 } from '../helpers/random-arrays.js';
import { attnInputs, attnShape, type AttnCase } from '../helpers/attention-cases.js';

const loaded = loadNativeKernels();
const native = loaded.kernels;
const defaultIsa = native?.isa() ?? 'none';

/**
 * Registers the test once per instruction-set variant of the native kernels (AVX-512, AVX2, baseline
 * SSE2 on x86-64), each run on every variant the CPU supports.
 */
function nt(name: string, fn: (k: NativeKernels, t: TestContext) => void, perIsa = true): void {
  for (const isa of perIsa ? ['avx512', 'avx2', 'base'] : [defaultIsa]) {
    test(`${name} [${isa}]`, (t) => {
      if (!native) {
        t.skip('native addon not built');
        return;
      }
      const got = native.setIsa(isa === 'sse2' ? 'base' : isa);
      try {
        if (got !== isa && !(isa === 'base' && got === 'sse2')) {
          t.skip(`this CPU has no ${isa} (using ${got})`);
          return;
        }
        fn(native, t);
      } finally {
        native.setIsa(defaultIsa === 'sse2' ? 'base' : defaultIsa);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// helpers


/** max |a − b| / max |b|, treating NaN = NaN as equal and any other NaN mismatch as infinite error. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      return Infinity;
    }
    num = Math.max(num, Math.abs(x - y));
    den = Math.max(den, Math.abs(y));
  }
  return den === 0 ? num : num / den;
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string, scale?: number): void {
  // scale: the magnitude to measure against when the result can cancel to far below its terms.
  let e = relErr(a, b);
  if (scale !== undefined) {
    let den = 0;
    for (let i = 0; i < b.length; i++) den = Math.max(den, Math.abs(b[i]));
    e = (e * (den || 1)) / Math.max(den, scale);
  }
  assert.ok(e <= tol, `${what}: relative error ${e.toExponential(2)} > ${tol.toExponential(0)}`);
  const key = what.split(/[ :]/)[0] + (what.includes(' dk') ? ' dk' : what.includes(' dv') ? ' dv' : what.includes(' dq') ? ' dq' : '');
  worst.set(key, Math.max(worst.get(key) ?? 0, e));
}

/** Worst relative error seen per kernel (reported by the last test). */
const worst = new Map<string, number>();

// ---------------------------------------------------------------------------------------------
// gemm

nt('gemm: all transpose combinations, padded strides, alpha/beta, subarrays', (nk) => {
  const r = rng(1);
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1], [3, 5, 7], [17, 33, 65], [64, 48, 130], [5, 300, 2], [130, 7, 31], [1, 200, 50], [200, 1, 50],
    [1, 7, 1], [9, 1, 1], [1, 1, 40],
  ];
  const ab: Array<[number, number, boolean]> = [[1, 0, true], [0.5, 1, false], [-1.25, 0.75, false], [2, 0, false], [0, 0.5, false]];
  let cases = 0;
  for (const [m, n, k] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const [alpha, beta, nanC] of ab) {
          const pad = 3;
          const lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
          const aRows = transA ? k : m, bRows = transB ? n : k;
          // Subarrays with a byteOffset, to check that the offset is honoured.
          const aBig = randF32(aRows * lda + 5, r), bBig = randF32(bRows * ldb + 3, r);
          const a = aBig.subarray(5), b = bBig.subarray(3);
          const c0 = randF32(m * ldc, r);
          if (nanC) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c0[i * ldc + j] = NaN;
          const cN = c0.slice();
          const cJ = f64(c0);
          nk.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cN, ldc);
          jsKernels.gemm(transA, transB, m, n, k, alpha, f64(a), lda, f64(b), ldb, beta, cJ, ldc);
          close(cN, cJ, 1e-5, `gemm ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${m}x${n}x${k} alpha=${alpha} beta=${beta}`);
          if (nanC) assert.ok(cN.slice(0, n).every((x) => !Number.isNaN(x)), 'beta=0 must ignore NaN in C');
          cases++;
        }
      }
    }
  }
  assert.equal(cases, shapes.length * 4 * ab.length);
}, false);

nt('gemm: k = 0 scales C by beta', (nk) => {
  const c = new Float32Array([1, 2, NaN, 4]);
  nk.gemm(false, false, 2, 2, 0, 1, new Float32Array(0), 0, new Float32Array(0), 2, 0, c, 2);
  assert.deepEqual([...c], [0, 0, 0, 0]);
  const d = new Float32Array([1, 2, 3, 4]);
  nk.gemm(false, true, 2, 2, 0, 1, new Float32Array(0), 0, new Float32Array(0), 0, 0.5, d, 2);
  assert.deepEqual([...d], [0.5, 1, 1.5, 2]);
}, false);

nt('gemm: model-sized shapes (576 hidden, 1536 intermediate)', (nk) => {
  const r = rng(2);
  for (const [tA, tB, m, n, k] of [[false, true, 64, 1536, 576], [true, false, 576, 96, 64], [false, false, 64, 576, 1536]] as const) {
    const a = randF32(m * k, r), b = randF32(k * n, r);
    const cN = new Float32Array(m * n), cJ = new Float64Array(m * n);
    const lda = tA ? m : k, ldb = tB ? k : n;
    nk.gemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, cN, n);
    jsKernels.gemm(tA, tB, m, n, k, 1, f64(a), lda, f64(b), ldb, 0, cJ, n);
    close(cN, cJ, 1e-5, `gemm ${m}x${n}x${k}`);
  }
}, false);

// ---------------------------------------------------------------------------------------------
// rmsnorm

nt('rmsnorm and rmsnormBackward (with and without dw, aliasing)', (nk) => {
  const r = rng(3);
  for (const [rows, dim] of [[1, 1], [3, 7], [5, 576], [33, 100], [70, 17], [300, 64]]) {
    const x = randF32(rows * dim, r, -3, 3), w = randF32(dim, r, 0.5, 1.5);
    const eps = 1e-5;
    // separate out
    const outN = new Float32Array(rows * dim).fill(NaN), rstdN = new Float32Array(rows);
    const outJ = new Float64Array(rows * dim), rstdJ = new Float64Array(rows);
    nk.rmsnorm(x, w, outN, rstdN, rows, dim, eps);
    jsKernels.rmsnorm(f64(x), f64(w), outJ, rstdJ, rows, dim, eps);
    close(outN, outJ, 1e-5, `rmsnorm out ${rows}x${dim}`);
    close(rstdN, rstdJ, 1e-5, `rmsnorm rstd ${rows}x${dim}`);
    // out aliases x
    const xa = x.slice();
    nk.rmsnorm(xa, w, xa, rstdN, rows, dim, eps);
    close(xa, outJ, 1e-5, `rmsnorm in place ${rows}x${dim}`);

    const dy = randF32(rows * dim, r);
    const dw0 = randF32(dim, r);
    for (const withDw of [true, false]) {
      for (const alias of [false, true]) {
        const dyN = dy.slice();
        const dxN = alias ? dyN : new Float32Array(rows * dim).fill(NaN);
        const dwN = withDw ? dw0.slice() : null;
        const dxJ = new Float64Array(rows * dim), dwJ = withDw ? f64(dw0) : null;
        nk.rmsnormBackward(dyN, x, w, rstdN, dxN, dwN, rows, dim);
        jsKernels.rmsnormBackward(f64(dy), f64(x), f64(w), f64(rstdN), dxJ, dwJ, rows, dim);
        const tag = `${rows}x${dim} dw=${withDw} alias=${alias}`;
        // dx = dy·w·rstd − x·rstd³·mean(dy·w·x) cancels almost exactly when dim is tiny: measure
        // against the size of its first term.
        let termScale = 0;
        for (let i = 0; i < rows * dim; i++) termScale = Math.max(termScale, Math.abs(dy[i] * w[i % dim] * rstdN[Math.floor(i / dim)]));
        close(dxN, dxJ, 1e-5, `rmsnormBackward dx ${tag}`, termScale);
        if (dwN && dwJ) close(dwN, dwJ, 1e-5, `rmsnormBackward dw ${tag}`);
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// rope

function ropeTables(rows: number, headDim: number, offset: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(rows * half), sin = new Float32Array(rows * half);
  for (let p = 0; p < rows; p++) {
    for (let i = 0; i < half; i++) {
      const ang = (p + offset) / Math.pow(10000, (2 * i) / headDim);
      cos[p * half + i] = Math.cos(ang);
      sin[p * half + i] = Math.sin(ang);
    }
  }
  return { cos, sin };
}

nt('rope forward, inverse, and round trip', (nk) => {
  const r = rng(4);
  for (const [rows, heads, headDim] of [[3, 2, 8], [5, 3, 6], [7, 9, 64], [4, 1, 34], [2, 2, 2], [300, 4, 64]]) {
    const { cos, sin } = ropeTables(rows, headDim, 3);
    const x = randF32(rows * heads * headDim, r, -2, 2);
    for (const inverse of [false, true]) {
      const xN = x.slice(), xJ = f64(x);
      nk.rope(xN, cos, sin, rows, heads, headDim, inverse);
      jsKernels.rope(xJ, f64(cos), f64(sin), rows, heads, headDim, inverse);
      close(xN, xJ, 2e-6, `rope ${rows}x${heads}x${headDim} inverse=${inverse}`);
    }
    const y = x.slice();
    nk.rope(y, cos, sin, rows, heads, headDim, false);
    nk.rope(y, cos, sin, rows, heads, headDim, true);
    close(y, x, 2e-6, `rope round trip ${rows}x${heads}x${headDim}`);
  }
});

// ---------------------------------------------------------------------------------------------
// swiglu

nt('swiglu and swigluBackward (sizes around the vector width, large n, dg aliasing dh)', (nk) => {
  const r = rng(5);
  for (const n of [1, 15, 16, 17, 1000, 100003]) {
    const g = randF32(n, r, -10, 10), u = randF32(n, r, -2, 2);
    if (n > 4) { g[0] = 30; g[1] = -30; g[2] = 0; g[3] = -87; }
    const hN = new Float32Array(n).fill(NaN), hJ = new Float64Array(n);
    nk.swiglu(g, u, hN, n);
    jsKernels.swiglu(f64(g), f64(u), hJ, n);
    close(hN, hJ, 2e-6, `swiglu n=${n}`);

    const dh = randF32(n, r);
    for (const alias of [false, true]) {
      const dhN = dh.slice();
      const dgN = alias ? dhN : new Float32Array(n).fill(NaN);
      const duN = new Float32Array(n).fill(NaN);
      const dgJ = new Float64Array(n), duJ = new Float64Array(n);
      nk.swigluBackward(dhN, g, u, dgN, duN, n);
      jsKernels.swigluBackward(f64(dh), f64(g), f64(u), dgJ, duJ, n);
      close(dgN, dgJ, 2e-6, `swigluBackward dg n=${n} alias=${alias}`);
      close(duN, duJ, 2e-6, `swigluBackward du n=${n} alias=${alias}`);
    }
  }
});

nt('swiglu writes only its n elements of a subarray', (nk) => {
  const big = new Float32Array(40).fill(7);
  const h = big.subarray(5, 25);
  const g = new Float32Array(20).fill(1), u = new Float32Array(20).fill(2);
  nk.swiglu(g, u, h, 20);
  for (let i = 0; i < 40; i++) {
    if (i < 5 || i >= 25) assert.equal(big[i], 7, `element ${i} outside the subarray changed`);
    else assert.ok(Math.abs(big[i] - 2 / (1 + Math.exp(-1))) < 1e-6);
  }
});

// ---------------------------------------------------------------------------------------------
// attention

function attnCases(): AttnCase[] {
  return [
    { name: 'small, full mask, 4 heads / 2 kv heads', shape: attnShape(2, 5, 5, 5, 0, 4, 2, 8) },
    {
      // Batch 1 is left-padded by 3: its first 3 queries see only padding (fully masked rows).
      name: 'left padding with fully masked rows', shape: attnShape(3, 7, 7, 7, 0, 4, 2, 16),
      masked: (b, s) => (b === 1 && s < 3) || (b === 2 && s < 1),
    },
    {
      name: 'past > 0, keyCapacity > keys, random holes', shape: attnShape(2, 3, 8, 12, 5, 4, 2, 16),
      masked: (b, s) => (b * 7 + s * 3) % 5 === 0 && s !== 7,
    },
    { name: 'prefill 70 tokens, 6 heads / 3 kv heads, headDim 64 (packed path, several tiles)', shape: attnShape(1, 70, 70, 70, 0, 6, 3, 64),
      masked: (_b, s) => s < 2 },
    { name: 'odd headDim 6 (vector tails)', shape: attnShape(2, 20, 20, 23, 0, 2, 1, 6) },
    { name: 'headDim 10, past 4, 3 heads / 1 kv head', shape: attnShape(1, 13, 17, 17, 4, 3, 1, 10) },
    { name: 'fewer keys than past + queries', shape: attnShape(1, 4, 5, 6, 2, 2, 2, 8) },
    { name: 'keys beyond the last query', shape: attnShape(1, 4, 9, 9, 2, 2, 1, 8) },
    { name: 'decode: one query, past 30, capacity 40', shape: attnShape(2, 1, 31, 40, 30, 4, 2, 32),
      masked: (b, s) => b === 0 && s < 4 },
    { name: 'long rows (300 tokens), 2 heads / 1 kv head', shape: attnShape(1, 300, 300, 300, 0, 2, 1, 32) },
    { name: 'chunked prefill: 40 queries after 24 cached keys', shape: attnShape(2, 40, 64, 80, 24, 4, 4, 16),
      masked: (b, s) => b === 1 && s < 10 },
    { name: 'no keys at all', shape: attnShape(2, 3, 0, 2, 0, 2, 1, 4) },
    { name: 'no queries', shape: attnShape(1, 0, 5, 6, 5, 2, 1, 4) },
  ];
}

nt('attention forward: outputs and probabilities', (nk) => {
  let seed = 100;
  for (const c of attnCases()) {
    const s = c.shape;
    const { q, k, v, keyMask, qn, probsLen } = attnInputs(c, seed++);
    const outN = new Float32Array(qn).fill(NaN), probsN = new Float32Array(probsLen).fill(NaN);
    const outJ = new Float64Array(qn), probsJ = new Float64Array(probsLen);
    nk.attention(q, k, v, keyMask, outN, probsN, s);
    jsKernels.attention(f64(q), f64(k), f64(v), keyMask, outJ, probsJ, s);
    close(outN, outJ, 1e-5, `attention out: ${c.name}`);
    close(probsN, probsJ, 1e-5, `attention probs: ${c.name}`);
    // Without probs.
    const out2 = new Float32Array(qn).fill(NaN);
    nk.attention(q, k, v, keyMask, out2, null, s);
    close(out2, outJ, 1e-5, `attention out (probs null): ${c.name}`);
  }
});

nt('attention: a fully masked query row gives zero output and zero probabilities', (nk) => {
  const c = attnCases()[1];
  const s = c.shape;
  const { q, k, v, keyMask, qn, probsLen } = attnInputs(c, 7);
  const out = new Float32Array(qn).fill(NaN), probs = new Float32Array(probsLen).fill(NaN);
  nk.attention(q, k, v, keyMask, out, probs, s);
  const qw = s.heads * s.headDim;
  for (let t = 0; t < 3; t++) {
    for (let i = 0; i < qw; i++) assert.equal(out[(1 * s.queries + t) * qw + i], 0);
    for (let h = 0; h < s.heads; h++) {
      for (let j = 0; j < s.keys; j++) assert.equal(probs[((1 * s.heads + h) * s.queries + t) * s.keys + j], 0);
    }
  }
});

nt('attention backward: dq, dk, dv (rows beyond keys zeroed)', (nk) => {
  let seed = 200;
  for (const c of attnCases()) {
    const s = c.shape;
    const { q, k, v, keyMask, qn, kn, probsLen } = attnInputs(c, seed++);
    const r = rng(seed * 13);
    const dOut = randF32(qn, r);
    // Same probabilities for both: the float64 reference forward, rounded to float32.
    const probsJ = new Float64Array(probsLen);
    jsKernels.attention(f64(q), f64(k), f64(v), keyMask, new Float64Array(qn), probsJ, s);
    const probsN = Float32Array.from(probsJ);
    const dqN = new Float32Array(qn).fill(NaN), dkN = new Float32Array(kn).fill(NaN), dvN = new Float32Array(kn).fill(NaN);
    const dqJ = new Float64Array(qn), dkJ = new Float64Array(kn), dvJ = new Float64Array(kn);
    nk.attentionBackward(dOut, q, k, v, probsN, dqN, dkN, dvN, s);
    jsKernels.attentionBackward(f64(dOut), f64(q), f64(k), f64(v), f64(probsN), dqJ, dkJ, dvJ, s);
    close(dqN, dqJ, 2e-5, `attentionBackward dq: ${c.name}`);
    close(dkN, dkJ, 2e-5, `attentionBackward dk: ${c.name}`);
    close(dvN, dvJ, 2e-5, `attentionBackward dv: ${c.name}`);
  }
});

nt('attention forward and backward results do not depend on the thread count', (nk) => {
  const c: AttnCase = { name: 'threads', shape: { batch: 2, queries: 50, keys: 50, keyCapacity: 50, past: 0, heads: 4, kvHeads: 2, headDim: 32, scale: 0.2 } };
  const { q, k, v, keyMask, qn, kn, probsLen } = attnInputs(c, 9);
  const dOut = randF32(qn, rng(10));
  const run = () => {
    const out = new Float32Array(qn), probs = new Float32Array(probsLen);
    nk.attention(q, k, v, keyMask, out, probs, c.shape);
    const dq = new Float32Array(qn), dk = new Float32Array(kn), dv = new Float32Array(kn);
    nk.attentionBackward(dOut, q, k, v, probs, dq, dk, dv, c.shape);
    const x = randF32(64 * 100, rng(11)), w = randF32(100, rng(12)), rs = new Float32Array(64), y = new Float32Array(64 * 100);
    nk.rmsnorm(x, w, y, rs, 64, 100, 1e-6);
    const dw = new Float32Array(100);
    nk.rmsnormBackward(y, x, w, rs, new Float32Array(64 * 100), dw, 64, 100);
    return [out, probs, dq, dk, dv, dw];
  };
  const before = nk.threads();
  try {
    nk.setThreads(1);
    const one = run();
    nk.setThreads(Math.max(2, before));
    const many = run();
    for (let i = 0; i < one.length; i++) assert.deepEqual(many[i], one[i], `output ${i} differs between 1 and ${Math.max(2, before)} threads`);
  } finally {
    nk.setThreads(before);
  }
});

// ---------------------------------------------------------------------------------------------
// losses

nt('crossEntropy: loss, ignored rows, in-place gradient', (nk) => {
  const r = rng(6);
  for (const [rows, vocab] of [[1, 1], [7, 13], [9, 1000], [3, 50000], [40, 257]]) {
    const logits = randF32(rows * vocab, r, -8, 8);
    const targets = new Int32Array(rows);
    for (let i = 0; i < rows; i++) targets[i] = i % 3 === 1 ? -100 : Math.floor(r() * vocab);
    const gradScale = randF32(rows, r, 0.1, 2);
    // Loss only: logits untouched.
    {
      const lN = logits.slice(), lossN = new Float32Array(rows).fill(NaN), lossJ = new Float64Array(rows);
      nk.crossEntropy(lN, targets, rows, vocab, lossN, null);
      jsKernels.crossEntropy(f64(logits), targets, rows, vocab, lossJ, null);
      close(lossN, lossJ, 1e-5, `crossEntropy loss ${rows}x${vocab}`);
      assert.deepEqual(lN, logits, 'gradScale null must leave logits alone');
    }
    // With gradient.
    const lN = logits.slice(), lJ = f64(logits);
    const lossN = new Float32Array(rows), lossJ = new Float64Array(rows);
    nk.crossEntropy(lN, targets, rows, vocab, lossN, gradScale);
    jsKernels.crossEntropy(lJ, targets, rows, vocab, lossJ, f64(gradScale));
    close(lossN, lossJ, 1e-5, `crossEntropy loss (grad) ${rows}x${vocab}`);
    close(lN, lJ, 1e-5, `crossEntropy gradient ${rows}x${vocab}`);
    for (let i = 0; i < rows; i++) if (targets[i] < 0) assert.equal(lossN[i], 0);
  }
});

nt('logSoftmax, separate and in place', (nk) => {
  const r = rng(7);
  for (const [rows, n] of [[1, 1], [3, 17], [4, 5000], [20, 300]]) {
    const x = randF32(rows * n, r, -50, 50);
    const outJ = new Float64Array(rows * n);
    jsKernels.logSoftmax(f64(x), outJ, rows, n);
    const outN = new Float32Array(rows * n).fill(NaN);
    nk.logSoftmax(x, outN, rows, n);
    close(outN, outJ, 1e-5, `logSoftmax ${rows}x${n}`);
    const xa = x.slice();
    nk.logSoftmax(xa, xa, rows, n);
    close(xa, outJ, 1e-5, `logSoftmax in place ${rows}x${n}`);
    // Near the row maximum the values are small: check them elementwise too.
    for (let i = 0; i < rows * n; i++) assert.ok(Math.abs(outN[i] - outJ[i]) <= 1e-6 * Math.max(1, Math.abs(outJ[i])) + 1e-7);
  }
});

// ---------------------------------------------------------------------------------------------
// argument checking

nt('native kernels reject Float64Array, short buffers and bad shapes', (nk) => {
  const a = new Float32Array(6), b = new Float32Array(6), c = new Float32Array(4);
  assert.throws(() => nk.gemm(false, false, 2, 2, 3, 1, new Float64Array(6), 3, b, 2, 0, c, 2), /float32-only/);
  assert.throws(() => nk.gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, new Float32Array(3), 2), RangeError);
  assert.throws(() => nk.gemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2), /lda/);
  assert.throws(() => nk.gemm(false, false, 2, 2, 3, 1, a.subarray(1), 3, b, 2, 0, c, 2), /a is too short/);
  assert.throws(() => nk.gemm(false, false, -1, 2, 3, 1, a, 3, b, 2, 0, c, 2), RangeError);
  assert.throws(() => nk.gemm(false, false, 1.5, 2, 3, 1, a, 3, b, 2, 0, c, 2), RangeError);
  assert.throws(() => nk.rmsnorm(a, new Float32Array(2), a, new Float32Array(2), 2, 3, 1e-5), /w is too short/);
  assert.throws(() => nk.rope(new Float32Array(6), new Float32Array(3), new Float32Array(3), 2, 1, 3, false), /even/);
  assert.throws(() => nk.swiglu(a, a, new Float32Array(5), 6), /h is too short/);
  const shape: AttentionShape = { batch: 1, queries: 2, keys: 2, keyCapacity: 2, past: 0, heads: 3, kvHeads: 2, headDim: 2, scale: 1 };
  const t = new Float32Array(12);
  assert.throws(() => nk.attention(t, t, t, new Uint8Array(2), t, null, shape), /multiple of shape.kvHeads/);
  assert.throws(() => nk.attention(t, t, t, new Uint8Array(2), t, null, { ...shape, heads: 2, keys: 3 }), /keyCapacity/);
  assert.throws(() => nk.attention(t, t, t, new Uint8Array(1), t, null, { ...shape, heads: 2 }), /keyMask is too short/);
  assert.throws(
    () => nk.attentionBackward(t, t, t, t, new Float32Array(3), t, t, t, { ...shape, heads: 2 }),
    /probs is too short/,
  );
  const logits = new Float32Array(6);
  assert.throws(() => nk.crossEntropy(logits, new Int32Array([1, 3]), 2, 3, new Float32Array(2), null), /not below vocab/);
  assert.throws(() => nk.logSoftmax(logits, new Float32Array(5), 2, 3), /out is too short/);
});

test('native addon status', (t) => {
  if (!native) {
    t.skip(`native addon not built: ${loaded.reason}`);
    return;
  }
  assert.equal(native.name, 'native');
  assert.equal(native.supportsFloat64, false);
  t.diagnostic(native.info());
  for (const [k, e] of [...worst].sort()) t.diagnostic(`worst relative error ${k}: ${e.toExponential(2)}`);
});
