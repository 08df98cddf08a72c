import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildInstruction, loadProblems } from '../../src/eval/formats/index.js';
import { goldenDir, repoRoot } from '../helpers/paths.js';
import { makeConstantResponder } from '../helpers/tiny-pretrained.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const fixture = (f: string) => join(repoRoot, 'test', 'fixtures', 'eval', f);
function leaf(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('leaf generate and leaf eval on tiny trained models', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-e2e-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('math: a model that always answers \\boxed{12} is right exactly on the problems whose answer is 12', () => {
    const data = fixture('gsm8k.jsonl');
    const problems = loadProblems(data).problems;
    const model = join(dir, 'math');
    makeConstantResponder(model, problems.map(buildInstruction), 'So the answer is \\boxed{12}.');
    const g = leaf('generate', '--model', model, '--chat', '--prompt', buildInstruction(problems[0]), '--max-new-tokens', '40');
    assert.equal(g.code, 0, g.err);
    assert.equal(g.out, 'So the answer is \\boxed{12}.\n');
    const stop = leaf('generate', '--model', model, '--chat', '--prompt', buildInstruction(problems[0]), '--stop', 'answer');
    assert.equal(stop.out, 'So the \n');

    const out = join(dir, 'math-eval');
    const e = leaf('eval', '--model', model, '--data', data, '--task', 'math', '--out', out, '--batch-size', '3', '--max-new-tokens', '40');
    assert.equal(e.code, 0, e.err);
    const expected = problems.map((p) => p.answer === '12'); // hand-checked: the baker problem (42 − 30 = 12)
    assert.ok(expected.some(Boolean) && !expected.every(Boolean));
    const rows = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.correct), expected);
    assert.ok(rows.every((r) => r.extracted === '12' && r.response === 'So the answer is \\boxed{12}.'));
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(s.result.correct, expected.filter(Boolean).length);
    assert.equal(s.result.total, problems.length);
    assert.match(e.out, /^accuracy \d+\.\d% \(\d+\/\d+\), 95% CI/);
  });

  it('code: a model that always writes add_pair passes exactly the add_pair problem', () => {
    const data = fixture('humaneval.jsonl');
    const problems = loadProblems(data).problems;
    const model = join(dir, 'code');
    makeConstantResponder(model, problems.map(buildInstruction), '```python\ndef add_pair(a, b):\n    return a + b\n```', 2);
    const out = join(dir, 'code-eval');
    const e = leaf('eval', '--model', model, '--data', data, '--out', out, '--max-new-tokens', '60', '--workers', '2');
    assert.equal(e.code, 0, e.err);
    const rows = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.correct), problems.map((p) => p.entryPoint === 'add_pair'));
    assert.match(e.out, /^pass@1 /);
  });

  // A model whose wrong solution ends the process before the harness runs the checks: without the
  // harness's completion token every problem would count as passed (exit status 0).
  for (const c of [
    { file: 'humaneval.jsonl', response: '```python\ndef add_pair(a, b):\n    return 0\nimport sys\nsys.exit(0)\n```' },
    { file: 'mbpp.jsonl', response: '```python\ndef rev(xs):\n    return xs\nimport os\nos._exit(0)\n```' },
  ]) {
    it(`code: ${c.file}: a wrong solution that exits early passes nothing (eval --task code)`, () => {
      const data = fixture(c.file);
      const problems = loadProblems(data).problems;
      const model = join(dir, `exit-${c.file}`);
      makeConstantResponder(model, problems.map(buildInstruction), c.response, 4);
      const out = join(dir, `exit-${c.file}-eval`);
      const e = leaf('eval', '--model', model, '--data', data, '--out', out, '--task', 'code', '--max-new-tokens', '60', '--workers', '2');
      assert.equal(e.code, 0, e.err);
      const rows = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(rows.length, problems.length);
      assert.deepEqual(rows.map((r) => r.correct), problems.map(() => false), JSON.stringify(rows.map((r) => r.reason)));
      assert.match(e.out, /^pass@1 0\.0% /);
      const sandbox = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).sandbox;
      assert.equal(sandbox.tier, 'namespaces');
      assert.equal(sandbox.minimalRoot, true);
      assert.equal(sandbox.warning, null);
    });
  }

  // One tiny model per format, trained to give one fixed response to every problem of the file; the verdicts
  // are checked by hand against each fixture (which problem that response solves).
  const perFormat: Array<{ file: string; response: string; expected: boolean[]; why: string }> = [
    { file: 'math.jsonl', response: 'Thus \\boxed{\\frac{3}{6}}.', expected: [false, true, false], why: '3/6 = 1/2 (math/1)' },
    { file: 'math500.jsonl', response: 'Thus \\boxed{\\sqrt{50}}.', expected: [false, true, false], why: '√50 = 5√2' },
    { file: 'olympiadbench.jsonl', response: 'Thus \\boxed{3, 2}.', expected: [false, true, false], why: 'roots {2, 3} in any order' },
    { file: 'mbpp.jsonl', response: '```python\ndef rev(xs):\n    return xs[::-1]\n```', expected: [false, false, true], why: 'only rev exists' },
    { file: 'stdio.jsonl', response: '```python\nn = int(input())\nprint(n * n)\n```', expected: [false, true, false], why: 'squares an integer' },
    { file: 'livecodebench.jsonl', response: '```python\na, b = map(int, input().split())\nprint(max(a, b))\n```', expected: [false, true, false], why: 'max of two integers' },
  ];
  for (const c of perFormat) {
    it(`${c.file}: verdicts as hand-checked (${c.why})`, () => {
      const data = fixture(c.file);
      const problems = loadProblems(data).problems;
      const model = join(dir, c.file);
      makeConstantResponder(model, problems.map(buildInstruction), c.response, 3);
      const out = join(dir, `${c.file}-eval`);
      const e = leaf('eval', '--model', model, '--data', data, '--out', out, '--max-new-tokens', '60', '--workers', '2');
      assert.equal(e.code, 0, e.err);
      const rows = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(rows.map((r) => r.correct), c.expected, JSON.stringify(rows.map((r) => [r.extracted, r.reason])));
    });
  }

  it('eval --resume with another model or data is refused in one line, the records untouched', () => {
    const data = fixture('gsm8k.jsonl');
    const problems = loadProblems(data).problems;
    const a = join(dir, 'resume-a'), b = join(dir, 'resume-b');
    makeConstantResponder(a, problems.map(buildInstruction), 'So the answer is \\boxed{12}.');
    makeConstantResponder(b, problems.map(buildInstruction), 'So the answer is \\boxed{7}.', 2);
    const out = join(dir, 'resume-eval');
    assert.equal(leaf('eval', '--model', a, '--data', data, '--out', out, '--limit', '2', '--max-new-tokens', '40').code, 0);
    const results = readFileSync(join(out, 'results.jsonl'), 'utf8');
    for (const [args, what] of [[['--model', b, '--data', data], 'model'], [['--model', a, '--data', data, '--max-new-tokens', '8'], 'maxNewTokens']] as const) {
      const r = leaf('eval', ...args, '--out', out, '--resume', ...(args.includes('--max-new-tokens') ? [] : ['--max-new-tokens', '40']));
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, new RegExp(`^leaf: .*run\\.json: --resume with a different ${what} `));
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
    }
    assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8'), results);
    const ok = leaf('eval', '--model', a, '--data', data, '--out', out, '--resume', '--max-new-tokens', '40', '--workers', '2');
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.err, /^leaf: warning: --workers only applies to code problems \(the sandbox workers\); ignored$/m);
  });

  it('errors are one line: missing tokenizer', () => {
    const r = leaf('generate', '--model', join(goldenDir, 'llama-gqa-f32'), '--prompt', 'hi');
    assert.equal(r.code, 1);
    assert.match(r.err, /^leaf: .*tokenizer\.json: missing/);
    assert.equal(r.err.trim().split('\n').length, 1);
  });
});
