import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadProblems } from '../../src/eval/formats/index.js';
import { runEval, type EvalProgress, type ResponseGenerator } from '../../src/eval/runner.js';
import { repoRoot } from '../helpers/paths.js';
import { assertProgress } from '../helpers/progress.js';

const fixture = (f: string) => join(repoRoot, 'test', 'fixtures', 'eval', f);

/** A stand-in model that answers from the reference, right for every problem whose index is in `right`. */
function oracle(file: string, right: (i: number) => boolean, task: 'math' | 'code'): ResponseGenerator & { calls: number } {
  const problems = loadProblems(file).problems;
  const byPrompt = new Map<string, number>();
  let calls = 0;
  return {
    description: 'oracle',
    get calls() { return calls; },
    generate(instructions) {
      calls += instructions.length;
      return instructions.map((ins) => {
        const i = problems.findIndex((p) => ins.includes(p.prompt.trim().slice(0, 40)));
        byPrompt.set(ins, i);
        const p = problems[i];
        if (task === 'math') return right(i) ? `Reasoning... so the answer is \\boxed{${p.answer}}.` : 'I think it is \\boxed{-999}.';
        const body = right(i) ? p.solution ?? '' : '    return None\n';
        return p.tests?.kind === 'humaneval' ? '```python\n' + p.prompt + body + '```' : '```python\n' + body + '```';
      });
    },
  } as ResponseGenerator & { calls: number };
}

describe('leaf eval runner', () => {
  it('math: accuracy, Wilson interval, per-sample records, resume after a kill', async () => {
    const out = mkdtempSync(join(tmpdir(), 'leaf-eval-'));
    try {
      const data = fixture('gsm8k.jsonl');
      const n = loadProblems(data).problems.length;
      const right = (i: number) => i % 2 === 0;
      const events: EvalProgress[] = [];
      const s = await runEval(oracle(data, right, 'math'), { data, out, batchSize: 2, onProgress: (p) => events.push({ ...p }) });
      const expectCorrect = Array.from({ length: n }, (_, i) => right(i)).filter(Boolean).length;
      assert.equal(assertProgress(events, 'eval').at(-1)!.correct, expectCorrect);
      assert.equal(events[0].total, n);
      assert.equal(s.result.total, n);
      assert.equal(s.result.correct, expectCorrect);
      assert.ok(s.result.lower < s.result.accuracy && s.result.accuracy < s.result.upper);
      const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines.length, n);
      assert.equal(lines[0].correct, true);
      assert.equal(lines[1].extracted, '-999');
      assert.match(lines[0].prompt, /Please reason step by step, and put your final answer within \\boxed\{\}\./);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      assert.equal(summary.result.correct, expectCorrect);

      // Simulate a kill: drop the last two records and leave half a line; --resume regenerates only those.
      const full = readFileSync(join(out, 'results.jsonl'), 'utf8');
      const keep = full.trim().split('\n').slice(0, n - 2).join('\n') + '\n';
      rmSync(join(out, 'results.jsonl'));
      appendFileSync(join(out, 'results.jsonl'), keep + '{"id": "half');
      const g = oracle(data, right, 'math');
      await assert.rejects(runEval(g, { data, out, batchSize: 2 }), /--resume/);
      const s2 = await runEval(g, { data, out, batchSize: 2, resume: true });
      assert.equal(g.calls, 2);
      assert.equal(s2.result.correct, expectCorrect);
      assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8'), full);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('code: pass@1 through the sandbox', async () => {
    const out = mkdtempSync(join(tmpdir(), 'leaf-eval-'));
    try {
      const data = fixture('humaneval.jsonl');
      const n = loadProblems(data).problems.length;
      const s = await runEval(oracle(data, (i) => i !== 1, 'code'), { data, out, batchSize: 4, workers: 2 });
      assert.equal(s.metric, 'pass@1');
      assert.equal(s.result.total, n);
      assert.equal(s.result.correct, n - 1);
      const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines[1].correct, false);
      assert.notEqual(lines[1].detail, 'passed');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
