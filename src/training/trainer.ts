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
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';
import { RunFolder, type RunFolderOptions } from '../data/run-folder.js';
import { LeafError } from '../errors.js';
import type { WritableDtype } from '../io/safetensors-write.js';
import type { CausalLM } from '../model/causal-lm.js';
import type { Pretrained } from '../model/pretrained.js';
import { saveModel } from '../model/save.js';
import { Rng } from '../util/rng.js';
import { clipScale } from './adamw.js';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { ignoredOptions, resolveOptions, type DistillOptions, type DistillSummary, type Resolved } from './distill-options.js';
import { loadData, loadModels, runSettings, teacherRows, type DistillData, type TeacherRows } from './distill-setup.js';
import { BatchKdLoss } from './kd-batch.js';
import { MetricsLog, type StepMetrics } from './metrics.js';
import { microStep } from './micro-step.js';
import { setupOptimizer, type OptimizerSetup } from './optimizer.js';
import { planEpoch, planPairedEpoch, stepsPerEpoch, type EpochPlan } from './plan.js';
import type { TrainSample } from './samples.js';
import { cosineWithWarmup } from './schedule.js';

export type { DistillOptions, DistillProgress, DistillSummary, RecordInput } from './distill-options.js';

/**
 * Writes a model folder atomically: a temporary folder renamed over `dir`. Leftovers of a process killed
 * while doing so (`dir`.tmp-…, `dir`.old-…) are removed first.
 */
function saveModelFolder(model: CausalLM, dir: string, companionsFrom: string, dtype: WritableDtype | 'auto'): void {
  const base = basename(dir);
  for (const e of fs.readdirSync(dirname(dir))) {
    if (e.startsWith(`${base}.tmp-`) || e.startsWith(`${base}.old-`)) fs.rmSync(join(dirname(dir), e), { recursive: true, force: true });
  }
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  saveModel(model, tmp, { dtype: dtype === 'auto' ? undefined : dtype, companionsFrom }); // auto: the model's own dtype
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

/** Trains in a locked output folder (released whatever happens); see the module comment. An error rejects the promise. */
export async function distill(o: DistillOptions): Promise<DistillSummary> {
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
  const out = resolve(o.out);
  const models = loadModels(o, s, warn);
  const data = loadData(o, s, models, warn);
  const run = runSettings(o, s, models, data);
  openFolder(out).identity(run.settings, {
    field: 'settings', extra: { samples: data.stats, eval: data.evalStats },
    mismatch: (k, was, now) => `--resume: ${out} was started with ${k} = ${was}, now ${now}; resume with the same settings and data`,
  });
  const teacher = teacherRows(out, o, s, models, data.samples, warn);
  const training = new Training({ o, s, out, student: models.student, data, teacher, settings: run.settings, settingsKey: run.key, warn, started });
  try {
    return training.run();
  } finally {
    training.close();
  }
}

interface TrainingSetup {
  o: DistillOptions;
  s: Resolved;
  out: string;
  student: Pretrained;
  data: DistillData;
  teacher: TeacherRows;
  settings: Record<string, unknown>;
  settingsKey: string;
  warn: (m: string) => void;
  /** When distill() was called (for the summary's seconds). */
  started: number;
}

/** One optimizer step's sums (before the step counters move). */
interface StepSums {
  objective: number;
  tokens: number;
  responseTokens: number;
  samples: number;
  origSum: number;
  origN: number;
  cfSum: number;
  cfN: number;
  lr: number;
  norm: number;
  skipped: boolean;
}

/**
 * The training loop of one distill() call: start or resume from the last checkpoint, then per optimizer step
 * — step (micro-batches, clipping, AdamW; a non-finite step is skipped), validate, log, checkpoint — and finish
 * (final checkpoint, model/, summary.json).
 */
class Training {
  private readonly model: CausalLM;
  private readonly lossFn: BatchKdLoss;
  private readonly ceFn: BatchKdLoss;
  private readonly opt: OptimizerSetup;
  private readonly lengths: number[];
  private readonly perEpoch: number;
  private readonly totalSteps: number;
  private readonly ckptRoot: string;
  private readonly rng: Rng;
  private state: TrainerState;
  private resumedFrom: number | null = null;
  private lastCheckpoint: string | null = null;
  private metrics: MetricsLog | null = null;
  private readonly companions: string;
  private bestDir: string | null;
  private lastCheckpointAt: number;
  private last: StepMetrics | null = null;
  private lastVal: number | null = null;
  private stepsThisCall = 0;
  private tokensThisCall = 0;
  private firstBad = 0;
  private trainStart = 0;

  constructor(private readonly c: TrainingSetup) {
    const { s, out, data } = c;
    const model = (this.model = c.student.model);
    const Vs = model.config.vocabSize;
    this.lossFn = new BatchKdLoss(model.kernels, Vs, { kind: s.loss, temperature: s.temperature, beta: s.jsdBeta }, model.floatType);
    this.ceFn = new BatchKdLoss(model.kernels, Vs, { kind: 'ce' }, model.floatType);
    this.opt = setupOptimizer(model, { lr: s.lr, beta1: s.adamBeta1, beta2: s.adamBeta2, eps: s.adamEps, weightDecay: s.weightDecay, parallel: c.o.parallelOptimizer });
    try {
      this.lengths = data.samples.map((x) => x.ids.length);
      this.perEpoch = stepsPerEpoch(data.pairing ? data.pairing.originals.length : data.samples.length, s.batchSize);
      this.totalSteps = this.perEpoch * s.epochs;
      if (s.warmup >= this.totalSteps) c.warn(`--warmup ${s.warmup} is not below the run's ${this.totalSteps} steps: the learning rate never reaches --lr ${s.lr}`);
      this.ckptRoot = join(out, 'checkpoints');
      this.rng = new Rng(s.seed);
      this.state = this.startOrResume();
      this.metrics = MetricsLog.open(join(out, 'metrics.jsonl'), this.resumedFrom ?? (c.o.resume ? 0 : null));
      this.companions = companionFolder(c.student, c.warn);
      this.bestDir = this.state.bestValLoss !== null && fs.existsSync(join(out, 'best')) ? join(out, 'best') : null;
      this.lastCheckpointAt = performance.now();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** A fresh state, or the last checkpoint's (weights and AdamW moments loaded) with --resume. */
  private startOrResume(): TrainerState {
    const state: TrainerState = {
      version: 1, step: 0, epoch: 0, stepInEpoch: 0, epochRngState: this.rng.getState(), optimizerStep: 0,
      skippedSteps: 0, consecutiveBad: 0, bestValLoss: null, settings: this.c.settingsKey,
    };
    if (!this.c.o.resume) return state;
    const found = latestCheckpoint(this.ckptRoot);
    if (!found) return state;
    if (found.state.settings !== this.c.settingsKey) throw new LeafError(`--resume: ${found.dir} belongs to a run with other settings`);
    const loaded = loadCheckpoint(found.dir, this.model, this.opt.optimizer);
    this.resumedFrom = loaded.step;
    this.lastCheckpoint = found.dir;
    return loaded;
  }

  /** Trains to the last step (or stopAfterSteps) and returns the summary. */
  run(): DistillSummary {
    const { s, data } = this.c;
    this.trainStart = performance.now();
    this.rng.setState(this.state.epochRngState);
    let plan: EpochPlan | null = null;
    while (this.state.step < this.totalSteps) {
      if (!plan) plan = data.pairing ? planPairedEpoch(this.rng, this.lengths, data.pairing, s.batchSize, s.microBatchSize) : planEpoch(this.rng, this.lengths, s.batchSize, s.microBatchSize);
      const t0 = performance.now();
      const sums = this.step(plan[this.state.stepInEpoch]);
      const epochNumber = this.state.epoch + 1;
      const epochEnded = this.advance(plan.length);
      if (epochEnded) plan = null;
      const seconds = (performance.now() - t0) / 1000;
      const atEnd = this.state.step === this.totalSteps;
      const valLoss = this.validate(atEnd, epochEnded);
      this.log(sums, epochNumber, seconds, valLoss);
      if (this.state.consecutiveBad >= s.maxBadSteps) throw new LeafError(stopMessage(this.c.out, this.state.consecutiveBad, this.firstBad, this.state.step, this.lastCheckpoint));
      this.stepsThisCall++;
      if (this.c.o.stopAfterSteps !== undefined && this.stepsThisCall >= this.c.o.stopAfterSteps && !atEnd) return this.summary(null, 'stop-after-steps');
      const epochCheckpoint = s.saveEvery === 0 && this.state.stepInEpoch === 0 && performance.now() - this.lastCheckpointAt >= 1000 * s.checkpointInterval;
      if (!atEnd && (epochCheckpoint || (s.saveEvery > 0 && this.state.step % s.saveEvery === 0))) this.checkpoint();
    }
    return this.finish();
  }

  /** One optimizer step over the step's micro-batches: gradients, clipping and the AdamW update (none when not finite). */
  private step(stepPlan: number[][]): StepSums {
    const { s, data } = this.c;
    const samples = data.samples;
    const { grads, optimizer } = this.opt;
    for (const g of grads.values()) g.fill(0);
    const n = stepPlan.reduce((a, mb) => a + mb.length, 0);
    // The step objective's divisor: all its samples (data mixing) or, paired, its originals only.
    const divisor = data.pairing ? stepPlan.reduce((a, mb) => a + mb.filter((i) => samples[i].kind === 'original').length, 0) : n;
    const sums: StepSums = { objective: 0, tokens: 0, responseTokens: 0, samples: n, origSum: 0, origN: 0, cfSum: 0, cfN: 0, lr: 0, norm: NaN, skipped: true };
    let finite = true;
    for (const mb of stepPlan) {
      const r = microStep(this.model, samples, mb, this.c.teacher.source, this.lossFn, finite ? grads : null, 1 / divisor);
      if (!Number.isFinite(r.objective)) finite = false;
      sums.objective += r.objective;
      sums.tokens += r.tokens;
      sums.responseTokens += r.responseTokens;
      mb.forEach((idx, i) => {
        if (samples[idx].kind === 'original') {
          sums.origSum += r.sampleLoss[i];
          sums.origN++;
        } else {
          sums.cfSum += r.sampleLoss[i];
          sums.cfN++;
        }
      });
    }
    const state = this.state;
    sums.lr = cosineWithWarmup(state.step, this.totalSteps, s.warmup, s.lr);
    sums.norm = finite ? this.opt.gradNorm() : NaN;
    sums.skipped = !finite || !Number.isFinite(sums.norm);
    if (sums.skipped) {
      if (state.consecutiveBad === 0) this.firstBad = state.step + 1;
      state.consecutiveBad++;
      state.skippedSteps++;
    } else {
      state.consecutiveBad = 0;
      optimizer.update(grads, sums.lr, s.maxGradNorm > 0 ? clipScale(sums.norm, s.maxGradNorm) : 1);
      state.optimizerStep = optimizer.step;
    }
    return sums;
  }

  /** Moves the step counters on; says whether the epoch (of `planLength` steps) ended. */
  private advance(planLength: number): boolean {
    const state = this.state;
    state.step++;
    state.stepInEpoch++;
    if (state.stepInEpoch < planLength) return false;
    state.epoch++;
    state.stepInEpoch = 0;
    state.epochRngState = this.rng.getState();
    return true;
  }

  /**
   * Validation: every --eval-every steps, or by default at the end of every epoch (the reference's model
   * selection), and always at the last step; OUT/best/ keeps the lowest. Null when not taken at this step.
   */
  private validate(atEnd: boolean, epochEnded: boolean): number | null {
    const { s, data, out } = this.c;
    if (!(data.evalSamples.length > 0 && (atEnd || (s.evalEvery > 0 ? this.state.step % s.evalEvery === 0 : epochEnded)))) return null;
    const valLoss = validationLoss(this.model, data.evalSamples, s.microBatchSize, this.ceFn);
    this.lastVal = valLoss;
    if (Number.isFinite(valLoss) && (this.state.bestValLoss === null || valLoss < this.state.bestValLoss)) {
      this.state.bestValLoss = valLoss;
      saveModelFolder(this.model, join(out, 'best'), this.companions, s.saveDtype);
      this.bestDir = join(out, 'best');
    }
    return valLoss;
  }

  /** metrics.jsonl's line for the step just taken, and the progress event. */
  private log(x: StepSums, epoch: number, seconds: number, valLoss: number | null): void {
    this.tokensThisCall += x.tokens;
    this.last = {
      step: this.state.step, epoch, loss: x.objective,
      kd_original: x.origN ? x.origSum / x.origN : null, kd_counterfactual: x.cfN ? x.cfSum / x.cfN : null,
      lr: x.lr, grad_norm: x.norm, tokens_per_s: x.tokens / seconds, val_loss: valLoss, skipped: x.skipped,
      tokens: x.tokens, response_tokens: x.responseTokens, samples: x.samples, elapsed_s: (performance.now() - this.trainStart) / 1000,
    };
    this.metrics!.append(this.last);
    this.c.o.onProgress?.({ phase: 'train', done: this.state.step, total: this.totalSteps, epoch, loss: x.objective, tokensPerSec: x.tokens / seconds, valLoss });
  }

  private checkpoint(): void {
    this.lastCheckpoint = saveCheckpoint(this.ckptRoot, this.model, this.opt.optimizer, this.state, { companionsFrom: this.companions, keep: this.c.s.keepCheckpoints });
    this.lastCheckpointAt = performance.now();
  }

  /** After the last step: refuse a run that never updated, write the final checkpoint, model/ and summary.json. */
  private finish(): DistillSummary {
    const state = this.state;
    if (state.step > 0 && state.skippedSteps === state.step) {
      throw new LeafError(`training made no update: all ${state.step} steps had a non-finite loss or gradient (from step ${this.firstBad}; see ${join(this.c.out, 'metrics.jsonl')}); no model was written`);
    }
    if (state.consecutiveBad > 0) this.c.warn(`the last ${state.consecutiveBad} step(s) had a non-finite loss or gradient and were skipped; the model is the one after step ${state.step - state.consecutiveBad}`);
    if (!this.lastCheckpoint || !this.lastCheckpoint.endsWith(`step-${String(state.step).padStart(8, '0')}`)) this.checkpoint();
    const modelDir = join(this.c.out, 'model');
    saveModelFolder(this.model, modelDir, this.companions, this.c.s.saveDtype);
    const summary = this.summary(modelDir, null);
    writeFileAtomicSync(join(this.c.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    return summary;
  }

  private summary(modelDir: string | null, stopped: DistillSummary['stopped']): DistillSummary {
    const { data, teacher } = this.c;
    const trainSeconds = (performance.now() - this.trainStart) / 1000;
    const p = data.pairing;
    return {
      out: this.c.out, modelDir, bestDir: this.bestDir, checkpointDir: this.lastCheckpoint, steps: this.state.step, totalSteps: this.totalSteps,
      stepsPerEpoch: this.perEpoch, epochs: this.c.s.epochs, resumedFrom: this.resumedFrom, skippedSteps: this.state.skippedSteps,
      data: {
        trainRecords: data.train.records.length, counterfactualRecords: data.cf?.records.length ?? 0,
        unverifiedCounterfactuals: data.cf?.unverified ?? 0, inputIssues: data.inputIssues, samples: data.stats, eval: data.evalStats,
      },
      pairing: p ? { originals: p.originals.length, counterfactuals: p.paired, missingSource: p.missing.length, missing: p.missing } : null,
      teacherCache: teacher.how, teacherCacheRest: teacher.rest, final: this.last, valLoss: this.lastVal, bestValLoss: this.state.bestValLoss,
      seconds: (performance.now() - this.c.started) / 1000, tokensPerSec: trainSeconds > 0 ? this.tokensThisCall / trainSeconds : 0,
      stopped, settings: this.c.settings,
    };
  }

  close(): void {
    this.metrics?.close();
    this.c.teacher.cache?.close();
    this.opt.close();
  }
}
