import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, accuracyOf, formatMeanStd, meanPassAtK, meanStd, passAtK, wilsonInterval } from '../../../src/eval/stats.js';
import { LeafError } from '../../../src/errors.js';

const close = (a: number, b: number, tol: number, msg?: string): void => assert.ok(Math.abs(a - b) <= tol, `${msg ?? ''} ${a} vs ${b}`);

test('Wilson interval against hand-computed values', () => {
  // 8/10: centre (0.8 + 1.9208/10)/1.38415 = 0.71674, half 1.96·√(0.016 + 0.00960)/1.38415 = 0.22658
  const a = accuracy(8, 10);
  assert.equal(a.accuracy, 0.8);
  close(a.lower, 0.4902, 5e-4, 'lower');
  close(a.upper, 0.9433, 5e-4, 'upper');
  assert.equal(a.lower.toFixed(3), '0.490');
  assert.equal(a.upper.toFixed(3), '0.943');
  // 50/100: centre 0.5, half 1.96·√(0.0025 + 0.0000960)/1.038415 = 0.096177
  const b = wilsonInterval(50, 100);
  close(b.lower, 0.40383, 1e-4);
  close(b.upper, 0.59617, 1e-4);
  // 0/10: [0, z²/(n+z²)] = [0, 3.8415/13.8415] = [0, 0.2775]
  const c = wilsonInterval(0, 10);
  assert.equal(c.lower, 0);
  close(c.upper, 0.27753, 1e-4);
  // 10/10 mirrors it
  const d = wilsonInterval(10, 10);
  assert.equal(d.upper, 1);
  close(d.lower, 1 - 0.27753, 1e-4);
  // n = 0: no information
  assert.deepEqual(wilsonInterval(0, 0), { lower: 0, upper: 1 });
  assert.ok(Number.isNaN(accuracy(0, 0).accuracy));
  assert.deepEqual(accuracyOf([true, false, true, true]), accuracy(3, 4));
});

test('Wilson interval rejects bad counts', () => {
  assert.throws(() => wilsonInterval(11, 10), LeafError);
  assert.throws(() => wilsonInterval(-1, 10), LeafError);
  assert.throws(() => wilsonInterval(1.5, 10), LeafError);
});

test('mean ± std over seeds', () => {
  const m = meanStd([0.5, 0.6, 0.7]);
  close(m.mean, 0.6, 1e-12);
  close(m.std, 0.1, 1e-12); // sample std: √((0.01 + 0 + 0.01)/2)
  assert.equal(m.n, 3);
  close(meanStd([0.5, 0.6, 0.7], { sample: false }).std, Math.sqrt(0.02 / 3), 1e-12);
  assert.deepEqual(meanStd([0.42]), { mean: 0.42, std: 0, n: 1 });
  assert.equal(formatMeanStd(m, 1, 100), '60.0 ± 10.0');
  assert.throws(() => meanStd([]), LeafError);
  assert.throws(() => meanStd([1, NaN]), LeafError);
});

test('pass@k unbiased estimator', () => {
  // pass@1 = c/n
  close(passAtK(10, 3, 1), 0.3, 1e-12);
  // n=5, c=2, k=2: 1 − C(3,2)/C(5,2) = 1 − 3/10
  close(passAtK(5, 2, 2), 0.7, 1e-12);
  // n=10, c=1, k=5: 1 − C(9,5)/C(10,5) = 1 − 126/252
  close(passAtK(10, 1, 5), 0.5, 1e-12);
  // n=20, c=4, k=10: 1 − C(16,10)/C(20,10) = 1 − 8008/184756
  close(passAtK(20, 4, 10), 1 - 8008 / 184756, 1e-12);
  assert.equal(passAtK(5, 4, 2), 1); // n − c < k
  assert.equal(passAtK(5, 0, 3), 0);
  assert.equal(passAtK(4, 4, 4), 1);
  // large n stays finite and exact-ish: n=200, c=1, k=1
  close(passAtK(200, 1, 1), 0.005, 1e-12);
  close(meanPassAtK([{ n: 10, c: 3 }, { n: 10, c: 0 }], 1), 0.15, 1e-12);
  assert.throws(() => passAtK(5, 2, 6), LeafError);
  assert.throws(() => passAtK(5, 2, 0), LeafError);
  assert.throws(() => passAtK(5, 6, 1), LeafError);
  assert.throws(() => meanPassAtK([], 1), LeafError);
});
