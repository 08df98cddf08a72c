import type { AttentionShape, FArray } from '../kernels/types.js';

/**
 * Activations of one transformer layer kept by the forward pass for the backward pass.
 * N = batch·seqLen rows, hid = hidden size, H / KVH = query / key-value heads, D = head dim, I = intermediate size.
 */
export interface LayerTape {
  /** The layer's input (residual stream) [N, hid]. */
  xIn: FArray;
  /** 1/rms of each row of xIn [N]. */
  rstd1: FArray;
  /** input_layernorm(xIn) [N, hid]. */
  xn1: FArray;
  /** Queries after RoPE [N, H·D]. */
  q: FArray;
  /** Keys after RoPE [N, KVH·D]. */
  k: FArray;
  /** Values [N, KVH·D]. */
  v: FArray;
  /** Attention probabilities softmax(q·kᵀ/√D + mask) [batch, H, seqLen, keys] (empty unless saving). */
  probs: FArray;
  /** Attention output (heads concatenated, before o_proj) [N, H·D]. */
  attn: FArray;
  /** After the attention block's residual: xIn + o_proj(attn) [N, hid]. */
  h1: FArray;
  /** 1/rms of each row of h1 [N]. */
  rstd2: FArray;
  /** post_attention_layernorm(h1) [N, hid]. */
  xn2: FArray;
  /** gate_proj(xn2) [N, I]. */
  gate: FArray;
  /** up_proj(xn2) [N, I]. */
  up: FArray;
  /** silu(gate)·up, the input of down_proj [N, I]. */
  act: FArray;
}

/** Everything the backward pass needs from one forward pass (the activations of that pass, nothing more). */
export interface Tape {
  batch: number;
  seqLen: number;
  /** Token ids, when the input was ids (needed for the embedding-table gradient). */
  inputIds: Int32Array | null;
  /** RoPE tables [N, D/2]. */
  cos: FArray; sin: FArray;
  attention: AttentionShape;
  /** 1 = a real key, 0 = padding [N]. */
  keyMask: Uint8Array;
  layers: LayerTape[];
  /** Rows (of batch·seqLen) whose logits were computed, in logits order. */
  logitRows: Int32Array;
  /** Final hidden states of the logit rows (input to the final norm) [R, hid], 1/rms [R], and their normalised form [R, hid]. */
  hRows: FArray; rstdF: FArray; xnF: FArray;
}
