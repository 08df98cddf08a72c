import type { MiningProblem } from './input.js';
import { protectedRanges, type CharSpan } from './sentence-units.js';

/** The protected ranges of a problem's prompt: its `protected_spans`, and its last sentence when asked. */
export function protectOf(m: MiningProblem, lastSentence: boolean): CharSpan[] {
  return protectedRanges(m.problem.prompt, m.protect, lastSentence);
}
