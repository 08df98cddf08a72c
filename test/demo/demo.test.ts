/**
 * `leaf demo` end to end with the seconds-long QUICK_RECIPE (tiny, barely trained models: the numbers mean
 * nothing; the test checks the plumbing): every output is written, all runs have equal steps, the paired
 * differences agree with the per-seed results, the summary's verdict matches its numbers, models and runs
 * are reused on a rerun, --seed changes the benchmark and the models, and the CLI prints the tables.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pairRecipe, runDemo, TEACHER_FLOOR, weakTeacherNote, type DemoSummary } from '../../src/demo/demo.js';
import { evaluationSets } from '../../src/demo/context.js';
import { verdictText } from '../../src/demo/headline.js';
import { QUICK_RECIPE } from '../../src/demo/recipes.js';
import { repoRoot } from '../helpers/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-demo-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('leaf demo (quick recipe)', () => {
  let first: DemoSummary;
  const HEAD = ['kd', 'leaf-gradient', 'leaf-gradient-teacher', 'leaf-random', 'leaf-oracle'];
  const accuracies = (s: DemoSummary) => s.headline.map((r) => r.values);

  test('writes data, models, mining outputs, runs, summary.json and report.html; equal steps; consistent paired tables', async () => {
    const out = join(tmp, 'a');
    first = await runDemo({ out, seeds: 2, recipe: QUICK_RECIPE, jobs: 2, extras: true });
    for (const f of ['data/train.jsonl', 'data/validation.jsonl', 'data/test.jsonl', 'models/teacher/model.safetensors', 'models/student/config.json',
      'mined/gradient/scores.jsonl', 'mined/gradient-teacher/scores.jsonl', 'mined/random/summary.json', 'mined/oracle/summary.json', 'mined/gradient-token/summary.json', 'mined/gradient-response/summary.json',
      'runs/kd-seed1/metrics.jsonl', 'runs/leaf-gradient-seed2/model/config.json', 'runs/leaf-oracle-seed1/metrics.jsonl', 'runs/leaf-instr-resp-seed1/metrics.jsonl',
      'runs/leaf-token-q0.05-seed1/metrics.jsonl', 'summary.json', 'report.html']) {
      assert.ok(existsSync(join(out, f)), f);
    }
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as DemoSummary;
    assert.deepEqual(s.seeds, [1, 2]);
    assert.equal(s.seed, 1);
    assert.equal(s.split, 'test');
    assert.equal(s.models.teacher.reused, false);
    assert.deepEqual(s.headline.map((r) => r.key), HEAD);
    const settings = (run: string) => JSON.parse(readFileSync(join(out, 'mined', run, 'summary.json'), 'utf8')).settings;
    assert.equal(settings('gradient').studentWeight, 1);
    assert.equal(settings('gradient-teacher').studentWeight, 0);
    // Paired differences recomputed here from the per-seed accuracies.
    for (const r of s.headline.slice(1)) {
      const d = r.values.map((v, i) => v - s.headline[0].values[i]);
      assert.equal(r.diff!.mean, (d[0] + d[1]) / 2);
      assert.equal(r.diff!.n, 2);
      assert.ok(r.bootstrap!.lower <= r.bootstrap!.mean && r.bootstrap!.mean <= r.bootstrap!.upper);
    }
    assert.equal(s.headline[0].diff, null);
    // Every distillation run trained for the same number of optimizer steps.
    const steps = Object.values(s.distill.runs).flat().map((r) => r.steps);
    assert.equal(steps.length, 14);
    assert.ok(steps.every((x) => x === s.distill.steps), JSON.stringify(steps));
    for (const line of readFileSync(join(out, 'runs/kd-seed1/metrics.jsonl'), 'utf8').trim().split('\n').slice(-1)) assert.equal(JSON.parse(line).step, s.distill.steps);
    // The paired protocol: each epoch every run visits every original once and a LeaF run every (paired)
    // counterfactual once on top; at each seed the first step starts from the same student on the same
    // original batch, so its KD-on-originals term agrees (up to padding rounding).
    assert.equal(s.distill.protocol, 'paired');
    assert.equal(s.distill.originals, QUICK_RECIPE.trainProblems);
    assert.equal(s.distill.steps, s.distill.epochs * Math.ceil(s.distill.originals / QUICK_RECIPE.distill.batchSize));
    assert.equal(s.distill.missingSource, 0);
    const metrics = (run: string) => readFileSync(join(out, 'runs', run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; samples: number; kd_original: number });
    for (const seed of [1, 2]) {
      const kd = metrics(`kd-seed${seed}`);
      for (const key of [...HEAD, 'leaf-token', 'leaf-instr-resp']) {
        const m = metrics(`${key}-seed${seed}`);
        for (let e = 1; e <= s.distill.epochs; e++) {
          assert.equal(m.filter((x) => x.epoch === e).reduce((a, x) => a + x.samples, 0), s.distill.originals + s.distill.counterfactuals[key], `${key} seed ${seed} epoch ${e}`);
        }
        assert.ok(Math.abs(m[0].kd_original - kd[0].kd_original) <= 1e-4 * kd[0].kd_original, `${key} seed ${seed}: step 1 KD term ${m[0].kd_original} vs ${kd[0].kd_original}`);
      }
    }
    assert.equal(s.verdict, [verdictText(s.headline, 'test'), weakTeacherNote(s.diagnostics)].filter(Boolean).join(' '));
    assert.deepEqual(s.sweep.map((r) => r.q), [0.05, 0.1, 0.15]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.ok(html.includes('"id":"accuracy"') && html.includes('"id":"detection"'));
    // The benchmark splits are disjoint by construction; spot-check the files.
    const keys = (f: string) => new Set(readFileSync(join(out, 'data', f), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { metadata: { key: string } }).metadata.key));
    const tr = keys('train.jsonl'), te = keys('test.jsonl');
    assert.ok([...te].every((k) => !tr.has(k)));
  });

  test('a rerun reuses the trained models; the CLI prints the tables', () => {
    const out = join(tmp, 'a');
    const stdout = execFileSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'demo', '--quick', '--out', out, '--seeds', '1', '--jobs', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(stdout, /Headline: test accuracy/);
    assert.match(stdout, /Detection of the distractors/);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as DemoSummary;
    assert.equal(s.models.teacher.reused, true);
    assert.equal(s.models.student.reused, true);
    assert.deepEqual(s.seeds, [1]);
    assert.equal(s.diagnostics.student.split.distracted, first.diagnostics.student.split.distracted, 'same student, same test accuracy');
  });

  test('a rerun reuses finished distillation runs with the same inputs, settings, kernels and code; others train afresh', async () => {
    const out = join(tmp, 'a');
    // The previous test ran seed 1 in-process (--jobs 1): another runtime, so seed 1 trains again here and seed 2 is reused.
    const second = await runDemo({ out, seeds: 2, recipe: QUICK_RECIPE, jobs: 2 });
    assert.equal(second.distill.reusedRuns, HEAD.length, 'the headline runs at seed 2');
    assert.deepEqual(accuracies(second), accuracies(first).slice(0, HEAD.length));
    const metricsBefore = readFileSync(join(out, 'runs/kd-seed1/metrics.jsonl'), 'utf8');
    const third = await runDemo({ out, seeds: 2, recipe: QUICK_RECIPE, jobs: 2 });
    assert.equal(third.distill.reusedRuns, 2 * HEAD.length);
    assert.deepEqual(accuracies(third), accuracies(first).slice(0, HEAD.length));
    assert.equal(readFileSync(join(out, 'runs/kd-seed1/metrics.jsonl'), 'utf8'), metricsBefore);
    // A missing model retrains that run only; another setting (the learning rate) retrains every run.
    rmSync(join(out, 'runs/leaf-oracle-seed2/model'), { recursive: true });
    const fourth = await runDemo({ out, seeds: 2, recipe: QUICK_RECIPE, jobs: 2 });
    assert.equal(fourth.distill.reusedRuns, 2 * HEAD.length - 1);
    assert.ok(existsSync(join(out, 'runs/leaf-oracle-seed2/model/model.safetensors')));
    const other = { ...QUICK_RECIPE, distill: { ...QUICK_RECIPE.distill, lr: QUICK_RECIPE.distill.lr / 2 } };
    const fifth = await runDemo({ out, seeds: 2, recipe: other, jobs: 2 });
    assert.equal(fifth.distill.reusedRuns, 0);
  });

  test('--seed changes the benchmark and both models; validation only writes and reads no test split', async () => {
    const out = join(tmp, 'c');
    const s = await runDemo({ out, seed: 2, seeds: 1, recipe: QUICK_RECIPE, jobs: 1, validationOnly: true });
    assert.equal(s.seed, 2);
    assert.equal(s.split, 'validation');
    assert.equal(s.recipe.dataSeed, QUICK_RECIPE.dataSeed + 1);
    assert.ok(!existsSync(join(out, 'data/test.jsonl')));
    for (const f of ['data/train.jsonl', 'data/validation.jsonl', 'models/teacher/model.safetensors', 'models/student/model.safetensors']) {
      assert.notDeepEqual(readFileSync(join(out, f)), readFileSync(join(tmp, 'a', f)), `${f} differs from pair seed 1's`);
    }
    assert.deepEqual(pairRecipe(QUICK_RECIPE, 1), QUICK_RECIPE);
    assert.equal(pairRecipe(QUICK_RECIPE, 3).teacher.seed, QUICK_RECIPE.teacher.seed + 2);
    assert.throws(() => pairRecipe(QUICK_RECIPE, 0), /--seed must be a positive integer/);
  });

  test('a teacher below the floor on validation is named in a warning; one at or above it is not', () => {
    const diag = (t: number) => ({
      teacher: { distracted: t, clean: 0.95, folded: 0, n: 1000, split: { distracted: t, clean: 0.95 } },
      student: { distracted: 0.5, clean: 0.9, folded: 0, n: 1000, split: { distracted: 0.5, clean: 0.9 } },
    });
    assert.equal(weakTeacherNote(diag(TEACHER_FLOOR)), null);
    assert.equal(weakTeacherNote(diag(0.97)), null);
    const note = weakTeacherNote(diag(0.591));
    assert.ok(note !== null && note.includes('59.1% on validation') && note.includes('95.0% with the distractors removed'), String(note));
  });

  test('models are evaluated on every set; a distilled run on what its headline reads (validation-clean only when validation is the headline)', () => {
    const files = { train: 't', validation: 'v', test: 's' };
    const names = (split: 'test' | 'validation', runs: boolean) => evaluationSets(files, split, runs).map((e) => `${e.name}:${e.file}:${e.which}`);
    assert.deepEqual(names('test', false), ['validation:v:prompt', 'validation-clean:v:clean', 'test:s:prompt', 'test-clean:s:clean']);
    assert.deepEqual(names('test', true), ['validation:v:prompt', 'test:s:prompt', 'test-clean:s:clean']);
    assert.deepEqual(names('validation', false), ['validation:v:prompt', 'validation-clean:v:clean']);
    assert.deepEqual(names('validation', true), names('validation', false));
  });

  test('bad --seeds is a one-line error', async () => {
    await assert.rejects(runDemo({ out: join(tmp, 'b'), seeds: 0, recipe: QUICK_RECIPE }), /--seeds must be an integer in 1\.\.20/);
  });
});
