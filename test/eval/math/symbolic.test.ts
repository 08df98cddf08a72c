import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symbolicEqual } from '../../../src/eval/math/symbolic.js';
import { isEquivalent } from '../../../src/eval/math/equivalence.js';

test('symbolicEqual: true, false, and undefined for what the engine cannot read', () => {
  assert.equal(symbolicEqual('x^2+2x+1', '(x+1)^2'), true);
  assert.equal(symbolicEqual('\\frac{\\sqrt{3}}{2}', '\\sqrt{3}/2'), true);
  assert.equal(symbolicEqual('x^2', 'x^3'), false);
  assert.equal(symbolicEqual('\\frac{', '1'), undefined);
});

test('a pathological expression is cut off at the time bound, and the judge recovers', () => {
  const t0 = performance.now();
  const got = isEquivalent('\\sum_{n=1}^{10^{9}} n', '500000000500000000', { symbolicTimeoutMs: 300 });
  const elapsed = performance.now() - t0;
  assert.equal(got, false);
  assert.ok(elapsed < 5000, `took ${elapsed.toFixed(0)} ms`);
  // a fresh worker answers the next comparison
  assert.equal(isEquivalent('2\\pi', '\\pi\\cdot2'), true);
});
