#!/usr/bin/env node
// Exploratory check (not part of `leaf demo`): on a finished demo folder,
// trains LeaF-gradient with counterfactual weight λ (λ = 0: plain KD) at the demo's settings, optionally without
// gradient clipping, and reports accuracy on the VALIDATION split only (the test split is never read).
//   node scripts/demo/validation-sweep.mjs DEMO_OUT [--lambdas 0,0.25,0.5,1] [--seeds 1,2,3] [--clip 1]
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { distill } from '../../dist/src/training/trainer.js';
import { loadPretrained } from '../../dist/src/model/pretrained.js';
import { evaluateArith } from '../../dist/src/demo/evaluate.js';
import { readRecords } from '../../dist/src/demo/jobs.js';
import { DEMO_RECIPE } from '../../dist/src/demo/recipes.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { lambdas: { type: 'string', default: '0,0.25,0.5,1' }, seeds: { type: 'string', default: '1,2,3' }, clip: { type: 'string', default: String(DEMO_RECIPE.distill.maxGradNorm) } } });
const demo = positionals[0];
if (!demo) throw new Error('usage: validation-sweep.mjs DEMO_OUT [--lambdas …] [--seeds …] [--clip n]');
const d = DEMO_RECIPE.distill;
const train = join(demo, 'data/train.jsonl');
const validation = readRecords(join(demo, 'data/validation.jsonl'));
const epochs = Math.max(1, Math.round(d.steps / Math.ceil(readRecords(train).length / d.batchSize)));
for (const lam of values.lambdas.split(',').map(Number)) {
  const acc = [];
  for (const seed of values.seeds.split(',').map(Number)) {
    const out = join(demo, 'sweep', `lambda${lam}-clip${values.clip}-seed${seed}`);
    rmSync(out, { recursive: true, force: true });
    const s = await distill({
      student: join(demo, 'models/student'), teacher: join(demo, 'models/teacher'), data: train,
      counterfactuals: lam > 0 ? join(demo, 'distill-data/leaf-gradient/counterfactuals.jsonl') : null, pairCounterfactuals: true, cfWeight: lam > 0 ? lam : 1,
      out, loss: 'fkl', epochs, lr: d.lr, batchSize: d.batchSize, microBatchSize: d.batchSize, warmup: d.warmup, maxGradNorm: Number(values.clip),
      seed, keepCheckpoints: 1, onWarning: () => {},
    });
    acc.push(evaluateArith(loadPretrained(s.modelDir), validation).accuracy);
  }
  const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
  console.log(`λ = ${lam}, clip ${values.clip}: validation ${(100 * mean).toFixed(1)}% (${acc.map((a) => (100 * a).toFixed(1)).join(' / ')})`);
}
