/**
 * Character offsets of tokens. @huggingface/tokenizers 0.2 returns ids and token strings but no
 * offsets, so they are derived here by aligning each token's surface bytes (surface.ts) to the
 * UTF-8 bytes of the text, in one left-to-right pass (O(text + tokens)).
 *
 * ## The offset rule
 * Every token gets a half-open span [start, end) in JavaScript string (UTF-16) indices of the
 * text. Spans are monotone and non-overlapping; what lies between consecutive spans (the gaps) is
 * text the tokenizer dropped (whitespace removed by the pre-tokenizer, or around added tokens with
 * lstrip/rstrip).
 * - Added tokens (e.g. `<|im_start|>`) found in the text get the exact span of their content.
 * - A byte-level token whose bytes end inside a multi-byte character does not own that character:
 *   **each character belongs to the token holding its last byte**. Equivalently, byte offsets are
 *   rounded down to the start of the character they fall in. A token made only of leading bytes of
 *   a character (e.g. the first two of an emoji's four bytes) gets an empty span at that
 *   character's start; the token completing it spans the whole character (both UTF-16 units of a
 *   surrogate pair — pairs are never split).
 * - A space the tokenizer added that is not in the text (prefix space, SentencePiece `▁` at the
 *   start) is not part of any span.
 * - Unknown tokens (the model's unk token, when it is not literally in the text) cover the text up
 *   to where the next token matches, trailing whitespace excluded; a run of n unknown tokens takes
 *   one code point each, the last one the rest.
 * - Tokens added by the post-processor (BOS/EOS of `addSpecialTokens`) get empty spans at 0 (those
 *   before the text) or at text.length (those after).
 * - With a normalizer that rewrites characters (NFC, NFKC, lowercase, …), tokens are aligned to a
 *   normalized copy of the text built character cluster by cluster, and mapped back to the cluster
 *   they came from (rounded down to the cluster start, like bytes to characters).
 * - If a token still cannot be matched (an unusual normalizer), the tokens up to the next added
 *   token found in the text share that stretch of text in proportion to their byte lengths, and the
 *   result is flagged `exact: false`.
 */

import type { SurfaceFn } from './surface.js';
import { TextBytes } from './text-bytes.js';

/** A half-open character range [start, end) in JavaScript string (UTF-16) indices. */
export type CharSpan = [number, number];

/** Half-open range [start, end) of token indices. */
export interface TokenRange {
  start: number;
  end: number;
}

/** What the aligner needs to know about one tokenizer. */
export interface AlignerConfig {
  /** Surface bytes of a non-added token string. */
  surface: SurfaceFn;
  /** Contents of the added tokens (special or not): matched literally in the text. */
  addedTokens: ReadonlySet<string>;
  /** The model's unknown token string, if any. */
  unkToken: string | null;
  /**
   * A character-local normalization the tokenizer applies and its decoder does not undo
   * (NFC, NFKC, lowercase, …), or null. See {@link viewNormalizer}.
   */
  normalize: ((s: string) => string) | null;
}

/** Offsets of the tokens of one text. */
export interface AlignmentResult {
  offsets: CharSpan[];
  /** False when some tokens could not be matched and got proportional spans (see module doc). */
  exact: boolean;
}

const encoder = new TextEncoder();

/** Splits `text` at occurrences of `contents` (longest match first, scanning left to right). */
export function splitOnAddedTokens(text: string, contents: Iterable<string>): Array<{ start: number; end: number; added: boolean }> {
  interface Node { next: Map<string, Node>; end: boolean }
  const root: Node = { next: new Map(), end: false };
  for (const w of contents) {
    if (w.length === 0) continue;
    let node = root;
    for (const ch of w) {
      let n = node.next.get(ch);
      if (!n) {
        n = { next: new Map(), end: false };
        node.next.set(ch, n);
      }
      node = n;
    }
    node.end = true;
  }
  const out: Array<{ start: number; end: number; added: boolean }> = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    let node: Node | undefined = root;
    let matchEnd = -1;
    let j = i;
    while (j < text.length) {
      const cp = text.codePointAt(j)!;
      const ch = String.fromCodePoint(cp);
      node = node.next.get(ch);
      if (!node) break;
      j += ch.length;
      if (node.end) matchEnd = j;
    }
    if (matchEnd > i) {
      if (i > start) out.push({ start, end: i, added: false });
      out.push({ start: i, end: matchEnd, added: true });
      i = matchEnd;
      start = i;
    } else {
      i++;
    }
  }
  if (start < text.length) out.push({ start, end: text.length, added: false });
  return out;
}

interface View {
  ref: string;
  /** ref index → text index (length ref.length + 1), or null for the identity. */
  toText: Int32Array | null;
}

/**
 * The text as the tokenizer's model saw it: `normalize` applied to each character cluster (a
 * code point and its combining marks) outside added tokens, with the map back to the text.
 */
function normalizedView(text: string, normalize: ((s: string) => string) | null, added: ReadonlySet<string>): View {
  if (!normalize || normalize(text) === text) return { ref: text, toText: null };
  const parts: string[] = [];
  const map: number[] = [];
  for (const sec of splitOnAddedTokens(text, added)) {
    const s = text.slice(sec.start, sec.end);
    if (sec.added) {
      parts.push(s);
      for (let q = 0; q < s.length; q++) map.push(sec.start + q);
      continue;
    }
    const secParts: string[] = [];
    for (const m of s.matchAll(/\P{M}\p{M}*|\p{M}+/gu)) {
      const n = normalize(m[0]);
      secParts.push(n);
      for (let q = 0; q < n.length; q++) map.push(sec.start + m.index!);
    }
    const joined = secParts.join('');
    if (joined !== normalize(s)) return { ref: text, toText: null }; // not cluster-local: align to the raw text
    parts.push(joined);
  }
  map.push(text.length);
  return { ref: parts.join(''), toText: Int32Array.from(map) };
}

/**
 * The part of a tokenizer.json `normalizer` that rewrites characters in a way the decoder does not
 * undo, as a function, or null when there is none. Replace/Prepend/Strip are left out: they
 * implement SentencePiece's `▁`, which the Metaspace/Replace decoders turn back into spaces.
 */
export function viewNormalizer(config: unknown): ((s: string) => string) | null {
  const fns: Array<(s: string) => string> = [];
  const visit = (c: unknown): void => {
    if (c === null || typeof c !== 'object') return;
    const r = c as Record<string, unknown>;
    switch (r.type) {
      case 'Sequence':
        for (const n of Array.isArray(r.normalizers) ? r.normalizers : []) visit(n);
        return;
      case 'NFC': case 'NFD': case 'NFKC': case 'NFKD': {
        const form = r.type;
        fns.push((s) => s.normalize(form));
        return;
      }
      case 'Precompiled':
        fns.push((s) => s.normalize('NFKC'));
        return;
      case 'Lowercase':
        fns.push((s) => s.toLowerCase());
        return;
      case 'StripAccents':
        fns.push((s) => s.normalize('NFD').replace(/\p{Mn}/gu, ''));
        return;
      case 'BertNormalizer':
        if (r.strip_accents === true || (r.strip_accents == null && r.lowercase !== false)) {
          fns.push((s) => s.normalize('NFD').replace(/\p{Mn}/gu, ''));
        }
        if (r.lowercase !== false) fns.push((s) => s.toLowerCase());
        return;
      default:
        return;
    }
  };
  visit(config);
  if (fns.length === 0) return null;
  return (s) => fns.reduce((acc, f) => f(acc), s);
}

/** Aligns token strings to the text they were produced from. One instance per tokenizer. */
export class OffsetAligner {
  private readonly addedBytes = new Map<string, Uint8Array>();

  constructor(private readonly cfg: AlignerConfig) {
    for (const a of cfg.addedTokens) this.addedBytes.set(a, encoder.encode(a));
  }

  /**
   * Offsets of `tokens` (the tokenizer's output for `text` without post-processor additions,
   * as token strings) in `text`. See the module documentation for the rule.
   */
  align(text: string, tokens: readonly string[]): AlignmentResult {
    const { ref, toText } = normalizedView(text, this.cfg.normalize, this.cfg.addedTokens);
    const tb = new TextBytes(ref);
    const pass = new AlignmentPass(tb, tokens, this.cfg, this.addedBytes);
    pass.run();
    return { offsets: charSpans(tb, pass.spans, toText), exact: pass.exact };
  }
}

/** One alignment of a token list to a text: byte spans filled token by token, left to right. */
class AlignmentPass {
  /** Byte offsets [start, end) per token. */
  readonly spans: Int32Array;
  /** False once a token had to share text by byte length (see the module doc). */
  exact = true;
  private readonly n: number;

  constructor(
    private readonly tb: TextBytes,
    private readonly tokens: readonly string[],
    private readonly cfg: AlignerConfig,
    private readonly addedBytes: ReadonlyMap<string, Uint8Array>,
  ) {
    this.n = tokens.length;
    this.spans = new Int32Array(2 * this.n);
  }

  run(): void {
    let c = 0;
    let k = 0;
    while (k < this.n) [k, c] = this.placeExactly(k, c) ?? this.shareByLength(k, c);
  }

  private surfaceOf(t: string): Uint8Array {
    return this.addedBytes.get(t) ?? this.cfg.surface(t);
  }

  private setSpan(i: number, start: number, end: number): void {
    this.spans[2 * i] = start;
    this.spans[2 * i + 1] = end;
  }

  /**
   * Token k placed where its surface matches at cursor c (an empty surface: an empty span at c;
   * an unknown token: its whole run). Returns the next token index and cursor, or null.
   */
  private placeExactly(k: number, c: number): [number, number] | null {
    const t = this.tokens[k]!;
    const s = this.surfaceOf(t);
    if (s.length === 0) {
      this.setSpan(k, c, c);
      return [k + 1, c];
    }
    const hit = this.tb.place(c, s, !this.addedBytes.has(t));
    if (hit) {
      this.setSpan(k, hit[0], hit[1]);
      return [k + 1, hit[1]];
    }
    if (t === this.cfg.unkToken) return this.placeUnknownRun(k, c);
    return null;
  }

  /**
   * A run of unknown tokens starting at token k0, cursor c0: they cover the text up to where the
   * next token matches (trailing whitespace excluded), one code point each, the last the rest.
   * Returns the next token index and cursor, or null when the next token is not found.
   */
  private placeUnknownRun(k0: number, c0: number): [number, number] | null {
    const unk = this.tokens[k0]!;
    let m = k0;
    while (m < this.n && this.tokens[m] === unk) m++;
    const start = this.tb.skipWs(c0);
    let end = this.tb.nb;
    if (m < this.n) {
      const p = this.findAfterUnknown(m, start);
      if (p < 0) return null;
      end = p;
    }
    end = this.tb.trimWsEnd(start, end);
    let cur = start;
    for (let i = k0; i < m; i++) {
      const e = i === m - 1 ? end : cur < end ? Math.min(end, cur + this.tb.charLenAt(cur)) : cur;
      this.setSpan(i, cur, e);
      cur = e;
    }
    return [m, end];
  }

  /**
   * Where token m (the one after a run of unknown tokens starting at byte `start`) is found,
   * at least one character on; with or without its leading space (non-added tokens); or -1.
   */
  private findAfterUnknown(m: number, start: number): number {
    const { bytes, nb } = this.tb;
    const next = this.surfaceOf(this.tokens[m]!);
    const from = start < nb ? start + this.tb.charLenAt(start) : nb;
    let p = next.length === 0 ? from : bytes.indexOf(next, from);
    if (next.length > 1 && next[0] === 0x20 && !this.addedBytes.has(this.tokens[m]!)) {
      const q = bytes.indexOf(next.subarray(1), from);
      if (q >= 0 && (p < 0 || q < p)) p = q;
    }
    return p;
  }

  /**
   * Fallback for token k unmatched at cursor c: tokens k… share the text up to the next added
   * token found in it, in proportion to their byte lengths. Returns that added token's index and
   * byte position (or n and the text's end).
   */
  private shareByLength(k: number, c: number): [number, number] {
    this.exact = false;
    const [j, anchor] = this.nextFoundAddedToken(k + 1, c);
    let total = 0;
    for (let i = k; i < j; i++) total += this.surfaceOf(this.tokens[i]!).length;
    let cum = 0;
    const width = anchor - c;
    for (let i = k; i < j; i++) {
      const start = c + (total === 0 ? 0 : Math.floor((cum * width) / total));
      cum += this.surfaceOf(this.tokens[i]!).length;
      this.setSpan(i, start, c + (total === 0 ? 0 : Math.floor((cum * width) / total)));
    }
    return [j, anchor];
  }

  /** The first token from index j0 on that is an added token found in the text at or after byte c, and where; else [n, nb]. */
  private nextFoundAddedToken(j0: number, c: number): [number, number] {
    for (let j = j0; j < this.n; j++) {
      const a = this.addedBytes.get(this.tokens[j]!);
      if (!a || a.length === 0) continue;
      const p = this.tb.bytes.indexOf(a, c);
      if (p >= 0) return [j, p];
    }
    return [this.n, this.tb.nb];
  }
}

/** Byte spans as character spans of the text (through the normalized view's map, if any). */
function charSpans(tb: TextBytes, spans: Int32Array, toText: Int32Array | null): CharSpan[] {
  const n = spans.length / 2;
  const out: CharSpan[] = new Array<CharSpan>(n);
  for (let i = 0; i < n; i++) {
    const a = tb.byteToRef[spans[2 * i]!]!;
    const b = tb.byteToRef[spans[2 * i + 1]!]!;
    out[i] = toText ? [toText[a]!, toText[b]!] : [a, b];
  }
  return out;
}

/**
 * The tokens inside a character range [start, end), given monotone token offsets:
 * - `inside`: tokens whose span lies entirely within the range;
 * - `overlapping`: tokens whose span shares at least one character with it.
 * An empty token span at position p (a partial character, or a post-processor token) counts as
 * both when start <= p < end — consistent with the offset rule, the bytes of such a token belong to
 * the character at p. Both results are contiguous ranges of token indices (empty ranges sit where
 * such tokens would be). An empty character range selects no tokens.
 */
export function tokensInCharRange(offsets: readonly CharSpan[], range: CharSpan): { inside: TokenRange; overlapping: TokenRange } {
  const [s, e] = range;
  let inStart = -1;
  let inEnd = -1;
  let ovStart = -1;
  let ovEnd = -1;
  let insertAt = offsets.length;
  for (let i = 0; i < offsets.length; i++) {
    const [a, b] = offsets[i]!;
    if (insertAt === offsets.length && (a >= s || b > s)) insertAt = i;
    if (a >= e) break;
    const empty = a === b;
    const overlaps = empty ? s <= a && a < e : a < e && b > s;
    const inside = empty ? overlaps : s <= a && b <= e;
    if (overlaps) {
      if (ovStart < 0) ovStart = i;
      ovEnd = i + 1;
    }
    if (inside) {
      if (inStart < 0) inStart = i;
      inEnd = i + 1;
    }
  }
  const at = insertAt;
  return {
    inside: inStart < 0 ? { start: at, end: at } : { start: inStart, end: inEnd },
    overlapping: ovStart < 0 ? { start: at, end: at } : { start: ovStart, end: ovEnd },
  };
}
