import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { CodePool, type CodeJob } from '../../../src/eval/code/index.js';
import { LeafError } from '../../../src/errors.js';

test('CodePool: default concurrency is the core count; bad values are LeafErrors', () => {
  assert.equal(new CodePool().concurrency, availableParallelism());
  assert.throws(() => new CodePool({ concurrency: 0 }), LeafError);
});

test('CodePool.map: never more than N at once, results in input order', async () => {
  const pool = new CodePool({ concurrency: 2 });
  let running = 0;
  let peak = 0;
  const delays = [60, 10, 40, 5, 30, 1];
  const out = await pool.map(delays, async (d, i) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, d));
    running--;
    return i * 10;
  });
  assert.deepEqual(out, [0, 10, 20, 30, 40, 50]);
  assert.equal(peak, 2);
});

test('CodePool.judgeAll: mixed forms run in parallel sandboxes, results in input order', async () => {
  const pool = new CodePool({ concurrency: 2, defaults: { timeoutMs: 15_000, memoryMb: 512 } });
  const sleepy = (v: number): string => `import time\ndef f():\n    time.sleep(1)\n    return ${v}\n`;
  const jobs: CodeJob[] = [
    { form: 'mbpp', problem: { test_list: ['assert f() == 0'] }, code: sleepy(0) },
    { form: 'mbpp', problem: { test_list: ['assert f() == 1'] }, code: sleepy(2) },
    { form: 'stdio', cases: [{ input: '5\n', output: '25\n' }], code: 'import time\ntime.sleep(1)\nn = int(input())\nprint(n * n)\n' },
    {
      form: 'humaneval',
      problem: { prompt: 'def sq(x):\n    """square"""\n', entry_point: 'sq', test: 'import time\ndef check(c):\n    time.sleep(1)\n    assert c(3) == 9\n' },
      code: '    return x * x\n',
    },
  ];
  // judgeAll must go through the bounded map (whose concurrency the test above checks exactly).
  const map = pool.map.bind(pool);
  let mapped = 0;
  pool.map = ((items, fn) => { mapped += items.length; return map(items, fn); }) as typeof pool.map;
  const t0 = performance.now();
  const res = await pool.judgeAll(jobs);
  const wall = performance.now() - t0;
  assert.deepEqual(
    res.map((r) => r.status),
    ['passed', 'failed', 'passed', 'passed'],
    res.map((r) => r.reason).join(' | '),
  );
  assert.equal(mapped, jobs.length);
  // Four 1-second jobs on two slots take at least 2 s (never more than two at once). No upper bound on the
  // wall time: how much two sandboxes overlap depends on the machine's load, not on the pool.
  assert.ok(wall >= 1900, `took ${wall} ms`);
});
