/**
 * Attention probabilities of a Llama-family model, per layer and head, recomputed from its weights and
 * the hidden states entering each layer: for layer l with input x,
 *
 *   x̂ = RMSNorm(x; input_layernorm),  q = x̂·W_qᵀ (+ b_q),  k = x̂·W_kᵀ (+ b_k),  RoPE(q), RoPE(k) at positions 0..T−1,
 *   P_h[t, s] = softmax_s( q_h[t] · k_{g(h)}[s] / √d ),  s ≤ t,   g(h) = ⌊h / (heads / kvHeads)⌋ (grouped-query attention).
 *
 * The hidden states come from one forward pass (saveForBackward keeps each layer's input); everything after
 * is float64. Used by the report for "attention from the answer positions onto the prompt tokens".
 */
import { LeafError } from '../errors.js';
import type { FArray } from '../kernels/types.js';
import type { CausalLM } from '../model/causal-lm.js';
import { asFloat } from '../model/weights.js';

export interface AttentionMaps {
  layers: number;
  heads: number;
  seqLen: number;
  /** The query positions, in order. */
  queries: number[];
  /** probs[l][h]: [queries.length × seqLen] row-major; zero for keys after the query (causal mask). */
  probs: Float64Array[][];
}

/** q or k of one layer, float64, RoPE applied (rotate_half convention), [T, heads·D]. */
function projectRope(
  model: CausalLM, xn: Float64Array, T: number, w: FArray, b: FArray | null, heads: number,
): Float64Array {
  const hid = model.config.hiddenSize, D = model.config.headDim, half = D / 2, width = heads * D;
  const out = new Float64Array(T * width);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < width; o++) {
      let s = b ? b[o] : 0;
      const wo = o * hid, xo = t * hid;
      for (let i = 0; i < hid; i++) s += xn[xo + i] * w[wo + i];
      out[t * width + o] = s;
    }
    for (let h = 0; h < heads; h++) {
      const base = t * width + h * D;
      for (let i = 0; i < half; i++) {
        const a = t * model.invFreq[i];
        const c = Math.cos(a), sn = Math.sin(a);
        const x1 = out[base + i], x2 = out[base + i + half];
        out[base + i] = x1 * c - x2 * sn;
        out[base + i + half] = x2 * c + x1 * sn;
      }
    }
  }
  return out;
}

/**
 * Attention probabilities of layer `l` from its input hidden states `x` [T, hidden] (no padding, positions
 * 0..T−1), for the given query positions.
 */
export function layerAttention(model: CausalLM, l: number, x: FArray, T: number, queries: readonly number[]): Float64Array[] {
  const c = model.config, hid = c.hiddenSize, D = c.headDim, H = c.numHeads, KVH = c.numKvHeads;
  if (x.length !== T * hid) throw new LeafError(`attention: hidden states have ${x.length} values, expected ${T}×${hid}`);
  const p = model.layer(l);
  const xn = new Float64Array(T * hid);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let i = 0; i < hid; i++) ss += x[t * hid + i] * x[t * hid + i];
    const r = 1 / Math.sqrt(ss / hid + c.rmsNormEps);
    for (let i = 0; i < hid; i++) xn[t * hid + i] = x[t * hid + i] * r * p.ln1[i];
  }
  const q = projectRope(model, xn, T, asFloat(p.wq), p.bq, H);
  const k = projectRope(model, xn, T, asFloat(p.wk), p.bk, KVH);
  const scale = 1 / Math.sqrt(D), group = H / KVH;
  const out: Float64Array[] = [];
  for (let h = 0; h < H; h++) {
    const kvh = Math.floor(h / group);
    const probs = new Float64Array(queries.length * T);
    queries.forEach((t, qi) => {
      if (!(Number.isInteger(t) && t >= 0 && t < T)) throw new LeafError(`attention: query position ${t} outside 0..${T - 1}`);
      const row = probs.subarray(qi * T, (qi + 1) * T);
      let mx = -Infinity;
      for (let s = 0; s <= t; s++) {
        let dot = 0;
        for (let i = 0; i < D; i++) dot += q[t * H * D + h * D + i] * k[s * KVH * D + kvh * D + i];
        row[s] = dot * scale;
        if (row[s] > mx) mx = row[s];
      }
      let sum = 0;
      for (let s = 0; s <= t; s++) {
        row[s] = Math.exp(row[s] - mx);
        sum += row[s];
      }
      for (let s = 0; s <= t; s++) row[s] /= sum;
    });
    out.push(probs);
  }
  return out;
}

/** Attention probabilities of every layer and head of `model` on one token sequence, for the given query positions (default all). */
export function attentionMaps(model: CausalLM, ids: readonly number[], queries?: readonly number[]): AttentionMaps {
  const T = ids.length;
  if (T === 0) throw new LeafError('attention: empty sequence');
  const qs = queries ? [...queries] : Array.from({ length: T }, (_, i) => i);
  const out = model.forward({ batch: 1, seqLen: T, inputIds: Int32Array.from(ids), logitRows: 'none', saveForBackward: true });
  const tape = out.tape!;
  const probs = tape.layers.map((lt, l) => layerAttention(model, l, lt.xIn, T, qs));
  return { layers: model.config.numLayers, heads: model.config.numHeads, seqLen: T, queries: qs, probs };
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
