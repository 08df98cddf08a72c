import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pairedBootstrap, pairedT, t975 } from '../../src/eval/paired.js';

describe('paired differences (hand-computed)', () => {
  it('t interval over seeds', () => {
    // d = 1, 2, 3: mean 2, s = 1, se = 1/√3, t(2) = 4.302653 → 2 ± 2.484138.
    const p = pairedT([1, 2, 3]);
    assert.equal(p.mean, 2);
    assert.equal(p.sd, 1);
    assert.ok(Math.abs(p.se - 0.5773502692) < 1e-9);
    assert.ok(Math.abs(p.lower - (2 - 2.484138)) < 1e-6 && Math.abs(p.upper - (2 + 2.484138)) < 1e-6);
    assert.equal(p.positive, 3);
    // d = 0.02, −0.01: mean 0.005, s = 0.0212132, se = 0.015, t(1) = 12.706205 → 0.005 ± 0.1905931.
    const q = pairedT([0.02, -0.01]);
    assert.ok(Math.abs(q.se - 0.015) < 1e-12 && Math.abs(q.upper - (0.005 + 0.19059308)) < 1e-7);
    assert.equal(q.positive, 1);
    assert.ok(Number.isNaN(pairedT([0.1]).lower));
    assert.equal(t975(4), 2.776445);
    assert.ok(Math.abs(t975(60) - 2.000298) < 0.002);
    assert.throws(() => t975(0), /df ≥ 1/);
  });

  it('paired bootstrap over problems', () => {
    // Per-problem seed-averaged differences: (1 − 0 + 1 − 1)/2 = 0.5, 0, 0, (1 − 0)… by hand: δ = [0.5, 0, −0.5, 1] → mean 0.25.
    const method = [[true, true, false, true], [true, false, false, true]];
    const base = [[false, true, true, false], [true, false, false, false]];
    const b = pairedBootstrap(method, base, 4000, 7);
    assert.equal(b.mean, 0.25);
    assert.ok(b.lower >= -0.5 && b.lower < 0.25 && b.upper > 0.25 && b.upper <= 1);
    // Every problem gains exactly one seed in two: the interval is the point 0.5.
    const c = pairedBootstrap([[true, true], [false, false]], [[false, false], [false, false]], 500, 1);
    assert.deepEqual([c.mean, c.lower, c.upper], [0.5, 0.5, 0.5]);
    assert.throws(() => pairedBootstrap([[true]], [[true], [false]]), /same seeds/);
    assert.throws(() => pairedBootstrap([[true, false]], [[true]]), /same problems/);
  });
});
