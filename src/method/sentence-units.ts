/**
 * Mining units above the token: the sentences of a scored text, found on its characters (so they do
 * not depend on the tokenizer or the chat template), and the protected text that is never scored or
 * cut.
 *
 * Sentences: a sentence ends after `.`, `!` or `?` (optionally closed by quotes or brackets) that is
 * followed by whitespace or the end of the text; a line break also ends one. Each unit is trimmed of
 * surrounding whitespace; blank pieces are dropped. ("3.5" and "e.g.x" do not end a sentence; "Mr. X"
 * does — a known limit of a rule that knows no language.)
 *
 * A token belongs to the unit that holds its first non-whitespace character (a byte-level BPE token
 * " The" belongs to the sentence starting at "T"); whitespace-only tokens belong to none.
 *
 * Protected text: character ranges of the scored text (a record's `protected_spans`, or its last
 * sentence with --protect-last-sentence — the question of a word problem). A token that overlaps a
 * protected range is protected: never flagged, never cut, and left out of the min–max normalisation
 * and of the quantile's n (score.ts). A sentence that overlaps protected text is not a unit.
 */
import { LeafError } from '../errors.js';
import type { ScoredToken } from './spans.js';

/** A half-open character range [start, end). */
export interface CharSpan {
  start: number;
  end: number;
}

/** A sentence unit of a scored text: its character range and the indices of its tokens (ascending). */
export interface SentenceUnit extends CharSpan {
  tokens: number[];
}

const SENTENCE_END = /[.!?]["'”’)\]]*(?=\s|$)|[\n\r\u2028\u2029]+/gu;

/** The sentences of `text` as trimmed, non-empty character ranges, in order. */
export function splitSentences(text: string): CharSpan[] {
  const out: CharSpan[] = [];
  const push = (a: number, b: number) => {
    while (a < b && /\s/u.test(text[a])) a++;
    while (b > a && /\s/u.test(text[b - 1])) b--;
    if (b > a) out.push({ start: a, end: b });
  };
  let from = 0;
  for (const m of text.matchAll(SENTENCE_END)) {
    const end = m.index + m[0].length;
    push(from, end);
    from = end;
  }
  push(from, text.length);
  return out;
}

export function overlaps(a: CharSpan, ranges: readonly CharSpan[]): boolean {
  return ranges.some((r) => a.start < r.end && a.end > r.start);
}

/** The protected ranges of a text: the given ones, plus its last sentence when asked. */
export function protectedRanges(text: string, given: readonly CharSpan[], lastSentence: boolean): CharSpan[] {
  for (const r of given) {
    if (!(Number.isInteger(r.start) && Number.isInteger(r.end) && 0 <= r.start && r.start <= r.end && r.end <= text.length)) {
      throw new LeafError(`protected span [${r.start}, ${r.end}) outside the text (length ${text.length})`);
    }
  }
  const out = given.filter((r) => r.end > r.start).map((r) => ({ start: r.start, end: r.end }));
  if (lastSentence) {
    const s = splitSentences(text);
    if (s.length > 0) out.push(s[s.length - 1]);
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Per token: whether it overlaps protected text. */
export function protectedTokens(tokens: readonly ScoredToken[], ranges: readonly CharSpan[]): boolean[] {
  return tokens.map((t) => t.end > t.start && overlaps(t, ranges));
}

/**
 * The sentence units of a scored text that hold at least one token and no protected text, each with
 * its tokens (see the module comment for the membership rule).
 */
export function sentenceUnits(text: string, tokens: readonly ScoredToken[], protect: readonly CharSpan[]): SentenceUnit[] {
  const units: SentenceUnit[] = splitSentences(text).filter((s) => !overlaps(s, protect)).map((s) => ({ ...s, tokens: [] }));
  let u = 0;
  tokens.forEach((t, i) => {
    let first = t.start;
    while (first < t.end && /\s/u.test(text[first])) first++;
    if (first >= t.end) return;
    while (u < units.length && units[u].end <= first) u++;
    if (u < units.length && units[u].start <= first) units[u].tokens.push(i);
  });
  return units.filter((x) => x.tokens.length > 0);
}

/** Mean of `values` over each unit's tokens (the unit's score). */
export function unitMeans(units: readonly SentenceUnit[], values: readonly number[]): number[] {
  return units.map((u) => u.tokens.reduce((a, i) => a + values[i], 0) / u.tokens.length);
}
