import { LeafError } from '../errors.js';
import type { FArray } from '../kernels/types.js';
import { backward } from '../model/backward.js';
import type { CausalLM } from '../model/causal-lm.js';
import type { PackedBatch } from './batch.js';
import { kdLoss, teacherFromLogits, type KdLossOptions } from './kd-loss.js';

export interface MicroStepResult {
  /** Σ over the batch's samples of weight · token-mean loss (before `scale`). */
  lossSum: number;
  tokens: number;
}

/**
 * One micro-batch of distillation: the teacher (frozen, no activations kept) and the student see the same
 * input; the student's logits at response positions are pulled towards the teacher's by `options.kind`
 * (or towards the reference tokens for 'ce', where `teacher` may be null). Parameter gradients of
 * scale · Σ weight · loss are accumulated into `grads`.
 */
export function distillMicroStep(
  student: CausalLM, teacher: CausalLM | null, batch: PackedBatch, grads: Map<string, FArray>,
  options: KdLossOptions, scale: number,
): MicroStepResult {
  const Vs = student.config.vocabSize;
  const input = { batch: batch.batch, seqLen: batch.seqLen, inputIds: batch.inputIds, attentionMask: batch.attentionMask, logitRows: batch.logitRows };
  let teacherRow = null;
  if (options.kind !== 'ce') {
    if (!teacher) throw new LeafError(`loss ${options.kind} needs a teacher model`);
    const t = teacher.forward(input);
    teacherRow = teacherFromLogits(t.logits!, teacher.config.vocabSize, Vs);
  }
  const out = student.forward({ ...input, saveForBackward: true });
  const logits = out.logits!;
  const w = Float64Array.from(batch.rowWeights, (x) => x * scale);
  const scaled = kdLoss(logits, batch.tokens, Vs, w, teacherRow, batch.targets, options, true);
  backward(student, out.tape!, logits, { paramGrads: grads });
  return { lossSum: scale === 0 ? 0 : scaled / scale, tokens: batch.tokens };
}
