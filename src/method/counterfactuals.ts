/**
 * Counterfactual records (common data format): the original sample with the flagged spans cut
 * out — one per span (`span` pruning, the method) or one with every span cut (`collective`).
 *
 * Instruction level: prompt = the pruned prompt, response = the scored response, unchanged.
 * Response level, segment j: prompt = the original prompt, response_prefix = the pruned response
 * before segment j (the unsupervised start of the assistant turn), response = segment j and the
 * rest (the supervised continuation). `removed` lists exactly the character ranges cut from the
 * original prompt / response (spans.ts: the cut rule), so the pruned text is rebuilt from them.
 */
import type { Removal, Span } from './spans.js';
import { cutSpans } from './spans.js';
import type { Answer } from './generations.js';

export type Pruning = 'span' | 'collective';
export type Level = 'instruction' | 'response';

export interface CounterfactualRecord {
  id: string;
  source_id: string;
  level: Level;
  method: string;
  pruning: Pruning;
  segment: number | null;
  prompt: string;
  original_prompt: string;
  response_prefix: string | null;
  response: string;
  removed: Removal[];
  verified: boolean | null;
  teacher: Answer | null;
  student: Answer | null;
  [passthrough: string]: unknown;
}

export interface CounterfactualDraft {
  record: CounterfactualRecord;
  /** What the models answer in verification: user turn and assistant prefix. */
  ask: { prompt: string; prefix: string | null };
}

export interface UnitContext {
  sourceId: string;
  level: Level;
  method: string;
  segment: number | null;
  prompt: string;
  response: string;
  /** Response level: where segment j starts in the response. */
  segStart: number;
  passthrough: Record<string, unknown>;
}

/**
 * The counterfactuals of one scored unit (text = the scored text, spans from the scores record).
 * A cut that would leave nothing (or only whitespace) of the scored text is not emitted; the
 * count of such is returned.
 */
export function buildCounterfactuals(ctx: UnitContext, text: string, spans: readonly Span[], pruning: Pruning): { drafts: CounterfactualDraft[]; empty: number } {
  const groups: Array<{ name: string; spans: readonly Span[] }> =
    pruning === 'span' ? spans.map((s, i) => ({ name: `span-${i}`, spans: [s] })) : spans.length > 0 ? [{ name: 'collective', spans }] : [];
  const drafts: CounterfactualDraft[] = [];
  let empty = 0;
  const base = ctx.level === 'instruction' ? `${ctx.sourceId}/instruction/${ctx.method}` : `${ctx.sourceId}/response/${ctx.method}/segment-${ctx.segment}`;
  for (const g of groups) {
    const cut = cutSpans(text, g.spans);
    if (cut.removed.length === 0 || (ctx.level === 'instruction' && cut.text.trim() === '')) {
      empty++;
      continue;
    }
    const instruction = ctx.level === 'instruction';
    const record: CounterfactualRecord = {
      id: `${base}/${g.name}`,
      source_id: ctx.sourceId,
      level: ctx.level,
      method: ctx.method,
      pruning,
      segment: ctx.segment,
      prompt: instruction ? cut.text : ctx.prompt,
      original_prompt: ctx.prompt,
      response_prefix: instruction ? null : cut.text,
      response: instruction ? ctx.response : ctx.response.slice(ctx.segStart),
      removed: cut.removed,
      verified: null,
      teacher: null,
      student: null,
      ...ctx.passthrough,
    };
    drafts.push({ record, ask: instruction ? { prompt: cut.text, prefix: null } : { prompt: ctx.prompt, prefix: cut.text } });
  }
  return { drafts, empty };
}
