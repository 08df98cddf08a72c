/**
 * Times one training step of the demo's teacher (or student) shape — the exact trainCe step of
 * src/demo/tiny-models.ts (forward with saved activations, cross-entropy, backward, clip, AdamW) on
 * real distracted-arithmetic batches of 16 — on the kernels chosen by LEAF_KERNELS, with a per-kernel
 * breakdown. For sizing the TypeScript fallback against the demo's time goal.
 *
 *   LEAF_KERNELS=js node dist/bench/demo-step.js [--student] [--steps=N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { problemStream } from '../src/demo/arith/dataset.js';
import { DEMO_RECIPE } from '../src/demo/recipes.js';
import { chatSample, createTinyLlama, trainCe, writeArithTokenizer } from '../src/demo/tiny-models.js';
import { getKernels } from '../src/kernels/index.js';
import { nowMs } from './common.js';
import { KernelTimer } from './timed-kernels.js';

const args = process.argv.slice(2);
const which = args.includes('--student') ? 'student' : 'teacher';
const steps = Number(args.find((a) => a.startsWith('--steps='))?.slice(8) ?? 40);
const recipe = DEMO_RECIPE[which];

const dir = mkdtempSync(join(tmpdir(), 'leaf-demo-step-'));
const tok = writeArithTokenizer(dir);
rmSync(dir, { recursive: true, force: true });
const timer = new KernelTimer();
const kernels = getKernels();
const model = createTinyLlama(tok, recipe.arch, recipe.seed, timer.wrap(kernels));
const stream = problemStream('train', DEMO_RECIPE.dataSeed, `${which}/distracted`, { ...DEMO_RECIPE.problems, ...recipe.data });
let tokens = 0;
const batches = Array.from({ length: steps }, () => {
  const b = Array.from({ length: recipe.batchSize }, () => {
    const p = stream.next().value!;
    return chatSample(tok, p.prompt, p.response);
  });
  tokens += Math.max(...b.map((s) => s.ids.length)) * b.length;
  return b;
});
const warm = Math.min(5, steps);
const stepMs: number[] = [];
let last = nowMs();
trainCe(model, (s) => batches[s], { steps, lr: recipe.lr, warmup: recipe.warmup }, (info) => {
  const t = nowMs();
  stepMs.push(t - last);
  last = t;
  if (info.done === warm) timer.enabled = true;
});
const timed = stepMs.slice(warm);
const mean = timed.reduce((a, b) => a + b, 0) / timed.length;
console.log(`${which} (${kernels.name} kernels): ${timed.length} timed steps, mean ${mean.toFixed(1)} ms/step, ` +
  `min ${Math.min(...timed).toFixed(1)} ms; padded tokens/step ${(tokens / steps).toFixed(0)}; ` +
  `${recipe.steps} steps ≈ ${((mean * recipe.steps) / 1000).toFixed(0)} s`);
const total = timed.reduce((a, b) => a + b, 0);
let kernelMs = 0;
const rows = [...timer.byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
for (const [key, s] of rows) {
  kernelMs += s.ms;
  console.log(`  ${key.padEnd(30)} ${(s.ms / timed.length).toFixed(2).padStart(8)} ms/step  ${((100 * s.ms) / total).toFixed(1).padStart(5)}%` +
    (s.flops ? `  ${(s.flops / s.ms / 1e6).toFixed(2)} GFLOP/s` : ''));
}
console.log(`  ${'(outside kernels)'.padEnd(30)} ${((total - kernelMs) / timed.length).toFixed(2).padStart(8)} ms/step  ${((100 * (total - kernelMs)) / total).toFixed(1).padStart(5)}%`);
if (args.includes('--shapes')) {
  // Group the shapes by role: the token count (≥ 200) varies from batch to batch.
  const groups = new Map<string, { ms: number; calls: number; flops: number }>();
  for (const [key, s] of timer.byGemmShape) {
    const g = key.replace(/\b\d{3,}\b/g, (x) => (Number(x) >= 200 ? 'N' : x));
    const e = groups.get(g) ?? { ms: 0, calls: 0, flops: 0 };
    e.ms += s.ms; e.calls += s.calls; e.flops += s.flops;
    groups.set(g, e);
  }
  for (const [key, s] of [...groups.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`  ${key.padEnd(36)} ${(s.ms / timed.length).toFixed(2).padStart(8)} ms/step  ${(s.calls / timed.length).toFixed(0)} calls  ${(s.flops / s.ms / 1e6).toFixed(2)} GFLOP/s`);
  }
}
