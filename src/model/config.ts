import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LeafError } from '../errors.js';

export type Architecture = 'LlamaForCausalLM' | 'Qwen2ForCausalLM' | 'MistralForCausalLM';

export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/** The validated, normalised model configuration leaf runs on. */
export interface ModelConfig {
  architecture: Architecture;
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: Llama3RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** Biases on q, k and v projections (Qwen2, or Llama with attention_bias). */
  qkvBias: boolean;
  /** Bias on the output projection (Llama with attention_bias). */
  oBias: boolean;
  /** Mistral's sliding window; leaf refuses to run sequences longer than it. */
  slidingWindow: number | null;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  /** The dtype stored on disk according to the config (informational). */
  torchDtype: string | null;
  /** The original JSON, kept so that saving writes back every field transformers knows. */
  raw: Record<string, unknown>;
}

const ARCH_TYPES: Record<Architecture, string> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  MistralForCausalLM: 'mistral',
};

type Json = Record<string, unknown>;

class Fields {
  constructor(private readonly raw: Json, private readonly file: string) {}

  fail(field: string, why: string): never {
    throw new LeafError(`${this.file}: field "${field}" ${why}`);
  }

  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }

  int(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(field, 'is missing');
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) this.fail(field, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A finite number > 0 (every float field leaf reads: rms_norm_eps, rope_theta). */
  positive(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(field, 'is missing');
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(field, `must be a finite number > 0, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.raw[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  optionalId(field: string): number | null {
    const v = this.raw[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(field, `must be a token id, got ${JSON.stringify(v)}`);
    return v;
  }

  ids(field: string): number[] {
    const v = this.raw[field];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    for (const x of list) if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) this.fail(field, `must be a token id or a list of them, got ${JSON.stringify(v)}`);
    return list as number[];
  }
}

function parseRopeScaling(f: Fields, raw: Json, maxPos: number): Llama3RopeScaling | null {
  const rs = raw.rope_scaling;
  if (rs === undefined || rs === null) return null;
  if (typeof rs !== 'object' || Array.isArray(rs)) f.fail('rope_scaling', 'must be an object or null');
  const r = rs as Json;
  const type = r.rope_type ?? r.type;
  if (type === 'default') return null;
  if (type !== 'llama3') {
    f.fail('rope_scaling.rope_type', `is ${JSON.stringify(type)}; leaf implements only "default" and "llama3"`);
  }
  const known = new Set(['rope_type', 'type', 'factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings']);
  for (const key of Object.keys(r)) if (!known.has(key)) f.fail(`rope_scaling.${key}`, 'is not implemented by leaf for rope type "llama3"');
  const need = (k: string): number => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) f.fail(`rope_scaling.${k}`, `must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  const out: Llama3RopeScaling = {
    type: 'llama3',
    factor: need('factor'),
    lowFreqFactor: need('low_freq_factor'),
    highFreqFactor: need('high_freq_factor'),
    originalMaxPositionEmbeddings: r.original_max_position_embeddings === undefined ? maxPos : need('original_max_position_embeddings'),
  };
  if (out.highFreqFactor === out.lowFreqFactor) f.fail('rope_scaling.high_freq_factor', 'must differ from low_freq_factor');
  return out;
}

/** Validates a parsed config.json; `file` names it in errors. */
export function parseConfig(raw: unknown, file = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new LeafError(`${file}: not a JSON object`);
  const json = raw as Json;
  const f: Fields = new Fields(json, file);
  const archs = json.architectures;
  let architecture: Architecture | undefined;
  if (Array.isArray(archs) && archs.length > 0) {
    const found = archs.find((a): a is Architecture => typeof a === 'string' && a in ARCH_TYPES);
    if (!found) f.fail('architectures', `is ${JSON.stringify(archs)}; leaf supports ${Object.keys(ARCH_TYPES).join(', ')}`);
    architecture = found;
  } else {
    const mt = json.model_type;
    architecture = (Object.keys(ARCH_TYPES) as Architecture[]).find((a) => ARCH_TYPES[a] === mt);
    if (!architecture) f.fail('architectures', `is missing and model_type ${JSON.stringify(mt)} is not one of llama, qwen2, mistral`);
  }
  const modelType = typeof json.model_type === 'string' ? json.model_type : ARCH_TYPES[architecture];
  if (modelType !== ARCH_TYPES[architecture]) f.fail('model_type', `is ${JSON.stringify(modelType)} but architectures says ${architecture}`);

  const act = json.hidden_act ?? json.hidden_activation ?? 'silu';
  if (act !== 'silu') f.fail('hidden_act', `is ${JSON.stringify(act)}; leaf implements only "silu"`);
  if (f.bool('mlp_bias', false)) f.fail('mlp_bias', 'is true; leaf does not implement MLP biases');
  const dropout = json.attention_dropout;
  if (typeof dropout === 'number' && dropout !== 0) f.fail('attention_dropout', `is ${dropout}; leaf implements no dropout`);
  const tp = json.pretraining_tp;
  if (tp !== undefined && tp !== null && tp !== 1 && architecture !== 'LlamaForCausalLM') f.fail('pretraining_tp', 'must be 1');

  const hiddenSize = f.int('hidden_size');
  const numHeads = f.int('num_attention_heads');
  const numKvHeads = f.int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) f.fail('num_key_value_heads', `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  const headDim = f.int('head_dim', Math.floor(hiddenSize / numHeads));
  if (!f.has('head_dim') && hiddenSize % numHeads !== 0) f.fail('hidden_size', `(${hiddenSize}) is not divisible by num_attention_heads (${numHeads})`);
  if (headDim % 2 !== 0) f.fail('head_dim', `(${headDim}) must be even for rotary embeddings`);
  const maxPositionEmbeddings = f.int('max_position_embeddings', 2048);
  const partial = json.partial_rotary_factor;
  if (partial !== undefined && partial !== null && partial !== 1) f.fail('partial_rotary_factor', 'is not implemented by leaf');

  let qkvBias = false, oBias = false, slidingWindow: number | null = null;
  if (architecture === 'Qwen2ForCausalLM') {
    qkvBias = true;
    if (f.bool('use_sliding_window', false)) f.fail('use_sliding_window', 'is true; leaf does not implement sliding-window attention');
  } else {
    const bias = f.bool('attention_bias', false);
    qkvBias = bias;
    oBias = bias;
    if (architecture === 'MistralForCausalLM' && f.has('sliding_window')) slidingWindow = f.int('sliding_window');
  }

  const eos = f.ids('eos_token_id');
  return {
    architecture,
    modelType,
    vocabSize: f.int('vocab_size'),
    hiddenSize,
    intermediateSize: f.int('intermediate_size'),
    numLayers: f.int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: f.positive('rms_norm_eps', 1e-6),
    ropeTheta: f.positive('rope_theta', 10000),
    ropeScaling: parseRopeScaling(f, json, maxPositionEmbeddings),
    maxPositionEmbeddings,
    tieWordEmbeddings: f.bool('tie_word_embeddings', false),
    qkvBias,
    oBias,
    slidingWindow,
    bosTokenId: f.optionalId('bos_token_id'),
    eosTokenIds: eos,
    padTokenId: f.optionalId('pad_token_id'),
    torchDtype: typeof json.torch_dtype === 'string' ? json.torch_dtype : typeof json.dtype === 'string' ? json.dtype : null,
    raw: json,
  };
}

/** Reads and validates DIR/config.json. */
export function loadConfig(dir: string): ModelConfig {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LeafError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LeafError(`${file}: invalid JSON (${(e as Error).message})`);
  }
  return parseConfig(json, file);
}
