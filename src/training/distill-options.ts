/**
 * The options of distill() — the tunable ones declared once in DISTILL_SPEC (flag, help, default, rule) —
 * and the summary it returns.
 */
import type { Progress } from '../util/progress.js';
import type { TeacherCacheProgress } from './teacher-cache.js';
import { above, atLeast, inRange, intAtLeast, option, resolveSpec, type ResolvedOf } from '../util/option-spec.js';
import type { JsonObject } from '../data/jsonl.js';
import type { RunControl } from '../data/run-control.js';
import { LeafError } from '../errors.js';
import type { WritableDtype } from '../io/safetensors-write.js';
import type { Kernels } from '../kernels/types.js';
import { DTYPE_OPTION } from '../model/weights.js';
import type { Pretrained } from '../model/pretrained.js';
import type { KdLossKind } from './kd-loss.js';
import type { StepMetrics } from './metrics.js';
import type { ParallelOptimizer } from './optimizer.js';
import type { SampleStats } from './samples.js';

/** Records given directly (library use): objects in the train.jsonl / counterfactuals.jsonl formats. */
export type RecordInput = string | readonly JsonObject[];

/**
 * distill()'s tunable options, each declared once (util/option-spec.ts): `leaf distill`'s flags and help, the
 * library's defaults (the reference's hyper-parameters) and checks all come from here.
 */
export const DISTILL_SPEC = {
  loss: option<KdLossKind>({ flag: '--loss <kind>', help: 'fkl (forward KL, the reference) | rkl | jsd | ce (SFT on the reference response)', kind: 'choice', choices: ['fkl', 'rkl', 'jsd', 'ce'], default: 'fkl' }),
  temperature: option<number>({ flag: '--temperature <T>', help: 'softmax temperature of the KD losses (loss × T²)', kind: 'number', default: 1, rule: above(0) }),
  jsdBeta: option<number>({
    flag: '--jsd-beta <b>', help: 'β of JSD(β)', kind: 'number', default: 0.5,
    when: (r) => r.loss === 'jsd', rule: { ok: (v) => v > 0 && v < 1, what: 'in (0, 1) (0 and 1 make the JSD vanish)' },
  }),
  cfWeight: option<number>({ flag: '--cf-weight <λ>', help: 'weight λ of each counterfactual sample (1 = the reference data mixing, 0 = plain KD)', kind: 'number', default: 1, rule: atLeast(0) }),
  /**
   * Pair each counterfactual with its original (source_id = id) instead of mixing it in as one more row
   * (default false, the reference's data mixing). Steps are planned over the originals only — the same
   * original batches as a plain-KD run with the same seed — each counterfactual joins its original's step,
   * and a step over originals O minimises (1/|O|)·Σ_{s∈O} [L_s + λ·Σ_{c∈CF(s)} L_c]. Counterfactuals with
   * no original to join are counted and reported, not trained on. See pairing.ts.
   */
  pairCounterfactuals: option<boolean>({
    flag: '--pair-counterfactuals', kind: 'boolean', default: false,
    help: 'each counterfactual joins the step of its original (source_id = id): steps over the originals only, as plain KD with the same seed; a step minimises (1/|originals|)·Σ [L_s + λ·Σ_cf L_cf] (default: the reference data mixing)',
  }),
  teacherLogits: option<'online' | 'cache'>({ flag: '--teacher-logits <how>', help: 'online (teacher forward each step) | cache (top-K computed once)', kind: 'choice', choices: ['online', 'cache'], default: 'online' }),
  topK: option<number>({ flag: '--top-k <K>', help: 'teacher cache: log-probabilities kept per token', kind: 'int', default: 64, rule: intAtLeast(1) }),
  epochs: option<number>({ flag: '--epochs <E>', help: 'epochs', kind: 'int', default: 3, rule: intAtLeast(1) }),
  lr: option<number>({ flag: '--lr <lr>', help: 'peak learning rate', kind: 'number', default: 1e-5, rule: atLeast(0) }),
  batchSize: option<number>({ flag: '--batch-size <B>', help: 'samples per optimizer step', kind: 'int', default: 32, rule: intAtLeast(1) }),
  microBatchSize: option<number>({
    flag: '--micro-batch-size <b>', help: 'samples per forward/backward, gradients accumulated over B/b', kind: 'int',
    default: (r) => Math.min(2, r.batchSize as number), defaultHelp: '2, at most B',
    rule: { ok: (v, r) => Number.isInteger(v) && v >= 1 && v <= (r.batchSize as number), what: (r) => `an integer in [1, --batch-size ${String(r.batchSize)}]` },
  }),
  warmup: option<number>({ flag: '--warmup <W>', help: 'linear warm-up steps before the cosine decay', kind: 'int', default: 5, rule: intAtLeast(0) }),
  maxLength: option<number>({ flag: '--max-length <L>', help: 'truncate samples to L tokens (counted and reported)', kind: 'int', default: 4096, rule: intAtLeast(2) }),
  seed: option<number>({ flag: '--seed <S>', help: 'seed of the data order', kind: 'int', default: 1234 }),
  evalEvery: option<number>({
    flag: '--eval-every <N>', kind: 'int', default: 0, defaultHelp: '0: at the end of every epoch', rule: intAtLeast(0),
    help: 'student cross-entropy on --eval-data every N steps (always at the last step)',
  }),
  weightDecay: option<number>({ flag: '--weight-decay <wd>', help: 'AdamW decoupled weight decay', kind: 'number', default: 0, rule: atLeast(0) }),
  adamBeta1: option<number>({ flag: '--adam-beta1 <b1>', help: 'AdamW β1', kind: 'number', default: 0.9, rule: inRange(0, 1) }),
  adamBeta2: option<number>({ flag: '--adam-beta2 <b2>', help: 'AdamW β2', kind: 'number', default: 0.999, rule: inRange(0, 1) }),
  adamEps: option<number>({ flag: '--adam-eps <eps>', help: 'AdamW ε', kind: 'number', default: 1e-8, rule: above(0) }),
  maxGradNorm: option<number>({ flag: '--max-grad-norm <n>', help: 'clip the global gradient norm to n (0 = off, the reference)', kind: 'number', default: 0, rule: atLeast(0) }),
  saveEvery: option<number>({ flag: '--save-every <N>', help: 'checkpoint every N steps (0 = at the end of epochs, at most one per --checkpoint-interval)', kind: 'int', default: 0, rule: intAtLeast(0) }),
  /**
   * With saveEvery 0: an end-of-epoch checkpoint is skipped when the last one is younger than this many
   * seconds (0 = every epoch), so tiny models with many short epochs do not spend their time writing
   * checkpoints. The final checkpoint is always written.
   */
  checkpointInterval: option<number>({ flag: '--checkpoint-interval <s>', help: 'with --save-every 0: seconds between end-of-epoch checkpoints (0 = every epoch)', kind: 'number', default: 60, rule: atLeast(0) }),
  keepCheckpoints: option<number>({ flag: '--keep-checkpoints <n>', help: 'checkpoints kept', kind: 'int', default: 2, rule: intAtLeast(1) }),
  maxBadSteps: option<number>({ flag: '--max-bad-steps <n>', help: 'stop after n consecutive steps with a non-finite loss or gradient', kind: 'int', default: 8, rule: intAtLeast(1) }),
  /**
   * Resident dtype of the weight matrices of models loaded from folders ('auto': bf16 for BF16 checkpoints).
   * A bf16 student trains through float32 master weights (AdamW's); its checkpoints are BF16 with the
   * masters in optimizer.safetensors.
   */
  dtype: DTYPE_OPTION,
  saveDtype: option<WritableDtype | 'auto'>({
    flag: '--save-dtype <dtype>', kind: 'choice', choices: ['auto', 'F32', 'BF16', 'F16'], default: 'auto',
    help: "dtype of the final model/ and best/ folders (auto: the student's, BF16 for a bf16 student, else F32; checkpoints are always in the student's)",
  }),
};

/** The tunable options with their defaults applied. */
export type Resolved = ResolvedOf<typeof DISTILL_SPEC>;

export interface DistillOptions extends Partial<Resolved>, RunControl {
  /** Student model folder, or a loaded model (trained in place; its `dir` provides the tokenizer files saved with checkpoints). */
  student: string | Pretrained;
  /** Teacher model folder or loaded model; not needed (and not loaded) for loss 'ce'. */
  teacher?: string | Pretrained | null;
  /** train.jsonl (or its records). */
  data: RecordInput;
  /** counterfactuals.jsonl from `leaf mine` (or its records); records with verified === false are left out. */
  counterfactuals?: RecordInput | null;
  out: string;
  /**
   * A teacher cache built beforehand (`leaf teacher-cache`, or merged shards of it): used instead of
   * building one in `out`; it must have been built from this teacher and these samples with this K and
   * temperature (one-line error naming what differs). Implies teacherLogits 'cache'.
   */
  teacherCache?: string | null;
  /** Validation records (train.jsonl format) for the student's cross-entropy (see evalEvery). */
  evalData?: RecordInput | null;
  /** Kernels for models loaded from folders. */
  kernels?: Kernels;
  onProgress?: (p: DistillProgress) => void;
  onWarning?: (message: string) => void;
  /** Who runs the gradient norm and AdamW: 'auto' (default) the native kernels when the model runs on them, else worker threads for float32 models of ≥ 4M parameters; 'always' worker threads; 'never' this thread. */
  parallelOptimizer?: ParallelOptimizer;
  /** Testing: stop, as if killed, right after this many optimizer steps of this call (nothing more is written). */
  stopAfterSteps?: number;
}

/** Building the teacher cache (samples done of all), then training (optimizer steps done of the run's, with the step's figures). */
export type DistillProgress =
  | TeacherCacheProgress
  | Progress<'train', { epoch: number; loss: number; tokensPerSec: number; valLoss: number | null }>;

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

/** The options with their defaults, checked (one-line LeafError naming the flag). */
export function resolveOptions(o: DistillOptions): Resolved {
  if (o.teacherCache && o.teacherLogits === 'online') throw new LeafError('--teacher-cache needs --teacher-logits cache (its default), not online');
  return resolveSpec(DISTILL_SPEC, o.teacherCache ? { ...o, teacherLogits: 'cache' } : o);
}

/** Options given that the run's other choices make meaningless: said, not silently ignored. */
export function ignoredOptions(o: DistillOptions, s: Resolved): string[] {
  const out: string[] = [];
  if (o.topK !== undefined && s.teacherLogits !== 'cache') out.push('--top-k only applies with --teacher-logits cache; ignored');
  if (o.jsdBeta !== undefined && s.loss !== 'jsd') out.push(`--jsd-beta only applies with --loss jsd (not ${s.loss}); ignored`);
  if (o.temperature !== undefined && s.loss === 'ce') out.push('--temperature does not apply to --loss ce; ignored');
  if (o.teacherCache && s.loss === 'ce') out.push('--teacher-cache does not apply to --loss ce; ignored');
  return out;
}

