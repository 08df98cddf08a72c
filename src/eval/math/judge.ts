/**
 * The math answer judge: extract the final answer from a model response and compare it with a
 * reference. A reference may be the bare answer, a full GSM8K solution (its `#### 42` line is
 * used) or a full MATH solution (its last `\boxed{…}` is used).
 */

import { isEquivalent, type EquivalenceOptions } from './equivalence.js';
import { extractAnswer, hashLine, lastBoxed, type ExtractionRule } from './extract.js';

export interface MathJudgement {
  /** The extracted final answer, or `null` when no rule found one. */
  extracted: string | null;
  /** Whether the extracted answer is equivalent to the reference. */
  correct: boolean;
  /** Which extraction rule fired. */
  rule: ExtractionRule | null;
}

/** The answer inside a reference: after its last `####`, else its last `\boxed{}`, else all of it. */
export function referenceAnswer(reference: string): string {
  if (reference.includes('####')) {
    const h = hashLine(reference);
    if (h !== null) return h;
  }
  const boxed = lastBoxed(reference);
  if (boxed !== null) return boxed;
  return reference.trim();
}

/** Judge one model response against a reference answer or reference solution. */
export function judgeMath(response: string, reference: string, options: EquivalenceOptions = {}): MathJudgement {
  const { answer, rule } = extractAnswer(response);
  const correct = answer !== null && isEquivalent(answer, referenceAnswer(reference), options);
  return { extracted: answer, correct, rule };
}
