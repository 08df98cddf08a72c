/**
 * Detection quality of mined scores against ground-truth distractor spans, over a mining run's records:
 * per method (the flagged tokens as mined), and one method re-thresholded at each quantile q (mining's own
 * rule), so a threshold sweep needs no re-mining. Only instruction-level records whose scored text is the
 * ground-truth prompt are compared (so the character spans line up).
 */
import { addDetection, emptyCounts, quality, type CharSpan, type DetectionQuality } from './detection.js';
import { flagCandidates, isProtectedToken } from './normalize.js';

/** What the arithmetic reads of a mined score record. */
export interface ScoredPrompt {
  sourceId: string;
  level: string;
  method: string;
  text: string;
  tokens: readonly (CharSpan & { text: string })[];
  diff: readonly number[];
  candidates: readonly number[];
}

/** What it reads of a ground-truth record. */
export interface PromptTruth {
  prompt: string;
  distractors: readonly CharSpan[] | null;
}

const METHOD_ORDER = ['gradient', 'occlusion', 'ppl', 'random'];

/** The report's order of methods: gradient, occlusion, ppl, random, then others by name. */
export function byMethod(a: string, b: string): number {
  const ia = METHOD_ORDER.indexOf(a), ib = METHOD_ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
}

/** Instruction-level records of `method` whose text is the ground-truth prompt (so spans line up). */
function comparable<S extends ScoredPrompt>(scores: readonly S[], truth: ReadonlyMap<string, PromptTruth>, method: string): S[] {
  return scores.filter((s) => {
    if (s.level !== 'instruction' || s.method !== method) return false;
    const t = truth.get(s.sourceId);
    return !!t && t.distractors !== null && t.prompt === s.text;
  });
}

/** Token-level detection quality of each method's flagged tokens against the ground-truth distractors. */
export function detectionByMethod(scores: readonly ScoredPrompt[], truth: ReadonlyMap<string, PromptTruth>): { method: string; quality: DetectionQuality }[] {
  const methods = [...new Set(scores.filter((s) => s.level === 'instruction').map((s) => s.method))].sort(byMethod);
  return methods.map((method) => {
    const acc = emptyCounts();
    for (const s of comparable(scores, truth, method)) addDetection(acc, s.tokens, s.candidates, truth.get(s.sourceId)!.distractors!);
    return { method, quality: quality(acc) };
  }).filter((m) => m.quality.problems > 0);
}

/** Detection quality of one method when its scores are re-thresholded at each quantile q (mining's own rule). */
export function thresholdSweep(
  scores: readonly ScoredPrompt[], truth: ReadonlyMap<string, PromptTruth>, qs: readonly number[], method = 'gradient',
): { q: number; quality: DetectionQuality; flaggedPerProblem: number }[] {
  const recs = comparable(scores, truth, method);
  return qs.map((q) => {
    const acc = emptyCounts();
    let flagged = 0;
    for (const s of recs) {
      const f = flagCandidates(s.diff, s.tokens.map((t) => isProtectedToken(t.text)), { kind: 'quantile', q }).candidates;
      flagged += f.length;
      addDetection(acc, s.tokens, f, truth.get(s.sourceId)!.distractors!);
    }
    return { q, quality: quality(acc), flaggedPerProblem: recs.length > 0 ? flagged / recs.length : 0 };
  });
}
