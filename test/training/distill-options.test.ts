import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ignoredOptions, resolveOptions, type DistillOptions } from '../../src/training/distill-options.js';

const base: DistillOptions = { student: 's', teacher: 't', data: [], out: 'o' };

test('resolveOptions: the defaults and one-line errors for values the losses cannot use', () => {
  const r = resolveOptions(base);
  assert.equal(r.loss, 'fkl');
  assert.equal(r.temperature, 1);
  assert.equal(r.jsdBeta, 0.5);
  assert.equal(r.evalEvery, 0);
  assert.equal(r.maxGradNorm, 0);
  for (const beta of [0, 1, -0.5, 2]) assert.throws(() => resolveOptions({ ...base, loss: 'jsd', jsdBeta: beta }), new RegExp(`^LeafError: --jsd-beta must be in \\(0, 1\\).*got ${beta}$`));
  assert.equal(resolveOptions({ ...base, loss: 'fkl', jsdBeta: 0 }).jsdBeta, 0, 'beta only matters for jsd');
  for (const t of [0, -1, Infinity]) assert.throws(() => resolveOptions({ ...base, temperature: t }), /--temperature must be > 0/);
  assert.throws(() => resolveOptions({ ...base, batchSize: 4, microBatchSize: 8 }), /--micro-batch-size must be an integer in \[1, --batch-size 4\], got 8/);
});

test('options that the run\'s other choices make meaningless are named (library and CLI alike)', () => {
  const said = (o: Partial<DistillOptions>) => ignoredOptions({ ...base, ...o }, resolveOptions({ ...base, ...o }));
  assert.deepEqual(said({}), []);
  assert.deepEqual(said({ topK: 8, jsdBeta: 0.3, loss: 'ce', temperature: 2 }), [
    '--top-k only applies with --teacher-logits cache; ignored', '--jsd-beta only applies with --loss jsd (not ce); ignored', '--temperature does not apply to --loss ce; ignored',
  ]);
  assert.deepEqual(said({ topK: 8, teacherLogits: 'cache', loss: 'jsd', jsdBeta: 0.3 }), []);
  assert.throws(() => resolveOptions({ ...base, saveDtype: 'F64' as 'F32' }), /^LeafError: --save-dtype must be one of auto, F32, BF16, F16, got F64$/);
});
