/**
 * What one model sees for one scored unit, found through character spans (never template offsets):
 * the ids of the chat-templated conversation (user turn = the prompt, assistant turn = the
 * response), the tokens of the scored text with their spans in that text, and the positions whose
 * tokens the loss predicts.
 *
 *  - instruction level: scored text = the prompt; loss = the response tokens (every token sharing a
 *    character with the assistant content) and the template's end-of-turn token (the tokens after
 *    the content up to the first special or EOS token, when there is one);
 *  - response level, segment j (response characters [c_j, d_j)): scored text = response[0, c_j);
 *    loss = the tokens of segment j (and the end-of-turn token after the last segment).
 *
 * A token that straddles the edge of the scored text is kept with its span clipped to the text;
 * a template that rewrites a content (e.g. Llama 3's `| trim`) is allowed as long as the rendered
 * content is a substring of the given one.
 */
import { LeafError } from '../errors.js';
import type { Pretrained } from '../model/pretrained.js';
import { tokensInCharRange } from '../tokenizer/offsets.js';
import type { ScoredToken } from './spans.js';

export type Unit = { level: 'instruction' } | { level: 'response'; segStart: number; segEnd: number; last: boolean };

export interface UnitEncoding {
  ids: number[];
  /** The scored text (prompt, or the response before the segment). */
  text: string;
  /** Tokens of the scored text (spans in `text`), with their positions in `ids`. */
  tokens: ScoredToken[];
  positions: number[];
  /** Positions t (≥ 1) whose token ids[t] the loss predicts from row t − 1. */
  lossPositions: number[];
}

/** Where a rendered content sits in the given content (the template may have trimmed it). */
function contentOffset(given: string, rendered: string, what: string, source: string): number {
  if (rendered === given) return 0;
  const at = given.indexOf(rendered);
  if (at < 0) throw new LeafError(`${source}: the chat template changes the ${what} text (not only trims it); cannot map its tokens back`);
  return at;
}

/** The conversation [user: prompt, assistant: response] encoded for `p`, with the unit's tokens and loss positions. */
export function encodeUnit(p: Pretrained, prompt: string, response: string, unit: Unit): UnitEncoding {
  const tok = p.tokenizer;
  const enc = tok.encodeChat([{ role: 'user', content: prompt }, { role: 'assistant', content: response }]);
  const [userSpan, asstSpan] = enc.contentSpans;
  if (!userSpan || !asstSpan) throw new LeafError(`${p.dir}: the chat template did not render both turns`);
  const uOff = contentOffset(prompt, enc.text.slice(userSpan[0], userSpan[1]), 'prompt', p.dir);
  const rOff = contentOffset(response, enc.text.slice(asstSpan[0], asstSpan[1]), 'response', p.dir);
  // Rendered-text position of a character index of the prompt / the response.
  const uAt = (i: number) => Math.min(Math.max(userSpan[0] + i - uOff, userSpan[0]), userSpan[1]);
  const rAt = (i: number) => Math.min(Math.max(asstSpan[0] + i - rOff, asstSpan[0]), asstSpan[1]);

  let text: string, lo: number, hi: number, base: number;
  if (unit.level === 'instruction') {
    text = prompt;
    lo = userSpan[0];
    hi = userSpan[1];
    base = userSpan[0] - uOff;
  } else {
    text = response.slice(0, unit.segStart);
    lo = asstSpan[0];
    hi = rAt(unit.segStart);
    base = asstSpan[0] - rOff;
  }
  const tokens: ScoredToken[] = [];
  const positions: number[] = [];
  const clampLen = text.length;
  if (hi > lo) {
    const r = tokensInCharRange(enc.offsets, [lo, hi]).overlapping;
    for (let i = r.start; i < r.end; i++) {
      const [a, b] = enc.offsets[i];
      const s = Math.min(Math.max(Math.max(a, lo) - base, 0), clampLen);
      const e = Math.min(Math.max(Math.min(b, hi) - base, s), clampLen);
      tokens.push({ text: text.slice(s, e), start: s, end: e });
      positions.push(i);
    }
  }

  // Loss positions.
  const [ls, le] = unit.level === 'instruction' ? [asstSpan[0], asstSpan[1]] : [rAt(unit.segStart), rAt(unit.segEnd)];
  const withEnd = unit.level === 'instruction' || unit.last;
  const lossPositions: number[] = [];
  const contentTokens = enc.contentTokens[1].overlapping;
  let after = contentTokens.end;
  if (le > ls) {
    const r = tokensInCharRange(enc.offsets, [ls, le]).overlapping;
    for (let i = Math.max(r.start, contentTokens.start); i < Math.min(r.end, contentTokens.end); i++) lossPositions.push(i);
  }
  if (withEnd) {
    const special = (id: number) => tok.specialIds.has(id) || p.eosTokenIds.includes(id);
    let k = after;
    while (k < enc.ids.length && !special(enc.ids[k])) k++;
    if (k < enc.ids.length) for (; after <= k; after++) lossPositions.push(after);
  }
  return { ids: enc.ids, text, tokens, positions, lossPositions: lossPositions.filter((t) => t >= 1) };
}
