import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KdLossKind } from '../../src/training/kd-loss.js';
import { kdLoss, teacherFromLogits } from '../helpers/kd-loss-reference.js';
import { Rng } from '../../src/util/rng.js';

const R = 3, V = 7;
const rng = new Rng(1);
const student = Float64Array.from({ length: R * V }, () => 2 * rng.normal());
const teacher = Float64Array.from({ length: R * (V + 2) }, () => 2 * rng.normal()); // teacher vocab larger: truncated
const targets = Int32Array.from([1, 4, 6]);
const weights = Float64Array.from([0.5, 0, 0.25]);

function value(kind: KdLossKind, s: Float64Array, temperature: number): number {
  return kdLoss(Float64Array.from(s), R, V, weights, teacherFromLogits(teacher, V + 2, V), targets, { kind, temperature, beta: 0.3 }, false);
}

/** Plain float64 definitions, written independently of the implementation. */
function softmax(x: ArrayLike<number>, T: number): number[] {
  const m = Math.max(...Array.from(x, (v) => v / T));
  const e = Array.from(x, (v) => Math.exp(v / T - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
const kl = (p: number[], q: number[]) => p.reduce((a, pi, i) => a + (pi > 0 ? pi * Math.log(pi / q[i]) : 0), 0);

function reference(kind: KdLossKind, T: number): number {
  let total = 0;
  for (let r = 0; r < R; r++) {
    if (weights[r] === 0) continue;
    const ps = softmax(student.subarray(r * V, (r + 1) * V), T);
    const pt = softmax(teacher.subarray(r * (V + 2), r * (V + 2) + V), T);
    let l: number;
    if (kind === 'fkl') l = kl(pt, ps) * T * T;
    else if (kind === 'rkl') l = kl(ps, pt) * T * T;
    else if (kind === 'jsd') {
      const m = pt.map((p, i) => 0.3 * p + 0.7 * ps[i]);
      l = (0.3 * kl(pt, m) + 0.7 * kl(ps, m)) * T * T;
    } else l = -Math.log(softmax(student.subarray(r * V, (r + 1) * V), 1)[targets[r]]);
    total += weights[r] * l;
  }
  return total;
}

describe('distillation losses', () => {
  for (const kind of ['fkl', 'rkl', 'jsd', 'ce'] as KdLossKind[]) {
    for (const T of [1, 2]) {
      it(`${kind} at T=${T}: value matches the definition and gradient matches finite differences`, () => {
        assert.ok(Math.abs(value(kind, student, T) - reference(kind, T)) < 1e-12);
        const g = Float64Array.from(student);
        kdLoss(g, R, V, weights, teacherFromLogits(teacher, V + 2, V), targets, { kind, temperature: T, beta: 0.3 }, true);
        const eps = 1e-6;
        for (let i = 0; i < R * V; i++) {
          const p = Float64Array.from(student); p[i] += eps;
          const m = Float64Array.from(student); m[i] -= eps;
          const num = (value(kind, p, T) - value(kind, m, T)) / (2 * eps);
          assert.ok(Math.abs(num - g[i]) < 1e-8 + 1e-6 * Math.abs(num), `${kind} T=${T} d/dz[${i}]: ${g[i]} vs ${num}`);
        }
        for (let i = V; i < 2 * V; i++) assert.equal(g[i], 0, 'zero-weight row has zero gradient');
      });
    }
  }
  it('forward KL is zero when student equals teacher', () => {
    const t = Float64Array.from(student);
    const l = kdLoss(Float64Array.from(student), R, V, Float64Array.from([1, 1, 1]), teacherFromLogits(t, V, V), null, { kind: 'fkl' }, false);
    assert.ok(Math.abs(l) < 1e-14);
  });
  it('refuses a teacher with a smaller vocabulary', () => assert.throws(() => teacherFromLogits(teacher, V - 1, V), /smaller/));
});
