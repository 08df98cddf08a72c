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
import { packBatch } from '../../src/training/batch.js';
import { distillMicroStep } from '../../src/training/distill-step.js';
import { repoRoot } from './paths.js';

const TOKENIZER = join(repoRoot, 'test', 'fixtures', 'tokenizers', 'qwen2-bytelevel');

/**
 * Writes DIR as a tiny Qwen2 model folder (byte-level BPE tokenizer with a ChatML template) trained with
 * leaf's own trainer (cross-entropy) to answer every one of `prompts`, as a chat user turn, with exactly
 * `response` followed by <|im_end|>. Returns once greedy decoding reproduces the response for all prompts.
 */
export function makeConstantResponder(dir: string, prompts: readonly string[], response: string, seed = 1): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(TOKENIZER, f), join(dir, f));
  const tok = LeafTokenizer.load(dir);
  const eos = tok.eosToken?.id ?? tok.tokenToId('<|im_end|>')!;
  const config = parseConfig({
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 400, hidden_size: 48, intermediate_size: 96,
    num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, rope_theta: 10000, max_position_embeddings: 4096,
    tie_word_embeddings: true, eos_token_id: eos, rms_norm_eps: 1e-6,
  });
  const model = randomModel(config, getKernels(), Float32Array, { seed });
  const fake = { dir, model, tokenizer: tok, eosTokenIds: [eos] };
  const answer = [...tok.encode(response, { addSpecialTokens: false }).ids, eos];
  const promptIds = prompts.map((p) => encodePrompt(fake, p, true));
  const samples = promptIds.map((ids) => ({ ids: [...ids, ...answer], responseStart: ids.length, weight: 1 }));
  const opt = new AdamW(model.params, { lr: 3e-3 });
  const matches = () => generate(model, promptIds, { maxNewTokens: answer.length + 2, eosTokenIds: [eos] }).tokens.every((t) => t.length === answer.length && t.every((x, i) => x === answer[i]));
  for (let step = 0; step < 400; step++) {
    const grads = zeroGrads(model);
    distillMicroStep(model, null, packBatch(samples), grads, { kind: 'ce' }, 1 / samples.length);
    opt.update(grads, 3e-3);
    if (step % 25 === 24 && matches()) {
      saveModel(model, dir, { companionsFrom: dir });
      return;
    }
  }
  throw new Error('tiny responder did not learn its response in 400 steps');
}
