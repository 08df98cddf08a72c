/**
 * Paired counterfactuals (distill's pairCounterfactuals): the plan is built from the originals exactly as
 * for plain KD and each counterfactual joins its original's step; the step objective is
 * (1/|O|)·Σ_{s∈O} [L_s + λ·Σ_{c∈CF(s)} L_c]; counterfactuals with no original are counted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsKernels } from '../../src/kernels/index.js';
import type { FArray } from '../../src/kernels/types.js';
import { backward, zeroGrads } from '../../src/model/backward.js';
import { pairSamples } from '../../src/training/pairing.js';
import { planEpoch, planPairedEpoch } from '../../src/training/plan.js';
import { parseCounterfactualRecord, parseTrainRecord } from '../../src/training/records.js';
import { buildSamples, tokenizerSide, type TrainSample } from '../../src/training/samples.js';
import { distill, type DistillOptions } from '../../src/training/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { CF_RECORDS, loadTiny, softmaxRow, TRAIN_RECORDS, writeTinyModel } from '../helpers/tiny-distill.js';

let dir = '';
let teacherDir = '', studentDir = '';
const quiet = { onWarning: () => {} };
const weightsOf = (out: string) => readFileSync(join(out, 'model', 'model.safetensors'));
const metricsOf = (out: string) => readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

// Two counterfactuals of p2, one of p4, one of p6, one whose source is not in the data, one with no source_id.
const CFS = [
  CF_RECORDS[0],
  { ...CF_RECORDS[0], id: 'p2/instruction/gradient/span-1', prompt: 'Tom has apples and buys 2 more. How many?' },
  CF_RECORDS[1],
  { ...CF_RECORDS[0], id: 'p6/instruction/gradient/span-0', source_id: 'p6', prompt: 'Compute 9.', response: TRAIN_RECORDS[5].response },
  { ...CF_RECORDS[0], id: 'ghost/instruction/gradient/span-0', source_id: 'ghost' },
  { ...CF_RECORDS[0], id: 'orphan', source_id: undefined },
  CF_RECORDS[2], // verified: false — left out before pairing (counted as unverified, not as missing)
];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'leaf-paired-'));
  teacherDir = writeTinyModel(join(dir, 'teacher'), { hidden: 32, layers: 2, seed: 3, std: 0.4 });
  studentDir = writeTinyModel(join(dir, 'student'), { hidden: 16, layers: 1, seed: 4, std: 0.2 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const base = (out: string, extra: Partial<DistillOptions> = {}): DistillOptions => ({
  student: studentDir, teacher: teacherDir, data: TRAIN_RECORDS, counterfactuals: CFS, out: join(dir, out),
  epochs: 3, batchSize: 2, microBatchSize: 1, lr: 5e-3, warmup: 1, seed: 7, ...quiet, ...extra,
});

function samplesOf(cfWeight = 1): TrainSample[] {
  const student = loadTiny(studentDir);
  const recs = [...TRAIN_RECORDS.map((r) => parseTrainRecord(r)), ...CFS.map((r) => parseCounterfactualRecord(r)).flatMap((r) => (r ? [r] : []))];
  return buildSamples(recs, tokenizerSide(student), null, { maxLength: 4096, cfWeight }).samples;
}

describe('pairing and the paired plan', () => {
  it('pairs by source_id = id and lists the counterfactuals with no original', () => {
    const samples = samplesOf();
    const p = pairSamples(samples);
    const id = (i: number) => samples[i].id;
    assert.deepEqual(p.originals.map(id), TRAIN_RECORDS.map((r) => r.id));
    assert.deepEqual(p.counterfactualsOf.map((c) => c.map(id)), [[], ['p2/instruction/gradient/span-0', 'p2/instruction/gradient/span-1'], [], ['p4/response/gradient/span-0'], [], ['p6/instruction/gradient/span-0']]);
    assert.equal(p.paired, 4);
    assert.deepEqual(p.missing, [{ id: 'ghost/instruction/gradient/span-0', sourceId: 'ghost' }, { id: 'orphan', sourceId: null }]);
    const dup = samples.map((s) => (s.id === 'p3' ? { ...s, id: 'p1' } : s));
    assert.throws(() => pairSamples(dup), /two original samples have the id "p1"/);
  });

  it('without counterfactuals the paired plan is planEpoch; with them, each step holds planEpoch\'s originals plus their counterfactuals', () => {
    const samples = samplesOf();
    const lengths = samples.map((s) => s.ids.length);
    const nOrig = TRAIN_RECORDS.length;
    const origOnly = pairSamples(samples.slice(0, nOrig));
    const full = pairSamples(samples);
    for (const [B, b] of [[2, 1], [4, 2], [3, 3], [6, 4]]) {
      const r1 = new Rng(11), r2 = new Rng(11), r3 = new Rng(11);
      for (let epoch = 0; epoch < 3; epoch++) {
        const kd = planEpoch(r1, lengths.slice(0, nOrig), B, b);
        assert.deepEqual(planPairedEpoch(r2, lengths, origOnly, B, b), kd);
        const paired = planPairedEpoch(r3, lengths, full, B, b);
        assert.equal(paired.length, kd.length);
        const seen: number[] = [];
        paired.forEach((step, k) => {
          const flat = step.flat();
          assert.ok(step.every((mb) => mb.length >= 1 && mb.length <= b));
          const origs = flat.filter((i) => i < nOrig).sort((x, y) => x - y);
          assert.deepEqual(origs, kd[k].flat().sort((x, y) => x - y), `epoch ${epoch} step ${k}: same originals as plain KD`);
          const cfs = flat.filter((i) => i >= nOrig).sort((x, y) => x - y);
          assert.deepEqual(cfs, origs.flatMap((o) => full.counterfactualsOf[full.originals.indexOf(o)]).sort((x, y) => x - y));
          seen.push(...flat);
        });
        // Every original and every paired counterfactual exactly once per epoch; the unpaired ones never.
        const expected = [...full.originals, ...full.counterfactualsOf.flat()].sort((x, y) => x - y);
        assert.deepEqual(seen.sort((x, y) => x - y), expected);
      }
      assert.deepEqual(r1.getState(), r3.getState(), 'the paired plan draws exactly what plain KD draws');
    }
  });
});

describe('distill({ pairCounterfactuals: true })', () => {
  it('with no counterfactuals (none given, or λ = 0) it is plain KD, byte for byte', async () => {
    const plain = await distill(base('plain', { counterfactuals: null }));
    const pairedNone = await distill(base('paired-none', { counterfactuals: null, pairCounterfactuals: true }));
    const pairedZero = await distill(base('paired-zero', { cfWeight: 0, pairCounterfactuals: true }));
    assert.ok(weightsOf(plain.out).equals(weightsOf(pairedNone.out)));
    assert.ok(weightsOf(plain.out).equals(weightsOf(pairedZero.out)));
    assert.deepEqual(metricsOf(pairedNone.out).map((m) => m.loss), metricsOf(plain.out).map((m) => m.loss));
    assert.equal(plain.pairing, null);
    assert.deepEqual(pairedNone.pairing, { originals: 6, counterfactuals: 0, missingSource: 0, missing: [] });
    assert.equal(JSON.parse(readFileSync(join(plain.out, 'run.json'), 'utf8')).settings.pairCounterfactuals, undefined, 'the default run.json is unchanged');
  });

  it('visits the same originals in the same steps as plain KD (lr 0: per-step original losses identical), adds their counterfactuals, counts the missing', async () => {
    const warnings: string[] = [];
    const kd = await distill(base('kd-lr0', { counterfactuals: null, lr: 0 }));
    const lambda = 0.7;
    const pr = await distill({ ...base('paired-lr0', { lr: 0, cfWeight: lambda, pairCounterfactuals: true }), onWarning: (w) => warnings.push(w) });
    assert.equal(pr.steps, kd.steps);
    assert.equal(pr.totalSteps, 9, '6 originals, batch 2, 3 epochs');
    assert.deepEqual(pr.pairing, {
      originals: 6, counterfactuals: 4, missingSource: 2,
      missing: [{ id: 'ghost/instruction/gradient/span-0', sourceId: 'ghost' }, { id: 'orphan', sourceId: null }],
    });
    assert.equal(pr.data.unverifiedCounterfactuals, 1);
    assert.ok(warnings.some((w) => /^2 counterfactual\(s\) have no original sample to pair with and are left out of training: ghost\/instruction\/gradient\/span-0 \(source_id "ghost"\), orphan \(source_id missing\)$/.test(w)), warnings.join('\n'));
    const a = metricsOf(kd.out), b = metricsOf(pr.out);
    assert.deepEqual(b.map((m) => m.kd_original), a.map((m) => m.kd_original), 'same original batches, step for step');
    // Each epoch: every paired counterfactual once, on top of the originals.
    for (const e of [1, 2, 3]) {
      const sum = (ms: Record<string, number>[]) => ms.filter((m) => m.epoch === e).reduce((x, m) => x + m.samples, 0);
      assert.equal(sum(a), 6);
      assert.equal(sum(b), 6 + 4);
    }
    // The step objective: (1/|O|)·(Σ L_orig + λ·Σ L_cf), recomputed from the per-kind means.
    let withCf = 0;
    b.forEach((m, k) => {
      const nOrig = a[k].samples, nCf = m.samples - nOrig;
      const expect = m.kd_original + (nCf ? (lambda * nCf * m.kd_counterfactual) / nOrig : 0);
      assert.ok(Math.abs(m.loss - expect) <= 1e-6 * expect, `step ${m.step}: ${m.loss} vs ${expect}`);
      if (nCf) withCf++;
    });
    assert.ok(withCf >= 3, 'the test has steps with counterfactuals');
  });

  it('the objective and its gradient equal a float64 re-computation from the definitions (λ = 0.5, T = 2)', async () => {
    const lambda = 0.5, T = 2;
    const student = loadTiny(studentDir, jsKernels, Float64Array);
    const teacher = loadTiny(teacherDir, jsKernels, Float64Array);
    const ref = loadTiny(studentDir, jsKernels, Float64Array);
    const data = TRAIN_RECORDS.slice(0, 3); // p1..p3: p2 has two counterfactuals; p4, p6, ghost, orphan have no original here
    const s = await distill({
      student, teacher, data, counterfactuals: CFS, out: join(dir, 'f64'), epochs: 1, batchSize: 4, microBatchSize: 2,
      warmup: 0, lr: 0.01, temperature: T, cfWeight: lambda, pairCounterfactuals: true, ...quiet,
    });
    assert.equal(s.steps, 1);
    assert.equal(s.pairing!.missingSource, 4);
    const [m] = metricsOf(s.out);
    assert.equal(m.samples, 5);

    // Each sample alone: L = (1/n)·Σ_t T²·KL(p_T ‖ p_S); objective (1/3)·[L_p1 + L_p2 + L_p3 + λ·(L_c1 + L_c2)].
    const recs = [...data.map((r) => parseTrainRecord(r)), parseCounterfactualRecord(CFS[0])!, parseCounterfactualRecord(CFS[1])!];
    const { samples } = buildSamples(recs, tokenizerSide(ref), null, { maxLength: 4096, cfWeight: lambda });
    const V = ref.model.config.vocabSize, nOrig = 3;
    const grads = zeroGrads(ref.model);
    let objective = 0, mixing = 0;
    for (const smp of samples) {
      const ids = Int32Array.from(smp.ids);
      const n = smp.ids.length - smp.responseStart;
      const rows = Int32Array.from({ length: n }, (_, j) => smp.responseStart - 1 + j);
      const t = teacher.model.forward({ batch: 1, seqLen: ids.length, inputIds: ids, logitRows: rows }).logits!;
      const o = ref.model.forward({ batch: 1, seqLen: ids.length, inputIds: ids, logitRows: rows, saveForBackward: true });
      const d = new Float64Array(n * V);
      let L = 0;
      for (let r = 0; r < n; r++) {
        const soft = (x: FArray) => softmaxRow(x, r, V, T);
        const ps = soft(o.logits!), pt = soft(t);
        let kl = 0;
        for (let i = 0; i < V; i++) kl += pt[i] * (Math.log(pt[i]) - Math.log(ps[i]));
        L += (T * T * kl) / n;
        for (let i = 0; i < V; i++) d[r * V + i] = (smp.weight / nOrig / n) * T * (ps[i] - pt[i]);
      }
      objective += (smp.weight * L) / nOrig;
      mixing += (smp.weight * L) / samples.length;
      backward(ref.model, o.tape!, d, { paramGrads: grads });
    }
    let sq = 0;
    for (const g of grads.values()) for (const x of g) sq += x * x;
    const norm = Math.sqrt(sq);
    assert.ok(Math.abs(m.loss - objective) <= 1e-10 * objective, `objective ${m.loss} vs ${objective}`);
    assert.ok(Math.abs(m.grad_norm - norm) <= 1e-9 * norm, `gradient norm ${m.grad_norm} vs ${norm}`);
    assert.ok(Math.abs(mixing - objective) > 0.1 * objective, 'the normalisation differs from data mixing here');
  });

  it('a paired run stopped mid-way and resumed ends with the same bytes', async () => {
    const a = await distill(base('paired-full', { pairCounterfactuals: true, saveEvery: 2 }));
    await distill(base('paired-resumed', { pairCounterfactuals: true, saveEvery: 2, stopAfterSteps: 5 }));
    const b = await distill(base('paired-resumed', { pairCounterfactuals: true, saveEvery: 2, resume: true }));
    assert.equal(b.resumedFrom, 4);
    assert.ok(weightsOf(a.out).equals(weightsOf(b.out)));
    await assert.rejects(() => distill(base('paired-full', { resume: true })), /--resume: .* was started with pairCounterfactuals = true, now undefined/);
  });
});
