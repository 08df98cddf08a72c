import { parseConfig, type ModelConfig } from '../../src/model/config.js';

/** Tiny configurations covering every architecture feature leaf implements. */
export const TINY: Record<string, () => ModelConfig> = {
  'llama-gqa-untied-bias': () => parseConfig({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 23, hidden_size: 16, intermediate_size: 24,
    num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000,
    tie_word_embeddings: false, attention_bias: true, eos_token_id: 2,
  }),
  'qwen2-tied': () => parseConfig({
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 19, hidden_size: 12, intermediate_size: 20,
    num_hidden_layers: 2, num_attention_heads: 3, num_key_value_heads: 1, rms_norm_eps: 1e-6, rope_theta: 1e6,
    tie_word_embeddings: true, eos_token_id: 2,
  }),
  'llama3-rope': () => parseConfig({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 17, hidden_size: 16, intermediate_size: 16,
    num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 500000,
    max_position_embeddings: 64, tie_word_embeddings: true, eos_token_id: 2,
    rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 4 },
  }),
  'mistral': () => parseConfig({
    architectures: ['MistralForCausalLM'], model_type: 'mistral', vocab_size: 21, hidden_size: 16, intermediate_size: 32,
    num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 8, rms_norm_eps: 1e-5,
    rope_theta: 10000, sliding_window: null, tie_word_embeddings: false, eos_token_id: 2,
  }),
};
