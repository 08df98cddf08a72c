/**
 * Detection quality of confounder mining against ground-truth distractor spans, at the token level:
 * a scored token is a true distractor token when its character span overlaps a ground-truth span, and
 * predicted when the miner flagged it (its `candidates`). Counts are summed over problems (micro average).
 */

export interface CharSpan {
  start: number;
  end: number;
}

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
