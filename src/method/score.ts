/**
 * Scoring one unit (a prompt at instruction level, the response before segment j at response
 * level) with one of the four methods, down to candidates and spans:
 *  - gradient: ĝ_S, ĝ_T from input-embedding gradients (saliency.ts), teacher scores carried onto
 *    the student's tokens through character spans when the tokenisations differ (transfer.ts);
 *    D = minmax(ĝ_T − ĝ_S); candidates by the threshold rule (normalize.ts);
 *  - random: as many tokens as gradient flags for this unit, drawn uniformly (seeded per unit);
 *  - ppl: as many tokens as gradient flags, those with the highest student surprisal;
 *  - occlusion: forward only — each model's score of a token is the rise of its mean response
 *    cross-entropy (the drop in log-likelihood per response token) when the token's word (maximal
 *    run of non-whitespace characters) is cut from the text as pruning would cut it; then as
 *    gradient (D, threshold rule). Works with a teacher that can only be run forward;
 *  - oracle: no model — exactly the ground-truth distractor ranges of the prompt (ScoreContext.truth),
 *    one span each: the upper bound of detection.
 * The unit (token or sentence), protected text and the rules are flagging.ts's.
 */
import { LeafError } from '../errors.js';
import type { Pretrained } from '../model/pretrained.js';
import { Rng } from '../util/rng.js';
import { Flagger, type Flagged, type MiningUnit, type UnitRecord } from './flagging.js';
import { isProtectedToken, minMax, type ThresholdRule } from './normalize.js';
import { protectedTokens, type CharSpan } from './sentence-units.js';
import { inputSaliency, sequenceLosses } from './saliency.js';
import { cutSpans, type ScoredToken, type Span } from './spans.js';
import { sameSpans, transferScores } from './transfer.js';
import { encodeUnit, type Unit, type UnitEncoding } from './units.js';

export type MiningMethod = 'gradient' | 'random' | 'ppl' | 'occlusion' | 'oracle';
export const MINING_METHODS: readonly MiningMethod[] = ['gradient', 'random', 'ppl', 'occlusion', 'oracle'];

export interface ScoreSettings {
  method: MiningMethod;
  rule: ThresholdRule;
  /** Seed of the random baseline (mixed with the unit key). */
  seed: number;
  /** Forward batch size of the occlusion passes. */
  batchSize: number;
  /** Mining unit (default token: the reference rule). */
  unit?: MiningUnit;
  /** Sentence unit: flag the k lowest units instead of the threshold rule. */
  topUnits?: number | null;
  /** w in D = minmax(ĝ_T − w·ĝ_S) (normalize.ts; default 1, the paper). */
  studentWeight?: number;
}

export interface UnitScore {
  text: string;
  tokens: ScoredToken[];
  student: number[] | null;
  teacher: number[] | null;
  diff: number[];
  threshold: number;
  candidates: number[];
  spans: Span[];
  /** Sentence unit: every unit with its score and verdict; null at token level. */
  units: UnitRecord[] | null;
  /** Tokens in protected text (never scored or cut), ascending. */
  protected: number[];
  /** Mean response cross-entropy of each model (null for the oracle, which runs no model). */
  loss: { student: number; teacher: number } | null;
  /**
   * Whether the D that sets the budget (gradient's, or occlusion's own) is constant over the unit
   * — a single token, or equal scores: there is no ranking, and no token is flagged (normalize.ts).
   */
  constantDiff: boolean;
  /** Time in model forward/backward passes, ms (both models). */
  computeMs: number;
  /** Of which backward passes, ms. */
  backwardMs: number;
}

/** 32-bit FNV-1a of a string: per-unit seeds independent of processing order. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function carry(sEnc: UnitEncoding, tEnc: UnitEncoding, scores: readonly number[]): number[] {
  if (sameSpans(sEnc.tokens, tEnc.tokens)) return [...scores];
  return transferScores(tEnc.tokens, scores, sEnc.tokens, sEnc.text.length);
}

/** Texts of the unit with `text` (the scored part) replaced. */
function withScoredText(prompt: string, response: string, unit: Unit, text: string): { prompt: string; response: string; unit: Unit } {
  if (unit.level === 'instruction') return { prompt: text, response, unit };
  const rest = response.slice(unit.segStart);
  const shift = text.length - unit.segStart;
  return { prompt, response: text + rest, unit: { level: 'response', segStart: text.length, segEnd: unit.segEnd + shift, last: unit.last } };
}

function occlusionDrops(p: Pretrained, prompt: string, response: string, unit: Unit, words: ReadonlyArray<{ start: number; end: number }>, text: string, batchSize: number): { drops: number[]; base: number } {
  const seqs = [encodeUnit(p, prompt, response, unit)];
  for (const w of words) {
    const v = withScoredText(prompt, response, unit, cutSpans(text, [w]).text);
    seqs.push(encodeUnit(p, v.prompt, v.response, v.unit));
  }
  const losses = sequenceLosses(p.model, seqs, batchSize);
  return { drops: losses.slice(1).map((l) => l - losses[0]), base: losses[0] };
}

/** Per-problem inputs of the scoring beyond the texts (instruction level): protected text and ground truth, character ranges of the prompt. */
export interface ScoreContext {
  protect?: readonly CharSpan[];
  truth?: readonly CharSpan[] | null;
}

/** Scores one unit; see the module comment. `unitKey` seeds the random baseline. */
export function scoreUnit(student: Pretrained, teacher: Pretrained, prompt: string, response: string, unit: Unit, settings: ScoreSettings, unitKey: string, ctx: ScoreContext = {}): UnitScore {
  const sEnc = encodeUnit(student, prompt, response, unit);
  const text = sEnc.text;
  const tokens = sEnc.tokens;
  const protect = ctx.protect ?? [];
  const shielded = protectedTokens(tokens, protect);
  const fl = new Flagger(text, tokens, shielded, tokens.map((t) => isProtectedToken(t.text)), settings.unit ?? 'token', protect, settings.topUnits ?? null, settings.studentWeight ?? 1);
  const finish = (r: Omit<UnitScore, 'spans' | 'text' | 'tokens' | 'candidates' | 'threshold' | 'units' | 'protected'>, f: Flagged): UnitScore => ({
    text, tokens, ...r, threshold: f.threshold, candidates: f.candidates, spans: f.spans, units: f.units, protected: fl.keep.length === tokens.length ? [] : tokens.map((_, i) => i).filter((i) => shielded[i]),
  });

  if (settings.method === 'oracle') {
    if (!ctx.truth) throw new LeafError('no ground-truth distractor_spans for the oracle');
    const f = fl.oracle(ctx.truth);
    const inTruth = new Set(f.candidates);
    return finish({ student: null, teacher: null, diff: tokens.map((_, i) => (inTruth.has(i) ? 0 : 1)), loss: null, constantDiff: false, computeMs: 0, backwardMs: 0 }, f);
  }
  if (settings.method === 'occlusion') {
    const t0 = performance.now();
    const words: Array<{ start: number; end: number }> = [];
    for (const m of text.matchAll(/\S+/gu)) words.push({ start: m.index, end: m.index + m[0].length });
    const s = occlusionDrops(student, prompt, response, unit, words, text, settings.batchSize);
    const t = occlusionDrops(teacher, prompt, response, unit, words, text, settings.batchSize);
    const computeMs = performance.now() - t0;
    const onTokens = (d: number[]) => (words.length === 0 ? tokens.map(() => 0) : transferScores(words, d, tokens, text.length));
    const n = fl.normalise(onTokens(s.drops), onTokens(t.drops));
    return finish({ student: n.student, teacher: n.teacher, diff: n.diff, loss: { student: s.base, teacher: t.base }, constantDiff: fl.constant(n.diff), computeMs, backwardMs: 0 }, fl.byRule(n.diff, settings.rule));
  }

  const tEnc = encodeUnit(teacher, prompt, response, unit);
  const sRes = inputSaliency(student.model, sEnc.ids, sEnc.positions, sEnc.lossPositions, settings.method === 'ppl');
  const tRes = inputSaliency(teacher.model, tEnc.ids, tEnc.positions, tEnc.lossPositions);
  const computeMs = sRes.computeMs + tRes.computeMs;
  const backwardMs = sRes.backwardMs + tRes.backwardMs;
  const loss = { student: sRes.loss, teacher: tRes.loss };
  const n = fl.normalise(sRes.norms, carry(sEnc, tEnc, tRes.norms));
  const grad = fl.byRule(n.diff, settings.rule);
  const constantDiff = fl.constant(n.diff);
  const budget = Flagger.count(grad);
  const common = { loss, constantDiff, computeMs, backwardMs };
  switch (settings.method) {
    case 'gradient':
      return finish({ student: n.student, teacher: n.teacher, diff: n.diff, ...common }, grad);
    case 'random': {
      const rng = new Rng(hashString(`${settings.seed}\u0000${unitKey}`));
      const values = tokens.map(() => rng.next());
      const perUnit = fl.units?.map(() => rng.next());
      return finish({ student: null, teacher: null, diff: values, ...common }, fl.byCount(values, budget, perUnit));
    }
    case 'ppl': {
      const raw = sRes.surprisal!;
      const finite = raw.filter((x) => Number.isFinite(x));
      const floor = finite.length > 0 ? Math.min(...finite) : 0;
      const surprise = minMax(raw.map((x) => (Number.isFinite(x) ? x : floor)));
      const diff = surprise.map((x) => 1 - x);
      return finish({ student: surprise, teacher: null, diff, ...common }, fl.byCount(diff, budget));
    }
  }
}
