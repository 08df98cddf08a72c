import type { FArray } from '../kernels/types.js';
import type { ModelConfig } from './config.js';

/** Rotary inverse frequencies, inv_freq[i] = 1/θ^(2i/d), with llama3 frequency scaling when configured. */
export function ropeInvFreq(config: ModelConfig): Float64Array {
  const half = config.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / config.headDim);
  const rs = config.ropeScaling;
  if (rs) {
    const lowWavelen = rs.originalMaxPositionEmbeddings / rs.lowFreqFactor;
    const highWavelen = rs.originalMaxPositionEmbeddings / rs.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen < highWavelen) continue; // high frequency: unchanged
      if (wavelen > lowWavelen) {
        inv[i] /= rs.factor; // low frequency: scaled
        continue;
      }
      const smooth = (rs.originalMaxPositionEmbeddings / wavelen - rs.lowFreqFactor) / (rs.highFreqFactor - rs.lowFreqFactor);
      inv[i] = ((1 - smooth) * inv[i]) / rs.factor + smooth * inv[i];
    }
  }
  return inv;
}

/** cos and sin tables [rows, headDim/2] for the given position of every row. */
export function ropeTables(invFreq: Float64Array, positions: Int32Array, make: (n: number) => FArray): { cos: FArray; sin: FArray } {
  const half = invFreq.length;
  const cos = make(positions.length * half);
  const sin = make(positions.length * half);
  for (let r = 0; r < positions.length; r++) {
    const p = positions[r];
    for (let i = 0; i < half; i++) {
      const a = p * invFreq[i];
      cos[r * half + i] = Math.cos(a);
      sin[r * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}
