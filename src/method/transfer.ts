/**
 * Carrying per-token scores from one tokenisation of a text to another through character spans
 * (teacher → student when the tokenizers differ; the reference assumes one tokenizer).
 *
 * Each character gets the mean score of the source tokens that hold it; a token's characters are
 * its span [start, end), or, for an empty span at p (bytes of a partial multi-byte character, see
 * tokenizer/offsets.ts), the character at p. A target token's score is the mean over its
 * characters of the characters' scores: identical spans copy the score, a source token split in
 * two gives both halves its score, two source tokens merged give their length-weighted mean.
 * Characters no source token holds (text a tokenizer dropped) take the score of the nearest held
 * character.
 */
import type { ScoredToken } from './spans.js';

function charsOf(t: { start: number; end: number }, n: number): [number, number] {
  return t.end > t.start ? [t.start, t.end] : [Math.min(t.start, n - 1), Math.min(t.start, n - 1) + 1];
}

/** Per character of a text of length `n`, the mean score of the tokens holding it (NaN where none does). */
export function charScores(tokens: readonly { start: number; end: number }[], scores: readonly number[], n: number): Float64Array {
  if (tokens.length !== scores.length) throw new Error(`charScores: ${tokens.length} tokens vs ${scores.length} scores`);
  const sum = new Float64Array(n), count = new Float64Array(n);
  if (n === 0) return sum;
  tokens.forEach((t, i) => {
    const [a, b] = charsOf(t, n);
    for (let c = Math.max(0, a); c < Math.min(n, b); c++) {
      sum[c] += scores[i];
      count[c]++;
    }
  });
  const out = new Float64Array(n);
  for (let c = 0; c < n; c++) out[c] = count[c] > 0 ? sum[c] / count[c] : NaN;
  // Unheld characters: the nearest held one (left first on ties).
  let last = -1;
  const left = new Int32Array(n).fill(-1);
  for (let c = 0; c < n; c++) {
    if (!Number.isNaN(out[c])) last = c;
    left[c] = last;
  }
  let next = -1;
  const filled = Float64Array.from(out);
  for (let c = n - 1; c >= 0; c--) {
    if (!Number.isNaN(out[c])) {
      next = c;
      continue;
    }
    const l = left[c];
    if (l < 0 && next < 0) filled[c] = NaN;
    else if (l < 0) filled[c] = out[next];
    else if (next < 0) filled[c] = out[l];
    else filled[c] = c - l <= next - c ? out[l] : out[next];
  }
  return filled;
}

/** Scores of `from` tokens carried onto `to` tokens of the same text (length `n`). */
export function transferScores(from: readonly { start: number; end: number }[], scores: readonly number[], to: readonly { start: number; end: number }[], n: number): number[] {
  const perChar = charScores(from, scores, n);
  return to.map((t) => {
    if (n === 0) return 0;
    const [a, b] = charsOf(t, n);
    let s = 0, k = 0;
    for (let c = a; c < b; c++) {
      if (!Number.isNaN(perChar[c])) {
        s += perChar[c];
        k++;
      }
    }
    return k > 0 ? s / k : 0;
  });
}

/** Whether two token lists have exactly the same spans (then scores carry over unchanged). */
export function sameSpans(a: readonly ScoredToken[], b: readonly ScoredToken[]): boolean {
  return a.length === b.length && a.every((t, i) => t.start === b[i].start && t.end === b[i].end);
}
