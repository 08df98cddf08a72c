import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEquivalent } from '../../../src/eval/math/equivalence.js';

/** [answer, reference, expected]: written for this project, grouped by the rule they exercise. */
type Case = readonly [answer: string, reference: string, expected: boolean];

const delimitersAndSpacing: Case[] = [
  ['$5$', '5', true],
  ['$$5$$', '5', true],
  ['\\(5\\)', '5', true],
  ['\\[5\\]', '5', true],
  ['$\\frac{1}{2}$', '\\frac12', true],
  ['  7  ', '7', true],
  ['7.', '7', true],
  ['7 .', '7', true],
  ['\\left(1, 2\\right)', '(1,2)', true],
  ['\\left[0, 1\\right)', '[0,1)', true],
  ['\\dfrac{3}{4}', '\\frac{3}{4}', true],
  ['\\tfrac{3}{4}', '0.75', true],
  ['\\frac34', '\\frac{3}{4}', true],
  ['\\frac{3}4', '3/4', true],
  ['\\dfrac12', '0.5', true],
  ['1\\!000', '1000', true],
  ['1\\,000', '1000', true],
  ['1\\;000', '1000', true],
  ['+5', '5', true],
  ['+\\frac{1}{2}', '\\frac12', true],
  ['{5}', '5', true],
  ['\\displaystyle\\frac{1}{3}', '\\frac13', true],
  ['5', '$\\boxed{5}$', true],
  ['−4', '-4', true],
  ['\\$5', '5', true],
];

const numeric: Case[] = [
  ['0.5', '1/2', true],
  ['0.5', '\\frac{1}{2}', true],
  ['.5', '0.5', true],
  ['1/2', '2', false],
  ['\\frac{1}{2}', '2', false],
  ['\\frac12', '\\frac{1}{2}', true],
  ['3.0', '3', true],
  ['3.00', '3', true],
  ['3', '3.0000001', true],
  ['3', '3.00001', false],
  ['-3', '3', false],
  ['-0', '0', true],
  ['0.333', '\\frac{1}{3}', false],
  ['0.3333333', '\\frac{1}{3}', true],
  ['0.33', '1/3', false],
  ['2/4', '1/2', true],
  ['\\frac{-1}{2}', '-\\frac{1}{2}', true],
  ['-\\frac{1}{2}', '-0.5', true],
  ['\\frac{1}{-2}', '-0.5', true],
  ['1e3', '1000', true],
  ['1E3', '1000', true],
  ['1.5e-3', '0.0015', true],
  ['1.5\\times10^{3}', '1500', true],
  ['1.5 \\times 10^3', '1500', true],
  ['2\\cdot10^{-3}', '0.002', true],
  ['10^{6}', '1000000', true],
  ['6.02\\times10^{23}', '6.02e23', true],
  ['6.02\\times10^{23}', '6.03e23', false],
  ['2\\frac{1}{2}', '\\frac{5}{2}', true],
  ['2\\frac{1}{2}', '2.5', true],
  ['-1\\frac{3}{4}', '-1.75', true],
  ['7', '7.0', true],
  ['100', '99.99999', true],
  ['100', '99.999', false],
  ['0.1', '0.10000001', true],
  ['1/3', '2/6', true],
  ['22/7', '\\pi', false],
  ['3.14159265', '\\pi', true],
  ['3.14', '\\pi', false],
  ['1.4142136', '\\sqrt{2}', true],
  ['0.8660254', '\\frac{\\sqrt{3}}{2}', true],
  ['2.718281828', 'e', true],
  ['1', '0.9999999999', true],
  ['0', '0.0', true],
  ['0', '0.001', false],
  ['12', '012', true],
];

const percent: Case[] = [
  ['10\\%', '10\\%', true],
  ['10\\%', '10', true],
  ['10%', '10', true],
  ['10\\%', '0.1', true],
  ['10%', '0.1', true],
  ['0.1', '10\\%', true],
  ['10', '10%', true],
  ['10 percent', '10', true],
  ['12.5\\%', '0.125', true],
  ['12.5\\%', '\\frac{1}{8}', true],
  ['10', '0.1', false],
  ['10%', '0.1%', false],
  ['10%', '20%', false],
  ['50\\%', '\\frac12', true],
  ['5\\%', '0.5', false],
];

const thousandsAndLists: Case[] = [
  ['1,000', '1000', true],
  ['1{,}000', '1000', true],
  ['12,345,678', '12345678', true],
  ['1,000.5', '1000.5', true],
  ['-1,000', '-1000', true],
  ['1,2', '12', false],
  ['1, 2', '12', false],
  ['1,2', '1, 2', true],
  ['1,2', '2,1', true],
  ['1, 2, 3', '3, 1, 2', true],
  ['1, 2, 3', '1, 2', false],
  ['1, 2, 2', '1, 2, 3', false],
  ['1, 1, 2', '1, 2, 1', true],
  ['\\frac12, 3', '3, 0.5', true],
  ['x=1, x=2', '2, 1', true],
  ['a=2, b=3', 'b=3, a=2', true],
  ['a=2, b=3', 'a=3, b=2', false],
  ['a=2, b=3', '2, 3', true],
  ['-2, 3', '3, -2', true],
  ['2, 3', '-2, 3', false],
  ['1,000, 2', '2, 1000', true],
  ['\\{1, 2, 3\\}', '\\{3, 2, 1\\}', true],
  ['\\{1, 2\\}', '1, 2', true],
  ['1 \\text{ or } 2', '1, 2', true],
  ['1\\text{ and }2', '2, 1', true],
  ['\\sqrt{2}, -\\sqrt{2}', '-\\sqrt2, \\sqrt2', true],
  ['1, \\frac{\\sqrt{3}}{2}', '\\frac{\\sqrt3}{2}, 1', true],
  ['(1,2),(3,4)', '(3,4),(1,2)', true],
  ['(1,2),(3,4)', '(2,1),(3,4)', false],
];

const unitsAndDegrees: Case[] = [
  ['5 dollars', '5', true],
  ['\\$5', '5 dollars', true],
  ['12 cm', '12', true],
  ['12cm', '12', true],
  ['12\\text{ cm}', '12', true],
  ['12 \\text{cm}', '12', true],
  ['12\\mbox{ cm}', '12', true],
  ['12\\text{ cm}^2', '12', true],
  ['12\\text{ square units}', '12', true],
  ['18 eggs', '18', true],
  ['3 hours', '3', true],
  ['2.5 meters', '2.5', true],
  ['\\frac{1}{2}\\text{ inch}', '0.5', true],
  ['30^\\circ', '30', true],
  ['30^{\\circ}', '30', true],
  ['30°', '30', true],
  ['30 degrees', '30', true],
  ['30\\degree', '30^\\circ', true],
  ['45^\\circ', '30^\\circ', false],
  ['100 \\text{ m}', '100', true],
  ['5\\mathrm{kg}', '5', true],
  ['5 dollars', '6', false],
];

const prefixes: Case[] = [
  ['x=5', '5', true],
  ['x = 5', '5', true],
  ['y=-2', '-2', true],
  ['x_1 = 3', '3', true],
  ['\\theta = \\frac{\\pi}{4}', '\\frac{\\pi}{4}', true],
  ['k=2', '3', false],
  ['y = 2x + 3', '2x+3', true],
  ['y=2x+3', '3+2x', true],
  ['f(x) = x^2', 'x^2', true],
  ['x \\in [0, 1)', '[0,1)', true],
  ['x=5', 'x=6', false],
];

const symbolic: Case[] = [
  ['\\frac{\\sqrt{3}}{2}', '\\sqrt3/2', true],
  ['\\frac{\\sqrt{3}}{2}', '\\frac{\\sqrt{2}}{2}', false],
  ['\\sqrt{2}/2', '1/\\sqrt{2}', true],
  ['\\frac{\\sqrt{2}}{2}', '\\frac{1}{\\sqrt{2}}', true],
  ['2\\pi', '\\pi \\cdot 2', true],
  ['2\\pi', '\\pi', false],
  ['\\frac{\\pi}{3}', '60\\pi/180', true],
  ['\\frac{3}{4}\\pi', '0.75\\pi', true],
  ['\\frac{3\\pi}{4}', '\\frac34\\pi', true],
  ['2\\sqrt{2}', '\\sqrt{8}', true],
  ['2\\sqrt{3}', '\\sqrt{12}', true],
  ['2\\sqrt{3}', '\\sqrt{3}', false],
  ['3\\sqrt{2}+1', '1+\\sqrt{18}', true],
  ['\\sqrt2+\\sqrt3', '\\sqrt{5+2\\sqrt6}', true],
  ['\\sqrt[3]{8}', '2', true],
  ['\\sqrt[3]{2}', '2^{1/3}', true],
  ['\\frac{1}{\\sqrt{3}}', '\\frac{\\sqrt{3}}{3}', true],
  ['\\frac{5\\sqrt{2}}{2}', '\\frac{5}{\\sqrt{2}}', true],
  ['\\sqrt{2}', '\\sqrt{3}', false],
  ['2^{10}', '1024', true],
  ['2^{-1}', '\\frac12', true],
  ['4^{1/2}', '2', true],
  ['x^2+2x+1', '(x+1)^2', true],
  ['(x+1)^2', 'x^2+1', false],
  ['x^2-1', '(x-1)(x+1)', true],
  ['x^2-1', 'x^2+1', false],
  ['a^2-b^2', '(a-b)(a+b)', true],
  ['2x+3y', '3y+2x', true],
  ['2x+3y', '3x+2y', false],
  ['\\frac{x}{2}', '\\frac{1}{2}x', true],
  ['\\frac{x}{x^2}', '\\frac{1}{x}', true],
  ['4\\pi r^2', '4r^2\\pi', true],
  ['\\pi r^2', '\\pi r^3', false],
  ['x^3', 'x^2', false],
  ['x', 'y', false],
  ['(x-1)^3', 'x^3-3x^2+3x-1', true],
  ['\\frac{1}{x+1}+\\frac{1}{x-1}', '\\frac{2x}{x^2-1}', true],
  ['e^{i\\pi}', '-1', true],
  ['\\ln(e^2)', '2', true],
  ['\\log_2 8', '3', true],
  ['\\sin(\\pi/6)', '\\frac12', true],
  ['\\cos\\frac{\\pi}{3}', '0.5', true],
  ['\\tan\\frac{\\pi}{4}', '1', true],
  ['\\binom{5}{2}', '10', true],
  ['5!', '120', true],
  ['\\frac{a+b}{2}', '\\frac{b+a}{2}', true],
  ['\\frac{1+\\sqrt{5}}{2}', '\\frac{\\sqrt{5}+1}{2}', true],
  ['\\frac{1+\\sqrt{5}}{2}', '\\frac{1-\\sqrt{5}}{2}', false],
  ['2i', '\\sqrt{-4}', true],
  ['1+i', 'i+1', true],
  ['1+i', '1-i', false],
  ['\\pi/2', '1.5707963', true],
  ['\\frac{\\pi}{2}', '90', false],
  ['\\sqrt{2}\\cdot\\sqrt{3}', '\\sqrt{6}', true],
  ['\\frac{2}{\\sqrt{2}}', '\\sqrt{2}', true],
  ['2^{x}\\cdot2^{x}', '4^{x}', true],
  ['(2\\sqrt{2})^2', '8', true],
  ['\\frac{10}{3}', '3\\frac{1}{3}', true],
  ['√2', '\\sqrt{2}', true],
  ['2π', '2\\pi', true],
];

const intervalsAndTuples: Case[] = [
  ['(1,2)', '(1, 2)', true],
  ['(1,2)', '(2,1)', false],
  ['(1,2)', '(1,2,3)', false],
  ['(\\frac12, 3)', '(0.5, 3)', true],
  ['(1, 2)', '12', false],
  ['(1,2)', '1,2', false],
  ['[0, 1)', '[0,1)', true],
  ['[0, 1)', '[0, 1]', false],
  ['[0, 1)', '(0, 1)', false],
  ['(0, 1]', '(0,1]', true],
  ['(0, 1]', '[0,1]', false],
  ['[0,1]', '[0,\\frac{2}{2}]', true],
  ['(-\\infty, 3]', '(-\\infty,3]', true],
  ['(-\\infty, 3]', '(-\\infty,3)', false],
  ['(-\\infty, 3]', '(-\\infty,2]', false],
  ['[2, \\infty)', '[2,\\infty)', true],
  ['(-\\infty, 1) \\cup (2, \\infty)', '(2,\\infty)\\cup(-\\infty,1)', true],
  ['(-\\infty, 1) \\cup (2, \\infty)', '(-\\infty,1]\\cup(2,\\infty)', false],
  ['(-\\infty,0)∪(0,\\infty)', '(-\\infty,0)\\cup(0,\\infty)', true],
  ['[\\frac{1}{2}, \\sqrt{2}]', '[0.5, \\sqrt2]', true],
  ['\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', '\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}', true],
  ['\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', '\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}', true],
  ['\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', '\\begin{pmatrix}1&2\\\\4&3\\end{pmatrix}', false],
  ['\\begin{pmatrix}\\frac12\\\\-1\\end{pmatrix}', '\\begin{pmatrix}0.5\\\\-1\\end{pmatrix}', true],
  ['\\begin{pmatrix}1&2\\end{pmatrix}', '\\begin{pmatrix}1\\\\2\\end{pmatrix}', false],
];

const plusMinus: Case[] = [
  ['\\pm 2', '2, -2', true],
  ['\\pm2', '-2,2', true],
  ['x=\\pm 2', '2, -2', true],
  ['1\\pm\\sqrt{2}', '1+\\sqrt2, 1-\\sqrt2', true],
  ['1\\pm\\sqrt{2}', '1\\pm\\sqrt2', true],
  ['1 \\mp \\sqrt{2}', '1 \\pm \\sqrt{2}', true],
  ['\\pm 2', '2', false],
  ['1\\pm\\sqrt{2}', '1+\\sqrt2', false],
  ['\\frac{-1\\pm\\sqrt{5}}{2}', '\\frac{-1+\\sqrt5}{2}, \\frac{-1-\\sqrt5}{2}', true],
  ['±3', '3, -3', true],
];

const infinity: Case[] = [
  ['\\infty', '\\infty', true],
  ['∞', '\\infty', true],
  ['+\\infty', '\\infty', true],
  ['-\\infty', '\\infty', false],
  ['\\infty', '1000000000', false],
  ['-\\infty', '-\\infty', true],
];

const textAnswers: Case[] = [
  ['yes', 'Yes', true],
  ['YES', 'yes', true],
  ['\\text{Yes}', 'yes', true],
  ['\\textbf{No}', 'no', true],
  ['yes', 'no', false],
  ['No solution', 'no solution', true],
  ['Monday', '\\text{Monday}', true],
  ['Monday', 'Tuesday', false],
  ['(B)', 'B', true],
  ['\\text{(C)}', 'C', true],
  ['(A)', 'B', false],
  ['even', 'odd', false],
];

const emptyAndDegenerate: Case[] = [
  ['', '5', false],
  ['5', '', false],
  ['', '', false],
  ['   ', '   ', false],
  ['$$', '', false],
  ['\\boxed{}', '5', false],
  ['\\text{}', '', false],
  ['.', '.', false],
  ['{}', '0', false],
  ['5', '5', true],
];

const ALL: Array<[string, Case[]]> = [
  ['delimiters and spacing', delimitersAndSpacing],
  ['numeric', numeric],
  ['percent convention', percent],
  ['thousands separators and lists', thousandsAndLists],
  ['units and degrees', unitsAndDegrees],
  ['x = prefixes', prefixes],
  ['symbolic', symbolic],
  ['intervals, tuples and matrices', intervalsAndTuples],
  ['plus-minus', plusMinus],
  ['infinity', infinity],
  ['text answers', textAnswers],
  ['empty and degenerate', emptyAndDegenerate],
];

test('the table holds at least 200 cases', () => {
  const n = ALL.reduce((k, [, cases]) => k + cases.length, 0);
  assert.ok(n >= 200, `only ${n} cases`);
});

for (const [group, cases] of ALL) {
  test(`isEquivalent: ${group}`, () => {
    const wrong: string[] = [];
    for (const [answer, reference, expected] of cases) {
      const got = isEquivalent(answer, reference);
      if (got !== expected) wrong.push(`${JSON.stringify(answer)} vs ${JSON.stringify(reference)}: expected ${expected}, got ${got}`);
    }
    assert.deepEqual(wrong, []);
  });
}

test('isEquivalent is symmetric on the table', () => {
  const wrong: string[] = [];
  for (const [, cases] of ALL) {
    for (const [answer, reference, expected] of cases) {
      if (isEquivalent(reference, answer) !== expected) wrong.push(`${JSON.stringify(reference)} vs ${JSON.stringify(answer)}`);
    }
  }
  assert.deepEqual(wrong, []);
});
