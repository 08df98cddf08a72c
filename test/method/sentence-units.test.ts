import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DetectionTally, detectionLabels } from '../../src/method/detection.js';
import { Flagger } from '../../src/method/flagging.js';
import { isProtectedToken } from '../../src/method/normalize.js';
import { protectedRanges, protectedTokens, sentenceUnits, splitSentences } from '../../src/method/sentence-units.js';
import type { ScoredToken } from '../../src/method/spans.js';
import { equations, passes, sameEquations } from '../../src/method/verify.js';

// "Tom has 4 apples. Ann is 7. How many?" as a byte-level BPE would split it (leading spaces on the words).
const TEXT = 'Tom has 4 apples. Ann is 7. How many?';
const PIECES = ['Tom', ' has', ' 4', ' apples', '.', ' Ann', ' is', ' 7', '.', ' How', ' many', '?'];
const TOKENS: ScoredToken[] = (() => {
  let at = 0;
  return PIECES.map((p) => ({ text: p, start: at, end: (at += p.length) }));
})();

function flagger(unit: 'token' | 'sentence', protect = protectedRanges(TEXT, [], true), topUnits: number | null = null): Flagger {
  return new Flagger(TEXT, TOKENS, protectedTokens(TOKENS, protect), TOKENS.map((t) => isProtectedToken(t.text)), unit, protect, topUnits);
}
// Raw gradient norms; the protected question's are huge for the student, so any normalisation that saw them would differ.
const S = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 100, 100];
const T = [5, 4, 3, 2, 1, 1, 1, 1, 1, 0, 0, 0];
// By hand over tokens 0..8: ĝS = (s − 1)/8, ĝT = (t − 1)/4, d = ĝT − ĝS ∈ [−1, 1], D = (d + 1)/2; protected tokens D = 1.
const D = [1, 0.8125, 0.625, 0.4375, 0.25, 0.1875, 0.125, 0.0625, 0, 1, 1, 1];

describe('sentence units and protected text (hand-computed)', () => {
  it('sentences are found on the characters; tokens join the sentence of their first non-space character', () => {
    assert.deepEqual(splitSentences(TEXT), [{ start: 0, end: 17 }, { start: 18, end: 27 }, { start: 28, end: 37 }]);
    assert.deepEqual(splitSentences('a 3.5 b.\n\nc!  "d?" e'), [{ start: 0, end: 8 }, { start: 10, end: 12 }, { start: 14, end: 18 }, { start: 19, end: 20 }]);
    assert.deepEqual(sentenceUnits(TEXT, TOKENS, []).map((u) => u.tokens), [[0, 1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11]]);
    const protect = protectedRanges(TEXT, [], true);
    assert.deepEqual(protect, [{ start: 28, end: 37 }]);
    assert.deepEqual(protectedTokens(TOKENS, protect), [...Array(9).fill(false), true, true, true]);
    assert.deepEqual(sentenceUnits(TEXT, TOKENS, protect).map((u) => [u.start, u.end]), [[0, 17], [18, 27]]);
    // A given protected span keeps the sentence it touches out of the units.
    assert.deepEqual(sentenceUnits(TEXT, TOKENS, protectedRanges(TEXT, [{ start: 4, end: 7 }], false)).map((u) => u.start), [18, 28]);
    assert.throws(() => protectedRanges(TEXT, [{ start: 30, end: 40 }], false), /outside the text/);
  });

  it('D is normalised over the unprotected tokens only; a sentence scores the mean D of its tokens', () => {
    const n = flagger('sentence').normalise(S, T);
    n.diff.forEach((d, i) => assert.ok(Math.abs(d - D[i]) < 1e-12, `D[${i}] = ${d}, by hand ${D[i]}`));
    const f = flagger('sentence').byRule(n.diff, { kind: 'quantile', q: 0.1 });
    // Unit scores (1 + .8125 + .625 + .4375 + .25)/5 = .625 and (.1875 + .125 + .0625 + 0)/4 = .09375; thr = min(sorted[floor(2·0.1)], .5).
    assert.deepEqual(f.units!.map((u) => [u.start, u.end, u.flagged]), [[0, 17, false], [18, 27, true]]);
    assert.ok(Math.abs(f.units![0].score - 0.625) < 1e-12 && Math.abs(f.units![1].score - 0.09375) < 1e-12);
    assert.equal(f.threshold, 0.09375);
    assert.deepEqual(f.candidates, [5, 6, 7, 8]);
    assert.deepEqual(f.spans.map((s) => [s.start, s.end, s.text]), [[18, 27, 'Ann is 7.']]);
    // --top-units 1 picks the same sentence; an absolute τ = 0.7 flags both; token level flags the single lowest token.
    assert.deepEqual(flagger('sentence', undefined, 1).byRule(n.diff, { kind: 'quantile', q: 0.5 }).spans.map((s) => s.start), [18]);
    assert.deepEqual(flagger('sentence').byRule(n.diff, { kind: 'absolute', tau: 0.7 }).spans.map((s) => s.start), [0, 18]);
    assert.deepEqual(flagger('token').byRule(n.diff, { kind: 'quantile', q: 0.1 }).candidates, [8]);
    // Protected tokens are never candidates, whatever their D (a rule that flags everything).
    assert.deepEqual(flagger('token').byRule(n.diff, { kind: 'absolute', tau: 2 }).candidates, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('baselines choose the same number of units of the same kind', () => {
    const f = flagger('sentence').byCount([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 1, [0.9, 0.1]);
    assert.equal(Flagger.count(f), 1);
    assert.deepEqual(f.spans.map((s) => s.start), [18]);
    assert.equal(Flagger.count(flagger('token').byCount(D, 3)), 3);
  });

  it('the oracle cuts exactly the ground truth; its detection precision and recall are 1 at both levels', () => {
    const truth = [{ start: 18, end: 27 }];
    for (const unit of ['token', 'sentence'] as const) {
      const f = flagger(unit).oracle(truth);
      assert.deepEqual(f.spans.map((s) => [s.start, s.end]), [[18, 27]]);
      const tally = new DetectionTally();
      tally.add(TEXT, TOKENS, f.candidates, truth, protectedRanges(TEXT, [], true));
      const q = tally.summary()!;
      assert.deepEqual([q.token.precision, q.token.recall, q.unit.precision, q.unit.recall], [1, 1, 1, 1]);
    }
    // Ground truth inside protected text is never cut.
    assert.deepEqual(flagger('token').oracle([{ start: 28, end: 37 }]).spans, []);
  });

  it('detection precision, recall and F1 against hand counts', () => {
    const tally = new DetectionTally();
    tally.add(TEXT, TOKENS, [0, 5, 8], [{ start: 18, end: 27 }], protectedRanges(TEXT, [], true));
    const q = tally.summary()!;
    // Tokens 0..8 (question protected): positives 5–8; flagged 0, 5, 8 → tp 2, fp 1, fn 2.
    assert.deepEqual([q.token.tp, q.token.fp, q.token.fn], [2, 1, 2]);
    assert.ok(Math.abs(q.token.precision - 2 / 3) < 1e-12 && q.token.recall === 0.5 && Math.abs(q.token.f1 - 4 / 7) < 1e-12);
    // Sentences 1–2 (question protected): positive = the second; both hold a flagged token → tp 1, fp 1, fn 0.
    assert.deepEqual([q.unit.tp, q.unit.fp, q.unit.fn, q.unit.precision, q.unit.recall], [1, 1, 0, 0.5, 1]);
    assert.ok(Math.abs(q.unit.f1 - 2 / 3) < 1e-12);
    assert.equal(new DetectionTally().summary(), null);
    assert.equal(q.byLabel, null, 'no labels, no per-category figures');
  });

  it('per-category detection: the same counts per label value (GSM-IC role_label, …); other metadata is no label', () => {
    assert.deepEqual(detectionLabels({ role_label: 'overlapped', number_label: 'in_range', sentence_label: 'in_topic', n_steps: 2, role: 'Ann', x_label: null }),
      { role_label: 'overlapped', number_label: 'in_range', sentence_label: 'in_topic' });
    const tally = new DetectionTally();
    const prot = protectedRanges(TEXT, [], true);
    const truth = [{ start: 18, end: 27 }];
    tally.add(TEXT, TOKENS, [0, 5, 8], truth, prot, { role_label: 'overlapped', number_label: 'in_range' });
    tally.add(TEXT, TOKENS, [5, 6, 7, 8], truth, prot, { role_label: 'nonoverlapped', number_label: 'in_range' });
    const q = tally.summary()!;
    assert.equal(q.problems, 2);
    assert.deepEqual(Object.keys(q.byLabel!), ['number_label', 'role_label']);
    assert.deepEqual(Object.keys(q.byLabel!.role_label), ['nonoverlapped', 'overlapped']);
    const o = q.byLabel!.role_label.overlapped, n = q.byLabel!.role_label.nonoverlapped, r = q.byLabel!.number_label.in_range;
    assert.deepEqual([o.problems, o.token.tp, o.token.fp, o.token.fn], [1, 2, 1, 2]);
    assert.deepEqual([n.problems, n.token.tp, n.token.fp, n.token.fn, n.token.precision, n.token.recall], [1, 4, 0, 0, 1, 1]);
    assert.deepEqual([r.problems, r.token.tp, r.token.fp, r.token.fn], [q.problems, q.token.tp, q.token.fp, q.token.fn]);
    // Shards (leaf merge): tallies of each half, summed through their summaries, equal one tally over both, to the byte.
    const a = new DetectionTally(), b = new DetectionTally(), merged = new DetectionTally();
    a.add(TEXT, TOKENS, [0, 5, 8], truth, prot, { role_label: 'overlapped', number_label: 'in_range' });
    b.add(TEXT, TOKENS, [5, 6, 7, 8], truth, prot, { role_label: 'nonoverlapped', number_label: 'in_range' });
    merged.addSummary(b.summary()!);
    merged.addSummary(a.summary()!);
    assert.equal(JSON.stringify(merged.summary()), JSON.stringify(q));
  });
});

describe('verification criterion', () => {
  it('worked equations (the modes: mine-options, test/cli/option-specs.test.ts)', () => {
    assert.deepEqual(equations('4 + 3 = 7. Then 7 - 2 = 5, so \\boxed{5}; 2 × 3 + 1 = 7'), ['4+3=7', '7-2=5', '2*3+1=7']);
    const ref = 'Leo has 4 apples. 4 + 3 = 7. 7 - 2 = 5. \\boxed{5}';
    assert.ok(sameEquations(ref, '4 + 3 = 7 . 7 - 2 = 5 . \\ boxed { 5 }'));
    assert.ok(!sameEquations(ref, '4 + 3 = 7 . 7 - 2 = 5 . 5 - 0 = 5 .'), 'an extra step');
    assert.ok(!sameEquations(ref, '4 + 6 = 10 . 10 - 5 = 5 .'), 'right answer, other equations');
    assert.ok(sameEquations('no equations here', 'anything'));
    assert.equal(passes({ response: '4 + 6 = 10 . 10 - 5 = 5', correct: true }, ref), false);
    assert.equal(passes({ response: '4 + 6 = 10 . 10 - 5 = 5', correct: true }, null), true);
    assert.equal(passes({ response: '4 + 3 = 7 . 7 - 2 = 5', correct: false }, ref), false);
  });
});
