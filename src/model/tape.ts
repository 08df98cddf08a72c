import type { AttentionShape, FArray } from '../kernels/types.js';

/** Activations of one transformer layer kept by the forward pass for the backward pass. */
export interface LayerTape {
  xIn: FArray; rstd1: FArray; xn1: FArray;
  q: FArray; k: FArray; v: FArray; probs: FArray; attn: FArray;
  h1: FArray; rstd2: FArray; xn2: FArray;
  gate: FArray; up: FArray; act: FArray;
}

/** Everything the backward pass needs from one forward pass (the activations of that pass, nothing more). */
export interface Tape {
  batch: number;
  seqLen: number;
  /** Token ids, when the input was ids (needed for the embedding-table gradient). */
  inputIds: Int32Array | null;
  cos: FArray; sin: FArray;
  attention: AttentionShape;
  keyMask: Uint8Array;
  layers: LayerTape[];
  /** Rows (of batch·seqLen) whose logits were computed, in logits order. */
  logitRows: Int32Array;
  /** Final hidden states of the logit rows (input to the final norm) and their normalised form. */
  hRows: FArray; rstdF: FArray; xnF: FArray;
}
