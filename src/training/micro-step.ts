/**
 * One micro-batch of the trainer: pack the samples, get the teacher's rows (a forward of the frozen
 * teacher on the same — or its own templated — input, or the cached top-K rows), run the student with
 * activations saved, compute the loss on the response rows and accumulate parameter gradients.
 *
 * The objective of an optimizer step over samples S is (1/|S|) · Σ_{s∈S} w_s · L_s, with L_s the mean
 * over the response tokens of s of the per-token loss and w_s = 1 for an original, λ for a
 * counterfactual; a micro-step contributes its samples' terms with scale = 1/|S|.
 */
import { backward } from '../model/backward.js';
import type { CausalLM } from '../model/causal-lm.js';
import type { FArray } from '../kernels/types.js';
import { packBatch, type PackedBatch, type TokenizedSample } from './batch.js';
import type { BatchKdLoss, TeacherRows } from './kd-batch.js';
import type { TeacherCache } from './teacher-cache.js';

/** What a micro-step reads of a sample (a TrainSample is one): its tokens and, optionally, the teacher's own input. */
export type StepSample = TokenizedSample & { teacherIds?: number[]; teacherResponseStart?: number };

/** Where the teacher's rows come from. */
export type TeacherSource =
  | { kind: 'none' }
  | { kind: 'online'; model: CausalLM }
  | { kind: 'cache'; cache: TeacherCache };

export interface MicroStepResult {
  /** scale · Σ_s w_s · L_s (NaN/Infinity when some loss is not finite). */
  objective: number;
  /** L_s per sample of the micro-batch, in the given order. */
  sampleLoss: Float64Array;
  /** Input (non-padding) tokens and response tokens. */
  tokens: number;
  responseTokens: number;
}

function teacherPack(samples: readonly StepSample[], own: PackedBatch): PackedBatch {
  if (!samples.some((s) => s.teacherIds)) return own;
  return packBatch(samples.map((s) => ({ ids: s.teacherIds ?? s.ids, responseStart: s.teacherResponseStart ?? s.responseStart, weight: s.weight })));
}

/** The teacher's rows for a micro-batch (null for the 'none' source). */
export function teacherRowsFor(source: TeacherSource, all: readonly StepSample[], indices: readonly number[], packed: PackedBatch): TeacherRows | null {
  if (source.kind === 'none') return null;
  if (source.kind === 'cache') return source.cache.read(indices);
  const samples = indices.map((i) => all[i]);
  const tp = teacherPack(samples, packed);
  const t = source.model.forward({ batch: tp.batch, seqLen: tp.seqLen, inputIds: tp.inputIds, attentionMask: tp.attentionMask, logitRows: tp.logitRows });
  return { kind: 'logits', logits: t.logits!, vocab: source.model.config.vocabSize };
}

/**
 * Runs one micro-batch (samples `indices` of `all`). With `grads`, accumulates d(objective)/d params into
 * them — unless the loss is not finite, in which case backward is skipped (the step will be dropped).
 */
export function microStep(
  student: CausalLM, all: readonly StepSample[], indices: readonly number[], teacher: TeacherSource,
  loss: BatchKdLoss, grads: Map<string, FArray> | null, scale: number,
): MicroStepResult {
  const samples = indices.map((i) => all[i]);
  const packed = packBatch(samples);
  const teacherRows = teacherRowsFor(teacher, all, indices, packed);
  const out = student.forward({
    batch: packed.batch, seqLen: packed.seqLen, inputIds: packed.inputIds, attentionMask: packed.attentionMask,
    logitRows: packed.logitRows, saveForBackward: grads !== null,
  });
  const R = packed.tokens;
  const w = new Float64Array(R);
  for (let r = 0; r < R; r++) w[r] = packed.rowWeights[r] * scale;
  const rowLoss = new Float64Array(R);
  const objective = loss.compute(out.logits!, R, w, teacherRows, packed.targets, grads !== null, rowLoss);
  if (grads && Number.isFinite(objective)) backward(student, out.tape!, out.logits!, { paramGrads: grads });
  const sampleLoss = new Float64Array(samples.length);
  let r = 0, tokens = 0;
  samples.forEach((s, i) => {
    const n = s.ids.length - s.responseStart;
    let sum = 0;
    for (let j = 0; j < n; j++) sum += rowLoss[r++];
    sampleLoss[i] = sum / n;
    tokens += s.ids.length;
  });
  return { objective, sampleLoss, tokens, responseTokens: R };
}
