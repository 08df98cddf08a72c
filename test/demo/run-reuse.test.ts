import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { DistillJob, DistillJobResult } from '../../src/demo/jobs.js';
import { reusableResult, runKey, saveResult } from '../../src/demo/run-reuse.js';

const tmp = mkdtempSync(join(tmpdir(), 'leaf-run-reuse-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
for (const m of ['student', 'teacher']) {
  mkdirSync(join(tmp, m));
  for (const f of MODEL_FILES) writeFileSync(join(tmp, m, f), `${m}/${f}`);
}
for (const f of ['train.jsonl', 'cf.jsonl', 'validation.jsonl']) writeFileSync(join(tmp, f), `${f}\n`);

const job = (over: Partial<DistillJob['options']> = {}): DistillJob => ({
  kind: 'distill', label: 'distill-x-seed1',
  options: {
    student: join(tmp, 'student'), teacher: join(tmp, 'teacher'), data: join(tmp, 'train.jsonl'), counterfactuals: join(tmp, 'cf.jsonl'),
    out: join(tmp, 'runs', 'x-seed1'), epochs: 1, lr: 1e-3, seed: 1, ...over,
  },
  evaluate: [{ name: 'validation', file: join(tmp, 'validation.jsonl'), which: 'prompt' }],
});
const runtime = { kernels: 'native', concurrency: 2 };

/** A finished run's result, with its model folder. */
function finished(j: DistillJob): DistillJobResult {
  const modelDir = join(j.options.out, 'model');
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(modelDir, 'model.safetensors'), 'distilled');
  return { modelDir, steps: 3, seconds: 1.5, samples: { original: 4, counterfactual: 2, missingSource: 0 }, finalLoss: 0.25, eval: {} };
}

describe('demo run reuse', () => {
  test('a finished run is reused under the same key; any change of job, runtime or input bytes trains again', () => {
    const j = job();
    const result = finished(j);
    assert.equal(reusableResult(j, runKey(j, runtime)), null, 'nothing saved yet');
    saveResult(j, runKey(j, runtime), result);
    assert.deepEqual(reusableResult(j, runKey(j, runtime)), result, 'the key is recomputed from the files: same bytes, same key');
    assert.equal(reusableResult(j, runKey(job({ lr: 2e-3 }), runtime)), null, 'another setting');
    assert.equal(reusableResult(j, runKey(job({ counterfactuals: null }), runtime)), null, 'no counterfactuals');
    assert.equal(reusableResult(j, runKey(j, { ...runtime, concurrency: 1 })), null, 'another worker count');
    assert.equal(reusableResult(j, runKey(j, { ...runtime, kernels: 'js' })), null, 'other kernels');
    for (const f of ['train.jsonl', 'cf.jsonl', 'validation.jsonl', join('teacher', 'model.safetensors'), join('student', 'tokenizer.json')]) {
      const before = runKey(j, runtime);
      appendFileSync(join(tmp, f), 'x');
      assert.equal(reusableResult(j, runKey(j, runtime)), null, `${f} changed`);
      assert.notEqual(runKey(j, runtime), before);
    }
    saveResult(j, runKey(j, runtime), result);
    assert.deepEqual(reusableResult(j, runKey(j, runtime)), result, 'saved again under the new key');
  });

  test('a run whose model is gone, or whose demo-result.json is torn or of the format before stamps, trains again', () => {
    const j = job({ out: join(tmp, 'runs', 'y-seed1') });
    const result = finished(j);
    const key = runKey(j, runtime);
    saveResult(j, key, result);
    assert.ok(reusableResult(j, key));
    rmSync(join(result.modelDir, 'model.safetensors'));
    assert.equal(reusableResult(j, key), null, 'model gone');
    finished(j);
    const file = join(j.options.out, 'demo-result.json');
    writeFileSync(file, '{"stamp": 1, "key": {"job"');
    assert.equal(reusableResult(j, key), null, 'torn');
    writeFileSync(file, JSON.stringify({ key, result }) + '\n');
    assert.equal(reusableResult(j, key), null, 'the previous format ({ key, result }) is not read as a stamp');
  });

  test('an --out relative to the working folder is reused as well (the model is looked for there, not beside the stamp)', () => {
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      const j = job({ out: join('runs', 'rel-seed1') });
      const result = finished(j);
      assert.equal(result.modelDir, join('runs', 'rel-seed1', 'model'));
      saveResult(j, runKey(j, runtime), result);
      assert.deepEqual(reusableResult(j, runKey(j, runtime)), result);
    } finally {
      process.chdir(cwd);
    }
  });
});
