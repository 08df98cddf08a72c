import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsKernels } from '../../src/kernels/index.js';
import type { FArray } from '../../src/kernels/types.js';
import { backward, zeroGrads } from '../../src/model/backward.js';
import type { CausalLM } from '../../src/model/causal-lm.js';
import { meanCrossEntropy, shiftedTargets } from '../../src/model/loss.js';
import { randomModel } from '../../src/model/random-init.js';
import { Rng } from '../../src/util/rng.js';
import { TINY } from './tiny-configs.js';

// Float64 model on the TypeScript kernels; central differences with step 1e-5 have truncation error
// ~1e-10 relative, so analytic and numeric derivatives must agree to 1e-6 relative (or 1e-9 absolute).
const EPS = 1e-5;
const REL = 1e-6, ABS = 1e-9;

const B = 2, T = 7;
function batch(model: CausalLM, seed: number) {
  const rng = new Rng(seed);
  const V = model.config.vocabSize;
  const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
  const mask = new Uint8Array(B * T).fill(1);
  mask[T] = 0; mask[T + 1] = 0; // row 1 left-padded by two
  ids[T] = 0; ids[T + 1] = 0;
  return { ids, mask, targets: shiftedTargets(ids, mask, B, T) };
}

function lossOf(model: CausalLM, embeds: FArray, mask: Uint8Array, targets: Int32Array): number {
  const out = model.forward({ batch: B, seqLen: T, inputsEmbeds: embeds, attentionMask: mask });
  return meanCrossEntropy(model.kernels, out.logits!, targets, model.config.vocabSize, false).loss;
}

function close(analytic: number, numeric: number, what: string): void {
  const err = Math.abs(analytic - numeric);
  assert.ok(err <= ABS + REL * Math.max(Math.abs(analytic), Math.abs(numeric)), `${what}: analytic ${analytic} vs numeric ${numeric}`);
}

describe('backward pass equals finite differences (float64)', () => {
  for (const [label, make] of Object.entries(TINY)) {
    it(label, () => {
      const model = randomModel(make(), jsKernels, Float64Array, { seed: 7, std: 0.3, perturbAll: true });
      const { ids, mask, targets } = batch(model, 11);
      const embeds = model.embed(ids);
      const out = model.forward({ batch: B, seqLen: T, inputIds: ids, attentionMask: mask, saveForBackward: true });
      meanCrossEntropy(model.kernels, out.logits!, targets, model.config.vocabSize, true);
      const grads = zeroGrads(model);
      const dEmb = backward(model, out.tape!, out.logits!, { inputGrad: true, paramGrads: grads })!;

      // Directional derivative along a random direction of the input embeddings.
      const rng = new Rng(3);
      const u = Float64Array.from({ length: embeds.length }, () => rng.normal());
      for (let i = 0; i < u.length; i++) if (!mask[Math.floor(i / model.config.hiddenSize)]) u[i] = 0;
      const plus = Float64Array.from(embeds, (e, i) => e + EPS * u[i]);
      const minus = Float64Array.from(embeds, (e, i) => e - EPS * u[i]);
      const numeric = (lossOf(model, plus, mask, targets) - lossOf(model, minus, mask, targets)) / (2 * EPS);
      let analytic = 0;
      for (let i = 0; i < u.length; i++) analytic += dEmb[i] * u[i];
      close(analytic, numeric, 'inputs_embeds directional derivative');

      // Three entries of every parameter tensor (the loss re-embeds the ids, so the embedding table is covered too).
      for (const [name, p] of model.params) {
        for (let trial = 0; trial < 3; trial++) {
          const i = rng.int(p.length);
          const keep = p[i];
          p[i] = keep + EPS;
          const lp = lossOf(model, model.embed(ids), mask, targets);
          p[i] = keep - EPS;
          const lm = lossOf(model, model.embed(ids), mask, targets);
          p[i] = keep;
          close(grads.get(name)![i], (lp - lm) / (2 * EPS), `${name}[${i}]`);
        }
      }
    });
  }
});
