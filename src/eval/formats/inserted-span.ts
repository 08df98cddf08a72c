/**
 * Where a text was inserted: given `original` and `edited` (the original with one passage inserted),
 * the character span [start, end) of the inserted passage in `edited`, trimmed of surrounding blanks.
 *
 * Method: both texts are compared without their whitespace (so a changed space, a doubled space or a
 * line break around the insertion does not move the result); the longest common prefix and suffix
 * of the two non-blank sequences bound the insertion. When the inserted text could be placed at
 * several shifts (it begins with the same characters that follow it, or ends with the ones that
 * precede it: "… apples. Bob has 5 pens. B has 2."), the shift whose passage begins at a word start
 * and ends at a sentence end (., !, ? or ; optionally closed by a quote or bracket) is chosen, then
 * the earliest. When `edited` is not `original` plus one insertion (something was also changed), the
 * span covers every character that differs, widened to whole words, and `exact` is false.
 */

export interface InsertedSpan {
  start: number;
  end: number;
  /** The edit is exactly one insertion (otherwise the span is the whole differing region). */
  exact: boolean;
}

/** The non-blank characters of `text` and the index of each in `text`. */
function solid(text: string): { chars: string; at: number[] } {
  let chars = '';
  const at: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (!/\s/.test(text[i]!)) {
      chars += text[i]!;
      at.push(i);
    }
  }
  return { chars, at };
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function commonSuffix(a: string, b: string, max: number): number {
  let i = 0;
  while (i < max && a.charCodeAt(a.length - 1 - i) === b.charCodeAt(b.length - 1 - i)) i++;
  return i;
}

const SENTENCE_END = /[.!?;]["'”’)\]]?$/;

/** How well `edited[start, end)` sits on word and sentence boundaries (higher is better). */
function boundaryScore(edited: string, start: number, end: number): number {
  let score = 0;
  if (start === 0 || /\s/.test(edited[start - 1]!)) score += 2;
  if (end === edited.length || /\s/.test(edited[end]!)) score += 1;
  if (SENTENCE_END.test(edited.slice(Math.max(start, end - 2), end))) score += 2;
  return score;
}

/** The span of the text inserted into `original` to make `edited`; null when `edited` adds nothing. */
export function insertedSpan(original: string, edited: string): InsertedSpan | null {
  const o = solid(original), e = solid(edited);
  const added = e.chars.length - o.chars.length;
  const prefix = commonPrefix(o.chars, e.chars);
  const suffix = commonSuffix(o.chars, e.chars, Math.min(o.chars.length, e.chars.length) - Math.min(prefix, o.chars.length));
  if (added <= 0 && prefix + suffix >= o.chars.length) return null;
  if (prefix + suffix < o.chars.length) {
    // Not a pure insertion: the span is the region of `edited` that differs, widened to whole words.
    const from = prefix, to = e.chars.length - suffix;
    if (to <= from) return null;
    let start = e.at[from]!, end = e.at[to - 1]! + 1;
    while (start > 0 && !/\s/.test(edited[start - 1]!)) start--;
    while (end < edited.length && !/\s/.test(edited[end]!)) end++;
    return { start, end, exact: false };
  }
  // Every shift k (characters of the original kept before the insertion) with k ≤ prefix and
  // (original length − k) ≤ suffix reproduces `edited`; pick the one on the best boundaries.
  const longestSuffix = commonSuffix(o.chars, e.chars, o.chars.length);
  let best: { start: number; end: number; score: number } | null = null;
  for (let k = Math.max(0, o.chars.length - longestSuffix); k <= Math.min(prefix, o.chars.length); k++) {
    const start = e.at[k]!, end = e.at[k + added - 1]! + 1;
    const score = boundaryScore(edited, start, end);
    if (best === null || score > best.score) best = { start, end, score };
  }
  return best === null ? null : { start: best.start, end: best.end, exact: true };
}
