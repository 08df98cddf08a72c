/**
 * From per-token scores to flagged tokens and spans, at either mining unit:
 *  - `token` (the reference rule): a token's score is its D; candidates by the threshold rule
 *    (normalize.ts); spans = maximal runs of consecutive candidates (spans.ts);
 *  - `sentence`: a unit's score is the mean D of its tokens (sentence-units.ts); units flagged by the
 *    same rule applied to the unit scores (thr = min(q-quantile of the unit scores, 0.5), or D ≤ τ), or
 *    the k lowest (`topUnits`); candidates = the flagged units' tokens; one span per flagged unit.
 * Protected tokens (protected text) are left out of everything here: the min–max normalisation,
 * the quantile's n, the candidates. Whitespace-only tokens and a lone backslash are never candidates
 * but take part in the normalisation (the reference's rule).
 * Baselines at equal budget (random, ppl) pick `count` tokens or units with the lowest baseline score.
 */
import { flagCandidates, isConstant, lowestK, normalisedDiff, type ThresholdRule } from './normalize.js';
import { overlaps, sentenceUnits, unitMeans, type CharSpan, type SentenceUnit } from './sentence-units.js';
import { candidateSpans, type ScoredToken, type Span } from './spans.js';

export type MiningUnit = 'token' | 'sentence';
export const MINING_UNITS: readonly MiningUnit[] = ['token', 'sentence'];

/** A sentence unit as recorded in scores.jsonl: its range, score and whether it was flagged. */
export interface UnitRecord {
  start: number;
  end: number;
  score: number;
  flagged: boolean;
}

export interface Flagged {
  threshold: number;
  candidates: number[];
  spans: Span[];
  /** Sentence mode: every unit with its score (null in token mode). */
  units: UnitRecord[] | null;
}

/** How one scored text is flagged: its tokens, which are protected, and the unit. */
export class Flagger {
  readonly keep: number[];
  readonly units: SentenceUnit[] | null;
  private readonly unflaggable: boolean[];

  constructor(
    readonly text: string, readonly tokens: readonly ScoredToken[], readonly shielded: readonly boolean[], unflaggable: readonly boolean[],
    readonly unit: MiningUnit, readonly protect: readonly CharSpan[], private readonly topUnits: number | null,
    private readonly studentWeight = 1,
  ) {
    this.keep = tokens.map((_, i) => i).filter((i) => !shielded[i]);
    this.unflaggable = unflaggable.map((u, i) => u || shielded[i]);
    this.units = unit === 'sentence' ? sentenceUnits(text, tokens, protect) : null;
  }

  /** D over the unprotected tokens (protected ones get ĝ = 0 and D = 1, outside every ranking). */
  normalise(student: readonly number[], teacher: readonly number[]): { student: number[]; teacher: number[]; diff: number[] } {
    const n = normalisedDiff(this.keep.map((i) => student[i]), this.keep.map((i) => teacher[i]), this.studentWeight);
    const out = { student: this.tokens.map(() => 0), teacher: this.tokens.map(() => 0), diff: this.tokens.map(() => 1) };
    this.keep.forEach((i, j) => {
      out.student[i] = n.student[j];
      out.teacher[i] = n.teacher[j];
      out.diff[i] = n.diff[j];
    });
    return out;
  }

  /** Whether the scores that set the ranking are constant (nothing can be singled out). */
  constant(diff: readonly number[]): boolean {
    return isConstant(this.keep.map((i) => diff[i]));
  }

  /** Flags by the threshold rule (or the k lowest units) on D. */
  byRule(diff: readonly number[], rule: ThresholdRule): Flagged {
    if (this.units === null) {
      const f = flagCandidates(this.keep.map((i) => diff[i]), this.keep.map((i) => this.unflaggable[i]), rule);
      return this.tokenResult(f.threshold, f.candidates.map((j) => this.keep[j]));
    }
    const scores = unitMeans(this.units, diff);
    if (this.topUnits !== null) {
      const f = isConstant(scores) ? { threshold: 0, candidates: [] } : lowestK(scores, scores.map(() => false), this.topUnits);
      return this.unitResult(scores, f.threshold, f.candidates);
    }
    const f = flagCandidates(scores, scores.map(() => false), rule);
    return this.unitResult(scores, f.threshold, f.candidates);
  }

  /** The `count` tokens or units with the lowest `score` (per token; a unit's is its tokens' mean). */
  byCount(score: readonly number[], count: number, perUnit?: readonly number[]): Flagged {
    if (this.units === null) {
      const f = lowestK(this.keep.map((i) => score[i]), this.keep.map((i) => this.unflaggable[i]), count);
      return this.tokenResult(f.threshold, f.candidates.map((j) => this.keep[j]));
    }
    const scores = perUnit ? [...perUnit] : unitMeans(this.units, score);
    const f = lowestK(scores, scores.map(() => false), count);
    return this.unitResult(scores, f.threshold, f.candidates);
  }

  /**
   * The oracle: exactly the ground-truth ranges (those that touch no protected text), one span each;
   * candidates = the unprotected tokens they overlap; in sentence mode the flagged units are those they overlap.
   */
  oracle(truth: readonly CharSpan[]): Flagged {
    const usable = truth.filter((r) => r.end > r.start && !overlaps(r, this.protect)).sort((a, b) => a.start - b.start);
    const candidates = this.keep.filter((i) => this.tokens[i].end > this.tokens[i].start && overlaps(this.tokens[i], usable));
    const spans = usable.map((r): Span => {
      const own = candidates.filter((i) => overlaps(this.tokens[i], [r]));
      return { start: r.start, end: r.end, text: this.text.slice(r.start, r.end), tokens: own.length > 0 ? [own[0], own[own.length - 1] + 1] : [0, 0] };
    });
    const units = this.units === null ? null : this.units.map((u) => ({ start: u.start, end: u.end, score: overlaps(u, usable) ? 0 : 1, flagged: overlaps(u, usable) }));
    return { threshold: 0, candidates, spans, units };
  }

  /** How many tokens or units a result flagged (the budget of the baselines). */
  static count(f: Flagged): number {
    return f.units === null ? f.candidates.length : f.units.filter((u) => u.flagged).length;
  }

  private tokenResult(threshold: number, candidates: number[]): Flagged {
    return { threshold, candidates, spans: candidateSpans(this.text, this.tokens, candidates), units: null };
  }

  private unitResult(scores: readonly number[], threshold: number, chosen: readonly number[]): Flagged {
    const units = this.units!;
    const flagged = new Set(chosen);
    const candidates: number[] = [];
    const spans: Span[] = [];
    units.forEach((u, k) => {
      if (!flagged.has(k)) return;
      for (const i of u.tokens) if (!this.unflaggable[i]) candidates.push(i);
      spans.push({ start: u.start, end: u.end, text: this.text.slice(u.start, u.end), tokens: [u.tokens[0], u.tokens[u.tokens.length - 1] + 1] });
    });
    return {
      threshold, candidates: candidates.sort((a, b) => a - b), spans,
      units: units.map((u, k) => ({ start: u.start, end: u.end, score: scores[k], flagged: flagged.has(k) })),
    };
  }
}
