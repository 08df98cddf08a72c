import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flagCandidates, isProtectedToken, lowestK, minMax, normalisedDiff, quantileThreshold } from '../../src/method/normalize.js';

const close = (a: readonly number[], b: readonly number[]) => {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-12, `index ${i}: ${x} vs ${b[i]}`));
};

describe('normalisation and the threshold rule (hand-computed)', () => {
  // g_S = [1, 3, 2, 5] → ĝ_S = [0, .5, .25, 1]; g_T = [2, 2, 6, 4] → ĝ_T = [0, 0, 1, .5];
  // d = [0, −.5, .75, −.5] → D = (d + .5) / 1.25 = [.4, 0, 1, 0].
  const n = normalisedDiff([1, 3, 2, 5], [2, 2, 6, 4]);
  it('min–max per model, then of the difference', () => {
    close(n.student, [0, 0.5, 0.25, 1]);
    close(n.teacher, [0, 0, 1, 0.5]);
    close(n.diff, [0.4, 0, 1, 0]);
  });
  it('student weight w: d = ĝ_T − w·ĝ_S (w = 0: the teacher alone; w = 1: the paper)', () => {
    // w = 0.5: d = [0, −.25, .875, 0] → D = (d + .25) / 1.125 = [.2222…, 0, 1, .2222…].
    close(normalisedDiff([1, 3, 2, 5], [2, 2, 6, 4], 0.5).diff, [0.25 / 1.125, 0, 1, 0.25 / 1.125]);
    close(normalisedDiff([1, 3, 2, 5], [2, 2, 6, 4], 0).diff, [0, 0, 1, 0.5]);
    close(normalisedDiff([1, 3, 2, 5], [2, 2, 6, 4], 1).diff, n.diff);
  });
  it('quantile threshold: sorted(D)[floor(n·q)], capped at 0.5', () => {
    // sorted D = [0, 0, .4, 1]
    assert.equal(quantileThreshold(n.diff, 0.1), 0); // floor(0.4) = 0
    assert.equal(quantileThreshold(n.diff, 0.5), 0.4); // floor(2) = 2
    assert.equal(quantileThreshold(n.diff, 0.75), 0.5); // sorted[3] = 1, capped
    assert.equal(quantileThreshold(n.diff, 1), 0.5); // index clamped to n − 1
  });
  it('flags D ≤ thr (ties included), never a protected token', () => {
    const none = [false, false, false, false];
    assert.deepEqual(flagCandidates(n.diff, none, { kind: 'quantile', q: 0.1 }), { threshold: 0, candidates: [1, 3] });
    assert.deepEqual(flagCandidates(n.diff, none, { kind: 'quantile', q: 0.5 }), { threshold: 0.4, candidates: [0, 1, 3] });
    assert.deepEqual(flagCandidates(n.diff, [false, true, false, false], { kind: 'quantile', q: 0.1 }), { threshold: 0, candidates: [3] });
    assert.deepEqual(flagCandidates(n.diff, none, { kind: 'absolute', tau: 0.39 }), { threshold: 0.39, candidates: [1, 3] });
    assert.deepEqual(flagCandidates(n.diff, none, { kind: 'absolute', tau: 1 }), { threshold: 1, candidates: [0, 1, 2, 3] });
  });
  it('a constant vector has no ranking: zeros, and no candidates', () => {
    assert.deepEqual(minMax([3, 3, 3]), [0, 0, 0]);
    assert.deepEqual(minMax([]), []);
    assert.deepEqual(flagCandidates([0, 0], [false, false], { kind: 'quantile', q: 0.5 }).candidates, []);
    // One token: D is constant.
    assert.deepEqual(flagCandidates(normalisedDiff([2], [5]).diff, [false], { kind: 'quantile', q: 0.1 }).candidates, []);
  });
  it('two tokens at q = 0.1: exactly the one with D = 0', () => {
    const d = normalisedDiff([1, 2], [1, 3]).diff; // ĝ_S = [0,1], ĝ_T = [0,1] → d = [0,0]: constant
    assert.deepEqual(d, [0, 0]);
    const e = normalisedDiff([1, 2], [3, 1]).diff; // ĝ_T = [1,0] → d = [1,−1] → D = [1, 0]
    assert.deepEqual(flagCandidates(e, [false, false], { kind: 'quantile', q: 0.1 }).candidates, [1]);
  });
  it('lowestK: the budget rule of the random and ppl baselines', () => {
    const s = [0.3, 0.1, 0.1, 0.9];
    assert.deepEqual(lowestK(s, [false, false, false, false], 2), { threshold: 0.1, candidates: [1, 2] });
    assert.deepEqual(lowestK(s, [false, false, false, false], 3), { threshold: 0.3, candidates: [0, 1, 2] });
    assert.deepEqual(lowestK(s, [false, true, false, false], 2), { threshold: 0.3, candidates: [0, 2] });
    assert.deepEqual(lowestK(s, [false, false, false, false], 0), { threshold: 0, candidates: [] });
  });
  it('protected tokens: whitespace only, empty, a lone backslash', () => {
    for (const t of ['', ' ', '\n', '\t \n', '\\', ' \\ ']) assert.equal(isProtectedToken(t), true, JSON.stringify(t));
    for (const t of ['a', ' a', '\\frac', '\\\\', '.']) assert.equal(isProtectedToken(t), false, JSON.stringify(t));
  });
});
