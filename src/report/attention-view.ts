/**
 * The report's attention picture for one problem: the chat-rendered prompt + reference response fed to
 * each model (teacher forcing), attention probabilities recomputed per layer and head, averaged over the
 * response tokens (the answer positions) and restricted to the prompt's content tokens.
 */
import { LeafError } from '../errors.js';
import type { Pretrained } from '../model/pretrained.js';
import { attentionMaps, meanAttentionOnto } from './attention.js';
import type { AttentionView, TokenView } from './data.js';

const round = (x: number) => Math.round(x * 1e5) / 1e5;

export function attentionView(models: readonly { label: string; model: Pretrained }[], prompt: string, response: string): AttentionView {
  if (models.length === 0) throw new LeafError('attention view: no model given');
  let tokens: TokenView[] | null = null;
  let layers = 0, heads = 0;
  const out: AttentionView['models'] = [];
  for (const { label, model } of models) {
    const enc = model.tokenizer.encodeChat([{ role: 'user', content: prompt }, { role: 'assistant', content: response }]);
    const user = enc.contentTokens[0].inside, asst = enc.contentTokens[1].inside;
    if (user.end <= user.start || asst.end <= asst.start) throw new LeafError(`${model.dir}: the chat template leaves no prompt or response tokens`);
    const base = enc.contentSpans[0][0];
    const toks: TokenView[] = [];
    for (let i = user.start; i < user.end; i++) {
      const [a, b] = enc.offsets[i];
      toks.push({ text: prompt.slice(a - base, b - base), start: a - base, end: b - base });
    }
    if (tokens && (tokens.length !== toks.length || tokens.some((t, i) => t.start !== toks[i].start || t.end !== toks[i].end))) {
      throw new LeafError(`attention view: ${label} tokenizes the prompt differently from ${out[0].label}`);
    }
    tokens = toks;
    const queries = Array.from({ length: asst.end - asst.start }, (_, i) => asst.start + i);
    const maps = attentionMaps(model.model, enc.ids.slice(0, asst.end), queries);
    const w = meanAttentionOnto(maps, user.start, user.end).map((layer) => layer.map((row) => row.map(round)));
    if (out.length > 0 && (maps.layers !== layers || maps.heads !== heads)) throw new LeafError(`attention view: ${label} has a different number of layers or heads`);
    layers = maps.layers;
    heads = maps.heads;
    out.push({ label, weights: w });
  }
  return { tokens: tokens!, layers, heads, queries: 'mean over the reference response tokens (teacher forcing)', models: out };
}
