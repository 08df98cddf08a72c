import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractCode } from '../../../src/eval/code/index.js';

test('extractCode: last ```python block wins over other fenced blocks', () => {
  const r = [
    'Here is a sketch:',
    '```python',
    'def f(): return 1',
    '```',
    'Shell:',
    '```bash',
    'echo hi',
    '```',
    'Final:',
    '```python',
    'def f():',
    '    return 2',
    '```',
    'Done.',
  ].join('\n');
  assert.equal(extractCode(r), 'def f():\n    return 2\n');
});

test('extractCode: py / Python3 tags count as python', () => {
  assert.equal(extractCode('```py\nx = 1\n```\n```text\nhello\n```'), 'x = 1\n');
  assert.equal(extractCode('```Python3\nx = 2\n```'), 'x = 2\n');
});

test('extractCode: falls back to the last fenced block of any language', () => {
  assert.equal(extractCode('a\n```\nprint(1)\n```\nb\n```js\nconsole.log(2)\n```\n'), 'console.log(2)\n');
});

test('extractCode: raw text when there is no fence', () => {
  assert.equal(extractCode('def f():\n    return 3'), 'def f():\n    return 3\n');
  assert.equal(extractCode('x = "```"'), 'x = "```"\n');
});

test('extractCode: an unterminated final block runs to the end; indented fences are dedented', () => {
  assert.equal(extractCode('Answer:\n```python\ndef g():\n    return 4'), 'def g():\n    return 4\n');
  assert.equal(extractCode('1. code:\n   ```python\n   def h():\n       return 5\n   ```\n'), 'def h():\n    return 5\n');
  assert.equal(extractCode('```python\r\nx = 1\r\n```\r\n'), 'x = 1\n');
});
