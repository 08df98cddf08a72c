/**
 * Attention probabilities of a Llama-family model, per layer and head, as the forward pass computes them:
 * softmax(q·kᵀ/√d) over the causal past, with RoPE and grouped-query heads — the attention kernel keeps them
 * on the tape (saveForBackward), so nothing is recomputed here. Each query row is copied in float64 and
 * divided by its sum (a float32 row sums to 1 only within rounding). Used by the report for "attention
 * from the answer positions onto the prompt tokens".
 */
import { LeafError } from '../errors.js';
import type { CausalLM } from '../model/causal-lm.js';

export interface AttentionMaps {
  layers: number;
  heads: number;
  seqLen: number;
  /** The query positions, in order. */
  queries: number[];
  /** probs[l][h]: [queries.length × seqLen] row-major; zero for keys after the query (causal mask). */
  probs: Float64Array[][];
}

/** Attention probabilities of every layer and head of `model` on one token sequence, for the given query positions (default all). */
export function attentionMaps(model: CausalLM, ids: readonly number[], queries?: readonly number[]): AttentionMaps {
  const T = ids.length;
  if (T === 0) throw new LeafError('attention: empty sequence');
  const qs = queries ? [...queries] : Array.from({ length: T }, (_, i) => i);
  for (const t of qs) if (!(Number.isInteger(t) && t >= 0 && t < T)) throw new LeafError(`attention: query position ${t} outside 0..${T - 1}`);
  const out = model.forward({ batch: 1, seqLen: T, inputIds: Int32Array.from(ids), logitRows: 'none', saveForBackward: true });
  const H = model.config.numHeads;
  // The tape's probabilities of a layer: [batch = 1, heads, queries = T, keys = T].
  const probs = out.tape!.layers.map((lt) => Array.from({ length: H }, (_, h) => {
    const m = new Float64Array(qs.length * T);
    qs.forEach((t, qi) => {
      const row = lt.probs.subarray((h * T + t) * T, (h * T + t + 1) * T);
      let sum = 0;
      for (let s = 0; s <= t; s++) sum += row[s];
      for (let s = 0; s <= t; s++) m[qi * T + s] = row[s] / sum;
    });
    return m;
  }));
  return { layers: model.config.numLayers, heads: H, seqLen: T, queries: qs, probs };
}

/**
 * Mean attention of the query rows onto the key range [from, to), per layer and head: [layers][heads][to − from].
 * (The report's "attention from the answer positions onto the prompt tokens".)
 */
export function meanAttentionOnto(maps: AttentionMaps, from: number, to: number): number[][][] {
  if (!(from >= 0 && to <= maps.seqLen && from < to)) throw new LeafError(`attention: key range [${from}, ${to}) outside 0..${maps.seqLen}`);
  const n = maps.queries.length;
  return maps.probs.map((layer) => layer.map((p) => {
    const m = new Array<number>(to - from).fill(0);
    for (let qi = 0; qi < n; qi++) for (let s = from; s < to; s++) m[s - from] += p[qi * maps.seqLen + s] / n;
    return m;
  }));
}
