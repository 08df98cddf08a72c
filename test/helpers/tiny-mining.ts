import { join } from 'node:path';
import { jsKernels } from '../../src/kernels/index.js';
import type { Kernels } from '../../src/kernels/types.js';
import { parseConfig } from '../../src/model/config.js';
import type { FloatArrayType } from '../../src/model/causal-lm.js';
import type { Pretrained } from '../../src/model/pretrained.js';
import { randomModel } from '../../src/model/random-init.js';
import { LeafTokenizer } from '../../src/tokenizer/index.js';
import { repoRoot } from './paths.js';

export const tokenizerDir = (name: string) => join(repoRoot, 'test', 'fixtures', 'tokenizers', name);

/** A tiny random Qwen2 model (vocab 400, hidden 16) paired with a fixture tokenizer, as a Pretrained. */
export function tinyPretrained(tokenizer: string, seed: number, opts: { kernels?: Kernels; floatType?: FloatArrayType; layers?: number } = {}): Pretrained {
  const tok = LeafTokenizer.load(tokenizerDir(tokenizer));
  const eos = tok.eosToken!.id;
  const config = parseConfig({
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 400, hidden_size: 16, intermediate_size: 24,
    num_hidden_layers: opts.layers ?? 2, num_attention_heads: 4, num_key_value_heads: 2, rope_theta: 10000, max_position_embeddings: 512,
    tie_word_embeddings: true, eos_token_id: eos, rms_norm_eps: 1e-6,
  });
  const model = randomModel(config, opts.kernels ?? jsKernels, opts.floatType ?? Float64Array, { seed, std: 0.3, perturbAll: true });
  return { dir: `tiny-${tokenizer}-${seed}`, model, tokenizer: tok, eosTokenIds: [eos] };
}
