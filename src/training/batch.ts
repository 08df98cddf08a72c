import { LeafError } from '../errors.js';

/** One training sequence: prompt and response token ids; the loss covers response tokens only. */
export interface TokenizedSample {
  ids: readonly number[];
  /** Index in `ids` of the first supervised (response) token; tokens before it are context. */
  responseStart: number;
  /** Loss weight of this sample (1 for an original, λ for a counterfactual). */
  weight: number;
}

/** A left-padded batch ready for forward(): rows [batch, seqLen], the logit rows that predict response tokens, their targets and weights. */
export interface PackedBatch {
  batch: number;
  seqLen: number;
  inputIds: Int32Array;
  attentionMask: Uint8Array;
  /** Rows (b·seqLen + t) whose next token is a response token. */
  logitRows: Int32Array;
  /** The response token each logit row predicts. */
  targets: Int32Array;
  /** Per logit row: the sample's weight divided by the sample's number of response tokens (so each sample's loss is a token mean). */
  rowWeights: Float64Array;
  /** Number of response tokens in the batch. */
  tokens: number;
}

/**
 * Packs samples into one left-padded batch (padding id `padId`, mask 0). A sample whose responseStart is not
 * inside its ids (no response token) is refused — the caller should have filtered it with a message.
 */
export function packBatch(samples: readonly TokenizedSample[], padId = 0): PackedBatch {
  const B = samples.length;
  const T = Math.max(...samples.map((s) => s.ids.length));
  const inputIds = new Int32Array(B * T).fill(padId);
  const attentionMask = new Uint8Array(B * T);
  const rows: number[] = [], targets: number[] = [], weights: number[] = [];
  samples.forEach((s, b) => {
    if (!(s.responseStart >= 1 && s.responseStart < s.ids.length)) {
      throw new LeafError(`training sample ${b} has no response token (responseStart ${s.responseStart}, length ${s.ids.length})`);
    }
    const off = T - s.ids.length;
    for (let i = 0; i < s.ids.length; i++) {
      inputIds[b * T + off + i] = s.ids[i];
      attentionMask[b * T + off + i] = 1;
    }
    const n = s.ids.length - s.responseStart;
    for (let i = s.responseStart; i < s.ids.length; i++) {
      rows.push(b * T + off + i - 1);
      targets.push(s.ids[i]);
      weights.push(s.weight / n);
    }
  });
  return {
    batch: B, seqLen: T, inputIds, attentionMask,
    logitRows: Int32Array.from(rows), targets: Int32Array.from(targets), rowWeights: Float64Array.from(weights),
    tokens: rows.length,
  };
}

/**
 * Length-grouped micro-batches: samples sorted by length inside shuffled mega-chunks of `groupFactor` micro-batches
 * (as transformers' group_by_length), so padding waste stays small while the order stays random. `order` is a
 * permutation of sample indices (already shuffled by the caller's seeded RNG).
 */
export function lengthGroupedMicroBatches(lengths: readonly number[], order: readonly number[], microBatch: number, groupFactor = 16): number[][] {
  const chunk = microBatch * groupFactor;
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += chunk) {
    const group = order.slice(i, i + chunk).sort((a, b) => lengths[b] - lengths[a] || a - b);
    for (let j = 0; j < group.length; j += microBatch) out.push(group.slice(j, j + microBatch));
  }
  return out;
}
