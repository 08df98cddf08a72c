/** Attention test cases shared by the kernel tests: shapes, key masks and seeded inputs. */
import type { AttentionShape } from '../../src/kernels/types.js';
import { randF32, rng } from './random-arrays.js';

export interface AttnCase {
  name: string;
  shape: AttentionShape;
  /** Mask per batch: keys masked out (by index). */
  masked?: (b: number, s: number) => boolean;
}

/** An attention shape with the standard 1/√headDim scale. */
export function attnShape(batch: number, queries: number, keys: number, keyCapacity: number, past: number, heads: number, kvHeads: number, headDim: number): AttentionShape {
  return { batch, queries, keys, keyCapacity, past, heads, kvHeads, headDim, scale: 1 / Math.sqrt(headDim) };
}

/** Seeded q, k, v (and an upstream gradient dOut drawn after them) and the key mask of a case. */
export function attnInputs(c: AttnCase, seed: number) {
  const s = c.shape;
  const r = rng(seed);
  const qn = s.batch * s.queries * s.heads * s.headDim;
  const kn = s.batch * s.keyCapacity * s.kvHeads * s.headDim;
  const q = randF32(qn, r, -2, 2), k = randF32(kn, r, -2, 2), v = randF32(kn, r);
  const keyMask = new Uint8Array(s.batch * s.keyCapacity);
  for (let b = 0; b < s.batch; b++) {
    for (let j = 0; j < s.keyCapacity; j++) keyMask[b * s.keyCapacity + j] = j < s.keys && !(c.masked?.(b, j) ?? false) ? 1 : 0;
  }
  return { q, k, v, keyMask, qn, kn, probsLen: s.batch * s.heads * s.queries * s.keys, dOut: randF32(qn, r) };
}
