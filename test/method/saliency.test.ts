import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FArray } from '../../src/kernels/types.js';
import { inputSaliency, sequenceLosses } from '../../src/method/saliency.js';
import { encodeUnit } from '../../src/method/units.js';
import type { CausalLM } from '../../src/model/causal-lm.js';
import { tinyPretrained } from '../helpers/tiny-mining.js';

// Float64 model on the TypeScript kernels: central differences with step 1e-5 agree with the
// analytic gradient to ~1e-10 relative; we ask 1e-6 relative (+ 1e-9 absolute) per norm.
const EPS = 1e-5, REL = 1e-6, ABS = 1e-9;

/** Mean next-token cross-entropy at `lossPositions`, computed here by hand from all logits (float64). */
function lossOf(model: CausalLM, embeds: FArray, ids: readonly number[], lossPositions: readonly number[]): number {
  const T = ids.length, V = model.config.vocabSize;
  const out = model.forward({ batch: 1, seqLen: T, inputsEmbeds: embeds });
  const z = out.logits!;
  let sum = 0;
  for (const t of lossPositions) {
    const o = (t - 1) * V;
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, z[o + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(z[o + v] - mx);
    sum += mx + Math.log(s) - z[o + ids[t]];
  }
  return sum / lossPositions.length;
}

describe('gradient saliency', () => {
  const p = tinyPretrained('qwen2-bytelevel', 3);
  const prompt = 'Tom has 3 apples 🍎, buys 4.';
  const response = 'So \\boxed{7}.';

  it('restricts the score to the prompt and the loss to the response + end of turn, by character spans', () => {
    const enc = encodeUnit(p, prompt, response, { level: 'instruction' });
    const full = p.tokenizer.encodeChat([{ role: 'user', content: prompt }, { role: 'assistant', content: response }]);
    assert.deepEqual(enc.ids, full.ids);
    // Located independently: the prompt after "user\n", the response after "assistant\n", then "<|im_end|>".
    const u0 = full.text.indexOf(prompt, full.text.indexOf('<|im_start|>user\n'));
    const r0 = full.text.indexOf(response, full.text.indexOf('<|im_start|>assistant\n'));
    const r1 = r0 + response.length + '<|im_end|>'.length;
    assert.equal(full.text.slice(r0 + response.length, r1), '<|im_end|>');
    const overlapping = (a: number, b: number) => full.offsets.map(([s, e], i) => ((s < b && e > a) || (s === e && a <= s && s < b) ? i : -1)).filter((i) => i >= 0);
    assert.deepEqual(enc.positions, overlapping(u0, u0 + prompt.length));
    assert.deepEqual(enc.lossPositions, overlapping(r0, r1));
    assert.equal(enc.tokens.map((t) => t.text).join(''), prompt);
    assert.equal(enc.text, prompt);
    // Response level: segment 2 = "{7}." after "So \boxed"; scored = the response before it; no end-of-turn.
    const seg = response.indexOf('{');
    const r = encodeUnit(p, prompt, response, { level: 'response', segStart: seg, segEnd: response.length, last: false });
    assert.equal(r.text, 'So \\boxed');
    assert.deepEqual(r.positions, overlapping(r0, r0 + seg));
    assert.deepEqual(r.lossPositions, overlapping(r0 + seg, r0 + response.length));
    const last = encodeUnit(p, prompt, response, { level: 'response', segStart: seg, segEnd: response.length, last: true });
    assert.deepEqual(last.lossPositions, overlapping(r0 + seg, r1));
  });

  it('per-token scores equal the norms of central finite differences of the loss w.r.t. the embeddings', () => {
    const enc = encodeUnit(p, prompt, response, { level: 'instruction' });
    const res = inputSaliency(p.model, enc.ids, enc.positions, enc.lossPositions, true);
    const embeds = p.model.embed(Int32Array.from(enc.ids));
    const base = lossOf(p.model, embeds, enc.ids, enc.lossPositions);
    assert.ok(Math.abs(res.loss - base) <= 1e-12 * Math.abs(base), `loss ${res.loss} vs ${base}`);
    const hid = p.model.config.hiddenSize;
    enc.positions.forEach((t, i) => {
      let sq = 0;
      for (let d = 0; d < hid; d++) {
        const j = t * hid + d, keep = embeds[j];
        embeds[j] = keep + EPS;
        const lp = lossOf(p.model, embeds, enc.ids, enc.lossPositions);
        embeds[j] = keep - EPS;
        const lm = lossOf(p.model, embeds, enc.ids, enc.lossPositions);
        embeds[j] = keep;
        sq += ((lp - lm) / (2 * EPS)) ** 2;
      }
      const numeric = Math.sqrt(sq);
      assert.ok(numeric > 0);
      assert.ok(Math.abs(res.norms[i] - numeric) <= ABS + REL * numeric, `token ${i}: ${res.norms[i]} vs ${numeric}`);
    });
    // Surprisal of the prompt tokens: −log p(token | prefix) from the same forward.
    const V = p.model.config.vocabSize;
    const z = p.model.forward({ batch: 1, seqLen: enc.ids.length, inputsEmbeds: embeds }).logits!;
    enc.positions.forEach((t, i) => {
      const o = (t - 1) * V;
      let mx = -Infinity;
      for (let v = 0; v < V; v++) mx = Math.max(mx, z[o + v]);
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(z[o + v] - mx);
      const want = mx + Math.log(s) - z[o + enc.ids[t]];
      assert.ok(Math.abs(res.surprisal![i] - want) < 1e-10, `surprisal ${i}`);
    });
  });

  it('batched forward-only losses equal the one-sequence losses', () => {
    const a = encodeUnit(p, prompt, response, { level: 'instruction' });
    const b = encodeUnit(p, 'Short one?', 'No.', { level: 'instruction' });
    const c = encodeUnit(p, prompt.replace('🍎', ''), response, { level: 'instruction' });
    const got = sequenceLosses(p.model, [a, b, c], 2);
    [a, b, c].forEach((s, i) => {
      const want = lossOf(p.model, p.model.embed(Int32Array.from(s.ids)), s.ids, s.lossPositions);
      assert.ok(Math.abs(got[i] - want) < 1e-10, `sequence ${i}: ${got[i]} vs ${want}`);
    });
  });

  it('refuses a unit without loss tokens', () => {
    assert.throws(() => inputSaliency(p.model, [1, 2, 3], [0, 1], []), /no tokens to take the loss on/);
  });
});
