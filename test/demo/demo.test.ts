/**
 * `leaf demo` end to end with the seconds-long QUICK_RECIPE (tiny, barely trained models: the numbers mean
 * nothing; the test checks the plumbing): every output is written, all runs have equal steps, the tables
 * agree with the per-seed results, the summary's verdict matches its numbers, models are reused on a rerun,
 * and the CLI prints the tables.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runDemo, verdictText, type DemoSummary } from '../../src/demo/demo.js';
import { QUICK_RECIPE } from '../../src/demo/recipes.js';
import { meanStd } from '../../src/eval/stats.js';
import { repoRoot } from '../helpers/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-demo-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('leaf demo (quick recipe)', () => {
  let first: DemoSummary;

  test('writes data, models, mining outputs, runs, summary.json and report.html; equal steps; consistent tables', async () => {
    const out = join(tmp, 'a');
    first = await runDemo({ out, seeds: 2, recipe: QUICK_RECIPE, concurrency: 2 });
    for (const f of ['data/train.jsonl', 'data/validation.jsonl', 'data/test.jsonl', 'models/teacher/model.safetensors', 'models/student/config.json',
      'mined/gradient/scores.jsonl', 'mined/random/summary.json', 'mined/ppl/summary.json', 'mined/gradient-response/summary.json',
      'runs/kd-seed1/metrics.jsonl', 'runs/leaf-instr-seed2/model/config.json', 'runs/leaf-instr-resp-seed1/metrics.jsonl', 'runs/leaf-instr-q0.05-seed1/metrics.jsonl',
      'summary.json', 'report.html']) {
      assert.ok(existsSync(join(out, f)), f);
    }
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as DemoSummary;
    assert.deepEqual(s.seeds, [1, 2]);
    assert.equal(s.models.teacher.reused, false);
    assert.deepEqual(s.accuracy.map((r) => r.model), ['student (before)', 'student, KD (no masking)', 'student, LeaF instr', 'student, LeaF instr+resp', 'teacher']);
    for (const r of s.accuracy) {
      const m = meanStd(r.values);
      assert.equal(r.stats.mean, m.mean);
      assert.equal(r.stats.std, m.std);
    }
    // Every distillation run trained for the same number of optimizer steps.
    const steps = Object.values(s.distill.runs).flat().map((r) => r.steps);
    assert.equal(steps.length, 6);
    assert.ok(steps.every((x) => x === s.distill.steps), JSON.stringify(steps));
    for (const line of readFileSync(join(out, 'runs/kd-seed1/metrics.jsonl'), 'utf8').trim().split('\n').slice(-1)) assert.equal(JSON.parse(line).step, s.distill.steps);
    // The paired protocol: steps planned over the originals; each epoch every run visits every original once
    // and a LeaF run every (paired) counterfactual once on top; at each seed the first step starts from the
    // same student on the same original batch, so its KD-on-originals term agrees (up to padding rounding).
    assert.equal(s.distill.protocol, 'paired');
    assert.equal(s.distill.originals, QUICK_RECIPE.trainProblems);
    assert.equal(s.distill.steps, s.distill.epochs * Math.ceil(s.distill.originals / QUICK_RECIPE.distill.batchSize));
    assert.equal(s.distill.missingSource, 0);
    const metrics = (run: string) => readFileSync(join(out, 'runs', run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; samples: number; kd_original: number });
    for (const seed of [1, 2]) {
      const kd = metrics(`kd-seed${seed}`);
      for (const key of ['kd', 'leaf-instr', 'leaf-instr-resp']) {
        const m = metrics(`${key}-seed${seed}`);
        for (let e = 1; e <= s.distill.epochs; e++) {
          assert.equal(m.filter((x) => x.epoch === e).reduce((a, x) => a + x.samples, 0), s.distill.originals + s.distill.counterfactuals[key], `${key} seed ${seed} epoch ${e}`);
        }
        assert.ok(Math.abs(m[0].kd_original - kd[0].kd_original) <= 1e-4 * kd[0].kd_original, `${key} seed ${seed}: step 1 KD term ${m[0].kd_original} vs ${kd[0].kd_original}`);
      }
    }
    assert.equal(s.verdict, verdictText(s.accuracy[1].stats, s.accuracy[2].stats, s.accuracy[3].stats, 2));
    assert.deepEqual(s.sweep.map((r) => r.q), [0.05, 0.1, 0.15]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.ok(html.includes('"id":"accuracy"') && html.includes('"id":"sweep"'));
    // The benchmark splits are disjoint by construction; spot-check the files.
    const keys = (f: string) => new Set(readFileSync(join(out, 'data', f), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { metadata: { key: string } }).metadata.key));
    const tr = keys('train.jsonl'), te = keys('test.jsonl');
    assert.ok([...te].every((k) => !tr.has(k)));
  });

  test('a rerun reuses the trained models; the CLI prints the tables', () => {
    const out = join(tmp, 'a');
    const stdout = execFileSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'demo', '--quick', '--out', out, '--seeds', '1', '--jobs', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(stdout, /Test accuracy/);
    assert.match(stdout, /Detection of distractor tokens/);
    assert.match(stdout, /Threshold sweep/);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as DemoSummary;
    assert.equal(s.models.teacher.reused, true);
    assert.equal(s.models.student.reused, true);
    assert.deepEqual(s.seeds, [1]);
    assert.equal(s.accuracy[0].values[0], first.accuracy[0].values[0], 'same student, same test accuracy');
  });

  test('a rerun reuses finished distillation runs with the same inputs, settings, kernels and code; others train afresh', async () => {
    const out = join(tmp, 'a');
    // The previous test ran seed 1 in-process (--jobs 1): another runtime, so seed 1 trains again here and seed 2 is reused.
    const second = await runDemo({ out, seeds: 2, recipe: QUICK_RECIPE, concurrency: 2 });
    assert.equal(second.distill.reusedRuns, 3, 'kd, leaf-instr and leaf-instr-resp at seed 2');
    assert.deepEqual(second.accuracy, first.accuracy);
    // All of them now: nothing trained, same numbers, the run folders untouched.
    const metricsBefore = readFileSync(join(out, 'runs/kd-seed1/metrics.jsonl'), 'utf8');
    const third = await runDemo({ out, seeds: 2, recipe: QUICK_RECIPE, concurrency: 2 });
    assert.equal(third.distill.reusedRuns, 8);
    assert.deepEqual(third.accuracy, first.accuracy);
    assert.equal(readFileSync(join(out, 'runs/kd-seed1/metrics.jsonl'), 'utf8'), metricsBefore);
    // A missing model retrains that run only; another setting (the learning rate) retrains every run.
    rmSync(join(out, 'runs/leaf-instr-resp-seed2/model'), { recursive: true });
    const fourth = await runDemo({ out, seeds: 2, recipe: QUICK_RECIPE, concurrency: 2 });
    assert.equal(fourth.distill.reusedRuns, 7);
    assert.ok(existsSync(join(out, 'runs/leaf-instr-resp-seed2/model/model.safetensors')));
    assert.deepEqual(fourth.accuracy, first.accuracy);
    const other = { ...QUICK_RECIPE, distill: { ...QUICK_RECIPE.distill, lr: QUICK_RECIPE.distill.lr / 2 } };
    const fifth = await runDemo({ out, seeds: 2, recipe: other, concurrency: 2 });
    assert.equal(fifth.distill.reusedRuns, 0);
  });

  test('bad --seeds is a one-line error', async () => {
    await assert.rejects(runDemo({ out: join(tmp, 'b'), seeds: 0, recipe: QUICK_RECIPE }), /--seeds must be an integer in 1\.\.20/);
  });
});
