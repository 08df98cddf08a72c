import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractAnswer, lastBoxed, lastNumber, readBraced } from '../../../src/eval/math/extract.js';

type Row = readonly [response: string, answer: string | null, rule: string | null];

const rows: Row[] = [
  // boxed: nested braces, the last box wins, \fbox, `\boxed 5`
  ['So the result is $\\boxed{42}$.', '42', 'boxed'],
  ['First \\boxed{1}, then finally \\boxed{2}.', '2', 'boxed'],
  ['$\\boxed{\\frac{\\sqrt{3}}{2}}$', '\\frac{\\sqrt{3}}{2}', 'boxed'],
  ['\\boxed{\\left\\{1, 2\\right\\}}', '\\left\\{1, 2\\right\\}', 'boxed'],
  ['We get \\fbox{7} overall', '7', 'boxed'],
  ['Hence $\\boxed 5$.', '5', 'boxed'],
  ['Hence \\boxed 12.', '12', 'boxed'],
  ['\\boxed{ x = 3 }', 'x = 3', 'boxed'],
  ['\\boxed{}', '', 'boxed'],
  ['The answer is 3, so \\boxed{4}', '4', 'boxed'],
  ['\\boxed{1} and then a truncated \\boxed{\\frac{2}{', '1', 'boxed'],
  // "the answer is": case-insensitive, to the end of the sentence or line
  ['Therefore, the answer is 17.', '17', 'answer-is'],
  ['THE ANSWER IS 3.5. Done.', '3.5', 'answer-is'],
  ['So the final answer is $\\frac{1}{2}$.', '$\\frac{1}{2}$', 'answer-is'],
  ['The answer is: 12\nWe double-check it.', '12', 'answer-is'],
  ['the answer is 5 dollars', '5 dollars', 'answer-is'],
  ['The answer is 1, 2 and 3! Great', '1, 2 and 3', 'answer-is'],
  ['I think the answer is 4. Actually, the answer is 6.', '6', 'answer-is'],
  ['The answer is\n\n$x=2$', '$x=2$', 'answer-is'],
  ['The answer is $a.b$ here.', '$a.b$ here', 'answer-is'],
  ['The answer is $18. So she pays more.', '$18', 'answer-is'],
  ['The answer is $x = 1. y$ then', '$x = 1. y$ then', 'answer-is'],
  // GSM8K `####`
  ['She has 3 + 4 = 7 apples.\n#### 7', '7', 'hash'],
  ['Step 1: 10 * 2 = 20\n#### 1,000\n', '1,000', 'hash'],
  ['#### 5\nmore text 9', '5', 'hash'],
  // last number
  ['I computed 12 and then 15 in total', '15', 'last-number'],
  ['It costs 1,250 dollars', '1,250', 'last-number'],
  ['The temperature drops to -4 overnight', '-4', 'last-number'],
  ['The ratio is 3/4 of the whole', '3/4', 'last-number'],
  ['We have 2.75 liters.', '2.75', 'last-number'],
  ['Compute 7-3 which leaves', '3', 'last-number'],
  ['about .5 of it', '.5', 'last-number'],
  // nothing to extract
  ['I do not know.', null, null],
  ['', null, null],
];

test('extractAnswer: rules in order, each firing', () => {
  const wrong: string[] = [];
  for (const [response, answer, rule] of rows) {
    const got = extractAnswer(response);
    if (got.answer !== answer || got.rule !== rule) {
      wrong.push(`${JSON.stringify(response)} → ${JSON.stringify(got)}, expected ${JSON.stringify({ answer, rule })}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('extractAnswer: boxed beats answer-is beats #### beats last number', () => {
  const all = 'The answer is 2.\n#### 3\nthen 4 and \\boxed{1}';
  assert.deepEqual(extractAnswer(all), { answer: '1', rule: 'boxed' });
  assert.deepEqual(extractAnswer('The answer is 2.\n#### 3\nthen 4'), { answer: '2', rule: 'answer-is' });
  assert.deepEqual(extractAnswer('#### 3\nthen 4'), { answer: '3', rule: 'hash' });
  assert.deepEqual(extractAnswer('then 4'), { answer: '4', rule: 'last-number' });
});

test('readBraced handles nesting and escaped braces', () => {
  assert.deepEqual(readBraced('{a{b}c}d', 0), { body: 'a{b}c', end: 7 });
  assert.deepEqual(readBraced('{\\{x\\}}', 0), { body: '\\{x\\}', end: 7 });
  assert.equal(readBraced('{open', 0), null);
  assert.equal(readBraced('x{}', 0), null);
});

test('lastBoxed and lastNumber on their own', () => {
  assert.equal(lastBoxed('no box here'), null);
  assert.equal(lastBoxed('\\boxed{\\text{(B)}}'), '\\text{(B)}');
  assert.equal(lastBoxed('\\boxedx'), null);
  assert.equal(lastNumber('x2 y3'), null);
  assert.equal(lastNumber('1,000,000 then 2,50'), '50');
});
