/**
 * The training loop's mechanics, each checked against a property or an independent re-computation (no
 * constants of trained weights): the epoch plan (every sample once per epoch, length-grouped
 * micro-batches, deterministic for a seed, reshuffled per epoch), gradient accumulation (the update does
 * not depend on the micro-batch size), the learning-rate schedule logged per step, clipping off by
 * default (as the reference), determinism of whole runs, the tokenizer files that travel with a loaded
 * student, and a file given as --out.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsKernels } from '../../src/kernels/index.js';
import { LeafTokenizer, readTokenizerFiles } from '../../src/tokenizer/index.js';
import { latestCheckpoint } from '../../src/training/checkpoint.js';
import { planEpoch, stepsPerEpoch } from '../../src/training/plan.js';
import { distill, type DistillOptions, type DistillProgress } from '../../src/training/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { assertProgress } from '../helpers/progress.js';
import { CF_RECORDS, loadTiny, TRAIN_RECORDS, writeTinyModel } from '../helpers/tiny-distill.js';

let dir = '';
let teacherDir = '', studentDir = '';
const quiet = { onWarning: () => {} };
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'leaf-trainer-loop-'));
  teacherDir = writeTinyModel(join(dir, 'teacher'), { hidden: 32, layers: 2, seed: 3, std: 0.4 });
  studentDir = writeTinyModel(join(dir, 'student'), { hidden: 16, layers: 1, seed: 4, std: 0.2 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const base = (out: string, extra: Partial<DistillOptions> = {}): DistillOptions => ({
  student: studentDir, teacher: teacherDir, data: TRAIN_RECORDS, counterfactuals: CF_RECORDS,
  out: join(dir, out), epochs: 2, batchSize: 4, microBatchSize: 2, lr: 5e-3, warmup: 1, seed: 7, ...quiet, ...extra,
});
const metricsOf = (out: string) => readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | null>);
const weightsOf = (out: string) => readFileSync(join(out, 'model', 'model.safetensors'));

describe('the epoch plan', () => {
  const rng = new Rng(99);
  const lengths = Array.from({ length: 23 }, () => 5 + rng.int(40));
  const plans = (seed: number, epochs: number) => {
    const r = new Rng(seed);
    return Array.from({ length: epochs }, () => planEpoch(r, lengths, 8, 3));
  };

  it('every sample once per epoch; steps of --batch-size (the last one smaller); micro-batches of b, longest first', () => {
    for (const plan of plans(1234, 3)) {
      assert.equal(plan.length, stepsPerEpoch(23, 8));
      assert.deepEqual(plan.map((step) => step.flat().length), [8, 8, 7]);
      assert.deepEqual(plan.flat(2).sort((a, b) => a - b), Array.from({ length: 23 }, (_, i) => i));
      for (const step of plan) {
        const n = step.flat().length;
        assert.deepEqual(step.map((mb) => mb.length), Array.from({ length: Math.ceil(n / 3) }, (_, i) => Math.min(3, n - 3 * i)));
        const ls = step.flat().map((i) => lengths[i]);
        for (let i = 1; i < ls.length; i++) assert.ok(ls[i] <= ls[i - 1], `step lengths not grouped: ${ls}`);
      }
    }
  });

  it('is a function of the seed, and each epoch reshuffles', () => {
    const [a, b] = [plans(1234, 2), plans(1234, 2)];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a[0].map((s) => s.flat().sort()), a[1].map((s) => s.flat().sort()), 'epoch 2 puts other samples together');
    assert.notDeepEqual(plans(1235, 1)[0].map((s) => s.flat().sort()), a[0].map((s) => s.flat().sort()));
  });
});

describe('the training loop', () => {
  it('gradient accumulation: micro-batches of 1, 3 (uneven) and the whole batch give the same weights (float64, clipping on)', async () => {
    const run = async (micro: number) => {
      const student = loadTiny(studentDir, jsKernels, Float64Array), teacher = loadTiny(teacherDir, jsKernels, Float64Array);
      await distill(base(`accum-${micro}`, { student, teacher, microBatchSize: micro, maxGradNorm: 0.05, weightDecay: 0.01 }));
      return student.model;
    };
    const ref = await run(4);
    for (const micro of [1, 3]) {
      const m = await run(micro);
      let worst = 0;
      for (const [name, p] of ref.params) {
        const q = m.param(name);
        for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i] - q[i]) / Math.max(1e-3, Math.abs(p[i])));
      }
      assert.ok(worst < 1e-9, `micro-batch ${micro}: largest relative difference ${worst}`);
    }
  });

  it('logs the learning rate of linear warm-up then cosine decay to 0 at every step (recomputed)', async () => {
    const peak = 5e-3, W = 3;
    const s = await distill(base('lr', { epochs: 3, warmup: W, lr: peak }));
    const m = metricsOf(s.out);
    const total = 3 * Math.ceil(8 / 4); // 6 originals + 2 verified counterfactuals, batch 4
    assert.equal(s.totalSteps, total);
    assert.equal(m.length, total);
    m.forEach((r, k) => {
      const want = k < W ? (peak * k) / W : peak * 0.5 * (1 + Math.cos((Math.PI * (k - W)) / (total - W)));
      assert.ok(Math.abs((r.lr as number) - want) <= 1e-15, `step ${k + 1}: lr ${r.lr} vs ${want}`);
    });
    assert.equal(m[0].lr, 0, 'transformers\' schedule: the first update has lr 0 with warm-up');
  });

  it('clipping is off by default (the reference); --max-grad-norm turns it on', async () => {
    const plain = await distill(base('clip-default'));
    const off = await distill(base('clip-off', { maxGradNorm: 0 }));
    const on = await distill(base('clip-on', { maxGradNorm: 1e-3 }));
    assert.ok(weightsOf(plain.out).equals(weightsOf(off.out)));
    assert.ok(metricsOf(plain.out).some((r) => (r.grad_norm as number) > 1e-3), 'the gradients are large enough to be clipped');
    assert.ok(!weightsOf(on.out).equals(weightsOf(off.out)));
    assert.equal(JSON.parse(readFileSync(join(plain.out, 'run.json'), 'utf8')).settings.maxGradNorm, 0);
  });

  it('deterministic for a seed: two runs give the same bytes; another seed another order and other weights', async () => {
    const events: DistillProgress[] = [];
    const a = await distill({ ...base('det-a', { teacherLogits: 'cache', topK: 16 }), onProgress: (p) => events.push({ ...p }) });
    const b = await distill(base('det-b', { teacherLogits: 'cache', topK: 16 }));
    // The progress events: the teacher cache's samples, then every optimizer step (its loss as logged).
    const phases = events.map((e) => e.phase);
    assert.equal(phases.lastIndexOf('teacher-cache') + 1, phases.indexOf('train'));
    assertProgress(events.filter((e) => e.phase === 'teacher-cache'), 'teacher-cache');
    const train = assertProgress(events.filter((e) => e.phase === 'train'), 'train');
    assert.deepEqual(train.map((e) => e.done), Array.from({ length: a.totalSteps }, (_, i) => i + 1));
    assert.deepEqual(train.map((e) => e.phase === 'train' && e.loss), metricsOf(a.out).map((m) => m.loss));
    const c = await distill(base('det-c', { teacherLogits: 'cache', topK: 16, seed: 8 }));
    assert.ok(weightsOf(a.out).equals(weightsOf(b.out)));
    assert.ok(readFileSync(join(a.out, 'teacher-cache.bin')).equals(readFileSync(join(b.out, 'teacher-cache.bin'))));
    assert.deepEqual(metricsOf(a.out).map((r) => ({ ...r, tokens_per_s: 0, elapsed_s: 0 })), metricsOf(b.out).map((r) => ({ ...r, tokens_per_s: 0, elapsed_s: 0 })));
    assert.ok(!weightsOf(a.out).equals(weightsOf(c.out)));
  });

  it('a loaded student whose folder has no tokenizer saves the tokenizer it was loaded with; with none anywhere, it warns', async () => {
    const loaded = loadTiny(studentDir);
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    const s = await distill({ ...base('tok-from-source', { loss: 'ce', teacher: null, counterfactuals: null, epochs: 1 }), student: { ...loaded, dir: bare } });
    const ckpt = latestCheckpoint(join(s.out, 'checkpoints'))!.dir;
    for (const folder of [ckpt, s.modelDir!]) {
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) assert.ok(readFileSync(join(folder, f)).equals(readFileSync(join(studentDir, f))), `${folder}/${f}`);
    }
    const orphan = new LeafTokenizer({ ...readTokenizerFiles(studentDir), source: join(dir, 'nowhere') });
    const warnings: string[] = [];
    const t = await distill({ ...base('tok-none', { loss: 'ce', teacher: null, counterfactuals: null, epochs: 1 }), student: { ...loaded, dir: bare, tokenizer: orphan }, onWarning: (w) => warnings.push(w) });
    assert.ok(warnings.some((w) => /^no tokenizer\.json in .*bare or .*nowhere: checkpoints and the final model are saved without tokenizer files$/.test(w)), warnings.join('\n'));
    assert.ok(!existsSync(join(t.modelDir!, 'tokenizer.json')));
  });

  it('leftovers of a kill while the final model was being renamed into place are cleaned on resume', async () => {
    const s = await distill(base('litter', { epochs: 1 }));
    const want = weightsOf(s.out);
    const litter = ['model.tmp-999-abcd1234', 'model.old-999'];
    for (const l of litter) mkdirSync(join(s.out, l));
    rmSync(join(s.out, 'model'), { recursive: true }); // killed between the two renames: no model/ at all
    const again = await distill(base('litter', { epochs: 1, resume: true }));
    assert.equal(again.resumedFrom, s.steps);
    assert.ok(weightsOf(s.out).equals(want));
    for (const l of litter) assert.ok(!existsSync(join(s.out, l)), l);
  });

  it('--out naming a file is a one-line error', async () => {
    const f = join(dir, 'a-file');
    writeFileSync(f, 'x');
    await assert.rejects(() => distill(base('x', { out: f })), (e: Error) => e.name === 'LeafError' && /^--out .*a-file: cannot create the output folder \(EEXIST\)$/.test(e.message));
  });
});
