import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsKernels } from '../../src/kernels/index.js';
import { zeroGrads } from '../../src/model/backward.js';
import { parseConfig } from '../../src/model/config.js';
import { randomModel } from '../../src/model/random-init.js';
import { AdamW } from '../../src/training/adamw.js';
import { lengthGroupedMicroBatches, packBatch, type TokenizedSample } from '../../src/training/batch.js';
import { BatchKdLoss } from '../../src/training/kd-batch.js';
import { microStep } from '../../src/training/micro-step.js';
import { Rng } from '../../src/util/rng.js';

const cfg = (layers: number, hidden: number) => parseConfig({
  architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 24, hidden_size: hidden, intermediate_size: 2 * hidden,
  num_hidden_layers: layers, num_attention_heads: 2, num_key_value_heads: 1, tie_word_embeddings: true,
});

describe('packBatch', () => {
  it('left-pads, supervises response tokens only, weights each sample as a token mean', () => {
    const s: TokenizedSample[] = [{ ids: [5, 6, 7, 8], responseStart: 2, weight: 1 }, { ids: [9, 10, 11], responseStart: 1, weight: 0.5 }];
    const b = packBatch(s);
    assert.equal(b.seqLen, 4);
    assert.deepEqual(Array.from(b.inputIds), [5, 6, 7, 8, 0, 9, 10, 11]);
    assert.deepEqual(Array.from(b.attentionMask), [1, 1, 1, 1, 0, 1, 1, 1]);
    assert.deepEqual(Array.from(b.logitRows), [1, 2, 5, 6]);
    assert.deepEqual(Array.from(b.targets), [7, 8, 10, 11]);
    assert.deepEqual(Array.from(b.rowWeights), [0.5, 0.5, 0.25, 0.25]);
    assert.throws(() => packBatch([{ ids: [1, 2], responseStart: 2, weight: 1 }]), /no response token/);
  });
  it('length grouping keeps every sample once', () => {
    const lengths = [5, 9, 2, 7, 3, 8, 1];
    const order = new Rng(1).shuffle([0, 1, 2, 3, 4, 5, 6]);
    const mb = lengthGroupedMicroBatches(lengths, order, 2, 2);
    assert.deepEqual(mb.flat().sort(), [0, 1, 2, 3, 4, 5, 6]);
    for (const b of mb) if (b.length === 2) assert.ok(lengths[b[0]] >= lengths[b[1]]);
  });
});

describe('the distillation micro-step', () => {
  it('forward-KL distillation drives the student towards the teacher', () => {
    const teacher = randomModel(cfg(2, 16), jsKernels, Float32Array, { seed: 1, std: 0.4 });
    const student = randomModel(cfg(1, 16), jsKernels, Float32Array, { seed: 2, std: 0.1 });
    const rng = new Rng(5);
    const samples: TokenizedSample[] = Array.from({ length: 4 }, () => {
      const n = 6 + rng.int(4);
      return { ids: Array.from({ length: n }, () => rng.int(24)), responseStart: 3, weight: 1 };
    });
    const opt = new AdamW(student.params, { lr: 0.01 });
    const fkl = new BatchKdLoss(student.kernels, 24, { kind: 'fkl' });
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      const grads = zeroGrads(student);
      let sum = 0;
      for (const mb of [[0, 1], [2, 3]]) sum += microStep(student, samples, mb, { kind: 'online', model: teacher }, fkl, grads, 1 / samples.length).objective;
      losses.push(sum);
      opt.update(grads, 0.01);
    }
    assert.ok(losses[39] < 0.5 * losses[0], `KD loss ${losses[0]} → ${losses[39]}`);
  });
});
