/** The demo's verdict in words, from hand-made paired differences (per-seed Δ vs KD). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verdictText, type HeadlineRow } from '../../src/demo/headline.js';
import { pairedT } from '../../src/eval/paired.js';

const row = (key: string, diffs: number[] | null): HeadlineRow => ({
  key, label: key, values: [], mean: 0, clean: [], cleanMean: 0, validation: [], diff: diffs ? pairedT(diffs) : null, bootstrap: null, validationDiff: null, folded: 0,
});

describe('demo verdict', () => {
  it('a win needs the 95% t interval above 0; the order oracle ≥ gradient > random is checked for each gradient rule', () => {
    const rows = [
      row('kd', null), row('leaf-gradient', [0.01, -0.005, 0.02]), row('leaf-gradient-teacher', [0.04, 0.05, 0.045]),
      row('leaf-random', [0.01, 0.0, 0.005]), row('leaf-oracle', [0.06, 0.05, 0.07]),
    ];
    const v = verdictText(rows, 'test');
    assert.match(v, /^LeaF-gradient is ahead of plain KD on the test split by \+0\.8 points, but the 95% t interval over 3 seed\(s\) \[−\S+, \+\S+\] includes 0: no clear win\./);
    assert.match(v, /LeaF with the teacher's saliency alone beats plain KD on the test split: \+4\.5 points \(95% t interval over 3 seeds \[\+3\.3, \+5\.7\], above 0\)\./);
    assert.match(v, /oracle ≥ gradient > random holds; oracle ≥ teacher saliency > random holds\./);
    const worse = verdictText([row('kd', null), row('leaf-gradient', [-0.01, -0.02, -0.03]), row('leaf-random', [0, 0, 0.01]), row('leaf-oracle', [0.02, 0.02, 0.03])], 'validation');
    assert.match(worse, /^LeaF-gradient does not beat plain KD on the validation split: −2\.0 points/);
    assert.match(worse, /oracle ≥ gradient > random does not hold\.$/);
    assert.ok(!worse.includes('teacher saliency'));
    assert.equal(verdictText([row('kd', null)], 'test'), 'No LeaF-gradient run to compare with KD.');
  });
});
