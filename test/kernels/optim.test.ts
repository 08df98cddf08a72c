/**
 * The optimizer kernels (AdamW element update, chunked sums of squares): the native ones must give the
 * same bits as the TypeScript definition (src/kernels/js/optim.ts) on every instruction-set variant, and
 * that definition is checked against a direct float64 reference written here (exact: the same float64
 * operations per element, so equality, not a tolerance). The sums of squares are also checked against an
 * exactly rounded reference sum (BigInt-free: the products are exact in float64; the tolerance is the
 * float64 summation error bound, n·2⁻⁵³ relative).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsKernels } from '../../src/kernels/js/index.js';
import { loadNativeKernels } from '../../src/kernels/native.js';
import type { AdamwConstants, Kernels } from '../../src/kernels/types.js';
import { NORM_CHUNK } from '../../src/training/adamw.js';
import { setupOptimizer } from '../../src/training/optimizer.js';
import { parseConfig } from '../../src/model/config.js';
import { randomModel } from '../../src/model/random-init.js';
import { Rng } from '../../src/util/rng.js';

const native = loadNativeKernels().kernels;
const defaultIsa = native?.isa() ?? 'none';
const LENGTHS = [0, 1, 3, 4, 5, 7, 1023, 4 * NORM_CHUNK + 13];
const CONSTS: AdamwConstants[] = [
  { b1: 0.9, b2: 0.999, stepSize: 1e-3 / 0.1, decay: 1 - 1e-3 * 0.01, sqrtBc2: Math.sqrt(0.001), eps: 1e-8, gradScale: 1 },
  { b1: 0.8, b2: 0.95, stepSize: 3e-4, decay: 1, sqrtBc2: 0.7, eps: 1e-6, gradScale: 0.37 },
];

function state(n: number, seed: number) {
  const rng = new Rng(seed);
  const arr = (f: () => number) => Float32Array.from({ length: n }, f);
  return {
    p: arr(() => rng.normal()), g: arr(() => (rng.next() < 0.05 ? 0 : 0.1 * rng.normal())),
    m: arr(() => 0.01 * rng.normal()), v: arr(() => (rng.next() < 0.05 ? 0 : 1e-4 * Math.abs(rng.normal()))),
  };
}
type State = ReturnType<typeof state>;
const clone = (s: State): State => ({ p: s.p.slice(), g: s.g.slice(), m: s.m.slice(), v: s.v.slice() });

/** torch.optim.AdamW's element update, float64 per element, on the stored float32 moments. */
function reference(s: State, c: AdamwConstants): void {
  for (let i = 0; i < s.p.length; i++) {
    const g = s.g[i] * c.gradScale;
    s.m[i] = c.b1 * s.m[i] + (1 - c.b1) * g;
    s.v[i] = c.b2 * s.v[i] + ((1 - c.b2) * g) * g;
    s.p[i] = s.p[i] * c.decay - (c.stepSize * s.m[i]) / (Math.sqrt(s.v[i]) / c.sqrtBc2 + c.eps);
  }
}

function sameBits(a: State, b: State, what: string): void {
  for (const k of ['p', 'm', 'v'] as const) {
    const x = new Uint32Array(a[k].buffer), y = new Uint32Array(b[k].buffer);
    const bad = x.findIndex((u, i) => u !== y[i]);
    assert.equal(bad, -1, `${what}: ${k}[${bad}] = ${a[k][bad]}, expected ${b[k][bad]}`);
  }
}

function checkAdamw(K: Kernels, label: string): void {
  for (const n of LENGTHS) {
    CONSTS.forEach((c, ci) => {
      const s0 = state(n, 7 + n), got = clone(s0), want = clone(s0);
      for (let step = 0; step < 3; step++) {
        K.adamw(got.p, got.g, got.m, got.v, n, c);
        reference(want, c);
      }
      sameBits(got, want, `${label} adamw n=${n} consts ${ci}`);
    });
  }
}

function checkSums(K: Kernels, label: string): void {
  for (const n of LENGTHS) {
    for (const chunk of [1, 5, NORM_CHUNK]) {
      if (n > 1 << 16 && chunk < 64) continue;
      const x = state(n, 3).p;
      const out = new Float64Array(Math.ceil(n / chunk) + 1).fill(-1), want = new Float64Array(out.length).fill(-1);
      K.chunkSumSquares(x, n, chunk, out);
      jsKernels.chunkSumSquares(x, n, chunk, want);
      assert.deepEqual(Array.from(out), Array.from(want), `${label} chunkSumSquares n=${n} chunk=${chunk} (the element past the last chunk must stay -1)`);
      for (let k = 0; k * chunk < n; k++) {
        let ref = 0;
        const e = Math.min(n, (k + 1) * chunk);
        for (let i = k * chunk; i < e; i++) ref += x[i] * x[i];
        assert.ok(Math.abs(out[k] - ref) <= (e - k * chunk) * 2 ** -53 * ref, `${label} chunk ${k}: ${out[k]} vs ${ref}`);
      }
    }
  }
}

test('optimizer kernels [js]: AdamW equals the float64 reference bit for bit; chunk sums of squares', () => {
  checkAdamw(jsKernels, 'js');
  checkSums(jsKernels, 'js');
});

for (const isa of ['avx512', 'avx2', 'base']) {
  test(`optimizer kernels [native ${isa}]: the same bits as the TypeScript definition`, (t) => {
    if (!native) return t.skip('native addon not built');
    const got = native.setIsa(isa);
    try {
      if (got !== isa && !(isa === 'base' && got === 'sse2')) return t.skip(`this CPU has no ${isa} (using ${got})`);
      checkAdamw(native, `native ${isa}`);
      checkSums(native, `native ${isa}`);
    } finally {
      native.setIsa(defaultIsa === 'sse2' ? 'base' : defaultIsa);
    }
  });
}

test('native adamw refuses short buffers', (t) => {
  if (!native) return t.skip('native addon not built');
  const a = new Float32Array(4), c = CONSTS[0];
  assert.throws(() => native.adamw(a, a, a, new Float32Array(3), 4, c), /v is too short/);
  assert.throws(() => native.chunkSumSquares(a, 4, 2, new Float64Array(1)), /out is too short/);
});

test('setupOptimizer: the native kernels give the same parameters and norm as the TypeScript loops', (t) => {
  if (!native) return t.skip('native addon not built');
  const cfg = parseConfig({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1,
    num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 50, tie_word_embeddings: false, rms_norm_eps: 1e-5,
  }, 'optim-test');
  const a = randomModel(cfg, native, Float32Array, { seed: 1 }), b = randomModel(cfg, native, Float32Array, { seed: 1 });
  const fast = setupOptimizer(a, { lr: 1e-2, weightDecay: 0.1 }), slow = setupOptimizer(b, { lr: 1e-2, weightDecay: 0.1, parallel: 'never' });
  assert.equal(fast.pool, null);
  const rng = new Rng(5);
  for (let step = 0; step < 3; step++) {
    for (const [name, g] of fast.grads) {
      for (let i = 0; i < g.length; i++) g[i] = rng.normal();
      slow.grads.get(name)!.set(g);
    }
    const n1 = fast.gradNorm(), n2 = slow.gradNorm();
    assert.equal(n1, n2);
    fast.optimizer.update(fast.grads, 1e-2, 0.5);
    slow.optimizer.update(slow.grads, 1e-2, 0.5);
  }
  for (const [name, p] of a.params) assert.deepEqual(p, b.params.get(name), name);
});
