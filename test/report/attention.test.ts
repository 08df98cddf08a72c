import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getKernels, jsKernels } from '../../src/kernels/index.js';
import type { FArray } from '../../src/kernels/types.js';
import { CausalLM } from '../../src/model/causal-lm.js';
import { randomModel } from '../../src/model/random-init.js';
import { attentionMaps, meanAttentionOnto, type AttentionMaps } from '../../src/report/attention.js';
import { TINY } from '../model/tiny-configs.js';

/** The same weights as `m`, in float64 on the TypeScript kernels. */
function float64Copy(m: CausalLM): CausalLM {
  const params = new Map<string, FArray>();
  for (const [k, v] of m.params) params.set(k, Float64Array.from(v));
  return new CausalLM(m.config, params, jsKernels, Float64Array);
}

/** The float64 forward pass's own softmax probabilities (kept on the tape by the attention kernel): [layer][head] → [T × T]. */
function tapeProbs(m: CausalLM, ids: number[]): Float64Array[][] {
  const T = ids.length;
  const out = m.forward({ batch: 1, seqLen: T, inputIds: Int32Array.from(ids), logitRows: 'none', saveForBackward: true });
  return out.tape!.layers.map((lt) => Array.from({ length: m.config.numHeads }, (_, h) => Float64Array.from(lt.probs.subarray(h * T * T, (h + 1) * T * T))));
}

function maxAbsDiff(maps: AttentionMaps, ref: Float64Array[][]): number {
  let worst = 0;
  const T = maps.seqLen;
  maps.probs.forEach((layer, l) => layer.forEach((p, h) => {
    maps.queries.forEach((t, qi) => {
      for (let s = 0; s < T; s++) worst = Math.max(worst, Math.abs(p[qi * T + s] - ref[l][h][t * T + s]));
    });
  }));
  return worst;
}

describe('report attention maps', () => {
  for (const name of ['llama-gqa-untied-bias', 'qwen2-tied', 'llama3-rope', 'mistral']) {
    test(`${name}: the per-layer/head maps of a float32 model equal the float64 forward's probabilities`, () => {
      const m32 = randomModel(TINY[name](), getKernels(), Float32Array, { seed: 3, std: 0.5, perturbAll: true });
      const m64 = float64Copy(m32);
      const V = m32.config.vocabSize;
      const ids = Array.from({ length: 13 }, (_, i) => (i * 7 + 3) % V);
      const ref = tapeProbs(m64, ids);
      // The float32 model's own forward: float32 rounding only (≤ 2e-5 absolute on probabilities).
      const maps32 = attentionMaps(m32, ids);
      assert.ok(maxAbsDiff(maps32, ref) < 2e-5, `float32 model: max |Δp| = ${maxAbsDiff(maps32, ref)}`);
      // The float64 model: its maps are its forward's probabilities (≤ 1e-12).
      const maps64 = attentionMaps(m64, ids, [0, 5, 12]);
      assert.ok(maxAbsDiff(maps64, ref) < 1e-12, `float64 model: max |Δp| = ${maxAbsDiff(maps64, ref)}`);
      // Rows are distributions over the causal past.
      for (const layer of maps32.probs) for (const p of layer) {
        for (let t = 0; t < 13; t++) {
          let s = 0;
          for (let j = 0; j < 13; j++) {
            if (j > t) assert.equal(p[t * 13 + j], 0);
            s += p[t * 13 + j];
          }
          assert.ok(Math.abs(s - 1) < 1e-12);
        }
      }
      // The heads are not all alike (the test would not notice a head mix-up otherwise).
      const a = maps32.probs[0][0], b = maps32.probs[0][m32.config.numHeads - 1];
      assert.ok(a.some((x, i) => Math.abs(x - b[i]) > 1e-3));
    });
  }

  test('meanAttentionOnto averages the query rows over a key range (hand-computed)', () => {
    const maps: AttentionMaps = {
      layers: 1, heads: 1, seqLen: 3, queries: [1, 2],
      probs: [[Float64Array.from([0.25, 0.75, 0, 0.5, 0.1, 0.4])]],
    };
    assert.deepEqual(meanAttentionOnto(maps, 0, 2), [[[0.375, 0.425]]]);
    assert.throws(() => meanAttentionOnto(maps, 2, 4), /outside/);
  });
});
