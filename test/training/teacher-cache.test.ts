import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsKernels } from '../../src/kernels/index.js';
import type { Pretrained } from '../../src/model/pretrained.js';
import { packBatch } from '../../src/training/batch.js';
import { BatchKdLoss } from '../../src/training/kd-batch.js';
import { parseTrainRecord } from '../../src/training/records.js';
import { buildSamples, tokenizerSide, type TrainSample } from '../../src/training/samples.js';
import { CACHE_DATA, CACHE_META, TeacherCache, topKFromLogits } from '../../src/training/teacher-cache.js';
import { Rng } from '../../src/util/rng.js';
import { loadTiny, TRAIN_RECORDS, writeTinyModel } from '../helpers/tiny-distill.js';

describe('top-K of teacher logits', () => {
  it('keeps the K largest log-probabilities in order, and the log of the rest of the mass', () => {
    const rng = new Rng(3);
    const R = 3, VT = 20, V = 17, K = 5, T = 1.7;
    const logits = Float64Array.from({ length: R * VT }, () => 3 * rng.normal());
    logits[VT + 4] = logits[VT + 9]; // a tie: the lower id comes first
    const top = topKFromLogits(jsKernels, Float64Array.from(logits), R, VT, V, T, K);
    for (let r = 0; r < R; r++) {
      const z = Array.from(logits.subarray(r * VT, r * VT + V), (x) => x / T);
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((a, x) => a + Math.exp(x - m), 0));
      const lp = z.map((x) => x - lse);
      const want = lp.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      for (let j = 0; j < K; j++) {
        assert.equal(top.ids[r * K + j], want[j][1]);
        assert.ok(Math.abs(top.logProbs[r * K + j] - want[j][0]) < 1e-6 * Math.max(1, Math.abs(want[j][0])));
      }
      const rest = want.slice(K).reduce((a, x) => a + Math.exp(x[0]), 0);
      assert.ok(Math.abs(top.logRest[r] - Math.log(rest)) < 1e-6 * Math.abs(Math.log(rest)) + 1e-7);
    }
    const all = topKFromLogits(jsKernels, Float64Array.from(logits), R, VT, V, T, 99);
    assert.equal(all.k, V);
    assert.ok(Array.from(all.logRest).every((x) => x === -Infinity), 'no mass left outside the whole vocabulary');
  });
});

describe('teacher cache file', () => {
  let dir = '';
  let teacher: Pretrained;
  let samples: TrainSample[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'leaf-cache-'));
    teacher = loadTiny(writeTinyModel(join(dir, 'teacher'), { hidden: 32, layers: 2, seed: 5, std: 0.5 }));
    const side = tokenizerSide(teacher);
    samples = buildSamples(TRAIN_RECORDS.map((r) => parseTrainRecord(r)), side, side, { maxLength: 4096, cfWeight: 1 }).samples;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const opts = (k: number) => ({ k, temperature: 2, vocab: teacher.model.config.vocabSize, batchSize: 4 });

  // Batched (left-padded) and single-sample forwards differ by float32 rounding only (1e-5 relative).
  it('holds, per sample, the top-K rows of the teacher run on that sample alone', () => {
    const out = join(dir, 'a');
    const cache = TeacherCache.openOrBuild(out, teacher.model, samples, opts(8));
    assert.equal(cache.built, 'built');
    const V = teacher.model.config.vocabSize;
    for (const order of [[0], [3, 1, 5], [2, 4]]) {
      const got = cache.read(order);
      let row = 0;
      for (const i of order) {
        const p = packBatch([samples[i]]);
        const logits = teacher.model.forward({ batch: 1, seqLen: p.seqLen, inputIds: p.inputIds, logitRows: p.logitRows }).logits!;
        const want = topKFromLogits(teacher.model.kernels, logits, p.tokens, V, V, 2, 8);
        for (let r = 0; r < p.tokens; r++, row++) {
          for (let j = 0; j < 8; j++) {
            assert.equal(got.ids[row * 8 + j], want.ids[r * 8 + j], `sample ${i} row ${r}`);
            assert.ok(Math.abs(got.logProbs[row * 8 + j] - want.logProbs[r * 8 + j]) < 1e-5 * Math.max(1, Math.abs(want.logProbs[r * 8 + j])), `${got.logProbs[row * 8 + j]} vs ${want.logProbs[r * 8 + j]}`);
          }
          assert.ok(Math.abs(got.logRest[row] - want.logRest[r]) < 1e-5 * Math.max(1, Math.abs(want.logRest[r])));
        }
      }
      assert.equal(row, got.logRest.length);
    }
    const every = Array.from(cache.read(samples.map((_, i) => i)).logRest, Math.exp);
    assert.ok(Math.abs(cache.meanRest - every.reduce((a, b) => a + b, 0) / every.length) < 1e-12);
    assert.equal(cache.maxRest, Math.max(...every));
    assert.ok(cache.meanRest > 0 && cache.meanRest < 1);
    cache.close();
    const again = TeacherCache.openOrBuild(out, teacher.model, samples, opts(8));
    assert.equal(again.built, 'reused');
    assert.equal(again.meanRest, cache.meanRest);
    again.close();
    const other = TeacherCache.openOrBuild(out, teacher.model, samples, opts(4));
    assert.equal(other.built, 'built', 'another K rebuilds the cache');
    other.close();
  });

  it('a killed build resumes and ends with the same bytes', () => {
    const full = join(dir, 'full'), part = join(dir, 'part');
    TeacherCache.openOrBuild(full, teacher.model, samples, opts(6)).close();
    const bytes = readFileSync(join(full, CACHE_DATA));
    // A build killed in the middle of a sample: the meta says incomplete, the data stops mid-row.
    // Killed at several points (inside the first batch, mid-way, in the last batch), and resumed with
    // another --batch-size: the resumed build forms the batches of the uninterrupted one.
    for (const [cut, resumeBatch] of [[0.1, 4], [0.6, 4], [0.6, 3], [0.97, 1]] as const) {
      TeacherCache.openOrBuild(part, teacher.model, samples, opts(6)).close();
      const meta = JSON.parse(readFileSync(join(part, CACHE_META), 'utf8'));
      writeFileSync(join(part, CACHE_META), JSON.stringify({ ...meta, complete: false }));
      truncateSync(join(part, CACHE_DATA), Math.floor(bytes.length * cut) + 3);
      const resumed = TeacherCache.openOrBuild(part, teacher.model, samples, { ...opts(6), batchSize: resumeBatch });
      assert.equal(resumed.built, 'resumed');
      resumed.close();
      assert.ok(readFileSync(join(part, CACHE_DATA)).equals(bytes), `killed at ${cut}, resumed with batch size ${resumeBatch}`);
      assert.equal(statSync(join(part, CACHE_DATA)).size, bytes.length);
    }
  });

  it('another teacher invalidates the cache', () => {
    const out = join(dir, 'b');
    TeacherCache.openOrBuild(out, teacher.model, samples, opts(8)).close();
    copyFileSync(join(out, CACHE_META), join(out, 'meta.bak'));
    const other = loadTiny(writeTinyModel(join(dir, 'teacher2'), { hidden: 32, layers: 2, seed: 6, std: 0.5 }));
    const c = TeacherCache.openOrBuild(out, other.model, samples, opts(8));
    assert.equal(c.built, 'built');
    c.close();
  });

  // The approximation on a small model: per-sample forward KL of a student against the online
  // teacher and against the cache, with the teacher made peaked (std 2.5) as trained LMs are.
  it('cached forward KL is within a few percent of online KL at K = 32 of 400 on a peaked teacher, and the error shrinks with K', () => {
    const peaked = loadTiny(writeTinyModel(join(dir, 'peaked'), { hidden: 32, layers: 2, seed: 8, std: 2.5 }));
    const student = loadTiny(writeTinyModel(join(dir, 'student'), { hidden: 32, layers: 1, seed: 9, std: 0.5 }));
    const V = student.model.config.vocabSize;
    const p = packBatch(samples);
    const input = { batch: p.batch, seqLen: p.seqLen, inputIds: p.inputIds, attentionMask: p.attentionMask, logitRows: p.logitRows };
    const loss = new BatchKdLoss(student.model.kernels, V, { kind: 'fkl' });
    const rows = (teacherRows: Parameters<BatchKdLoss['compute']>[3]) => {
      const out = new Float64Array(p.tokens);
      loss.compute(student.model.forward(input).logits!, p.tokens, new Float64Array(p.tokens).fill(1), teacherRows, null, false, out);
      return out;
    };
    const exact = rows({ kind: 'logits', logits: peaked.model.forward(input).logits!, vocab: V });
    const mean = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / x.length;
    const errs: number[] = [];
    for (const K of [4, 32, 128, V]) {
      const top = topKFromLogits(peaked.model.kernels, peaked.model.forward(input).logits!, p.tokens, V, V, 1, K);
      const approx = rows(top);
      errs.push((mean(exact) - mean(approx)) / mean(exact));
      for (let r = 0; r < p.tokens; r++) assert.ok(approx[r] <= exact[r] + 1e-4 * exact[r], `K=${K} row ${r}: cached ${approx[r]} > exact ${exact[r]}`);
    }
    assert.ok(errs[1] < 0.05, `relative error at K = 32: ${errs[1]}`);
    for (let i = 1; i < errs.length; i++) assert.ok(errs[i] <= errs[i - 1] + 1e-6, `error does not shrink with K: ${errs}`);
    assert.ok(Math.abs(errs[3]) < 1e-5, `K = V is exact up to float32: ${errs[3]}`);
  });
});
