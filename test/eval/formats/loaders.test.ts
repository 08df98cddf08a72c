import { lastBoxed } from '../../../src/eval/math/extract.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import {
  buildInstruction,
  detectFileFormat,
  detectFormat,
  FORMAT_NAMES,
  gsm8kFinalAnswer,
  loadProblems,
  MATH_INSTRUCTION,
  parseFormatName,
  unpickleString,
  type Problem,
} from '../../../src/eval/formats/index.js';
import { LeafError } from '../../../src/errors.js';
import { repoRoot } from '../../helpers/paths.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'eval');
const fx = (name: string): string => path.join(fixtures, name);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-formats-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function tmpFile(name: string, lines: (string | object)[]): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return f;
}

function clean(r: ReturnType<typeof loadProblems>): Problem[] {
  assert.equal(r.skipped, 0, JSON.stringify(r.issues));
  assert.equal(r.lines, r.blank + r.kept + r.skipped);
  return r.problems;
}

test('auto-detection picks the right format for every fixture', () => {
  const expected: Record<string, string> = {
    'gsm8k.jsonl': 'gsm8k',
    'math.jsonl': 'math',
    'math500.jsonl': 'math',
    'olympiadbench.jsonl': 'olympiadbench',
    'humaneval.jsonl': 'humaneval',
    'mbpp.jsonl': 'mbpp',
    'mbpp-sanitized.jsonl': 'mbpp',
    'livecodebench.jsonl': 'livecodebench',
    'stdio.jsonl': 'stdio',
    'leaf-mining.jsonl': 'leaf',
  };
  for (const [file, format] of Object.entries(expected)) {
    assert.equal(detectFileFormat(fx(file)), format, file);
    assert.equal(loadProblems(fx(file)).format, format, file);
  }
});

test('GSM8K: question, answer after ####, commas removed', () => {
  const ps = clean(loadProblems(fx('gsm8k.jsonl')));
  assert.equal(ps.length, 4);
  assert.deepEqual(
    ps.map((p) => [p.id, p.answer]),
    [['gsm8k/0', '12'], ['gsm8k/1', '1250'], ['gsm8k/2', '7'], ['gsm8k/3', '-5']],
  );
  const p = ps[0]!;
  assert.equal(p.task, 'math');
  assert.equal(p.format, 'gsm8k');
  assert.equal(p.prompt, 'A baker fills 6 trays with 7 rolls each. She sells 30 rolls. How many rolls are left?');
  assert.ok(p.solution!.startsWith('She baked 6 * 7 = <<6*7=42>>42 rolls.'));
  assert.ok(p.solution!.endsWith('#### 12'));
  assert.equal(p.tests, undefined);
  assert.equal(gsm8kFinalAnswer('x\n#### 3\n#### 1,000,000 '), '1000000');
  assert.equal(gsm8kFinalAnswer('no marker'), null);
});

test('MATH: answer from the last \\boxed{}, level and type kept', () => {
  const ps = clean(loadProblems(fx('math.jsonl')));
  assert.equal(ps.length, 3);
  assert.deepEqual(ps.map((p) => p.answer), ['5', '\\frac{1}{2}', '(3,2)']);
  assert.deepEqual(ps.map((p) => p.id), ['math/0', 'math/1', 'math/2']);
  assert.deepEqual(ps[1]!.metadata, { level: 'Level 2', subject: 'Prealgebra' });
  assert.equal(ps[0]!.prompt, 'What is the value of $x$ if $3x + 4 = 19$?');
  assert.equal(ps[0]!.solution, 'Subtracting 4 gives $3x = 15$, so $x = \\boxed{5}$.');
  assert.equal(lastBoxed('a \\boxed{\\sqrt{x^{2}}} b'), '\\sqrt{x^{2}}');
  assert.equal(lastBoxed('so \\boxed 7.'), '7');
  assert.equal(lastBoxed('\\fbox{A} then \\boxed{B}'), 'B');
  assert.equal(lastBoxed('\\boxed{unclosed'), null);
  assert.equal(lastBoxed('\\boxedx{1}'), null);
  assert.equal(lastBoxed('none'), null);
});

test('MATH-500: answer field, subject, numeric level, unique_id; no final newline', () => {
  const r = loadProblems(fx('math500.jsonl'));
  const ps = clean(r);
  assert.equal(r.lines, 3);
  assert.deepEqual(ps.map((p) => p.id), ['test/number_theory/9001.json', 'test/algebra/9002.json', 'test/prealgebra/9003.json']);
  assert.deepEqual(ps.map((p) => p.answer), ['6', '5\\sqrt{2}', '15']);
  assert.deepEqual(ps[0]!.metadata, { level: 2, subject: 'Number Theory' });
  assert.equal(ps[1]!.prompt, 'Compute $\\sqrt{50}$ in simplest form.');
});

test('OlympiadBench: final_answer list kept, context prepended, metadata', () => {
  const ps = clean(loadProblems(fx('olympiadbench.jsonl')));
  assert.equal(ps.length, 3);
  const [a, b, c] = ps as [Problem, Problem, Problem];
  assert.equal(a.id, '9101');
  assert.deepEqual(a.answers, ['12']);
  assert.equal(a.answer, '12');
  assert.equal(a.solution, 'We need $n^2 \\equiv 44 \\pmod{100}$.\n\nChecking $n = 12$ gives $144$, which works.');
  assert.equal(a.prompt, 'Find the smallest positive integer $n$ such that $n^2$ ends in the digits 44 and $n > 10$.');
  assert.deepEqual(a.metadata, {
    isMultipleAnswer: false,
    answerType: 'Numerical',
    subject: 'Math',
    subfield: 'Number Theory',
    questionType: 'Open-ended',
    language: 'English',
    modality: 'Text-only',
  });
  assert.deepEqual(b.answers, ['$2$', '$3$']);
  assert.equal(b.answer, '$2$, $3$');
  assert.equal(b.metadata!.isMultipleAnswer, true);
  assert.equal(
    c.prompt,
    'A small cart of mass $2 \\mathrm{~kg}$ moves on a frictionless track.\n\nA constant force of $6 \\mathrm{~N}$ acts on the cart. Find its acceleration.',
  );
  assert.equal(c.metadata!.unit, 'm/s^2');
  assert.equal(c.metadata!.error, '1e-2');
  assert.equal(c.metadata!.subject, 'Physics');
});

test('HumanEval(+): prompt, entry point, canonical solution, check() tests', () => {
  const ps = clean(loadProblems(fx('humaneval.jsonl')));
  assert.equal(ps.length, 3);
  const p = ps[0]!;
  assert.equal(p.id, 'Toy/0');
  assert.equal(p.task, 'code');
  assert.equal(p.entryPoint, 'add_pair');
  assert.ok(p.prompt.startsWith('def add_pair(a: int, b: int) -> int:\n'));
  assert.equal(p.solution, '    return a + b\n');
  assert.deepEqual(p.tests, {
    kind: 'humaneval',
    entryPoint: 'add_pair',
    test: 'def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n',
  });
  assert.equal(p.metadata, undefined);
  assert.deepEqual(ps[2]!.metadata, { atol: 0 });
});

test('MBPP: text, code, test_list, setup code, challenge tests; sanitized prompt and imports', () => {
  const ps = clean(loadProblems(fx('mbpp.jsonl')));
  assert.equal(ps.length, 3);
  const p = ps[1]!;
  assert.equal(p.id, '9002');
  assert.equal(p.prompt, 'Write a function to count the vowels in a string.');
  assert.equal(p.solution, "def count_vowels(s):\n    return sum(ch in 'aeiou' for ch in s.lower())");
  assert.deepEqual(p.tests, {
    kind: 'mbpp',
    testList: ["assert count_vowels('hello') == 2", "assert count_vowels('xyz') == 0"],
    setupCode: "WORDS = ['tree', 'sky']",
    challengeTestList: ["assert count_vowels('AEIOU') == 5"],
  });
  assert.deepEqual(ps[0]!.tests, {
    kind: 'mbpp',
    testList: ['assert max_of_three(1, 2, 3) == 3', 'assert max_of_three(5, 2, 3) == 5', 'assert max_of_three(1, 9, 3) == 9'],
  });
  const s = clean(loadProblems(fx('mbpp-sanitized.jsonl')));
  assert.equal(s.length, 3);
  assert.equal(s[1]!.prompt, 'Write a function to compute the square root of a number rounded to 2 places.');
  assert.deepEqual(s[1]!.tests, { kind: 'mbpp', testList: ['assert math.isclose(root2(2), 1.41)'], imports: ['import math'] });
});

test('LiveCodeBench: JSON-string, list and compressed test cases; public first', () => {
  const ps = clean(loadProblems(fx('livecodebench.jsonl')));
  assert.equal(ps.length, 3);
  const [a, b, c] = ps as [Problem, Problem, Problem];
  assert.equal(a.id, 'toy001');
  assert.equal(a.prompt, 'Read a line containing a word and print it twice, separated by a space.');
  assert.deepEqual(a.tests, {
    kind: 'stdio',
    publicCount: 1,
    cases: [
      { input: 'cat\n', output: 'cat cat\n' },
      { input: 'dog\n', output: 'dog dog\n' },
      { input: 'a\n', output: 'a a\n' },
    ],
  });
  assert.deepEqual(a.metadata, { title: 'Toy Echo', platform: 'atcoder', contestId: 'toy1', contestDate: '2024-01-01T00:00:00', difficulty: 'easy' });
  assert.deepEqual(b.tests, { kind: 'stdio', publicCount: 1, cases: [{ input: '3 5\n', output: '5\n' }] });
  assert.deepEqual(c.tests, {
    kind: 'stdio',
    publicCount: 1,
    cases: [
      { input: '2\n10 20\n', output: '30\n' },
      { input: '3\n1 2 3\n', output: '6\n' },
      { input: '1\n-4\n', output: '-4\n' },
    ],
  });
});

test('pickled strings: protocol 2 and 5 as Python writes them; anything else refused', () => {
  // pickle.dumps("x", protocol=5) and protocol=2
  assert.equal(unpickleString(Buffer.from('80059505000000000000008c0178942e', 'hex')), 'x');
  assert.equal(unpickleString(Buffer.from('800258010000007871002e', 'hex')), 'x');
  assert.equal(unpickleString(Buffer.from('80058c0178942e00', 'hex')), null); // trailing byte
  assert.equal(unpickleString(Buffer.from('8005942e', 'hex')), null);
  assert.equal(unpickleString(Buffer.from('800258ff0000007871002e', 'hex')), null); // length past the end
  // base64(zlib(pickle(json))) from Python's pickle protocol 2, as a private_test_cases field
  const compressed = 'eJxrYIqwYGBgiK5WyswrKC1RslJQMozJU9JRUMovLYEKGEEESlKLS0oqC1JBQsUlKZl5SrWxhQx6AGF6Exw=';
  const f = tmpFile('lcb-p2.jsonl', [{ question_id: 'q', question_content: 'c', public_test_cases: '[]', private_test_cases: compressed }]);
  assert.deepEqual(clean(loadProblems(f))[0]!.tests, { kind: 'stdio', publicCount: 0, cases: [{ input: '1\n', output: '2\n' }] });
  // our own encoder agrees: PROTO 4, SHORT_BINUNICODE, MEMOIZE, STOP
  const text = JSON.stringify([{ input: 'a', output: 'b', testtype: 'stdin' }]);
  const pk = Buffer.concat([Buffer.from([0x80, 4, 0x8c, Buffer.byteLength(text)]), Buffer.from(text), Buffer.from([0x94, 0x2e])]);
  const g = tmpFile('lcb-p4.jsonl', [{ question_id: 'q', question_content: 'c', private_test_cases: deflateSync(pk).toString('base64') }]);
  assert.deepEqual(clean(loadProblems(g))[0]!.tests!, { kind: 'stdio', publicCount: 0, cases: [{ input: 'a', output: 'b' }] });
});

test('LiveCodeBench: functional tests and garbage test fields are rejected with line numbers', () => {
  const f = tmpFile('lcb-bad.jsonl', [
    { question_id: 'ok', question_content: 'c', public_test_cases: [{ input: '1', output: '1', testtype: 'stdin' }] },
    { question_id: 'fn', question_content: 'c', public_test_cases: [{ input: '[1]', output: '1', testtype: 'functional' }] },
    { question_id: 'junk', question_content: 'c', public_test_cases: 'not json at all!' },
    { question_id: 'none', question_content: 'c', public_test_cases: '[]', private_test_cases: '[]' },
  ]);
  const r = loadProblems(f);
  assert.deepEqual(r.problems.map((p) => p.id), ['ok']);
  assert.deepEqual(r.issues.map((i) => i.line), [2, 3, 4]);
  assert.match(r.issues[0]!.reason, /functional/);
  assert.match(r.issues[1]!.reason, /public_test_cases/);
  assert.match(r.issues[2]!.reason, /no test cases/);
});

test('simple stdio format', () => {
  const ps = clean(loadProblems(fx('stdio.jsonl')));
  assert.equal(ps.length, 3);
  assert.deepEqual(ps[0], {
    id: 's1',
    task: 'code',
    format: 'stdio',
    prompt: 'Print the number of characters in the input line.',
    tests: { kind: 'stdio', cases: [{ input: 'hello\n', output: '5\n' }, { input: '\n', output: '0\n' }] },
  });
});

test("leaf's mining format: math with response, HumanEval-style, assert-style and stdio code", () => {
  const ps = clean(loadProblems(fx('leaf-mining.jsonl')));
  assert.equal(ps.length, 5);
  const [m1, m2, c1, c2, c3] = ps as [Problem, Problem, Problem, Problem, Problem];
  assert.deepEqual(m1, {
    id: 'm1',
    task: 'math',
    format: 'leaf',
    prompt: 'What is 12 times 11?',
    answer: '132',
    response: '12 * 11 = 132, so the answer is \\boxed{132}.',
  });
  assert.equal(m2.answer, '1024');
  assert.equal(m2.response, undefined);
  assert.equal(c1.task, 'code');
  assert.equal(c1.entryPoint, 'triple');
  assert.deepEqual(c1.tests, { kind: 'humaneval', entryPoint: 'triple', test: 'def check(candidate):\n    assert candidate(2) == 6\n' });
  assert.equal(c1.response, '```python\ndef triple(x):\n    return 3 * x\n```');
  assert.deepEqual(c2.tests, { kind: 'mbpp', testList: ['assert is_odd(3)', 'assert not is_odd(4)'] });
  assert.deepEqual(c3.tests, { kind: 'stdio', cases: [{ input: '4\n', output: '8\n' }] });
  assert.deepEqual(c3.metadata, { source: 'toy' });
});

test('per-line validation: bad records skipped with FILE:LINE reasons, strict throws at the first', () => {
  const f = tmpFile('gsm-bad.jsonl', [
    { question: 'Q1?', answer: 'work\n#### 3' },
    '',
    { question: 'Q2?', answer: 'no final line' },
    '{"question": "Q3?", "answer": ',
    { question: 42, answer: '#### 1' },
    { answer: '#### 1' },
    '["a"]',
    { question: 'Q7?', answer: 'x\n#### 9' },
  ]);
  const warned: string[] = [];
  const r = loadProblems(f, { format: 'gsm8k', onIssue: (i) => warned.push(`${i.file}:${i.line}: ${i.reason}`) });
  assert.deepEqual(r.problems.map((p) => [p.id, p.answer]), [['gsm8k/0', '3'], ['gsm8k/6', '9']]);
  assert.equal(r.lines, 8);
  assert.equal(r.blank, 1);
  assert.equal(r.kept, 2);
  assert.equal(r.skipped, 5);
  assert.deepEqual(warned, [
    `${f}:3: field 'answer' has no final '#### <answer>' line and is not a bare number`,
    `${f}:4: ${r.issues[1]!.reason}`,
    `${f}:5: field 'question' must be a string, got a number`,
    `${f}:6: missing field 'question'`,
    `${f}:7: not a JSON object (got an array)`,
  ]);
  assert.match(r.issues[1]!.reason, /^invalid JSON/);
  assert.throws(
    () => loadProblems(f, { format: 'gsm8k', strict: true }),
    (e: unknown) => e instanceof LeafError && e.message === `${f}:3: field 'answer' has no final '#### <answer>' line and is not a bare number`,
  );
});

test('required fields per format are checked', () => {
  const cases: [string, object, RegExp][] = [
    ['math', { problem: 'p', solution: 'no box here' }, /no 'answer' field and no \\boxed\{\}/],
    ['olympiadbench', { question: 'q', final_answer: null }, /final_answer/],
    ['olympiadbench', { question: 'q', final_answer: [] }, /non-empty list/],
    ['humaneval', { task_id: 'T/1', prompt: 'def f():\n', entry_point: 'not valid', test: 'x' }, /Python identifier/],
    ['humaneval', { task_id: 'T/1', prompt: 'def f():\n', entry_point: 'f' }, /missing field 'test'/],
    ['mbpp', { task_id: 1, text: 't', test_list: [] }, /'test_list' is an empty list/],
    ['mbpp', { task_id: 1, test_list: ['assert 1'] }, /missing field 'text' \(or 'prompt'\)/],
    ['mbpp', { task_id: 1.5, text: 't', test_list: ['assert 1'] }, /task_id/],
    ['stdio', { id: 'x', prompt: 'p', tests: [{ input: 1, output: '2' }] }, /input must be a string/],
    ['leaf', { id: 'x', prompt: 'p' }, /needs 'answer' \(math\) or 'tests' \(code\)/],
    ['leaf', { id: 'x', prompt: 'p', answer: '1', tests: ['assert 1'] }, /both/],
    ['leaf', { id: 'x', prompt: 'p', tests: 'def check(c): pass' }, /missing field 'entry_point'/],
  ];
  cases.forEach(([format, rec, re], i) => {
    const f = tmpFile(`req-${i}.jsonl`, [rec]);
    assert.throws(
      () => loadProblems(f, { format: parseFormatName(format), strict: true }),
      (e: unknown) => e instanceof LeafError && e.message.startsWith(`${f}:1: `) && re.test(e.message),
      `${format} ${JSON.stringify(rec)}`,
    );
  });
});

test('duplicate ids are reported, not loaded twice', () => {
  const f = tmpFile('dup.jsonl', [
    { id: 'a', prompt: 'p', answer: '1' },
    { id: 'b', prompt: 'p', answer: '2' },
    { id: 'a', prompt: 'p', answer: '3' },
  ]);
  const r = loadProblems(f);
  assert.deepEqual(r.problems.map((p) => p.answer), ['1', '2']);
  assert.deepEqual(r.issues, [{ file: f, line: 3, reason: "duplicate id 'a' (first on line 1)" }]);
});

test('detection failure lists the known formats; detection skips leading blank/bad lines', () => {
  const f = tmpFile('unknown.jsonl', [{ foo: 1, bar: 2 }]);
  assert.throws(
    () => loadProblems(f),
    (e: unknown) =>
      e instanceof LeafError &&
      e.message.startsWith(`${f}:1: cannot tell the record format from the first record's keys (foo, bar)`) &&
      FORMAT_NAMES.every((n) => e.message.includes(`${n}:`)),
  );
  const g = tmpFile('lead.jsonl', ['', 'garbage', { problem: 'p', solution: '\\boxed{1}' }]);
  const r = loadProblems(g);
  assert.equal(r.format, 'math');
  assert.equal(r.kept, 1);
  assert.equal(r.problems[0]!.id, 'math/1'); // index among non-blank lines
  assert.equal(r.skipped, 1);
  const e = tmpFile('empty.jsonl', []);
  assert.throws(() => loadProblems(e), /no JSON object record found/);
  assert.equal(loadProblems(e, { format: 'gsm8k' }).kept, 0);
  assert.equal(detectFormat({ question: 'q', answer: 'a' }), 'gsm8k');
  assert.equal(detectFormat({ question: 'q', final_answer: ['1'] }), 'olympiadbench');
  assert.equal(detectFormat({ id: 1, prompt: 'p', tests: [{ input: '', output: '' }] }), 'stdio');
  assert.equal(detectFormat({ id: 1, prompt: 'p', tests: [{ input: '', output: '' }], response: 'r' }), 'leaf');
  assert.equal(detectFormat({ id: 1, prompt: 'p', answer: '3' }), 'leaf');
  assert.equal(detectFormat({ nothing: true }), null);
});

test('format names and aliases', () => {
  assert.equal(parseFormatName('MATH-500'), 'math');
  assert.equal(parseFormatName('HumanEval+'), 'humaneval');
  assert.equal(parseFormatName('lcb'), 'livecodebench');
  assert.throws(() => parseFormatName('aime'), /unknown format 'aime'; known formats: /);
});

test('limit loads the first N problems', () => {
  const r = loadProblems(fx('gsm8k.jsonl'), { limit: 2 });
  assert.equal(r.problems.length, 2);
  assert.equal(r.stoppedAtLimit, true);
});

test('buildInstruction: math and the code forms', () => {
  const gsm = loadProblems(fx('gsm8k.jsonl')).problems[0]!;
  assert.equal(
    buildInstruction(gsm),
    'A baker fills 6 trays with 7 rolls each. She sells 30 rolls. How many rolls are left?\n' +
      'Please reason step by step, and put your final answer within \\boxed{}.',
  );
  assert.equal(MATH_INSTRUCTION, 'Please reason step by step, and put your final answer within \\boxed{}.');

  const he = loadProblems(fx('humaneval.jsonl')).problems[0]!;
  const heText = buildInstruction(he);
  assert.ok(heText.startsWith('Complete the following Python function.'));
  assert.ok(heText.includes('Answer with a single ```python fenced code block.'));
  assert.ok(heText.endsWith(`\`\`\`python\n${he.prompt.trimEnd()}\n\`\`\``));

  const mb = loadProblems(fx('mbpp.jsonl')).problems[2]!;
  assert.equal(
    buildInstruction(mb),
    'Write a function to reverse a list.\nYour code should pass these tests:\n\nassert rev([1, 2, 3]) == [3, 2, 1]\n\n' +
      'Answer with a single ```python fenced code block.',
  );

  const io = loadProblems(fx('stdio.jsonl')).problems[1]!;
  const ioText = buildInstruction(io);
  assert.ok(ioText.startsWith('Read an integer n and print n squared.\n\n'));
  assert.match(ioText, /standard input/);
  assert.match(ioText, /```python fenced code block\.$/);

  const leafPs = loadProblems(fx('leaf-mining.jsonl')).problems;
  assert.ok(buildInstruction(leafPs[2]!).startsWith('Complete the following Python function.'));
  const nl: Problem = { id: 'n', task: 'code', format: 'leaf', prompt: 'Double a number.', tests: { kind: 'humaneval', test: 't', entryPoint: 'dbl' } };
  assert.equal(buildInstruction(nl), 'Double a number.\n\nWrite a Python function named `dbl`. Answer with a single ```python fenced code block.');
  assert.throws(() => buildInstruction({ id: 'x', task: 'code', format: 'leaf', prompt: 'p' }), LeafError);
});
