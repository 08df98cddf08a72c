/**
 * `leaf mine`'s verification phase: both models (or the teacher only, per --verify) answer each
 * counterfactual's pruned input; a counterfactual is kept (verified) only when they answer it
 * right; then the counterfactual records are appended.
 */
import type { CounterfactualDraft } from './counterfactuals.js';
import type { GenerationRequest } from './generations.js';
import type { Problem } from '../eval/formats/index.js';
import { decode, type MineRun } from './mine-run.js';
import { passes } from './verify.js';

/** Marks each draft verified or not (nothing when --verify none); `response`: the scored response (the reference of --verify-equations). */
export async function verifyDrafts(run: MineRun, p: Problem, response: string, drafts: readonly CounterfactualDraft[]): Promise<void> {
  const verify = run.settings.verify;
  if (verify === 'none' || drafts.length === 0) return;
  const reqs = drafts.map((d): GenerationRequest => ({ problem: p, stage: 'verify', prompt: d.ask.prompt, prefix: d.ask.prefix }));
  if (verify === 'both') await decode(run, 'student', reqs, 'verify');
  await decode(run, 'teacher', reqs, 'verify');
  const reference = run.settings.verifyEquations ? response : null;
  for (const d of drafts) {
    d.record.student = verify === 'both' ? run.cache.answer('student', p, d.ask.prompt, d.ask.prefix) : null;
    d.record.teacher = run.cache.answer('teacher', p, d.ask.prompt, d.ask.prefix);
    d.record.verified = passes(d.record.teacher, reference) && (d.record.student === null || passes(d.record.student, reference));
  }
}

/** Appends the counterfactual records (counted). */
export function writeCounterfactuals(run: MineRun, drafts: readonly CounterfactualDraft[]): void {
  for (const d of drafts) {
    run.logs.counterfactuals.append(d.record);
    run.options.onRecord?.('counterfactuals', d.record);
    run.tally.counterfactual(d.record);
  }
}
