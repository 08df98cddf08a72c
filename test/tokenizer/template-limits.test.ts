import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeafError } from '../../src/errors.js';
import { ChatRenderer } from '../../src/tokenizer/index.js';
import { fixturePath } from '../helpers/fixtures.js';
import { LeafTokenizer } from '../../src/tokenizer/index.js';

const user = [{ role: 'user', content: 'hello' }];
function renderer(template: string): ChatRenderer {
  return new ChatRenderer({ default: template, named: {} }, {}, 'inline');
}

/** Renders and returns the error, the time it took and how much the heap grew. */
function failure(template: string): { message: string; ms: number; heapMiB: number } {
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = Date.now();
  let message = '';
  try {
    renderer(template).renderText(user);
  } catch (e) {
    assert.ok(e instanceof LeafError, String(e));
    message = e.message;
  }
  return { message, ms: Date.now() - t0, heapMiB: (process.memoryUsage().heapUsed - heap0) / 2 ** 20 };
}

test('a looping chat template is a one-line error in bounded time and memory (it aborted after 73 s and 5.3 GB)', () => {
  const huge = failure('{% for i in range(100000000) %}x{% endfor %}');
  assert.equal(huge.message, 'inline: chat template "default" asked range() for 100000000 items (the limit is 100000)');
  // Nested ranges under the cap: the step budget stops it.
  const nested = failure('{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}');
  assert.equal(nested.message, 'inline: chat template "default" took more than 250000 steps (a loop without end?)');
  assert.ok(nested.ms < 20_000, `${nested.ms} ms`);
  // A value that doubles: stopped at twice the size cap.
  const doubling = failure('{% set ns = namespace(s="xxxxxxxx") %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}');
  assert.match(doubling.message, /^inline: chat template "default" made a value of 33554432 characters \(the limit is 16777216\)$/);
  const lists = failure('{% set ns = namespace(a=[1]) %}{% for i in range(64) %}{% set ns.a = ns.a + ns.a %}{% endfor %}{{ ns.a | length }}');
  assert.equal(lists.message, 'inline: chat template "default" took more than 250000 steps (a loop without end?)'); // lists made are charged per item
  for (const r of [huge, nested, doubling, lists]) assert.ok(!r.message.includes('\n') && r.heapMiB < 512, JSON.stringify(r));
});

test('ordinary templates render as before, with range() as Python (negative steps, empty ranges)', () => {
  const r = renderer('{% for i in range(3) %}{{ i }}{% endfor %}|{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}|{% for i in range(2, 2) %}{{ i }}{% endfor %}|{{ range(100000) | length }}');
  assert.equal(r.renderText(user), '012|531||100000');
  // A real template (Qwen2's ChatML) with a long conversation stays far inside the budget.
  const tok = LeafTokenizer.load(fixturePath('tokenizers/qwen2-bytelevel'));
  const messages = Array.from({ length: 2000 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `message ${i}` }));
  assert.ok(tok.renderChatText(messages).endsWith('message 1999<|im_end|>\n'));
});
