/**
 * `distill(options)`: LeaF's stage 2 — train the student on the original samples and their
 * counterfactuals against the teacher (or on the reference responses with plain cross-entropy), with
 * AdamW, a cosine schedule with linear warm-up, gradient clipping, gradient accumulation over
 * length-grouped micro-batches, atomic checkpoints and exact resume. Deterministic for a seed (given
 * deterministic kernels): a run killed and resumed ends with the same weights as an uninterrupted one.
 *
 * Output folder:
 *   leaf.lock           while a run is using the folder (data/run-folder.ts: one run per folder)
 *   run.json            the settings and the data the run was started with (checked on --resume)
 *   metrics.jsonl       one line per optimizer step (metrics.ts)
 *   checkpoints/        step-N/ checkpoints + latest.json (checkpoint.ts)
 *   teacher-cache.*     with teacherLogits 'cache' (teacher-cache.ts)
 *   model/              the final student (Hugging Face folder)
 *   best/               the student with the lowest validation loss (with evalData)
 *   summary.json        counts, settings, final metrics, timings
 *
 * The student model object is trained in place.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidRecord } from '../data/jsonl.js';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import type { WritableDtype } from '../io/safetensors-write.js';
import type { Kernels } from '../kernels/types.js';
import type { CausalLM } from '../model/causal-lm.js';
import { loadPretrained, sameTokenizer, type Pretrained } from '../model/pretrained.js';
import { saveModel } from '../model/save.js';
import { Rng } from '../util/rng.js';
import { clipScale } from './adamw.js';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { ignoredOptions, resolveOptions, type DistillOptions, type DistillSummary, type RecordInput } from './distill-options.js';
import { BatchKdLoss } from './kd-batch.js';
import { MetricsLog, type StepMetrics } from './metrics.js';
import { microStep, type TeacherSource } from './micro-step.js';
import { setupOptimizer } from './optimizer.js';
import { missingSourceMessage, pairSamples, type Pairing } from './pairing.js';
import { planEpoch, planPairedEpoch, stepsPerEpoch, type EpochPlan } from './plan.js';
import {
  parseCounterfactualRecord, parseTrainRecord, readCounterfactualRecords, readTrainRecords,
  type DistillRecord, type RecordsRead,
} from './records.js';
import { buildSamples, tokenizerSide, type SampleStats, type TrainSample } from './samples.js';
import { cosineWithWarmup } from './schedule.js';
import { modelFingerprint } from '../model/fingerprint.js';
import { TeacherCache } from './teacher-cache.js';
import { RunFolder, type RunFolderOptions } from '../data/run-folder.js';

export type { DistillOptions, DistillProgress, DistillSummary, RecordInput } from './distill-options.js';

function loadModelArg(x: string | Pretrained, what: string, kernels?: Kernels): Pretrained {
  if (typeof x !== 'string') return x;
  if (!fs.existsSync(x)) throw new LeafError(`--${what} ${x}: no such folder`);
  return loadPretrained(x, { kernels });
}

function readRecords(input: RecordInput, kind: 'train' | 'counterfactual', strict: boolean): RecordsRead {
  if (typeof input === 'string') {
    if (!fs.existsSync(input)) throw new LeafError(`${input}: no such file`);
    return kind === 'train' ? readTrainRecords(input, strict) : readCounterfactualRecords(input, strict);
  }
  const out: RecordsRead = { records: [], issues: [], unverified: 0, lines: input.length };
  input.forEach((r, i) => {
    const where = `${kind === 'train' ? 'data' : 'counterfactuals'}[${i}]`;
    try {
      const rec: DistillRecord | null = kind === 'train' ? parseTrainRecord(r) : parseCounterfactualRecord(r);
      if (rec === null) out.unverified++;
      else out.records.push({ ...rec, where });
    } catch (e) {
      if (!(e instanceof InvalidRecord)) throw e;
      if (strict) throw new LeafError(`${where}: ${e.reason}`);
      out.issues.push({ file: kind, line: i + 1, reason: e.reason });
    }
  });
  return out;
}

function hashSamples(samples: readonly TrainSample[]): string {
  const h = createHash('sha256');
  for (const s of samples) {
    h.update(`${s.kind}|${s.weight}|${s.responseStart}|${s.teacherResponseStart ?? ''}|${s.ids.length}|${s.teacherIds?.length ?? 0}|`);
    h.update(new Uint8Array(Int32Array.from(s.ids).buffer));
    if (s.teacherIds) h.update(new Uint8Array(Int32Array.from(s.teacherIds).buffer));
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Writes a model folder atomically: a temporary folder renamed over `dir`. Leftovers of a process killed
 * while doing so (`dir`.tmp-…, `dir`.old-…) are removed first.
 */
function saveModelFolder(model: CausalLM, dir: string, companionsFrom: string, dtype: WritableDtype): void {
  const base = basename(dir);
  for (const e of fs.readdirSync(dirname(dir))) {
    if (e.startsWith(`${base}.tmp-`) || e.startsWith(`${base}.old-`)) fs.rmSync(join(dirname(dir), e), { recursive: true, force: true });
  }
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  saveModel(model, tmp, { dtype, companionsFrom });
  const old = `${dir}.old-${process.pid}`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/**
 * The folder whose tokenizer files travel with every saved student: the student's own folder, or —
 * for a loaded student whose folder has no tokenizer.json (a model built in memory, a tokenizer loaded
 * from elsewhere) — the folder its tokenizer was read from.
 */
export function companionFolder(student: Pretrained, warn: (m: string) => void): string {
  const has = (d: string) => fs.existsSync(join(d, 'tokenizer.json'));
  if (has(student.dir)) return student.dir;
  const src = student.tokenizer.source;
  if (src && has(src)) return src;
  warn(`no tokenizer.json in ${student.dir}${src ? ` or ${src}` : ''}: checkpoints and the final model are saved without tokenizer files`);
  return student.dir;
}

/** Mean over samples of the token-mean cross-entropy of the reference responses (no gradients). */
export function validationLoss(student: CausalLM, samples: readonly TrainSample[], microBatch: number, ce: BatchKdLoss): number {
  if (samples.length === 0) return NaN;
  const order = Array.from({ length: samples.length }, (_, i) => i).sort((a, b) => samples[b].ids.length - samples[a].ids.length || a - b);
  let sum = 0;
  for (let i = 0; i < order.length; i += microBatch) {
    const r = microStep(student, samples, order.slice(i, i + microBatch), { kind: 'none' }, ce, null, 1);
    for (const l of r.sampleLoss) sum += l;
  }
  return sum / samples.length;
}

function stopMessage(out: string, bad: number, firstBad: number, step: number, last: string | null): string {
  return `training stopped at step ${step}: ${bad} consecutive steps had a non-finite loss or gradient (from step ${firstBad}); ` +
    (last ? `the last good checkpoint is ${last}` : `no checkpoint had been written yet in ${out}`);
}

/** The output folder's policy: run.json marks a run; --overwrite removes it and its outputs (the teacher cache checks itself). */
const folderOptions = (o: DistillOptions): RunFolderOptions => ({
  command: 'distill', resume: o.resume === true, overwrite: o.overwrite === true, records: ['run.json'],
  outputs: ['metrics.jsonl', 'checkpoints', 'model', 'best', 'summary.json'], note: 'the folder already holds a distillation run',
});

/** Trains in a locked output folder (released whatever happens); see the module comment. */
export function distill(o: DistillOptions): DistillSummary {
  const held: { folder: RunFolder | null } = { folder: null };
  try {
    return distillIn(o, (dir) => (held.folder = RunFolder.open(dir, folderOptions(o))));
  } finally {
    held.folder?.close();
  }
}

function distillIn(o: DistillOptions, openFolder: (dir: string) => RunFolder): DistillSummary {
  const started = performance.now();
  const warn = o.onWarning ?? ((m: string) => process.stderr.write(`leaf: warning: ${m}\n`));
  const s = resolveOptions(o);
  for (const m of ignoredOptions(o, s)) warn(m);
  const strict = o.strict === true;
  const out = resolve(o.out);

  // Models.
  const student = loadModelArg(o.student, 'student', o.kernels);
  const needsTeacher = s.loss !== 'ce';
  if (!needsTeacher && o.teacher) warn('--teacher is not used with --loss ce (training on the reference responses)');
  if (needsTeacher && !o.teacher) throw new LeafError(`--teacher is required for --loss ${s.loss} (or use --loss ce)`);
  let teacher = needsTeacher ? loadModelArg(o.teacher!, 'teacher', o.kernels) : null;
  const Vs = student.model.config.vocabSize;
  if (teacher) {
    if (!sameTokenizer(student.tokenizer, teacher.tokenizer)) {
      throw new LeafError(`the teacher (${teacher.dir}) and the student (${student.dir}) have different tokenizers; leaf distils between models that share one (token-level KD needs the same vocabulary)`);
    }
    const Vt = teacher.model.config.vocabSize;
    if (Vt < Vs) throw new LeafError(`the teacher's vocab_size (${Vt}) is smaller than the student's (${Vs}); cannot distil`);
    if (Vt > Vs) warn(`the teacher's vocab_size (${Vt}) is larger than the student's (${Vs}): teacher logits are truncated to the student's ${Vs} entries (as the reference does)`);
    if (teacher.model.floatType !== student.model.floatType) throw new LeafError('teacher and student must use the same float type');
  }

  // Data.
  const train = readRecords(o.data, 'train', strict);
  const cf = o.counterfactuals ? readRecords(o.counterfactuals, 'counterfactual', strict) : null;
  const inputIssues = [...train.issues, ...(cf?.issues ?? [])].map((i) => `${i.file}:${i.line}: ${i.reason}`);
  for (const m of inputIssues) warn(`skipped ${m}`);
  if (cf && s.cfWeight === 0) warn('--cf-weight 0: the counterfactuals are left out (plain KD)');
  const studentSide = tokenizerSide(student);
  const teacherSide = teacher ? tokenizerSide(teacher) : null;
  const { samples, stats } = buildSamples([...train.records, ...(cf?.records ?? [])], studentSide, teacherSide, { maxLength: s.maxLength, cfWeight: s.cfWeight, strict });
  for (const m of stats.issues) warn(`left out ${m}`);
  if (stats.truncated > 0) warn(`${stats.truncated} of ${stats.samples} samples were truncated to --max-length ${s.maxLength} tokens`);
  if (samples.length === 0) {
    const where = typeof o.data === 'string' ? o.data : '--data';
    throw new LeafError(train.records.length === 0 && inputIssues.length === 0
      ? `${where}: no training records (the file is empty)`
      : `${where}: no training samples (${train.records.length} record(s) read, ${inputIssues.length} line(s) skipped, ${stats.issues.length} sample(s) left out; see the warnings above)`);
  }
  // Paired counterfactuals (pairing.ts): steps are planned over the originals, each counterfactual joins its original's step.
  const pairing: Pairing | null = s.pairCounterfactuals ? pairSamples(samples) : null;
  if (pairing) {
    const m = missingSourceMessage(pairing);
    if (m) warn(m);
    if (pairing.originals.length === 0) throw new LeafError('--pair-counterfactuals: no original sample to plan the steps over (see the warnings above)');
  }
  let evalSamples: TrainSample[] = [];
  let evalStats: SampleStats | null = null;
  if (o.evalData) {
    const ev = readRecords(o.evalData, 'train', strict);
    for (const i of ev.issues) warn(`skipped ${i.file}:${i.line}: ${i.reason}`);
    const built = buildSamples(ev.records, studentSide, null, { maxLength: s.maxLength, cfWeight: 0, strict });
    evalSamples = built.samples;
    evalStats = built.stats;
    if (evalSamples.length === 0) throw new LeafError('--eval-data has no usable record');
  } else if (s.evalEvery > 0) {
    throw new LeafError('--eval-every needs --eval-data');
  }

  const teacherFingerprint = teacher ? modelFingerprint(teacher.model) : null;
  // Settings (what must match on --resume).
  const settings: Record<string, unknown> = {
    ...s,
    student: resolve(student.dir),
    teacher: teacher ? resolve(teacher.dir) : null,
    teacherWeights: teacherFingerprint?.slice(0, 16) ?? null,
    data: typeof o.data === 'string' ? resolve(o.data) : '<records>',
    counterfactuals: o.counterfactuals ? (typeof o.counterfactuals === 'string' ? resolve(o.counterfactuals) : '<records>') : null,
    samples: hashSamples(samples),
    evalSamples: evalSamples.length ? hashSamples(evalSamples) : null,
  };
  for (const k of ['keepCheckpoints', 'saveDtype', 'saveEvery', 'checkpointInterval', 'maxBadSteps']) delete settings[k];
  if (pairing) settings.pairing = createHash('sha256').update(JSON.stringify(pairing.counterfactualsOf)).digest('hex').slice(0, 16);
  else delete settings.pairCounterfactuals; // the default: run.json as before the option existed
  const settingsKey = createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
  openFolder(out).identity(settings, {
    field: 'settings', extra: { samples: stats, eval: evalStats },
    mismatch: (k, was, now) => `--resume: ${out} was started with ${k} = ${was}, now ${now}; resume with the same settings and data`,
  });

  // Teacher rows.
  let source: TeacherSource = { kind: 'none' };
  let cacheHow: DistillSummary['teacherCache'] = null;
  let cacheRest: { mean: number; max: number } | null = null;
  let cache: TeacherCache | null = null;
  if (teacher && s.teacherLogits === 'cache') {
    cache = TeacherCache.openOrBuild(out, teacher.model, samples, {
      k: s.topK, temperature: s.temperature, vocab: Vs, batchSize: s.microBatchSize, teacherFingerprint: teacherFingerprint!,
      onProgress: (done, total) => o.onProgress?.({ phase: 'teacher-cache', done, total }),
    });
    cacheHow = cache.built;
    source = { kind: 'cache', cache };
    cacheRest = { mean: cache.meanRest, max: cache.maxRest };
    if (cache.meanRest > 0.05) {
      warn(`the teacher keeps on average ${(100 * cache.meanRest).toFixed(1)}% of its probability outside its top ${cache.k} tokens: the cached loss underestimates the exact one by about that share of the tail divergence; raise --top-k or use --teacher-logits online`);
    }
    if (s.loss === 'rkl') warn('--loss rkl with a teacher cache: reverse KL weighs the tokens the teacher finds unlikely, which the cache lumps into one; the cached loss can be far from the exact one (see docs/distill.md)');
    teacher = null; // not needed any more: a teacher loaded here can be garbage-collected
  } else if (teacher) {
    source = { kind: 'online', model: teacher.model };
  }

  const model = student.model;
  const lossFn = new BatchKdLoss(model.kernels, Vs, { kind: s.loss, temperature: s.temperature, beta: s.jsdBeta }, model.floatType);
  const ceFn = new BatchKdLoss(model.kernels, Vs, { kind: 'ce' }, model.floatType);
  const opt = setupOptimizer(model, { lr: s.lr, beta1: s.adamBeta1, beta2: s.adamBeta2, eps: s.adamEps, weightDecay: s.weightDecay, parallel: o.parallelOptimizer });
  const { optimizer, grads } = opt;
  const lengths = samples.map((x) => x.ids.length);
  const perEpoch = stepsPerEpoch(pairing ? pairing.originals.length : samples.length, s.batchSize);
  const totalSteps = perEpoch * s.epochs;
  if (s.warmup >= totalSteps) warn(`--warmup ${s.warmup} is not below the run's ${totalSteps} steps: the learning rate never reaches --lr ${s.lr}`);
  const ckptRoot = join(out, 'checkpoints');

  // Start or resume.
  const rng = new Rng(s.seed);
  let state: TrainerState = {
    version: 1, step: 0, epoch: 0, stepInEpoch: 0, epochRngState: rng.getState(), optimizerStep: 0,
    skippedSteps: 0, consecutiveBad: 0, bestValLoss: null, settings: settingsKey,
  };
  let resumedFrom: number | null = null;
  let lastCheckpoint: string | null = null;
  if (o.resume) {
    const found = latestCheckpoint(ckptRoot);
    if (found) {
      if (found.state.settings !== settingsKey) throw new LeafError(`--resume: ${found.dir} belongs to a run with other settings`);
      state = loadCheckpoint(found.dir, model, optimizer);
      resumedFrom = state.step;
      lastCheckpoint = found.dir;
    }
  }
  const metrics = MetricsLog.open(join(out, 'metrics.jsonl'), resumedFrom ?? (o.resume ? 0 : null));
  const companions = companionFolder(student, warn);
  let bestDir: string | null = state.bestValLoss !== null && fs.existsSync(join(out, 'best')) ? join(out, 'best') : null;
  let lastCheckpointAt = performance.now();
  const checkpoint = (): void => {
    lastCheckpoint = saveCheckpoint(ckptRoot, model, optimizer, state, { companionsFrom: companions, keep: s.keepCheckpoints });
    lastCheckpointAt = performance.now();
  };

  let last: StepMetrics | null = null;
  let lastVal: number | null = null;
  let stepsThisCall = 0;
  let tokensThisCall = 0;
  let firstBad = 0;
  const trainStart = performance.now();
  try {
    rng.setState(state.epochRngState);
    let plan: EpochPlan | null = null;
    while (state.step < totalSteps) {
      if (!plan) plan = pairing ? planPairedEpoch(rng, lengths, pairing, s.batchSize, s.microBatchSize) : planEpoch(rng, lengths, s.batchSize, s.microBatchSize);
      const stepPlan = plan[state.stepInEpoch];
      const t0 = performance.now();
      for (const g of grads.values()) g.fill(0);
      const n = stepPlan.reduce((a, mb) => a + mb.length, 0);
      // The step objective's divisor: all its samples (data mixing) or, paired, its originals only.
      const divisor = pairing ? stepPlan.reduce((a, mb) => a + mb.filter((i) => samples[i].kind === 'original').length, 0) : n;
      let objective = 0, tokens = 0, responseTokens = 0;
      let origSum = 0, origN = 0, cfSum = 0, cfN = 0;
      let finite = true;
      for (const mb of stepPlan) {
        const r = microStep(model, samples, mb, source, lossFn, finite ? grads : null, 1 / divisor);
        if (!Number.isFinite(r.objective)) finite = false;
        objective += r.objective;
        tokens += r.tokens;
        responseTokens += r.responseTokens;
        mb.forEach((idx, i) => {
          if (samples[idx].kind === 'original') {
            origSum += r.sampleLoss[i];
            origN++;
          } else {
            cfSum += r.sampleLoss[i];
            cfN++;
          }
        });
      }
      const lr = cosineWithWarmup(state.step, totalSteps, s.warmup, s.lr);
      const norm = finite ? opt.gradNorm() : NaN;
      const skipped = !finite || !Number.isFinite(norm);
      if (skipped) {
        if (state.consecutiveBad === 0) firstBad = state.step + 1;
        state.consecutiveBad++;
        state.skippedSteps++;
      } else {
        state.consecutiveBad = 0;
        optimizer.update(grads, lr, s.maxGradNorm > 0 ? clipScale(norm, s.maxGradNorm) : 1);
        state.optimizerStep = optimizer.step;
      }
      state.step++;
      state.stepInEpoch++;
      const epochNumber = state.epoch + 1;
      const epochEnded = state.stepInEpoch >= plan.length;
      if (epochEnded) {
        state.epoch++;
        state.stepInEpoch = 0;
        state.epochRngState = rng.getState();
        plan = null;
      }
      const seconds = (performance.now() - t0) / 1000;
      let valLoss: number | null = null;
      const atEnd = state.step === totalSteps;
      // Validation: every --eval-every steps, or by default at the end of every epoch (the reference's model
      // selection), and always at the last step; OUT/best/ keeps the lowest.
      if (evalSamples.length > 0 && (atEnd || (s.evalEvery > 0 ? state.step % s.evalEvery === 0 : epochEnded))) {
        valLoss = validationLoss(model, evalSamples, s.microBatchSize, ceFn);
        lastVal = valLoss;
        if (Number.isFinite(valLoss) && (state.bestValLoss === null || valLoss < state.bestValLoss)) {
          state.bestValLoss = valLoss;
          saveModelFolder(model, join(out, 'best'), companions, s.saveDtype);
          bestDir = join(out, 'best');
        }
      }
      tokensThisCall += tokens;
      last = {
        step: state.step, epoch: epochNumber, loss: objective,
        kd_original: origN ? origSum / origN : null, kd_counterfactual: cfN ? cfSum / cfN : null,
        lr, grad_norm: norm, tokens_per_s: tokens / seconds, val_loss: valLoss, skipped,
        tokens, response_tokens: responseTokens, samples: n, elapsed_s: (performance.now() - trainStart) / 1000,
      };
      metrics.append(last);
      o.onProgress?.({ phase: 'train', step: state.step, totalSteps, epoch: epochNumber, loss: objective, tokensPerSec: tokens / seconds, valLoss });
      if (state.consecutiveBad >= s.maxBadSteps) throw new LeafError(stopMessage(out, state.consecutiveBad, firstBad, state.step, lastCheckpoint));
      stepsThisCall++;
      if (o.stopAfterSteps !== undefined && stepsThisCall >= o.stopAfterSteps && !atEnd) {
        return summaryOf(null, 'stop-after-steps');
      }
      const epochCheckpoint = s.saveEvery === 0 && state.stepInEpoch === 0 && performance.now() - lastCheckpointAt >= 1000 * s.checkpointInterval;
      if (!atEnd && (epochCheckpoint || (s.saveEvery > 0 && state.step % s.saveEvery === 0))) checkpoint();
    }
    if (state.step > 0 && state.skippedSteps === state.step) {
      throw new LeafError(`training made no update: all ${state.step} steps had a non-finite loss or gradient (from step ${firstBad}; see ${join(out, 'metrics.jsonl')}); no model was written`);
    }
    if (state.consecutiveBad > 0) warn(`the last ${state.consecutiveBad} step(s) had a non-finite loss or gradient and were skipped; the model is the one after step ${state.step - state.consecutiveBad}`);
    if (!lastCheckpoint || !lastCheckpoint.endsWith(`step-${String(state.step).padStart(8, '0')}`)) checkpoint();
    const modelDir = join(out, 'model');
    saveModelFolder(model, modelDir, companions, s.saveDtype);
    const summary = summaryOf(modelDir, null);
    writeFileAtomicSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    return summary;
  } finally {
    metrics.close();
    cache?.close();
    opt.close();
  }

  function summaryOf(modelDir: string | null, stopped: DistillSummary['stopped']): DistillSummary {
    const trainSeconds = (performance.now() - trainStart) / 1000;
    return {
      out, modelDir, bestDir, checkpointDir: lastCheckpoint, steps: state.step, totalSteps, stepsPerEpoch: perEpoch, epochs: s.epochs,
      resumedFrom, skippedSteps: state.skippedSteps,
      data: {
        trainRecords: train.records.length, counterfactualRecords: cf?.records.length ?? 0,
        unverifiedCounterfactuals: cf?.unverified ?? 0, inputIssues, samples: stats, eval: evalStats,
      },
      pairing: pairing ? { originals: pairing.originals.length, counterfactuals: pairing.paired, missingSource: pairing.missing.length, missing: pairing.missing } : null,
      teacherCache: cacheHow, teacherCacheRest: cacheRest, final: last, valLoss: lastVal, bestValLoss: state.bestValLoss,
      seconds: (performance.now() - started) / 1000, tokensPerSec: trainSeconds > 0 ? tokensThisCall / trainSeconds : 0,
      stopped, settings,
    };
  }
}
