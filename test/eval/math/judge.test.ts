import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeMath, referenceAnswer } from '../../../src/eval/math/judge.js';

test('referenceAnswer: GSM8K solution, MATH solution, bare answer', () => {
  assert.equal(referenceAnswer('Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips.\n#### 72'), '72');
  assert.equal(referenceAnswer('#### 1,200'), '1,200');
  assert.equal(referenceAnswer('We find $x = 3$, so the sum is $\\boxed{\\frac{7}{2}}$.'), '\\frac{7}{2}');
  assert.equal(referenceAnswer('  \\frac{1}{2} '), '\\frac{1}{2}');
});

test('judgeMath against a GSM8K reference solution', () => {
  const ref = 'He runs 3 sprints 3 times a week, 60 meters each: 3*3*60 = 540\n#### 540';
  assert.deepEqual(judgeMath('3 * 3 = 9 sprints, 9 * 60 = 540 meters.\n#### 540', ref), {
    extracted: '540',
    correct: true,
    rule: 'hash',
  });
  assert.deepEqual(judgeMath('So he runs 540 meters a week.', ref), { extracted: '540', correct: true, rule: 'last-number' });
  assert.deepEqual(judgeMath('The answer is 545 meters.', ref), { extracted: '545 meters', correct: false, rule: 'answer-is' });
  assert.equal(judgeMath('The answer is $1,000.', '#### 1000').correct, true);
});

test('judgeMath against a MATH reference solution', () => {
  const ref = 'Rationalizing, $\\frac{1}{\\sqrt{2}} = \\boxed{\\frac{\\sqrt{2}}{2}}$.';
  assert.deepEqual(judgeMath('Thus the value is $\\boxed{\\frac{1}{\\sqrt2}}$.', ref), {
    extracted: '\\frac{1}{\\sqrt2}',
    correct: true,
    rule: 'boxed',
  });
  assert.equal(judgeMath('Thus \\boxed{\\sqrt{2}}', ref).correct, false);
  assert.equal(judgeMath('The final answer is $\\dfrac{\\sqrt 2}{2}$.', ref).correct, true);
});

test('judgeMath: no answer is never correct', () => {
  assert.deepEqual(judgeMath('I cannot solve this.', '5'), { extracted: null, correct: false, rule: null });
  assert.deepEqual(judgeMath('\\boxed{}', '5'), { extracted: '', correct: false, rule: 'boxed' });
  assert.equal(judgeMath('\\boxed{5}', '').correct, false);
});

test('judgeMath: multiple answers, intervals and percent', () => {
  assert.equal(judgeMath('The roots are \\boxed{3, -1}.', '$-1, 3$').correct, true);
  assert.equal(judgeMath('\\boxed{x \\in (-\\infty, 2]}', '(-\\infty,2]').correct, true);
  assert.equal(judgeMath('\\boxed{x \\in (-\\infty, 2)}', '(-\\infty,2]').correct, false);
  assert.equal(judgeMath('The answer is 25%.', '0.25').correct, true);
  assert.equal(judgeMath('The answer is 25%.', '25').correct, true);
});
