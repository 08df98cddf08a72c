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

/** Token- and unit-level counts of a group of problems. */
interface DetectionPart {
  token: DetectionCounts;
  unit: DetectionCounts;
}

/** Detection figures of a group of problems. */
export interface DetectionGroup {
  problems: number;
  token: DetectionQuality;
  unit: DetectionQuality;
}

/** summary.json `detection`: every problem with ground truth, and per label value (`byLabel[field][value]`; null when no record has labels). */
export interface DetectionSummary extends DetectionGroup {
  byLabel: Record<string, Record<string, DetectionGroup>> | null;
}

/**
 * A record's category labels for per-category detection figures: its metadata fields named `*_label`
 * with a string or number value (GSM-IC's role_label, number_label, sentence_label).
 */
export function detectionLabels(metadata: Readonly<Record<string, unknown>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) if (k.endsWith('_label') && (typeof v === 'string' || typeof v === 'number')) out[k] = String(v);
  return out;
}

const emptyPart = (): DetectionPart => ({ token: emptyCounts(), unit: emptyCounts() });

function addCounts(acc: DetectionCounts, c: DetectionCounts): void {
  for (const k of Object.keys(acc) as Array<keyof DetectionCounts>) acc[k] += c[k];
}

/** Adds a group's counts (a problem's, or a shard's summary) to a part. */
function addGroup(p: DetectionPart, g: DetectionPart): void {
  addCounts(p.token, g.token);
  addCounts(p.unit, g.unit);
}

/** Precision, recall and F1 of a part. */
function groupOf(p: DetectionPart): DetectionGroup {
  return { problems: p.token.problems, token: quality(p.token), unit: quality(p.unit) };
}

/**
 * Detection of one mining run against ground truth (summary.json `detection`), at two levels:
 *  - token: the scored tokens outside protected text; positive = overlaps a ground-truth range,
 *    predicted = a candidate (addDetection);
 *  - unit: the sentence units of the scored text (sentence-units.ts, protected ones left out);
 *    positive = overlaps a ground-truth range, predicted = holds a candidate token.
 * Whatever the mining unit: a token-level miner that flags one word of a sentence has flagged that
 * sentence at unit level. Also per category label of the records (detectionLabels), the same counts.
 */
export class DetectionTally {
  private readonly all = emptyPart();
  private readonly labels = new Map<string, Map<string, DetectionPart>>();

  add(text: string, tokens: readonly ScoredToken[], candidates: readonly number[], truth: readonly CharSpan[], protect: readonly CharSpan[], labels: Readonly<Record<string, string>> = {}): void {
    const shielded = protectedTokens(tokens, protect);
    const keep = tokens.map((_, i) => i).filter((i) => !shielded[i]);
    const index = new Map(keep.map((i, j) => [i, j]));
    const one = emptyPart();
    addDetection(one.token, keep.map((i) => tokens[i]), candidates.filter((i) => index.has(i)).map((i) => index.get(i)!), truth);
    const units = sentenceUnits(text, tokens, protect);
    const flagged = new Set(candidates);
    addDetection(one.unit, units, units.map((u, k) => (u.tokens.some((i) => flagged.has(i)) ? k : -1)).filter((k) => k >= 0), truth);
    for (const p of [this.all, ...Object.entries(labels).map(([field, value]) => this.labelPart(field, value))]) addGroup(p, one);
  }

  /**
   * Adds the counts of an earlier tally's summary (a shard's): its totals and each label value's, so that
   * shards' tallies summed give the same summary as one tally over all their problems (leaf merge).
   */
  addSummary(s: DetectionSummary): void {
    addGroup(this.all, s);
    for (const [field, values] of Object.entries(s.byLabel ?? {})) {
      for (const [value, g] of Object.entries(values)) addGroup(this.labelPart(field, value), g);
    }
  }

  private labelPart(field: string, value: string): DetectionPart {
    const values = this.labels.get(field) ?? new Map<string, DetectionPart>();
    this.labels.set(field, values);
    const p = values.get(value) ?? emptyPart();
    values.set(value, p);
    return p;
  }

  summary(): DetectionSummary | null {
    if (this.all.token.problems === 0) return null;
    const byLabel = this.labels.size === 0 ? null : Object.fromEntries([...this.labels].sort(([a], [b]) => (a < b ? -1 : 1)).map(([field, values]) => [
      field, Object.fromEntries([...values].sort(([a], [b]) => (a < b ? -1 : 1)).map(([v, p]) => [v, groupOf(p)])),
    ]));
    return { ...groupOf(this.all), byLabel };
  }
}
