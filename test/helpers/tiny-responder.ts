import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { getKernels } from '../../src/kernels/index.js';
import { zeroGrads } from '../../src/model/backward.js';
import { parseConfig } from '../../src/model/config.js';
import { generate } from '../../src/model/generate.js';
import { randomModel } from '../../src/model/random-init.js';
import { saveModel } from '../../src/model/save.js';
import { encodePrompt } from '../../src/model/text-generation.js';
import { LeafTokenizer } from '../../src/tokenizer/index.js';
import { AdamW } from '../../src/training/adamw.js';
import { BatchKdLoss } from '../../src/training/kd-batch.js';
import { microStep } from '../../src/training/micro-step.js';

/**
 * Writes DIR as a tiny Qwen2 model folder with the tokenizer files of `tokenizerDir`, trained with
 * leaf's own trainer (cross-entropy) so that greedy decoding answers each `prompt` (as a chat user
 * turn) with exactly its `response` followed by the EOS token. Different prompts may have different
 * responses (a teacher that is right on some problems, a student that is wrong before pruning and
 * right after).
 */
export function makeResponder(dir: string, tokenizerDir: string, pairs: ReadonlyArray<{ prompt: string; response: string }>, seed = 1): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokenizerDir, f), join(dir, f));
  const tok = LeafTokenizer.load(dir);
  const eos = tok.eosToken!.id;
  const config = parseConfig({
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: Math.max(64, tok.vocabSize), hidden_size: 48, intermediate_size: 96,
    num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, rope_theta: 10000, max_position_embeddings: 1024,
    tie_word_embeddings: true, eos_token_id: eos, rms_norm_eps: 1e-6,
  });
  const model = randomModel(config, getKernels(), Float32Array, { seed });
  const fake = { dir, model, tokenizer: tok, eosTokenIds: [eos] };
  const promptIds = pairs.map((p) => encodePrompt(fake, p.prompt, true));
  const answers = pairs.map((p) => [...tok.encode(p.response, { addSpecialTokens: false }).ids, eos]);
  const samples = promptIds.map((ids, i) => ({ ids: [...ids, ...answers[i]], responseStart: ids.length, weight: 1 }));
  const opt = new AdamW(model.params, { lr: 3e-3 });
  const ce = new BatchKdLoss(model.kernels, config.vocabSize, { kind: 'ce' });
  const all = samples.map((_, i) => i);
  const maxLen = Math.max(...answers.map((a) => a.length)) + 2;
  const matches = () => generate(model, promptIds, { maxNewTokens: maxLen, eosTokenIds: [eos] }).tokens.every((t, i) => t.length === answers[i].length && t.every((x, j) => x === answers[i][j]));
  for (let step = 0; step < 600; step++) {
    const grads = zeroGrads(model);
    microStep(model, samples, all, { kind: 'none' }, ce, grads, 1 / samples.length);
    opt.update(grads, 3e-3);
    if (step % 25 === 24 && matches()) {
      saveModel(model, dir, { companionsFrom: dir });
      return;
    }
  }
  throw new Error('tiny responder did not learn its responses in 600 steps');
}
