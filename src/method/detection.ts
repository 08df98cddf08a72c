/**
 * Detection quality of confounder mining against ground-truth distractor spans, at the token level:
 * a scored token is a true distractor token when its character span overlaps a ground-truth span, and
 * predicted when the miner flagged it (its `candidates`). Counts are summed over problems (micro average).
 */

import { protectedTokens, sentenceUnits, type CharSpan } from './sentence-units.js';
import type { ScoredToken } from './spans.js';

export type { CharSpan };

export interface DetectionCounts {
  tp: number;
  fp: number;
  fn: number;
  /** Scored tokens, and how many of them lie in ground-truth spans. */
  tokens: number;
  positives: number;
  problems: number;
}

export interface DetectionQuality extends DetectionCounts {
  precision: number;
  recall: number;
  f1: number;
}

export function emptyCounts(): DetectionCounts {
  return { tp: 0, fp: 0, fn: 0, tokens: 0, positives: 0, problems: 0 };
}

/** Which tokens overlap a ground-truth span (both ranges half-open, in the same text). */
export function groundTruthTokens(tokens: readonly CharSpan[], truth: readonly CharSpan[]): boolean[] {
  return tokens.map((t) => truth.some((d) => t.start < d.end && t.end > d.start));
}

/** Adds one problem's token-level confusion counts to `acc`. */
export function addDetection(acc: DetectionCounts, tokens: readonly CharSpan[], flagged: readonly number[], truth: readonly CharSpan[]): DetectionCounts {
  const gt = groundTruthTokens(tokens, truth);
  const pred = new Array<boolean>(tokens.length).fill(false);
  for (const i of flagged) if (i >= 0 && i < tokens.length) pred[i] = true;
  for (let i = 0; i < tokens.length; i++) {
    if (pred[i] && gt[i]) acc.tp++;
    else if (pred[i]) acc.fp++;
    else if (gt[i]) acc.fn++;
    if (gt[i]) acc.positives++;
  }
  acc.tokens += tokens.length;
  acc.problems++;
  return acc;
}

/** Precision, recall and F1 from counts (0 where undefined). */
export function quality(c: DetectionCounts): DetectionQuality {
  const precision = c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 0;
  const recall = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { ...c, precision, recall, f1 };
}

/**
 * Detection of one mining run against ground truth (summary.json `detection`), at two levels:
 *  - token: the scored tokens outside protected text; positive = overlaps a ground-truth range,
 *    predicted = a candidate (addDetection);
 *  - unit: the sentence units of the scored text (sentence-units.ts, protected ones left out);
 *    positive = overlaps a ground-truth range, predicted = holds a candidate token.
 * Whatever the mining unit: a token-level miner that flags one word of a sentence has flagged that
 * sentence at unit level.
 */
export class DetectionTally {
  readonly token = emptyCounts();
  readonly unit = emptyCounts();

  add(text: string, tokens: readonly ScoredToken[], candidates: readonly number[], truth: readonly CharSpan[], protect: readonly CharSpan[]): void {
    const shielded = protectedTokens(tokens, protect);
    const keep = tokens.map((_, i) => i).filter((i) => !shielded[i]);
    const index = new Map(keep.map((i, j) => [i, j]));
    addDetection(this.token, keep.map((i) => tokens[i]), candidates.filter((i) => index.has(i)).map((i) => index.get(i)!), truth);
    const units = sentenceUnits(text, tokens, protect);
    const flagged = new Set(candidates);
    addDetection(this.unit, units, units.map((u, k) => (u.tokens.some((i) => flagged.has(i)) ? k : -1)).filter((k) => k >= 0), truth);
  }

  summary(): { problems: number; token: DetectionQuality; unit: DetectionQuality } | null {
    return this.token.problems === 0 ? null : { problems: this.token.problems, token: quality(this.token), unit: quality(this.unit) };
  }
}
