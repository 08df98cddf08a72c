import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsKernels } from '../../src/kernels/index.js';
import { argmax, generate, sampleToken } from '../../src/model/generate.js';
import { randomModel } from '../../src/model/random-init.js';
import { Rng } from '../../src/util/rng.js';
import { TINY } from './tiny-configs.js';
import { relError } from './golden-data.js';

describe('KV-cache decoding', () => {
  for (const [label, make] of Object.entries(TINY)) {
    it(`${label}: prefill + one-token steps equal one full forward (left-padded batch)`, () => {
      const m = randomModel(make(), jsKernels, Float64Array, { seed: 2, std: 0.3, perturbAll: true });
      const V = m.config.vocabSize, B = 2, T = 9, P = 4;
      const rng = new Rng(9);
      const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
      const mask = new Uint8Array(B * T).fill(1);
      mask.fill(0, T, T + 3); // row 1: three padding positions
      const full = m.forward({ batch: B, seqLen: T, inputIds: ids, attentionMask: mask }).logits!;
      const cache = m.newCache(B, T);
      const take = (t0: number, t1: number, src: Uint8Array | Int32Array) => {
        const out = new (src.constructor as Int32ArrayConstructor)(B * (t1 - t0));
        for (let b = 0; b < B; b++) out.set(src.subarray(b * T + t0, b * T + t1), b * (t1 - t0));
        return out;
      };
      const pre = m.forward({ batch: B, seqLen: P, inputIds: take(0, P, ids), attentionMask: Uint8Array.from(take(0, P, mask)), cache }).logits!;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < P; t++) {
          if (!mask[b * T + t]) continue;
          const a = pre.subarray((b * P + t) * V, (b * P + t + 1) * V), r = full.subarray((b * T + t) * V, (b * T + t + 1) * V);
          assert.ok(relError(a, r) < 1e-12, `prefill row ${b} t ${t}`);
        }
      }
      for (let t = P; t < T; t++) {
        const step = m.forward({ batch: B, seqLen: 1, inputIds: take(t, t + 1, ids), attentionMask: Uint8Array.from(take(t, t + 1, mask)), cache }).logits!;
        for (let b = 0; b < B; b++) {
          const r = full.subarray((b * T + t) * V, (b * T + t + 1) * V);
          assert.ok(relError(step.subarray(b * V, (b + 1) * V), r) < 1e-12, `step row ${b} t ${t}`);
        }
      }
      assert.equal(cache.length, T);
      assert.throws(() => m.forward({ batch: B, seqLen: 1, inputIds: new Int32Array(B), cache }), /KV cache full/);
    });
  }
});

describe('generation', () => {
  const m = randomModel(TINY['qwen2-tied'](), jsKernels, Float32Array, { seed: 4, std: 0.5 });
  it('greedy equals repeated argmax of full forwards', () => {
    const prompt = [3, 5, 7];
    const res = generate(m, [prompt], { maxNewTokens: 6, eosTokenIds: [] });
    const seq = [...prompt];
    for (let i = 0; i < 6; i++) {
      const out = m.forward({ batch: 1, seqLen: seq.length, inputIds: Int32Array.from(seq), logitRows: 'last' });
      seq.push(argmax(out.logits!, 0, m.config.vocabSize));
    }
    assert.deepEqual(res.tokens[0], seq.slice(3));
    assert.deepEqual(res.finish, ['length']);
  });
  it('stops at EOS (kept) and on shouldStop', () => {
    const free = generate(m, [[1, 2]], { maxNewTokens: 8, eosTokenIds: [] }).tokens[0];
    const eos = free[2];
    const cut = generate(m, [[1, 2]], { maxNewTokens: 8, eosTokenIds: [eos] });
    assert.deepEqual(cut.tokens[0], free.slice(0, free.indexOf(eos) + 1));
    assert.equal(cut.finish[0], 'eos');
    const stop = generate(m, [[1, 2]], { maxNewTokens: 8, eosTokenIds: [], shouldStop: (_r, t) => t.length === 3 });
    assert.deepEqual(stop.tokens[0], free.slice(0, 3));
    assert.equal(stop.finish[0], 'stop');
  });
  it('stops at max_position_embeddings: a huge maxNewTokens decodes up to the context length, the same tokens', () => {
    const ctx = m.config.maxPositionEmbeddings;
    const prompts = [[3, 5, 7], [1]];
    const capped = generate(m, prompts, { maxNewTokens: 1e9, eosTokenIds: [] });
    assert.deepEqual(capped.tokens.map((t) => t.length), [ctx - 3, ctx - 1], 'each row up to its own context length');
    assert.deepEqual(capped.finish, ['length', 'length']);
    const exact = generate(m, prompts, { maxNewTokens: ctx - 1, eosTokenIds: [] });
    assert.deepEqual(capped.tokens, exact.tokens);
    assert.deepEqual(generate(m, [Array.from({ length: ctx }, () => 4)], { maxNewTokens: 5, eosTokenIds: [] }).tokens, [[]]);
  });
  it('sampling is reproducible for a seed and differs across seeds', () => {
    const a = generate(m, [[1, 2], [4]], { maxNewTokens: 12, temperature: 1.5, seed: 1, eosTokenIds: [] });
    const b = generate(m, [[1, 2], [4]], { maxNewTokens: 12, temperature: 1.5, seed: 1, eosTokenIds: [] });
    const c = generate(m, [[1, 2], [4]], { maxNewTokens: 12, temperature: 1.5, seed: 2, eosTokenIds: [] });
    assert.deepEqual(a.tokens, b.tokens);
    assert.notDeepEqual(a.tokens, c.tokens);
  });
  it('sampleToken follows the softmax and top-p keeps only the nucleus', () => {
    const logits = Float64Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
    const rng = new Rng(3);
    const counts = [0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, 0, 4, 1, 1, rng)]++;
    [0.5, 0.3, 0.15, 0.05].forEach((p, i) => assert.ok(Math.abs(counts[i] / n - p) < 0.015, `token ${i}: ${counts[i] / n} vs ${p}`));
    const nucleus = [0, 0, 0, 0];
    for (let i = 0; i < 5000; i++) nucleus[sampleToken(logits, 0, 4, 1, 0.75, rng)]++;
    assert.equal(nucleus[2] + nucleus[3], 0);
    assert.ok(Math.abs(nucleus[0] / 5000 - 0.625) < 0.03);
  });
});
