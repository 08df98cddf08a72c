import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsKernels } from '../../src/kernels/index.js';
import type { FArray } from '../../src/kernels/types.js';
import { backward, zeroGrads } from '../../src/model/backward.js';
import type { Pretrained } from '../../src/model/pretrained.js';
import { loadPretrained } from '../../src/model/pretrained.js';
import { SafetensorsReader } from '../../src/io/safetensors.js';
import { latestCheckpoint } from '../../src/training/checkpoint.js';
import { BatchKdLoss } from '../../src/training/kd-batch.js';
import type { KdLossKind } from '../../src/training/kd-loss.js';
import { microStep, teacherRowsFor, type TeacherSource } from '../../src/training/micro-step.js';
import { packBatch } from '../../src/training/batch.js';
import { parseCounterfactualRecord, parseTrainRecord, type DistillRecord } from '../../src/training/records.js';
import { buildSamples, tokenizerSide, type TrainSample } from '../../src/training/samples.js';
import { topKFromLogits, type TopKRows } from '../../src/training/teacher-cache.js';
import { distill, type DistillOptions } from '../../src/training/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { CF_RECORDS, LLAMA_TOKENIZER, loadTiny, softmaxRow, TRAIN_RECORDS, writeJsonl, writeTinyModel } from '../helpers/tiny-distill.js';

let dir = '';
let teacherDir = '', studentDir = '';
const quiet = { onWarning: () => {} };

function metricsOf(out: string): Array<Record<string, unknown>> {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}
const weightsOf = (out: string) => readFileSync(join(out, 'model', 'model.safetensors'));

function records(cfWeight: number, originals = 3): DistillRecord[] {
  const cf = CF_RECORDS.map((r) => parseCounterfactualRecord(r)).filter((r): r is DistillRecord => r !== null);
  return [...TRAIN_RECORDS.slice(0, originals).map((r) => parseTrainRecord(r)), ...(cfWeight >= 0 ? cf : [])];
}

/** A cache source built in memory (the rows of every sample, in order), for the gradient checks. */
function memoryCache(teacher: Pretrained, samples: TrainSample[], k: number, T: number): TeacherSource {
  const rows = samples.map((s) => {
    const ids = Int32Array.from(s.ids);
    const logitRows = Int32Array.from({ length: s.ids.length - s.responseStart }, (_, j) => s.responseStart - 1 + j);
    const logits = teacher.model.forward({ batch: 1, seqLen: ids.length, inputIds: ids, logitRows }).logits!;
    return topKFromLogits(teacher.model.kernels, logits, logitRows.length, teacher.model.config.vocabSize, teacher.model.config.vocabSize, T, k);
  });
  const K = rows[0].k;
  const read = (indices: readonly number[]): TopKRows => {
    const parts = indices.map((i) => rows[i]);
    const n = parts.reduce((a, p) => a + p.logRest.length, 0);
    const out: TopKRows = { kind: 'topk', k: K, ids: new Int32Array(n * K), logProbs: new Float32Array(n * K), logRest: new Float32Array(n) };
    let at = 0;
    for (const p of parts) {
      out.ids.set(p.ids, at * K);
      out.logProbs.set(p.logProbs, at * K);
      out.logRest.set(p.logRest, at);
      at += p.logRest.length;
    }
    return out;
  };
  return { kind: 'cache', cache: { read } as unknown as import('../../src/training/teacher-cache.js').TeacherCache };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'leaf-trainer-'));
  teacherDir = writeTinyModel(join(dir, 'teacher'), { hidden: 32, layers: 2, seed: 3, std: 0.4 });
  studentDir = writeTinyModel(join(dir, 'student'), { hidden: 16, layers: 1, seed: 4, std: 0.2 });
  writeJsonl(join(dir, 'train.jsonl'), TRAIN_RECORDS);
  writeJsonl(join(dir, 'cf.jsonl'), CF_RECORDS);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const base = (out: string, extra: Partial<DistillOptions> = {}): DistillOptions => ({
  student: studentDir, teacher: teacherDir, data: join(dir, 'train.jsonl'), counterfactuals: join(dir, 'cf.jsonl'),
  out: join(dir, out), epochs: 3, batchSize: 2, microBatchSize: 1, lr: 5e-3, warmup: 2, seed: 7, ...quiet, ...extra,
});

describe('the distillation objective: gradients equal finite differences (float64 model, TypeScript kernels)', () => {
  const cases: Array<{ kind: KdLossKind; T: number; cache: number | null }> = [
    { kind: 'fkl', T: 1, cache: null }, { kind: 'rkl', T: 2, cache: null }, { kind: 'jsd', T: 1, cache: 16 }, { kind: 'fkl', T: 1.5, cache: 8 }, { kind: 'ce', T: 1, cache: null },
  ];
  for (const c of cases) {
    it(`${c.kind}, T=${c.T}${c.cache ? `, top-${c.cache} cache` : ', online teacher'}, originals + counterfactuals (λ = 0.5), padded micro-batches`, () => {
      const student = loadTiny(studentDir, jsKernels, Float64Array);
      const teacher = loadTiny(teacherDir, jsKernels, Float64Array);
      const { samples } = buildSamples(records(0.5), tokenizerSide(student), tokenizerSide(teacher), { maxLength: 4096, cfWeight: 0.5 });
      assert.ok(samples.some((s) => s.kind === 'counterfactual') && samples.some((s) => s.weight === 0.5));
      const source: TeacherSource = c.kind === 'ce' ? { kind: 'none' } : c.cache ? memoryCache(teacher, samples, c.cache, c.T) : { kind: 'online', model: teacher.model };
      const V = student.model.config.vocabSize;
      const loss = new BatchKdLoss(jsKernels, V, { kind: c.kind, temperature: c.T, beta: 0.3 }, Float64Array);
      const batches = [[0, 3], [1, 2, 4]];
      const objective = () => batches.reduce((a, mb) => a + microStep(student.model, samples, mb, source, loss, null, 1 / samples.length).objective, 0);
      const grads = zeroGrads(student.model);
      for (const mb of batches) microStep(student.model, samples, mb, source, loss, grads, 1 / samples.length);
      const EPS = 1e-5;
      const close = (a: number, n: number, what: string) => assert.ok(Math.abs(a - n) <= 1e-9 + 1e-6 * Math.max(Math.abs(a), Math.abs(n)), `${what}: analytic ${a} vs numeric ${n}`);
      // A random direction through every parameter, then single entries of each tensor.
      const rng = new Rng(5);
      const dirs = new Map<string, Float64Array>();
      for (const [name, p] of student.model.params) dirs.set(name, Float64Array.from({ length: p.length }, () => rng.normal()));
      const move = (t: number) => {
        for (const [name, p] of student.model.params) {
          const d = dirs.get(name)!;
          for (let i = 0; i < p.length; i++) p[i] += t * d[i];
        }
      };
      move(EPS);
      const lp = objective();
      move(-2 * EPS);
      const lm = objective();
      move(EPS);
      let analytic = 0;
      for (const [name, g] of grads) {
        const d = dirs.get(name)!;
        for (let i = 0; i < g.length; i++) analytic += g[i] * d[i];
      }
      close(analytic, (lp - lm) / (2 * EPS), 'directional derivative');
      for (const [name, p] of student.model.params) {
        const i = rng.int(p.length);
        const keep = p[i];
        p[i] = keep + EPS;
        const a = objective();
        p[i] = keep - EPS;
        const b = objective();
        p[i] = keep;
        close(grads.get(name)![i], (a - b) / (2 * EPS), `${name}[${i}]`);
      }
    });
  }

  it('λ weighs the counterfactual terms linearly: g(λ) = g(0) + λ·(g(1) − g(0))', () => {
    const student = loadTiny(studentDir, jsKernels, Float64Array);
    const teacher = loadTiny(teacherDir, jsKernels, Float64Array);
    const V = student.model.config.vocabSize;
    const loss = new BatchKdLoss(jsKernels, V, { kind: 'fkl' }, Float64Array);
    const gradAt = (lambda: number) => {
      const { samples } = buildSamples(records(lambda), tokenizerSide(student), tokenizerSide(teacher), { maxLength: 4096, cfWeight: lambda > 0 ? lambda : 1 });
      if (lambda === 0) for (const s of samples) if (s.kind === 'counterfactual') s.weight = 0;
      const g = zeroGrads(student.model);
      const r = microStep(student.model, samples, samples.map((_, i) => i), { kind: 'online', model: teacher.model }, loss, g, 1 / samples.length);
      return { g, objective: r.objective };
    };
    const g0 = gradAt(0), g1 = gradAt(1), g3 = gradAt(0.3);
    assert.ok(Math.abs(g3.objective - (g0.objective + 0.3 * (g1.objective - g0.objective))) < 1e-12);
    for (const [name, g] of g3.g) {
      const a = g0.g.get(name)!, b = g1.g.get(name)!;
      for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i] - (a[i] + 0.3 * (b[i] - a[i]))) < 1e-12, name);
    }
  });
});

describe('distill()', () => {
  it('two optimizer steps equal a float64 re-computation (per-sample forwards, clipping, weight decay, cosine schedule, AdamW)', async () => {
    const student = loadTiny(studentDir, jsKernels, Float64Array);
    const teacher = loadTiny(teacherDir, jsKernels, Float64Array);
    const ref = loadTiny(studentDir, jsKernels, Float64Array);
    const data = TRAIN_RECORDS.slice(0, 3);
    const cfs = [CF_RECORDS[1]];
    const opts = { lr: 0.01, weightDecay: 0.1, maxGradNorm: 0.05, T: 2, lambda: 0.5 };
    const s = await distill({
      student, teacher, data, counterfactuals: cfs, out: join(dir, 'f64'), epochs: 2, batchSize: 4, microBatchSize: 2, warmup: 0,
      lr: opts.lr, weightDecay: opts.weightDecay, maxGradNorm: opts.maxGradNorm, temperature: opts.T, cfWeight: opts.lambda, ...quiet,
    });
    assert.equal(s.steps, 2);

    // Reference: each sample alone (no padding), loss and d loss / d logits written out from the definitions.
    const { samples } = buildSamples([...data.map((r) => parseTrainRecord(r)), parseCounterfactualRecord(cfs[0])!], tokenizerSide(ref), null, { maxLength: 4096, cfWeight: opts.lambda });
    const V = ref.model.config.vocabSize, T = opts.T, N = samples.length;
    const m = new Map<string, Float64Array>(), v = new Map<string, Float64Array>();
    for (const [name, p] of ref.model.params) {
      m.set(name, new Float64Array(p.length));
      v.set(name, new Float64Array(p.length));
    }
    for (let step = 0; step < 2; step++) {
      const grads = zeroGrads(ref.model);
      for (const smp of samples) {
        const ids = Int32Array.from(smp.ids);
        const n = smp.ids.length - smp.responseStart;
        const rows = Int32Array.from({ length: n }, (_, j) => smp.responseStart - 1 + j);
        const t = teacher.model.forward({ batch: 1, seqLen: ids.length, inputIds: ids, logitRows: rows }).logits!;
        const o = ref.model.forward({ batch: 1, seqLen: ids.length, inputIds: ids, logitRows: rows, saveForBackward: true });
        const z = o.logits!;
        const d = new Float64Array(n * V);
        for (let r = 0; r < n; r++) {
          const soft = (x: FArray) => softmaxRow(x, r, V, T);
          const ps = soft(z), pt = soft(t);
          // d/dz of (w/N)·(1/n)·T²·KL(pt ‖ ps) = (w/N)(1/n)·T·(ps − pt)
          for (let i = 0; i < V; i++) d[r * V + i] = (smp.weight / N / n) * T * (ps[i] - pt[i]);
        }
        backward(ref.model, o.tape!, d, { paramGrads: grads });
      }
      let sq = 0;
      for (const g of grads.values()) for (const x of g) sq += x * x;
      const norm = Math.sqrt(sq);
      const clip = norm > opts.maxGradNorm ? opts.maxGradNorm / (norm + 1e-6) : 1;
      assert.ok(clip < 1, 'the test exercises clipping');
      const lr = opts.lr * 0.5 * (1 + Math.cos(Math.PI * step / 2)); // cosine over 2 steps, no warm-up
      const k = step + 1;
      for (const [name, p] of ref.model.params) {
        const g = grads.get(name)!, mm = m.get(name)!, vv = v.get(name)!;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i] * clip;
          p[i] *= 1 - lr * opts.weightDecay;
          mm[i] = 0.9 * mm[i] + 0.1 * gi;
          vv[i] = 0.999 * vv[i] + 0.001 * gi * gi;
          p[i] -= (lr / (1 - 0.9 ** k)) * mm[i] / (Math.sqrt(vv[i] / (1 - 0.999 ** k)) + 1e-8);
        }
      }
    }
    let worst = 0;
    for (const [name, p] of ref.model.params) {
      const q = student.model.param(name);
      for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i] - q[i]) / Math.max(1e-3, Math.abs(p[i])));
    }
    assert.ok(worst < 1e-9, `largest relative difference ${worst}`);
  });

  it('the loss falls on a small task (student distilled towards a teacher of its own size)', async () => {
    const teacher = writeTinyModel(join(dir, 'small-teacher'), { hidden: 16, layers: 1, seed: 11, std: 0.4 });
    // The objective over the whole training set (every original and counterfactual, one forward each),
    // before and after: not the per-step losses, which differ by the batch's samples.
    const objective = (s: Pretrained, t: Pretrained) => {
      const { samples } = buildSamples(records(1, TRAIN_RECORDS.length), tokenizerSide(s), tokenizerSide(t), { maxLength: 4096, cfWeight: 1 });
      const loss = new BatchKdLoss(s.model.kernels, s.model.config.vocabSize, { kind: 'fkl' }, s.model.floatType);
      return samples.reduce((a, _, i) => a + microStep(s.model, samples, [i], { kind: 'online', model: t.model }, loss, null, 1 / samples.length).objective, 0);
    };
    const t = loadPretrained(teacher);
    const before = objective(loadPretrained(studentDir), t);
    const s = await distill(base('falls', { teacher, epochs: 30, batchSize: 4, microBatchSize: 2, lr: 1e-2 }));
    const after = objective(loadPretrained(s.modelDir!), t);
    assert.ok(after < 0.6 * before, `training-set KD objective ${before} → ${after}`);
    const m = metricsOf(s.out);
    for (const k of ['step', 'epoch', 'loss', 'kd_original', 'kd_counterfactual', 'lr', 'grad_norm', 'tokens_per_s', 'val_loss']) assert.ok(k in m[0], k);
    assert.equal(s.data.samples.counterfactuals, 2);
    assert.equal(s.data.unverifiedCounterfactuals, 1);
    assert.ok(readFileSync(join(s.modelDir!, 'tokenizer.json')).equals(readFileSync(join(studentDir, 'tokenizer.json'))), 'the tokenizer travels with the model');
    assert.equal(loadPretrained(s.modelDir!).model.config.vocabSize, 400);
  });

  it('a run stopped mid-way and resumed ends with byte-identical weights, optimizer state and one metrics line per step', async () => {
    const a = await distill(base('full', { saveEvery: 3 }));
    const stopped = await distill(base('resumed', { saveEvery: 3, stopAfterSteps: 7 }));
    assert.equal(stopped.stopped, 'stop-after-steps');
    assert.equal(stopped.modelDir, null);
    assert.ok(!existsSync(join(dir, 'resumed', 'model')));
    const b = await distill(base('resumed', { saveEvery: 3, resume: true }));
    assert.equal(b.resumedFrom, 6);
    assert.equal(a.steps, b.steps);
    assert.ok(weightsOf(a.out).equals(weightsOf(b.out)), 'final weights differ');
    const ca = latestCheckpoint(join(a.out, 'checkpoints'))!, cb = latestCheckpoint(join(b.out, 'checkpoints'))!;
    assert.ok(readFileSync(join(ca.dir, 'optimizer.safetensors')).equals(readFileSync(join(cb.dir, 'optimizer.safetensors'))));
    assert.deepEqual(metricsOf(b.out).map((r) => r.step), Array.from({ length: a.steps }, (_, i) => i + 1));
    assert.deepEqual(metricsOf(b.out).map((r) => r.loss), metricsOf(a.out).map((r) => r.loss));
    // Stopped before the first checkpoint: resuming starts over and still matches.
    await distill(base('early', { saveEvery: 3, stopAfterSteps: 2 }));
    const c = await distill(base('early', { saveEvery: 3, resume: true }));
    assert.equal(c.resumedFrom, null);
    assert.ok(weightsOf(a.out).equals(weightsOf(c.out)));
    // Resuming a finished run changes nothing; other settings are refused; a fresh start over a run is refused.
    const again = await distill(base('full', { saveEvery: 3, resume: true }));
    assert.equal(again.resumedFrom, a.steps);
    assert.ok(weightsOf(a.out).equals(weightsOf(again.out)));
    await assert.rejects(() => distill(base('full', { lr: 1e-3, resume: true })), /--resume: .* was started with lr = 0\.005, now 0\.001/);
    await assert.rejects(() => distill(base('full')), /already holds a distillation run/);
  });

  it('a bf16 student trains through float32 masters, saves BF16 checkpoints and model, and resumes byte-identically', async () => {
    const dtypes = (file: string) => {
      const r = SafetensorsReader.open(file);
      try {
        return [...r.tensors.values()].map((e) => `${e.name.split('.')[0]}:${e.dtype}`);
      } finally {
        r.close();
      }
    };
    const a = await distill(base('bf16-full', { dtype: 'bf16', saveEvery: 3 }));
    assert.deepEqual(new Set(dtypes(join(a.modelDir!, 'model.safetensors')).map((d) => d.split(':')[1])), new Set(['BF16']));
    const ck = latestCheckpoint(join(a.out, 'checkpoints'))!;
    assert.deepEqual(new Set(dtypes(join(ck.dir, 'model.safetensors')).map((d) => d.split(':')[1])), new Set(['BF16']));
    assert.deepEqual(new Set(dtypes(join(ck.dir, 'optimizer.safetensors'))), new Set(['exp_avg:F32', 'exp_avg_sq:F32', 'master:F32']));
    assert.equal(loadPretrained(a.modelDir!).model.weightDtype, 'bf16');
    assert.ok(!weightsOf(a.out).equals(readFileSync(join(studentDir, 'model.safetensors'))), 'the student was trained');
    await distill(base('bf16-resumed', { dtype: 'bf16', saveEvery: 3, stopAfterSteps: 4 }));
    const b = await distill(base('bf16-resumed', { dtype: 'bf16', saveEvery: 3, resume: true }));
    assert.equal(b.resumedFrom, 3);
    assert.ok(weightsOf(a.out).equals(weightsOf(b.out)), 'final weights differ');
    const cb = latestCheckpoint(join(b.out, 'checkpoints'))!;
    assert.ok(readFileSync(join(ck.dir, 'optimizer.safetensors')).equals(readFileSync(join(cb.dir, 'optimizer.safetensors'))));
  });

  it('the optimizer on worker threads gives the same bytes, also across a resume', async () => {
    const serial = await distill(base('serial', { parallelOptimizer: 'never' }));
    await distill(base('pool', { parallelOptimizer: 'always', saveEvery: 3, stopAfterSteps: 5 }));
    const pooled = await distill(base('pool', { parallelOptimizer: 'always', saveEvery: 3, resume: true }));
    assert.ok(weightsOf(serial.out).equals(weightsOf(pooled.out)));
    assert.deepEqual(metricsOf(serial.out).map((r) => r.grad_norm), metricsOf(pooled.out).map((r) => r.grad_norm));
  });

  it('λ = 0 is plain KD; a λ = 1 counterfactual is one more sample of weight 1 (the reference data mixing)', async () => {
    const plain = await distill(base('plain', { counterfactuals: null }));
    const zero = await distill(base('zero', { cfWeight: 0 }));
    assert.ok(weightsOf(plain.out).equals(weightsOf(zero.out)));
    const cf = CF_RECORDS[0];
    const mixed = await distill(base('mixed', { counterfactuals: [cf] }));
    const asData = await distill(base('asdata', { data: [...TRAIN_RECORDS, { id: 'extra', prompt: cf.prompt, response: cf.response }], counterfactuals: null }));
    assert.ok(weightsOf(mixed.out).equals(weightsOf(asData.out)));
    const half = await distill(base('half', { counterfactuals: [cf], cfWeight: 0.5 }));
    assert.ok(!weightsOf(half.out).equals(weightsOf(mixed.out)));
  });

  it('the top-K teacher cache: with K = vocabulary it trains as online up to float32 rounding; resuming reuses it', async () => {
    const online = await distill(base('online'));
    const cached = await distill(base('cached', { teacherLogits: 'cache', topK: 400, saveEvery: 2, stopAfterSteps: 3 }));
    assert.equal(cached.teacherCache, 'built');
    const done = await distill(base('cached', { teacherLogits: 'cache', topK: 400, saveEvery: 2, resume: true }));
    assert.equal(done.teacherCache, 'reused');
    const a = loadPretrained(online.modelDir!).model, b = loadPretrained(done.modelDir!).model;
    let worst = 0;
    for (const [name, p] of a.params) {
      const q = b.param(name);
      for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i] - q[i]));
    }
    assert.ok(worst < 1e-5, `largest weight difference ${worst}`);
  });

  it('a non-finite loss skips the step and is counted; too many in a row stop the run with the last good checkpoint intact', async () => {
    // Poison the (untied) teacher's input embedding of a token that occurs in one record only.
    const poisonedDir = join(dir, 'poisoned');
    writeTinyModel(poisonedDir, { hidden: 32, layers: 2, seed: 3, std: 0.4, tied: false });
    const probe = loadPretrained(poisonedDir);
    const side = tokenizerSide(probe);
    const { samples } = buildSamples(TRAIN_RECORDS.map((r) => parseTrainRecord(r)), side, null, { maxLength: 4096, cfWeight: 1 });
    const counts = new Map<number, number>();
    for (const s of samples) for (const id of new Set(s.ids)) counts.set(id, (counts.get(id) ?? 0) + 1);
    const rare = samples[5].ids.find((id) => counts.get(id) === 1)!;
    const poison = (model: typeof probe.model, ids: number[]) => {
      const e = model.embedTokens, h = model.config.hiddenSize;
      for (const id of ids) e.fill(NaN, id * h, (id + 1) * h);
    };
    poison(probe.model, [rare]);
    const s = await distill({ ...base('nan', { counterfactuals: null, epochs: 2 }), teacher: probe });
    assert.equal(s.skippedSteps, 2, 'one poisoned sample → one skipped step per epoch');
    const m = metricsOf(s.out);
    assert.equal(m.filter((r) => r.skipped).length, 2);
    const bad = m.find((r) => r.skipped)!;
    assert.equal(bad.loss, null);
    assert.ok((bad.nonfinite as Record<string, string>).loss !== undefined);
    const trained = loadPretrained(s.modelDir!).model;
    for (const p of trained.params.values()) assert.ok(p.every(Number.isFinite));

    // Half of the records poisoned, one sample a step, stop after 2 bad steps in a row.
    const heavy = loadPretrained(poisonedDir);
    const more = [1, 3, 5].map((i) => samples[i].ids.find((id) => counts.get(id) === 1)!);
    poison(heavy.model, more);
    const student = loadPretrained(studentDir);
    let message = '';
    try {
      await distill({ ...base('nan-stop', { counterfactuals: null, batchSize: 1, epochs: 4, saveEvery: 1, maxBadSteps: 2 }), student, teacher: heavy });
    } catch (e) {
      message = (e as Error).message;
    }
    assert.match(message, /^training stopped at step \d+: 2 consecutive steps had a non-finite loss or gradient \(from step \d+\); the last good checkpoint is .*step-\d+$/);
    const ckpt = message.replace(/^.*the last good checkpoint is /, '');
    const restored = loadPretrained(ckpt).model;
    for (const [name, p] of restored.params) {
      assert.ok(p.every(Number.isFinite));
      assert.deepEqual(Array.from(p), Array.from(student.model.param(name)), 'the checkpoint holds the last good weights');
    }

    // Every step non-finite, fewer than --max-bad-steps of them: an error, not a "trained" copy of the student.
    const all = loadPretrained(poisonedDir);
    poison(all.model, Array.from({ length: all.model.config.vocabSize }, (_, i) => i));
    await assert.rejects(() => distill({ ...base('nan-all', { counterfactuals: null, epochs: 1 }), teacher: all }),
      /^LeafError: training made no update: all \d+ steps had a non-finite loss or gradient \(from step 1; see .*metrics\.jsonl\); no model was written$/);
    assert.ok(!existsSync(join(dir, 'nan-all', 'model')));
  });

  it('malformed input lines are reported with line numbers (and stop a strict run)', async () => {
    const f = join(dir, 'bad.jsonl');
    writeFileSync(f, [JSON.stringify(TRAIN_RECORDS[0]), '{oops', JSON.stringify({ id: 'z', prompt: 'no response' }), JSON.stringify(TRAIN_RECORDS[1])].join('\n') + '\n');
    const warnings: string[] = [];
    const s = await distill({ ...base('bad', { data: f, counterfactuals: null }), onWarning: (w) => warnings.push(w) });
    assert.deepEqual(s.data.inputIssues.map((i) => i.replace(/: .*/, '')), [`${f}:2`, `${f}:3`]);
    assert.ok(warnings.some((w) => w.startsWith(`skipped ${f}:2: invalid JSON`)));
    assert.equal(s.data.samples.samples, 2);
    await assert.rejects(() => distill(base('bad-strict', { data: f, counterfactuals: null, strict: true })), new RegExp(`${f}:2: invalid JSON`));
  });

  it('refuses a teacher with another tokenizer; truncates a larger teacher vocabulary with a warning', async () => {
    const other = writeTinyModel(join(dir, 'other-tok'), { tokenizer: LLAMA_TOKENIZER });
    await assert.rejects(() => distill(base('tok', { teacher: other })), /different tokenizers/);
    const wide = writeTinyModel(join(dir, 'wide'), { vocab: 416, seed: 9 });
    const warnings: string[] = [];
    const s = await distill({ ...base('wide', { teacher: wide, epochs: 1 }), onWarning: (w) => warnings.push(w) });
    assert.ok(warnings.some((w) => /vocab_size \(416\) is larger than the student's \(400\): teacher logits are truncated/.test(w)), warnings.join('\n'));
    assert.ok(s.final && Number.isFinite(s.final.loss));
  });

  it('a teacher with its own chat template sees its own rendering; its rows align with the student\'s response rows', async () => {
    const tdir = writeTinyModel(join(dir, 'templated-teacher'), { hidden: 32, layers: 2, seed: 3, std: 0.4 });
    const cfgFile = join(tdir, 'tokenizer_config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
    cfg.chat_template = cfg.chat_template.replace('You are a helpful assistant.', 'You are a careful maths teacher.');
    writeFileSync(cfgFile, JSON.stringify(cfg));
    const teacher = loadPretrained(tdir), student = loadPretrained(studentDir);
    const { samples } = buildSamples(TRAIN_RECORDS.slice(0, 3).map((r) => parseTrainRecord(r)), tokenizerSide(student), tokenizerSide(teacher), { maxLength: 4096, cfWeight: 1 });
    assert.ok(samples.every((x) => x.teacherIds && x.teacherResponseStart! > x.responseStart));
    const packed = packBatch(samples);
    const rows = teacherRowsFor({ kind: 'online', model: teacher.model }, samples, [0, 1, 2], packed);
    assert.ok(rows && rows.kind === 'logits');
    const V = teacher.model.config.vocabSize;
    let r = 0;
    for (const x of samples) {
      const ids = Int32Array.from(x.teacherIds!);
      const n = x.ids.length - x.responseStart;
      const alone = teacher.model.forward({ batch: 1, seqLen: ids.length, inputIds: ids, logitRows: Int32Array.from({ length: n }, (_, j) => x.teacherResponseStart! - 1 + j) }).logits!;
      for (let i = 0; i < n * V; i++) assert.ok(Math.abs(rows.logits[r * V + i] - alone[i]) < 1e-4, `sample ${x.id}`);
      r += n;
    }
    assert.equal(r, packed.tokens);
    const s = await distill(base('templated', { teacher: tdir, epochs: 1 }));
    assert.ok(s.final && Number.isFinite(s.final.loss));
  });

  it('cross-entropy from scratch with no teacher (a loaded student), with validation and the best checkpoint', async () => {
    const student = loadTiny(studentDir);
    const s = await distill({
      student, teacher: null, loss: 'ce', data: TRAIN_RECORDS, out: join(dir, 'ce'), epochs: 10, batchSize: 3, microBatchSize: 3,
      lr: 2e-2, warmup: 1, evalEvery: 4, evalData: TRAIN_RECORDS.slice(0, 2), ...quiet,
    });
    const m = metricsOf(s.out);
    const vals = m.filter((r) => r.val_loss !== null).map((r) => [r.step as number, r.val_loss as number]);
    assert.deepEqual(vals.map((v) => v[0]), [4, 8, 12, 16, 20]);
    assert.ok(vals[vals.length - 1][1] < 0.7 * vals[0][1], `val loss ${vals[0][1]} → ${vals[vals.length - 1][1]}`);
    assert.equal(s.bestValLoss, Math.min(...vals.map((v) => v[1])));
    assert.ok(existsSync(join(s.out, 'best', 'model.safetensors')));
    assert.equal(m[0].kd_counterfactual, null);
  });

  it('validation by default at the end of every epoch (the reference\'s model selection)', async () => {
    const student = loadTiny(studentDir);
    const s = await distill({
      student, teacher: null, loss: 'ce', data: TRAIN_RECORDS, out: join(dir, 'ce-epochs'), epochs: 3, batchSize: 2, microBatchSize: 2,
      lr: 2e-2, warmup: 1, evalData: TRAIN_RECORDS.slice(0, 2), ...quiet,
    });
    const m = metricsOf(s.out);
    const perEpoch = Math.ceil(TRAIN_RECORDS.length / 2);
    assert.ok(perEpoch > 1, 'the test needs steps inside an epoch');
    const epochEnds = m.filter((r, i) => i === m.length - 1 || m[i + 1].epoch !== r.epoch).map((r) => r.step);
    assert.deepEqual(epochEnds, [perEpoch, 2 * perEpoch, 3 * perEpoch]);
    assert.deepEqual(m.filter((r) => r.val_loss !== null).map((r) => r.step), epochEnds);
    assert.equal(s.bestValLoss, Math.min(...m.filter((r) => r.val_loss !== null).map((r) => r.val_loss as number)));
  });
});
