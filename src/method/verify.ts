/**
 * Verification of counterfactuals: which models must answer the pruned input correctly for a
 * counterfactual to be kept.
 *  - `both` (default, as the paper): the student and the teacher;
 *  - `teacher`: the teacher only (the student is not asked) — keeps the informative cases in which
 *    the pruned input is answerable but the student still fails it;
 *  - `none`: every counterfactual is kept, marked unverified.
 * With `equations`, a verifying answer must also show the same worked equations as the reference
 * response (`a + b = c` chains, in order, spacing ignored), not only the same final answer: a cut
 * that removed a needed number or step then fails even when the final answer is right by luck
 * (single-digit answers are guessed one time in ten). A reference without equations imposes nothing.
 */

export type VerifyMode = 'both' | 'teacher' | 'none';
export const VERIFY_MODES: readonly VerifyMode[] = ['both', 'teacher', 'none'];


const NUM = String.raw`\d+(?:,\d{3})*(?:\.\d+)?`;
const EQUATION = new RegExp(String.raw`${NUM}(?:\s*[-+*/×÷]\s*${NUM})+\s*=\s*-?${NUM}`, 'gu');

/** The equations of a text, in order, without spaces (× → *, ÷ → /). */
export function equations(text: string): string[] {
  return [...text.matchAll(EQUATION)].map((m) => m[0].replace(/\s+/gu, '').replace(/×/gu, '*').replace(/÷/gu, '/'));
}

/** Whether `response` shows exactly the equations of `reference` (trivially true when the reference has none). */
export function sameEquations(reference: string, response: string): boolean {
  const want = equations(reference);
  if (want.length === 0) return true;
  const got = equations(response);
  return got.length === want.length && got.every((e, i) => e === want[i]);
}

/** A verifying answer: judged correct, and (with a reference) the same equations. */
export function passes(answer: { response: string; correct: boolean }, reference: string | null): boolean {
  return answer.correct && (reference === null || sameEquations(reference, answer.response));
}
