/**
 * `leaf mine`'s selection phase: the student and the teacher answer a batch of prompts (greedy; or
 * the teacher's answers are given), the judges check them, and only the problems the student gets
 * wrong and the teacher right go on.
 */
import type { MiningProblem } from './input.js';
import { answerPrompt, judgeGiven, type Answer, type GenerationRequest } from './generations.js';
import { decode, type MineRun } from './mine-run.js';
import { noRoom, tooManyChars } from '../model/text-generation.js';

/**
 * Why a problem cannot be mined, or null: its prompt leaves no room in the context of a model that must
 * answer it (checked before decoding, and by characters before tokenising). Such a problem is left out on
 * its own, counted in summary.json's `refused`; the other problems of its batch decode as without it.
 */
export function refusal(run: MineRun, m: MiningProblem): string | null {
  for (const who of run.given ? (['student'] as const) : (['student', 'teacher'] as const)) {
    // As the model is asked (answerPrompt: its chat template, or the plain rendering without one).
    const why = tooManyChars(run[who], m.problem.prompt.length) ?? noRoom(run[who], answerPrompt(run[who], m.problem.prompt, null).ids.length);
    if (why) return `${who}: ${why}`;
  }
  return null;
}

/** Decodes the selection answers of a batch of problems (those not cached). */
export async function decodeSelection(run: MineRun, batch: readonly MiningProblem[]): Promise<void> {
  const reqs = batch.map((m): GenerationRequest => ({ problem: m.problem, stage: 'select', prompt: m.problem.prompt, prefix: null }));
  await decode(run, 'student', reqs, 'gen');
  if (!run.given) await decode(run, 'teacher', reqs, 'gen');
}

/** Judges a problem's answers (decoded by decodeSelection); the teacher's answer when the problem is selected, else null. */
export async function select(run: MineRun, m: MiningProblem): Promise<Answer | null> {
  const p = m.problem;
  const s = run.cache.answer('student', p, p.prompt, null);
  const t = run.given ? await judgeGiven(p, run.given.get(p.id)!, run.pool) : run.cache.answer('teacher', p, p.prompt, null);
  return run.tally.selection(s.correct, t.correct) ? t : null;
}
