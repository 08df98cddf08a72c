/**
 * The options of distill(), their defaults (the reference's hyper-parameters), their validation, and the
 * summary it returns.
 */
import { LeafError } from '../errors.js';
import type { JsonObject } from '../data/jsonl.js';
import type { WritableDtype } from '../io/safetensors-write.js';
import type { Kernels } from '../kernels/types.js';
import type { Pretrained } from '../model/pretrained.js';
import type { KdLossKind } from './kd-loss.js';
import type { StepMetrics } from './metrics.js';
import type { ParallelOptimizer } from './optimizer.js';
import type { SampleStats } from './samples.js';

/** Records given directly (library use): objects in the train.jsonl / counterfactuals.jsonl formats. */
export type RecordInput = string | readonly JsonObject[];

export interface DistillOptions {
  /** Student model folder, or a loaded model (trained in place; its `dir` provides the tokenizer files saved with checkpoints). */
  student: string | Pretrained;
  /** Teacher model folder or loaded model; not needed (and not loaded) for loss 'ce'. */
  teacher?: string | Pretrained | null;
  /** train.jsonl (or its records). */
  data: RecordInput;
  /** counterfactuals.jsonl from `leaf mine` (or its records); records with verified === false are left out. */
  counterfactuals?: RecordInput | null;
  out: string;
  loss?: KdLossKind;
  temperature?: number;
  /** β of JSD(β) (default 0.5). */
  jsdBeta?: number;
  /** λ: the weight of each counterfactual sample (default 1, the reference's data mixing; 0 leaves them out). */
  cfWeight?: number;
  /**
   * Pair each counterfactual with its original (source_id = id) instead of mixing it in as one more row
   * (default false, the reference's data mixing). Steps are planned over the originals only — the same
   * original batches as a plain-KD run with the same seed — each counterfactual joins its original's step,
   * and a step over originals O minimises (1/|O|)·Σ_{s∈O} [L_s + λ·Σ_{c∈CF(s)} L_c]. Counterfactuals with
   * no original to join are counted and reported, not trained on. See pairing.ts.
   */
  pairCounterfactuals?: boolean;
  teacherLogits?: 'online' | 'cache';
  /** K of the teacher cache (default 64). */
  topK?: number;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  microBatchSize?: number;
  warmup?: number;
  maxLength?: number;
  seed?: number;
  resume?: boolean;
  /** Start over in an --out that holds a run (its run.json, metrics, checkpoints, model/ and best/ are removed; a teacher cache is kept and checked). */
  overwrite?: boolean;
  /** Evaluate the student's cross-entropy on evalData every N steps; 0 (default): at the end of every epoch. Always at the last step. */
  evalEvery?: number;
  evalData?: RecordInput | null;
  weightDecay?: number;
  adamBeta1?: number;
  adamBeta2?: number;
  adamEps?: number;
  /** Clip the global gradient norm to this (default 0: off, as the reference; > 0 clips). */
  maxGradNorm?: number;
  /** Checkpoint every N steps (default 0: at the end of epochs, see checkpointInterval). */
  saveEvery?: number;
  /**
   * With saveEvery 0: an end-of-epoch checkpoint is skipped when the last one is younger than this many
   * seconds (default 60; 0 = every epoch), so tiny models with many short epochs do not spend their time
   * writing checkpoints. The final checkpoint is always written.
   */
  checkpointInterval?: number;
  /** Checkpoints kept (default 2). */
  keepCheckpoints?: number;
  /** Consecutive steps with a non-finite loss or gradient before the run stops (default 8). */
  maxBadSteps?: number;
  /** Dtype of the final model/ and best/ folders (default F32; checkpoints are always F32). */
  saveDtype?: WritableDtype;
  /** Stop at the first malformed input line or unusable record. */
  strict?: boolean;
  /** Kernels for models loaded from folders. */
  kernels?: Kernels;
  onProgress?: (p: DistillProgress) => void;
  onWarning?: (message: string) => void;
  /** Gradient norm and AdamW on worker threads: 'auto' (default) for float32 models of ≥ 4M parameters. */
  parallelOptimizer?: ParallelOptimizer;
  /** Testing: stop, as if killed, right after this many optimizer steps of this call (nothing more is written). */
  stopAfterSteps?: number;
}

export type DistillProgress =
  | { phase: 'teacher-cache'; done: number; total: number }
  | { phase: 'train'; step: number; totalSteps: number; epoch: number; loss: number; tokensPerSec: number; valLoss: number | null };

export interface DistillSummary {
  out: string;
  /** The final student (null when stopped early by stopAfterSteps). */
  modelDir: string | null;
  bestDir: string | null;
  checkpointDir: string | null;
  steps: number;
  totalSteps: number;
  stepsPerEpoch: number;
  epochs: number;
  resumedFrom: number | null;
  skippedSteps: number;
  data: {
    trainRecords: number;
    counterfactualRecords: number;
    unverifiedCounterfactuals: number;
    /** `file:line: reason` of every skipped input line. */
    inputIssues: string[];
    samples: SampleStats;
    eval: SampleStats | null;
  };
  teacherCache: 'reused' | 'built' | 'resumed' | null;
  /** The teacher's mean / largest probability mass outside the cached top K (the approximation's size). */
  teacherCacheRest: { mean: number; max: number } | null;
  /** With pairCounterfactuals: originals, counterfactuals paired with one, and those left out for want of one. */
  pairing?: { originals: number; counterfactuals: number; missingSource: number; missing: { id: string; sourceId: string | null }[] } | null;
  final: StepMetrics | null;
  valLoss: number | null;
  bestValLoss: number | null;
  seconds: number;
  tokensPerSec: number;
  stopped: 'stop-after-steps' | null;
  settings: Record<string, unknown>;
}

export interface Resolved {
  loss: KdLossKind;
  temperature: number;
  jsdBeta: number;
  cfWeight: number;
  pairCounterfactuals: boolean;
  teacherLogits: 'online' | 'cache';
  topK: number;
  epochs: number;
  lr: number;
  batchSize: number;
  microBatchSize: number;
  warmup: number;
  maxLength: number;
  seed: number;
  evalEvery: number;
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEps: number;
  maxGradNorm: number;
  saveEvery: number;
  checkpointInterval: number;
  keepCheckpoints: number;
  maxBadSteps: number;
  saveDtype: WritableDtype;
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new LeafError(message);
}

export function resolveOptions(o: DistillOptions): Resolved {
  const r: Resolved = {
    loss: o.loss ?? 'fkl',
    temperature: o.temperature ?? 1,
    jsdBeta: o.jsdBeta ?? 0.5,
    cfWeight: o.cfWeight ?? 1,
    pairCounterfactuals: o.pairCounterfactuals ?? false,
    teacherLogits: o.teacherLogits ?? 'online',
    topK: o.topK ?? 64,
    epochs: o.epochs ?? 3,
    lr: o.lr ?? 1e-5,
    batchSize: o.batchSize ?? 32,
    microBatchSize: o.microBatchSize ?? Math.min(2, o.batchSize ?? 32),
    warmup: o.warmup ?? 5,
    maxLength: o.maxLength ?? 4096,
    seed: o.seed ?? 1234,
    evalEvery: o.evalEvery ?? 0,
    weightDecay: o.weightDecay ?? 0,
    adamBeta1: o.adamBeta1 ?? 0.9,
    adamBeta2: o.adamBeta2 ?? 0.999,
    adamEps: o.adamEps ?? 1e-8,
    maxGradNorm: o.maxGradNorm ?? 0,
    saveEvery: o.saveEvery ?? 0,
    checkpointInterval: o.checkpointInterval ?? 60,
    keepCheckpoints: o.keepCheckpoints ?? 2,
    maxBadSteps: o.maxBadSteps ?? 8,
    saveDtype: o.saveDtype ?? 'F32',
  };
  check(typeof r.pairCounterfactuals === 'boolean', `pairCounterfactuals must be true or false, got ${String(r.pairCounterfactuals)}`);
  check(['fkl', 'rkl', 'jsd', 'ce'].includes(r.loss), `--loss must be fkl, rkl, jsd or ce, got ${String(r.loss)}`);
  check(r.teacherLogits === 'online' || r.teacherLogits === 'cache', `--teacher-logits must be online or cache, got ${String(r.teacherLogits)}`);
  check(r.temperature > 0 && Number.isFinite(r.temperature), `--temperature must be > 0, got ${r.temperature}`);
  check(r.cfWeight >= 0 && Number.isFinite(r.cfWeight), `--cf-weight must be ≥ 0, got ${r.cfWeight}`);
  check(Number.isInteger(r.topK) && r.topK >= 1, `--top-k must be an integer ≥ 1, got ${r.topK}`);
  check(Number.isInteger(r.epochs) && r.epochs >= 1, `--epochs must be an integer ≥ 1, got ${r.epochs}`);
  check(r.lr >= 0 && Number.isFinite(r.lr), `--lr must be ≥ 0, got ${r.lr}`);
  check(Number.isInteger(r.batchSize) && r.batchSize >= 1, `--batch-size must be an integer ≥ 1, got ${r.batchSize}`);
  check(Number.isInteger(r.microBatchSize) && r.microBatchSize >= 1 && r.microBatchSize <= r.batchSize,
    `--micro-batch-size must be an integer in [1, --batch-size ${r.batchSize}], got ${r.microBatchSize}`);
  check(Number.isInteger(r.warmup) && r.warmup >= 0, `--warmup must be an integer ≥ 0, got ${r.warmup}`);
  check(Number.isInteger(r.maxLength) && r.maxLength >= 2, `--max-length must be an integer ≥ 2, got ${r.maxLength}`);
  check(Number.isInteger(r.seed), `--seed must be an integer, got ${r.seed}`);
  check(Number.isInteger(r.evalEvery) && r.evalEvery >= 0, `--eval-every must be an integer ≥ 0, got ${r.evalEvery}`);
  check(r.loss !== 'jsd' || (r.jsdBeta > 0 && r.jsdBeta < 1), `--jsd-beta must be in (0, 1) (0 and 1 make the JSD vanish), got ${r.jsdBeta}`);
  check(r.maxGradNorm >= 0, `--max-grad-norm must be ≥ 0, got ${r.maxGradNorm}`);
  check(r.weightDecay >= 0 && Number.isFinite(r.weightDecay), `--weight-decay must be ≥ 0, got ${r.weightDecay}`);
  check(r.adamBeta1 >= 0 && r.adamBeta1 < 1, `--adam-beta1 must be in [0, 1), got ${r.adamBeta1}`);
  check(r.adamBeta2 >= 0 && r.adamBeta2 < 1, `--adam-beta2 must be in [0, 1), got ${r.adamBeta2}`);
  check(r.adamEps > 0 && Number.isFinite(r.adamEps), `--adam-eps must be > 0, got ${r.adamEps}`);
  check(Number.isInteger(r.maxBadSteps) && r.maxBadSteps >= 1, `max bad steps must be an integer ≥ 1, got ${r.maxBadSteps}`);
  check(Number.isInteger(r.saveEvery) && r.saveEvery >= 0, `--save-every must be an integer ≥ 0, got ${r.saveEvery}`);
  check(r.checkpointInterval >= 0, `checkpoint interval must be ≥ 0 seconds, got ${r.checkpointInterval}`);
  return r;
}

