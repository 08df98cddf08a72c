import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsKernels, nativeKernelsOrNull } from '../../src/kernels/index.js';
import { BatchKdLoss, type TeacherRows } from '../../src/training/kd-batch.js';
import type { KdLossKind } from '../../src/training/kd-loss.js';
import { kdLoss, teacherFromLogits } from '../helpers/kd-loss-reference.js';
import { topKFromLogits } from '../../src/training/teacher-cache.js';
import { Rng } from '../../src/util/rng.js';

const R = 4, V = 11, VT = 13;
const rng = new Rng(7);
const student = Float64Array.from({ length: R * V }, () => 2 * rng.normal());
const teacher = Float64Array.from({ length: R * VT }, () => 2.5 * rng.normal());
const targets = Int32Array.from([1, 4, 10, 0]);
const weights = Float64Array.from([0.5, 0.25, 0, 1.5]);
const KINDS: KdLossKind[] = ['fkl', 'rkl', 'jsd', 'ce'];

function batched(kind: KdLossKind, T: number, s: Float64Array, t: TeacherRows | null, grad: boolean): { total: number; rows: Float64Array; grad: Float64Array } {
  const loss = new BatchKdLoss(jsKernels, V, { kind, temperature: T, beta: 0.3 }, Float64Array);
  const g = Float64Array.from(s);
  const rows = new Float64Array(R);
  const total = loss.compute(g, R, weights, t, targets, grad, rows);
  return { total, rows, grad: g };
}

const online = (): TeacherRows => ({ kind: 'logits', logits: Float64Array.from(teacher), vocab: VT });
const cached = (k: number, T: number): TeacherRows => topKFromLogits(jsKernels, Float64Array.from(teacher), R, VT, V, T, k);

/** Plain float64 softmax of row r of x (width n, first V columns), at temperature T. */
function softmax(x: Float64Array, r: number, n: number, T: number): number[] {
  const z = Array.from(x.subarray(r * n, r * n + V), (v) => v / T);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
const kl = (p: number[], q: number[]) => p.reduce((a, pi, i) => a + (pi > 0 ? pi * Math.log(pi / q[i]) : 0), 0);

/**
 * The divergence between the distributions coarsened to {the cached tokens} ∪ {the rest}, written from
 * scratch: the teacher side is what the cache holds (float32 log-probabilities and log remaining mass).
 */
function coarse(kind: KdLossKind, r: number, cache: Extract<TeacherRows, { kind: 'topk' }>, T: number, s: Float64Array): number {
  const ps = softmax(s, r, V, T);
  const top = Array.from(cache.ids.subarray(r * cache.k, (r + 1) * cache.k));
  const P = [...Array.from(cache.logProbs.subarray(r * cache.k, (r + 1) * cache.k), Math.exp), Math.exp(cache.logRest[r])];
  const Q = [...top.map((i) => ps[i]), 1 - top.reduce((a, i) => a + ps[i], 0)];
  if (kind === 'fkl') return kl(P, Q) * T * T;
  if (kind === 'rkl') return kl(Q, P) * T * T;
  const M = P.map((p, i) => 0.3 * p + 0.7 * Q[i]);
  return (0.3 * kl(P, M) + 0.7 * kl(Q, M)) * T * T;
}

describe('batched distillation losses (kd-batch.ts)', () => {
  for (const kind of KINDS) {
    for (const T of [1, 2]) {
      it(`${kind}, T=${T}: online values and gradients equal the row-by-row reference (float64, 1e-12)`, () => {
        const ref = Float64Array.from(student);
        const refTotal = kdLoss(ref, R, V, weights, teacherFromLogits(teacher, VT, V), targets, { kind, temperature: T, beta: 0.3 }, true);
        const b = batched(kind, T, student, kind === 'ce' ? null : online(), true);
        assert.ok(Math.abs(b.total - refTotal) < 1e-12, `${b.total} vs ${refTotal}`);
        for (let i = 0; i < R * V; i++) assert.ok(Math.abs(b.grad[i] - ref[i]) < 1e-12, `d/dz[${i}] ${b.grad[i]} vs ${ref[i]}`);
        let sum = 0;
        for (let r = 0; r < R; r++) sum += weights[r] * b.rows[r];
        assert.ok(Math.abs(sum - b.total) < 1e-12, 'per-row losses add up to the total');
      });
    }
  }

  for (const kind of ['fkl', 'rkl', 'jsd'] as KdLossKind[]) {
    it(`${kind}: a cache holding the whole vocabulary equals online (up to its float32 storage)`, () => {
      // Up to the float32 rounding of the stored log-probabilities.
      const a = batched(kind, 1.5, student, online(), true);
      const c = batched(kind, 1.5, student, cached(V, 1.5), true);
      assert.ok(Math.abs(a.total - c.total) < 1e-6 * Math.abs(a.total), `${a.total} vs ${c.total}`);
      for (let i = 0; i < R * V; i++) assert.ok(Math.abs(a.grad[i] - c.grad[i]) < 1e-7, `d/dz[${i}] ${a.grad[i]} vs ${c.grad[i]}`);
    });

    it(`${kind}: a top-4 cache gives the divergence between the K+1-outcome coarsened distributions, and its exact gradient`, () => {
      const K = 4, T = 1.5;
      const cache = cached(K, T) as Extract<TeacherRows, { kind: 'topk' }>;
      const c = batched(kind, T, student, cache, true);
      for (let r = 0; r < R; r++) {
        const want = coarse(kind, r, cache, T, student);
        assert.ok(Math.abs(c.rows[r] - want) < 1e-11, `row ${r}: ${c.rows[r]} vs coarsened ${want}`);
      }
      // The gradient of Σ w·coarse (the teacher's completion depends on the student) by central differences.
      const f = (s: Float64Array) => {
        let t = 0;
        for (let r = 0; r < R; r++) t += weights[r] * coarse(kind, r, cache, T, s);
        return t;
      };
      const eps = 1e-6;
      for (let i = 0; i < R * V; i++) {
        const p = Float64Array.from(student), m = Float64Array.from(student);
        p[i] += eps;
        m[i] -= eps;
        const num = (f(p) - f(m)) / (2 * eps);
        assert.ok(Math.abs(num - c.grad[i]) < 1e-8 + 1e-6 * Math.abs(num), `d/dz[${i}]: ${c.grad[i]} vs ${num}`);
      }
    });
  }

  // The cache stores float32 log-probabilities: the identity holds up to that rounding (~1e-7 relative).
  it('forward KL from a top-K cache underestimates the exact value by r·KL(teacher tail ‖ student tail)', () => {
    for (const K of [1, 3, 6, 10]) {
      const exact = batched('fkl', 1, student, online(), false).rows;
      const approx = batched('fkl', 1, student, cached(K, 1), false).rows;
      for (let r = 0; r < R; r++) {
        const pt = softmax(teacher, r, VT, 1), ps = softmax(student, r, V, 1);
        const top = new Set(pt.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, K).map((x) => x[1]));
        const tailT = pt.filter((_, i) => !top.has(i)), tailS = ps.filter((_, i) => !top.has(i));
        const rT = tailT.reduce((a, b) => a + b, 0), rS = tailS.reduce((a, b) => a + b, 0);
        const bound = rT * kl(tailT.map((p) => p / rT), tailS.map((q) => q / rS));
        const err = exact[r] - approx[r];
        assert.ok(err >= -1e-6, `K=${K} row ${r}: the cached loss exceeds the exact one by ${-err}`);
        assert.ok(Math.abs(err - bound) < 1e-6 * Math.max(1, exact[r]), `K=${K} row ${r}: error ${err} vs r·KL(tails) ${bound}`);
      }
    }
  });

  it('a non-finite teacher makes the loss non-finite (so the step is skipped)', () => {
    const t = Float64Array.from(teacher);
    t[VT + 2] = NaN;
    const b = batched('fkl', 1, student, { kind: 'logits', logits: t, vocab: VT }, true);
    assert.ok(!Number.isFinite(b.total));
  });

  const native = nativeKernelsOrNull();
  it('native float32 kernels agree with the float64 reference (1e-5 relative)', { skip: native ? false : 'native addon not built' }, () => {
    for (const kind of KINDS) {
      for (const src of ['online', 'cache'] as const) {
        if (kind === 'ce' && src === 'cache') continue;
        const t64: TeacherRows | null = kind === 'ce' ? null : src === 'online' ? online() : cached(5, 2);
        const ref = batched(kind, 2, student, t64, true);
        const loss = new BatchKdLoss(native!, V, { kind, temperature: 2, beta: 0.3 }, Float32Array);
        const g = Float32Array.from(student);
        let t32: TeacherRows | null = null;
        if (kind !== 'ce') t32 = src === 'online' ? { kind: 'logits', logits: Float32Array.from(teacher), vocab: VT } : topKFromLogits(native!, Float32Array.from(teacher), R, VT, V, 2, 5);
        const total = loss.compute(g, R, weights, t32, targets, true, new Float64Array(R));
        assert.ok(Math.abs(total - ref.total) <= 1e-5 * Math.abs(ref.total) + 1e-6, `${kind}/${src}: ${total} vs ${ref.total}`);
        for (let i = 0; i < R * V; i++) assert.ok(Math.abs(g[i] - ref.grad[i]) < 2e-6, `${kind}/${src} d/dz[${i}]: ${g[i]} vs ${ref.grad[i]}`);
      }
    }
  });
});
