/**
 * `leaf mine`'s options for the mining unit, protected text, the oracle and verification: their
 * checks, and the protected ranges of a problem.
 */
import { LeafError } from '../errors.js';
import { MINING_UNITS } from './flagging.js';
import type { MiningProblem } from './input.js';
import type { MineOptions } from './mine.js';
import { protectedRanges, type CharSpan } from './sentence-units.js';
import { verifyMode } from './verify.js';

export function checkUnitOptions(o: MineOptions): void {
  if (o.unit !== undefined && !MINING_UNITS.includes(o.unit)) throw new LeafError(`--unit must be one of ${MINING_UNITS.join(', ')}, got ${String(o.unit)}`);
  if (o.topUnits !== undefined) {
    if (!(Number.isInteger(o.topUnits) && o.topUnits >= 1)) throw new LeafError(`--top-units must be a positive integer, got ${o.topUnits}`);
    if (o.unit !== 'sentence') throw new LeafError('--top-units needs --unit sentence');
    if (o.threshold !== undefined || o.thresholdAbs !== undefined) throw new LeafError('give --top-units k or a threshold (--threshold / --threshold-abs), not both');
  }
  const response = o.level === 'response';
  if (response && o.protectLastSentence) throw new LeafError('--protect-last-sentence applies to the prompt: it needs --level instruction');
  if (response && o.method === 'oracle') throw new LeafError('--method oracle cuts the ground-truth spans of the prompt: it needs --level instruction');
  if (response && o.verifyEquations) throw new LeafError('--verify-equations needs --level instruction');
  if (o.verifyEquations && verifyMode(o.verify) === 'none') throw new LeafError('--verify-equations needs verification (--verify both or teacher)');
}

/** The protected ranges of a problem's prompt: its `protected_spans`, and its last sentence when asked. */
export function protectOf(m: MiningProblem, lastSentence: boolean): CharSpan[] {
  return protectedRanges(m.problem.prompt, m.protect, lastSentence);
}
