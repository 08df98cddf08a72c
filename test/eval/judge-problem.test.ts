import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodePool } from '../../src/eval/code/index.js';
import { parseLeaf } from '../../src/eval/formats/leaf.js';
import { codeJob, judgeResponse } from '../../src/eval/judge-problem.js';

const check = 'def check(candidate):\n    assert candidate(2) == 6\n    assert candidate(-1) == -3\n';

test('leaf format, natural-language prompt with check() tests: a full solution is the whole program', async () => {
  const p = parseLeaf({ id: 'nl', prompt: 'Write a function triple(x) that returns three times x.', entry_point: 'triple', tests: check });
  const job = codeJob(p, 'def triple(x):\n    return 3 * x\n');
  assert.equal(job.form, 'humaneval');
  assert.equal(job.form === 'humaneval' && job.problem.prompt, '');
  const pool = new CodePool({ concurrency: 1 });
  const right = await judgeResponse(p, '```python\ndef triple(x):\n    return 3 * x\n```', pool);
  assert.equal(right.correct, true, right.reason);
  const wrong = await judgeResponse(p, '```python\ndef triple(x):\n    return 2 * x\n```', pool);
  assert.equal(wrong.correct, false);
  assert.equal(wrong.detail, 'failed');
});

test('leaf format with a code prompt: a bare continuation still follows the prompt', () => {
  const p = parseLeaf({ id: 'c', prompt: 'def triple(x):\n    """Return 3 * x."""\n', entry_point: 'triple', tests: check });
  const job = codeJob(p, '    return 3 * x\n');
  assert.equal(job.form === 'humaneval' && job.problem.prompt, p.prompt);
});
