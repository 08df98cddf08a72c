import { test } from 'node:test';
import assert from 'node:assert/strict';
import { braceCommandArgs, normalizeAnswer } from '../../../src/eval/math/normalize.js';

const rows: Array<readonly [string, string]> = [
  ['$5$', '5'],
  ['\\(x\\)', 'x'],
  ['\\[\\frac{1}{2}\\]', '\\frac{1}{2}'],
  ['\\left( 1, 2 \\right)', '(1, 2)'],
  ['\\dfrac{1}{2}', '\\frac{1}{2}'],
  ['\\tfrac12', '\\frac{1}{2}'],
  ['\\frac12', '\\frac{1}{2}'],
  ['\\frac1{2}', '\\frac{1}{2}'],
  ['\\frac{1}2', '\\frac{1}{2}'],
  ['\\frac\\pi2', '\\frac{\\pi}{2}'],
  ['\\sqrt2', '\\sqrt{2}'],
  ['\\sqrt[3]8', '\\sqrt[3]{8}'],
  ['45^\\circ', '45'],
  ['45^{\\circ}', '45'],
  ['45°', '45'],
  ['50\\%', '50%'],
  ['50 \\%', '50%'],
  ['1,000', '1000'],
  ['1{,}000', '1000'],
  ['(1,000)', '(1, 000)'],
  ['1,2,3', '1, 2, 3'],
  ['1, 000', '1, 000'],
  ['3.', '3'],
  ['x = 5', '5'],
  ['y=-1', '-1'],
  ['+7', '7'],
  ['1\\!000', '1000'],
  ['5\\text{ cm}', '5'],
  ['5\\mbox{ cm}^2', '5'],
  ['5 dollars', '5'],
  ['12 cm', '12'],
  ['\\text{yes}', 'yes'],
  ['\\pi r^2', '\\pi r^2'],
  ['2 \\cdot 3', '2\\cdot3'],
  ['\\boxed{7}', '7'],
  ['(C)', 'C'],
  ['\\$3.50', '3.50'],
  ['', ''],
];

test('normalizeAnswer', () => {
  const wrong: string[] = [];
  for (const [input, expected] of rows) {
    const got = normalizeAnswer(input);
    if (got !== expected) wrong.push(`${JSON.stringify(input)} → ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
  }
  assert.deepEqual(wrong, []);
});

test('normalizeAnswer is idempotent', () => {
  for (const [input] of rows) {
    const once = normalizeAnswer(input);
    assert.equal(normalizeAnswer(once), once, input);
  }
});

test('braceCommandArgs braces nested arguments', () => {
  assert.equal(braceCommandArgs('\\frac{\\frac12}{3}'), '\\frac{\\frac{1}{2}}{3}');
  assert.equal(braceCommandArgs('\\binom52'), '\\binom{5}{2}');
  assert.equal(braceCommandArgs('\\frac{1}'), '\\frac{1}'); // incomplete: left alone
});
