import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  extractCode,
  humanEvalProgram,
  judgeHumanEval,
  judgeMbpp,
  judgeStdio,
  normalizeOutput,
  type HumanEvalProblem,
  type MbppProblem,
} from '../../../src/eval/code/index.js';
import { LeafError } from '../../../src/errors.js';

const opts = { timeoutMs: 15_000, memoryMb: 512 };

const HE: HumanEvalProblem = {
  task_id: 'HumanEval/0',
  prompt: [
    'from typing import List',
    '',
    '',
    'def has_close_elements(numbers: List[float], threshold: float) -> bool:',
    '    """ Check if in given list of numbers, are any two numbers closer to each other than',
    '    given threshold.',
    '    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)',
    '    False',
    '    """',
    '',
  ].join('\n'),
  entry_point: 'has_close_elements',
  test: [
    "METADATA = {'author': 'jt', 'dataset': 'test'}",
    '',
    '',
    'def check(candidate):',
    '    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True',
    '    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) == False',
    '    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True',
    '    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 1.0) == True',
    '    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 0.5) == False',
    '',
  ].join('\n'),
};

const CONTINUATION = [
  '    for i, a in enumerate(numbers):',
  '        for j, b in enumerate(numbers):',
  '            if i != j and abs(a - b) < threshold:',
  '                return True',
  '    return False',
  '',
].join('\n');

/** EvalPlus-style test: inputs/results tables and an assertion helper. */
const HE_PLUS: HumanEvalProblem = {
  task_id: 'HumanEval/53',
  prompt: 'def add(x: int, y: int):\n    """Add two numbers x and y"""\n',
  entry_point: 'add',
  test: [
    'import math',
    'def assertion(out, exp, atol):',
    '    if atol == 0:',
    '        assert out == exp, f"{out} != {exp}"',
    '    else:',
    '        assert math.isclose(out, exp, abs_tol=atol)',
    'def check(candidate):',
    '    inputs = [[0, 1], [1, 0], [5, 7], [-3, 3], [10**18, 1]]',
    '    results = [1, 1, 12, 0, 10**18 + 1]',
    '    for i, (inp, exp) in enumerate(zip(inputs, results)):',
    '        assertion(candidate(*inp), exp, 0)',
  ].join('\n'),
};

test('HumanEval: a correct continuation passes', async () => {
  const r = await judgeHumanEval(HE, CONTINUATION, opts);
  assert.equal(r.status, 'passed', r.reason + r.errorTail);
  assert.equal(r.reason, '');
});

test('HumanEval: a full solution from a chat response (extractCode) passes', async () => {
  const response = [
    'Sure! Here is the solution:',
    '```python',
    'from typing import List',
    '',
    'def has_close_elements(numbers: List[float], threshold: float) -> bool:',
    '    s = sorted(numbers)',
    '    return any(b - a < threshold for a, b in zip(s, s[1:]))',
    '```',
  ].join('\n');
  const code = extractCode(response);
  const program = humanEvalProgram(HE, code);
  assert.ok(program.indexOf(HE.prompt) < program.indexOf('s = sorted'), 'prompt first, solution after');
  assert.ok(program.trimEnd().endsWith('check(has_close_elements)'));
  const r = await judgeHumanEval(HE, code, opts);
  assert.equal(r.status, 'passed', r.reason + r.errorTail);
});

test('HumanEval: a wrong solution fails with the failing assertion as reason', async () => {
  const r = await judgeHumanEval(HE, '    return False\n', opts);
  assert.equal(r.status, 'failed');
  assert.match(r.reason, /^AssertionError at line \d+: assert candidate\(\[1\.0, 2\.0, 3\.9/);
  assert.match(r.errorTail, /Traceback/);
});

test('HumanEval: syntax errors and runtime errors are crashes, named in the reason', async () => {
  const syn = await judgeHumanEval(HE, '    return (\n', opts);
  assert.equal(syn.status, 'crashed');
  assert.match(syn.reason, /SyntaxError/);
  const rt = await judgeHumanEval(HE, '    return numbers[100]\n', opts);
  assert.equal(rt.status, 'crashed');
  assert.match(rt.reason, /^IndexError: list index out of range at line \d+: return numbers\[100\]/);
});

test('HumanEval (EvalPlus form): pass and fail', async () => {
  const ok = await judgeHumanEval(HE_PLUS, '    return x + y\n', opts);
  assert.equal(ok.status, 'passed', ok.reason + ok.errorTail);
  const bad = await judgeHumanEval(HE_PLUS, 'def add(x, y):\n    return x + y if x < 10**9 else 0\n', opts);
  assert.equal(bad.status, 'failed');
  assert.match(bad.reason, /AssertionError: 0 != 1000000000000000001/);
});

test('HumanEval: an invalid entry_point is a LeafError', async () => {
  await assert.rejects(judgeHumanEval({ ...HE, entry_point: 'x); import os; (' }, '', opts), LeafError);
});

const MBPP: MbppProblem = {
  task_id: 2,
  test_setup_code: 'OFFSET = 0',
  test_imports: ['import math'],
  test_list: [
    'assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)',
    'assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)',
    'assert similar_elements((11, 12, 14, 13),(17, 15, 14, 13)) == (13, 14)',
  ],
};

test('MBPP: a correct solution passes (setup code and imports are in scope)', async () => {
  const code = 'def similar_elements(a, b):\n    assert OFFSET == 0 and math.pi > 3\n    return tuple(sorted(set(a) & set(b)))\n';
  const r = await judgeMbpp(MBPP, code, opts);
  assert.equal(r.status, 'passed', r.reason + r.errorTail);
});

test('MBPP: a wrong solution fails and the reason names the failing assert line', async () => {
  const code = 'def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b)))[:2] if a[0] < 5 else ()\n';
  const r = await judgeMbpp(MBPP, code, opts);
  assert.equal(r.status, 'failed');
  assert.match(r.reason, /assert similar_elements\(\(11, 12, 14, 13\)/);
  const missing = await judgeMbpp(MBPP, 'def other(): pass\n', opts);
  assert.equal(missing.status, 'crashed');
  assert.match(missing.reason, /NameError: name 'similar_elements' is not defined/);
});

// A wrong solution that ends the process before the checks run: exit status 0, no assertion ever fails.
const EXITS: Array<[string, string]> = [
  ['exit()', 'exit()'],
  ['quit()', 'quit()'],
  ['sys.exit(0)', 'import sys\nsys.exit(0)'],
  ['raise SystemExit', 'raise SystemExit'],
  ['os._exit(0)', 'import os\nos._exit(0)'],
  ['if __name__ == "__main__": sys.exit(0)', 'import sys\nif __name__ == "__main__":\n    sys.exit(0)'],
];

for (const [name, exit] of EXITS) {
  test(`a wrong solution followed by ${name} fails (HumanEval and MBPP)`, async () => {
    const he = await judgeHumanEval(HE, `def has_close_elements(numbers, threshold):\n    return False\n\n${exit}\n`, opts);
    assert.equal(he.status, 'failed', `HumanEval: ${he.reason}`);
    assert.match(he.reason, /exited before the tests finished/);
    const mbpp = await judgeMbpp(MBPP, `def similar_elements(a, b):\n    return ()\n\n${exit}\n`, opts);
    assert.equal(mbpp.status, 'failed', `MBPP: ${mbpp.reason}`);
    assert.match(mbpp.reason, /exited before the tests finished/);
  });
}

test('a right solution that defines but never calls sys.exit passes, and the completion token is not in errorTail', async () => {
  const code = 'import sys\ndef similar_elements(a, b):\n    if a is None:\n        sys.exit(0)\n    return tuple(sorted(set(a) & set(b)))\n';
  const r = await judgeMbpp(MBPP, code, opts);
  assert.equal(r.status, 'passed', r.reason + r.errorTail);
  assert.doesNotMatch(r.errorTail, /leaf-checks-completed/);
});

test('normalizeOutput: trailing whitespace per line, CRLF and trailing blank lines', () => {
  assert.equal(normalizeOutput('1 2  \r\n3\t\n\n\n'), '1 2\n3');
  assert.equal(normalizeOutput('  a\n b '), '  a\n b');
});

const SUM = 'import sys\ndata = sys.stdin.read().split()\nn = int(data[0])\nprint(sum(map(int, data[1:1 + n])))\n';

test('stdio: correct program passes every case (trailing whitespace ignored)', async () => {
  const cases = [
    { input: '3\n1 2 3\n', output: '6\n' },
    { input: '1\n-5\n', output: '-5   \n\n' },
    { input: '0\n', output: '0' },
  ];
  const r = await judgeStdio(SUM, cases, opts);
  assert.equal(r.status, 'passed', r.reason + r.errorTail);
  assert.equal(r.passedCases, 3);
  assert.equal(r.totalCases, 3);
});

test('stdio: wrong answer names the case and the first differing line', async () => {
  const cases = [
    { input: '2\n1 1\n', output: '2\n' },
    { input: '2\n1 2\n', output: '4\n' },
    { input: '1\n1\n', output: '1\n' },
  ];
  const r = await judgeStdio(SUM, cases, opts);
  assert.equal(r.status, 'failed');
  assert.equal(r.reason, 'case 2/3: wrong answer: line 1: expected "4", got "3"');
  assert.equal(r.passedCases, 1);
  const all = await judgeStdio(SUM, cases, { ...opts, stopOnFailure: false });
  assert.equal(all.passedCases, 2);
  assert.match(all.reason, /^case 2\/3/);
});

test('stdio: runtime error and timeout on a case', async () => {
  const crash = await judgeStdio(SUM, [{ input: '', output: '0\n' }], opts);
  assert.equal(crash.status, 'crashed');
  assert.match(crash.reason, /^case 1\/1: IndexError/);
  const slow = 'import sys\nn = int(sys.stdin.read())\nwhile n: pass\nprint(0)\n';
  const to = await judgeStdio(slow, [{ input: '0', output: '0' }, { input: '1', output: '0' }], { ...opts, timeoutMs: 1500 });
  assert.equal(to.status, 'timeout');
  assert.match(to.reason, /^case 2\/2: (wall-clock|CPU) time limit/);
  assert.equal(to.passedCases, 1);
});
