/**
 * The demo's work graph (demo/pool.ts): a task starts only after the tasks it comes after, the ready task
 * of highest priority first; a graph with a repeated label, an unknown dependency or a cycle is refused;
 * a failing worker fails the graph with its log path and no later task starts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { JobResult } from '../../src/demo/jobs.js';
import { checkGraph, runGraph, type Task } from '../../src/demo/pool.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-pool-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A task whose result is at hand (nothing runs); its start is recorded in `order`. */
function reused(label: string, order: string[], o: { after?: string[]; priority?: number | (() => number) } = {}): Task {
  return { label, ...o, start: () => (order.push(label), { reused: { eval: {} } as JobResult }) };
}

describe('demo work graph', () => {
  test('dependencies first, then the highest priority among the ready tasks; progress counts every task', async () => {
    for (const concurrency of [1, 2]) {
      const order: string[] = [];
      let boost = 0;
      const tasks = [
        reused('low', order, { priority: 1 }),
        reused('needs-a', order, { after: ['a'], priority: 100 }),
        reused('a', order, { priority: 5 }),
        reused('dynamic', order, { priority: () => boost }),
        { ...reused('b', order, { after: ['needs-a'], priority: 50 }), done: () => { boost = 1000; } },
      ];
      // A priority function is read only once its task is ready (here: after 'a' finished).
      const readEarly: string[] = [];
      tasks.push(reused('after-a', order, { after: ['a'], priority: () => (order.includes('a') || readEarly.push('after-a'), -1) }));
      const seen: number[] = [];
      const results = await runGraph(tasks, concurrency, join(tmp, `jobs${concurrency}`), (p) => seen.push(p.done));
      assert.equal(results.size, 6);
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(readEarly, []);
      assert.ok(order.indexOf('a') < order.indexOf('needs-a') && order.indexOf('needs-a') < order.indexOf('b'), order.join(' '));
      if (concurrency === 1) assert.deepEqual(order, ['a', 'needs-a', 'b', 'dynamic', 'low', 'after-a']);
    }
  });

  test('a repeated label, an unknown dependency and a cycle are refused, naming the task', () => {
    const none: string[] = [];
    assert.throws(() => checkGraph([reused('x', none), reused('x', none)]), /task x appears twice/);
    assert.throws(() => checkGraph([reused('x', none, { after: ['y'] })]), /task x comes after y, which is not in the graph/);
    assert.throws(() => checkGraph([reused('x', none, { after: ['y'] }), reused('y', none, { after: ['x'] })]), /depends on itself/);
    assert.doesNotThrow(() => checkGraph([reused('x', none), reused('y', none, { after: ['x'] })]));
  });

  test('a failing worker fails the graph with its log path, and nothing after it starts', async () => {
    const order: string[] = [];
    const tasks: Task[] = [
      { label: 'bad', priority: 10, start: () => (order.push('bad'), { kind: 'evaluate', label: 'bad', modelDir: join(tmp, 'no-such-model'), evaluate: [] }) },
      reused('later', order, { after: ['bad'] }),
    ];
    await assert.rejects(runGraph(tasks, 2, join(tmp, 'jobs-fail')), (e: Error) => /demo job bad failed: .*no-such-model.*\(log: .*bad\.log\)/.test(e.message));
    assert.deepEqual(order, ['bad']);
  });
});
