/**
 * From flagged tokens to pruned text.
 *
 * Spans: maximal runs of consecutive flagged token indices (any unflagged token, a protected
 * whitespace token included, breaks a run — as the reference). A span's character range runs from
 * its first token's start to its last token's end, gaps between the tokens included.
 *
 * Cutting: text is removed from the original string by character ranges; every character outside
 * the removed ranges is kept, in order. The range removed for a span is its character range
 * adjusted so that the text stays well formed:
 *  1. line breaks are never removed: a span is cut in pieces at every whitespace run that holds a
 *     line break, and those runs stay (pruning never joins or deletes lines); each piece's trailing
 *     whitespace stays too; a leading run of spaces/tabs is the token's own space (" word" in
 *     byte-level BPE) and goes with it;
 *  2. the range is widened to whole grapheme clusters (Intl.Segmenter), so a base letter is never
 *     separated from its combining marks, nor an emoji sequence cut;
 *  3. at the seam: if the span did not bring its own leading space, spaces/tabs follow it, and
 *     spaces/tabs or the start of a line precede it, the following ones are removed too
 *     ("a word here" − "word" → "a here", "Word here" − "Word" → "here", but "12 b" − "2" → "1 b");
 *     else if spaces/tabs precede it and the end of the text, a line break or a closing mark
 *     (. , ; : ! ? ) ] }) follows, the preceding ones are removed ("a word." − "word" → "a.").
 * Ranges of several spans removed together (collective pruning) are merged when they touch.
 */
import { LeafError } from '../errors.js';

/** A token of a scored text: its text and [start, end) in UTF-16 indices of that text. */
export interface ScoredToken {
  text: string;
  start: number;
  end: number;
}

/** A run of flagged tokens: character range in the scored text, and token index range [a, b). */
export interface Span {
  start: number;
  end: number;
  text: string;
  tokens: [number, number];
}

/** A removed piece of text: [start, end) in the original text. */
export interface Removal {
  text: string;
  start: number;
  end: number;
}

/** Maximal runs of consecutive candidate indices, as spans of `text`. */
export function candidateSpans(text: string, tokens: readonly ScoredToken[], candidates: readonly number[]): Span[] {
  const sorted = [...new Set(candidates)].sort((a, b) => a - b);
  const spans: Span[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[j - 1] + 1) j++;
    const a = sorted[i], b = sorted[j - 1] + 1;
    if (a < 0 || b > tokens.length) throw new LeafError(`candidate token ${a < 0 ? a : b - 1} outside 0..${tokens.length - 1}`);
    const start = tokens[a].start, end = tokens[b - 1].end;
    spans.push({ start, end, text: text.slice(start, end), tokens: [a, b] });
    i = j;
  }
  return spans;
}

const HSPACE = /[ \t\u00a0\u2000-\u200a\u3000]/;
const LINE_BREAK = /[\n\r\u2028\u2029\v\f\u0085]/;
const CLOSER = /[.,;:!?)\]}]/;
const LINE_RUN = /\s*[\n\r\u2028\u2029\v\f\u0085]\s*/gu;

function isSpace(c: string | undefined): boolean {
  return c !== undefined && /\s/.test(c);
}

let segmenter: Intl.Segmenter | null = null;

/** Grapheme-cluster boundaries of `text` (0 and text.length included), ascending. */
function graphemeBoundaries(text: string): number[] {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const out: number[] = [];
  for (const s of segmenter.segment(text)) out.push(s.index);
  out.push(text.length);
  return out;
}

/** The range actually removed for a span's character range [start, end) of `text` (see the module comment); null when nothing is left to remove. */
export function removalRange(text: string, start: number, end: number, boundaries?: readonly number[]): [number, number] | null {
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= text.length)) {
    throw new LeafError(`removal range [${start}, ${end}) outside the text (length ${text.length})`);
  }
  let s = start, e = end;
  // 1. Trailing whitespace stays; a leading whitespace run with a line break stays.
  while (e > s && isSpace(text[e - 1])) e--;
  let w = s;
  while (w < e && isSpace(text[w])) w++;
  if (w > s && LINE_BREAK.test(text.slice(s, w))) s = w;
  if (s >= e) return null;
  // 2. Whole grapheme clusters (before the seam, which looks at the characters around the cut).
  const b = boundaries ?? graphemeBoundaries(text);
  let lo = 0, hi = b.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (b[mid] <= s) lo = mid;
    else hi = mid - 1;
  }
  s = b[lo];
  lo = 0;
  hi = b.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (b[mid] >= e) hi = mid;
    else lo = mid + 1;
  }
  e = b[lo];
  // 3. The seam.
  let a = s;
  while (a < e && HSPACE.test(text[a])) a++;
  const ownSpace = a > s;
  let l = a;
  while (l > 0 && HSPACE.test(text[l - 1])) l--;
  const lineStart = l === 0 || LINE_BREAK.test(text[l - 1]);
  let r = e;
  while (r < text.length && HSPACE.test(text[r])) r++;
  if (r > e && !ownSpace && (l < a || lineStart)) e = r;
  else if (r === e && l < a && (e === text.length || LINE_BREAK.test(text[e]) || CLOSER.test(text[e]))) s = l;
  return [s, e];
}

/** Removes the (adjusted, merged) ranges of `spans` from `text`: the pruned text and exactly what was removed. */
export function cutSpans(text: string, spans: ReadonlyArray<{ start: number; end: number }>): { text: string; removed: Removal[] } {
  const boundaries = graphemeBoundaries(text);
  const ranges: Array<[number, number]> = [];
  for (const sp of spans) {
    if (!(Number.isInteger(sp.start) && Number.isInteger(sp.end) && 0 <= sp.start && sp.start <= sp.end && sp.end <= text.length)) {
      throw new LeafError(`span [${sp.start}, ${sp.end}) outside the text (length ${text.length})`);
    }
    let from = sp.start;
    for (const m of text.slice(sp.start, sp.end).matchAll(LINE_RUN)) {
      const r = removalRange(text, from, sp.start + m.index, boundaries);
      if (r) ranges.push(r);
      from = sp.start + m.index + m[0].length;
    }
    const r = removalRange(text, from, sp.end, boundaries);
    if (r) ranges.push(r);
  }
  ranges.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  let out = '';
  let pos = 0;
  const removed: Removal[] = [];
  for (const [s, e] of merged) {
    out += text.slice(pos, s);
    removed.push({ text: text.slice(s, e), start: s, end: e });
    pos = e;
  }
  out += text.slice(pos);
  return { text: out, removed };
}
