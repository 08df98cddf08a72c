/**
 * Tiny Llama-architecture models for the demo, trained from scratch with leaf's own training pieces
 * (cross-entropy on the assistant turn through the trainer's micro-step, AdamW, cosine schedule), with a word-level
 * tokenizer over the benchmark's closed vocabulary and a ChatML template written by leaf.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readStamp, removeStamp, writeStamp } from '../data/run-stamp.js';
import { LeafError } from '../errors.js';
import { getKernels } from '../kernels/index.js';
import type { Kernels } from '../kernels/types.js';
import { zeroGrads } from '../model/backward.js';
import type { CausalLM } from '../model/causal-lm.js';
import { parseConfig } from '../model/config.js';
import { randomModel } from '../model/random-init.js';
import { saveModel } from '../model/save.js';
import { writeWordLevelTokenizer } from '../tokenizer/build-word-level.js';
import { LeafTokenizer } from '../tokenizer/index.js';
import { AdamW, clipGradNorm } from '../training/adamw.js';
import type { TokenizedSample } from '../training/batch.js';
import { BatchKdLoss } from '../training/kd-batch.js';
import { microStep } from '../training/micro-step.js';
import { cosineWithWarmup } from '../training/schedule.js';
import type { Progress } from '../util/progress.js';
import { arithVocabulary } from './arith/vocabulary.js';

/** Shape of a tiny model. */
export interface TinyArch {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
}

/** Writes the benchmark's word-level tokenizer (tokenizer.json, tokenizer_config.json with the chat template) into `dir`. */
export function writeArithTokenizer(dir: string): LeafTokenizer {
  writeWordLevelTokenizer(dir, { words: arithVocabulary(), modelMaxLength: 512 });
  return LeafTokenizer.load(dir);
}

/** A freshly initialised Llama model for `tokenizer` (tied embeddings, EOS = the end-of-turn token). */
export function createTinyLlama(tokenizer: LeafTokenizer, arch: TinyArch, seed: number, kernels: Kernels = getKernels()): CausalLM {
  const eos = tokenizer.eosToken;
  if (!eos) throw new LeafError(`${tokenizer.source}: the tokenizer has no EOS token`);
  if (arch.hidden % arch.heads !== 0) throw new LeafError(`tiny model: hidden ${arch.hidden} is not a multiple of heads ${arch.heads}`);
  const config = parseConfig({
    architectures: ['LlamaForCausalLM'], model_type: 'llama',
    vocab_size: Math.ceil(tokenizer.vocabSize / 8) * 8,
    hidden_size: arch.hidden, intermediate_size: arch.intermediate, num_hidden_layers: arch.layers,
    num_attention_heads: arch.heads, num_key_value_heads: arch.kvHeads, head_dim: arch.hidden / arch.heads,
    rope_theta: 10000, max_position_embeddings: 512, rms_norm_eps: 1e-5, tie_word_embeddings: true,
    hidden_act: 'silu', attention_bias: false, mlp_bias: false,
    bos_token_id: null, eos_token_id: eos.id, pad_token_id: tokenizer.padToken?.id ?? null, torch_dtype: 'float32',
  });
  return randomModel(config, kernels, Float32Array, { seed, std: 0.02 });
}

/**
 * A chat training sample: user turn = prompt, assistant turn = response; the supervised tokens are the
 * assistant content tokens and the template's end-of-turn token after them (found by char spans).
 */
export function chatSample(tokenizer: LeafTokenizer, prompt: string, response: string, weight = 1): TokenizedSample {
  const enc = tokenizer.encodeChat([{ role: 'user', content: prompt }, { role: 'assistant', content: response }]);
  const r = enc.contentTokens[1].inside;
  if (r.end <= r.start) throw new LeafError('chat sample: empty response');
  const end = r.end + 1; // the end-of-turn token right after the content
  if (end > enc.ids.length || !tokenizer.specialIds.has(enc.ids[r.end])) {
    throw new LeafError('chat sample: the chat template puts no special end-of-turn token after the assistant content');
  }
  return { ids: enc.ids.slice(0, end), responseStart: r.start, weight };
}

export interface CeTrainOptions {
  steps: number;
  lr: number;
  warmup: number;
  weightDecay?: number;
  /** Global gradient-norm clip (default 1). */
  clip?: number;
}

/** After each optimizer step: steps done of all, the step's loss and learning rate, seconds since the start. */
export type CeStepInfo = Progress<'train', { loss: number; lr: number; seconds: number }>;

/**
 * Trains `model` with token-mean cross-entropy on the response tokens of `batchAt(step)` for
 * `options.steps` optimizer steps (one micro-batch per step), AdamW with a cosine schedule.
 */
export function trainCe(
  model: CausalLM, batchAt: (step: number) => TokenizedSample[], options: CeTrainOptions,
  onStep?: (info: CeStepInfo) => void,
): CeStepInfo[] {
  const opt = new AdamW(model.params, { lr: options.lr, weightDecay: options.weightDecay ?? 0 });
  const ce = new BatchKdLoss(model.kernels, model.config.vocabSize, { kind: 'ce' }, model.floatType);
  const started = Date.now();
  const log: CeStepInfo[] = [];
  for (let step = 0; step < options.steps; step++) {
    const samples = batchAt(step);
    const grads = zeroGrads(model);
    const r = microStep(model, samples, samples.map((_, i) => i), { kind: 'none' }, ce, grads, 1 / samples.length);
    clipGradNorm(grads, options.clip ?? 1);
    const lr = cosineWithWarmup(step, options.steps, options.warmup, options.lr);
    opt.update(grads, lr);
    const info: CeStepInfo = { phase: 'train', done: step + 1, total: options.steps, loss: r.objective, lr, seconds: (Date.now() - started) / 1000 };
    log.push(info);
    onStep?.(info);
  }
  return log;
}

const RECIPE_FILE = 'leaf-recipe.json';

/** Saves a trained tiny model as a Hugging Face folder with its tokenizer, stamped with its recipe (leaf-recipe.json, data/run-stamp.ts) for reuse. */
export function saveTinyModel(model: CausalLM, dir: string, tokenizerDir: string, recipe: unknown): void {
  mkdirSync(dir, { recursive: true });
  removeStamp(join(dir, RECIPE_FILE)); // a save killed half-way leaves no stamp for the old recipe over new weights
  saveModel(model, dir, { companionsFrom: tokenizerDir });
  writeStamp(join(dir, RECIPE_FILE), recipe);
}

/** Whether `dir` holds a model saved by {@link saveTinyModel} with exactly this recipe (an unreadable stamp: no). */
export function hasTinyModel(dir: string, recipe: unknown): boolean {
  return readStamp(join(dir, RECIPE_FILE), recipe, { requires: ['model.safetensors'] }) !== null;
}
