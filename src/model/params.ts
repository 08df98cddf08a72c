import { LeafError } from '../errors.js';
import type { FArray } from '../kernels/types.js';
import type { ModelConfig } from './config.js';
import { isBf16, type Weight } from './weights.js';

export interface ParamSpec {
  /** Hugging Face state-dict name, e.g. model.layers.0.self_attn.q_proj.weight. */
  name: string;
  shape: number[];
}

/** One layer's tensors: weight matrices float or bfloat16 (see weights.ts), norm weights and biases float. */
export interface LayerParams {
  ln1: FArray;
  wq: Weight; wk: Weight; wv: Weight; wo: Weight;
  bq: FArray | null; bk: FArray | null; bv: FArray | null; bo: FArray | null;
  ln2: FArray;
  wGate: Weight; wUp: Weight; wDown: Weight;
}

/** Every trainable tensor of the model, in state-dict order. lm_head.weight is absent when embeddings are tied. */
export function paramSpecs(c: ModelConfig): ParamSpec[] {
  const specs: ParamSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, c.hiddenSize] }];
  const q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim;
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    specs.push({ name: `${p}input_layernorm.weight`, shape: [c.hiddenSize] });
    specs.push({ name: `${p}self_attn.q_proj.weight`, shape: [q, c.hiddenSize] });
    if (c.qkvBias) specs.push({ name: `${p}self_attn.q_proj.bias`, shape: [q] });
    specs.push({ name: `${p}self_attn.k_proj.weight`, shape: [kv, c.hiddenSize] });
    if (c.qkvBias) specs.push({ name: `${p}self_attn.k_proj.bias`, shape: [kv] });
    specs.push({ name: `${p}self_attn.v_proj.weight`, shape: [kv, c.hiddenSize] });
    if (c.qkvBias) specs.push({ name: `${p}self_attn.v_proj.bias`, shape: [kv] });
    specs.push({ name: `${p}self_attn.o_proj.weight`, shape: [c.hiddenSize, q] });
    if (c.oBias) specs.push({ name: `${p}self_attn.o_proj.bias`, shape: [c.hiddenSize] });
    specs.push({ name: `${p}post_attention_layernorm.weight`, shape: [c.hiddenSize] });
    specs.push({ name: `${p}mlp.gate_proj.weight`, shape: [c.intermediateSize, c.hiddenSize] });
    specs.push({ name: `${p}mlp.up_proj.weight`, shape: [c.intermediateSize, c.hiddenSize] });
    specs.push({ name: `${p}mlp.down_proj.weight`, shape: [c.hiddenSize, c.intermediateSize] });
  }
  specs.push({ name: 'model.norm.weight', shape: [c.hiddenSize] });
  if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, c.hiddenSize] });
  return specs;
}

export { numel } from '../io/safetensors.js';

/** Named views onto a parameter map, per layer, for the forward and backward passes. */
export function layerParams(get: (name: string) => Weight, c: ModelConfig, l: number): LayerParams {
  const p = `model.layers.${l}.`;
  const float = (n: string): FArray => floatOnly(n, get(n));
  const opt = (n: string, on: boolean): FArray | null => (on ? float(p + n) : null);
  return {
    ln1: float(`${p}input_layernorm.weight`),
    wq: get(`${p}self_attn.q_proj.weight`),
    wk: get(`${p}self_attn.k_proj.weight`),
    wv: get(`${p}self_attn.v_proj.weight`),
    wo: get(`${p}self_attn.o_proj.weight`),
    bq: opt('self_attn.q_proj.bias', c.qkvBias),
    bk: opt('self_attn.k_proj.bias', c.qkvBias),
    bv: opt('self_attn.v_proj.bias', c.qkvBias),
    bo: opt('self_attn.o_proj.bias', c.oBias),
    ln2: float(`${p}post_attention_layernorm.weight`),
    wGate: get(`${p}mlp.gate_proj.weight`),
    wUp: get(`${p}mlp.up_proj.weight`),
    wDown: get(`${p}mlp.down_proj.weight`),
  };
}

/** A norm weight or bias: always float (a bf16 model keeps only its weight matrices in bfloat16). */
export function floatOnly(name: string, w: Weight): FArray {
  if (isBf16(w)) throw new LeafError(`parameter ${name} is bfloat16, but norm weights and biases must be float`);
  return w;
}
