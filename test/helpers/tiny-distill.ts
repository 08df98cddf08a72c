/**
 * Tiny model folders and data for the distillation tests: random Qwen2 models with the qwen2-bytelevel
 * tokenizer fixture (ChatML template), and a few arithmetic-flavoured train / counterfactual records.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kernels } from '../../src/kernels/types.js';
import { getKernels } from '../../src/kernels/index.js';
import type { FloatArrayType } from '../../src/model/causal-lm.js';
import { parseConfig } from '../../src/model/config.js';
import { loadPretrained, type Pretrained } from '../../src/model/pretrained.js';
import { randomModel } from '../../src/model/random-init.js';
import { saveModel } from '../../src/model/save.js';
import { repoRoot } from './paths.js';

export const QWEN_TOKENIZER = join(repoRoot, 'test', 'fixtures', 'tokenizers', 'qwen2-bytelevel');
export const LLAMA_TOKENIZER = join(repoRoot, 'test', 'fixtures', 'tokenizers', 'llama3-bytelevel');

export interface TinyModelSpec {
  hidden?: number;
  layers?: number;
  vocab?: number;
  seed?: number;
  std?: number;
  tokenizer?: string;
  /** Tied input/output embeddings (default true). */
  tied?: boolean;
}

/** Writes a random tiny Qwen2 model folder (config, weights, tokenizer files) and returns its path. */
export function writeTinyModel(dir: string, spec: TinyModelSpec = {}): string {
  mkdirSync(dir, { recursive: true });
  const tokDir = spec.tokenizer ?? QWEN_TOKENIZER;
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokDir, f), join(dir, f));
  const hidden = spec.hidden ?? 32;
  const config = parseConfig({
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: spec.vocab ?? 400, hidden_size: hidden,
    intermediate_size: 2 * hidden, num_hidden_layers: spec.layers ?? 1, num_attention_heads: 4, num_key_value_heads: 2,
    rope_theta: 10000, max_position_embeddings: 4096, tie_word_embeddings: spec.tied ?? true, rms_norm_eps: 1e-6,
  });
  saveModel(randomModel(config, getKernels(), Float32Array, { seed: spec.seed ?? 1, std: spec.std ?? 0.1 }), dir, { companionsFrom: dir });
  return dir;
}

/** Loads a tiny model folder, optionally on other kernels / in float64. */
export function loadTiny(dir: string, kernels?: Kernels, floatType?: FloatArrayType): Pretrained {
  return loadPretrained(dir, { kernels, floatType });
}

export const TRAIN_RECORDS = [
  { id: 'p1', prompt: 'What is 2 + 3?', response: 'Two plus three is 5. The answer is 5.', answer: '5' },
  { id: 'p2', prompt: 'Tom has 4 apples and buys 2 more. How many?', response: 'He has 4 + 2 = 6 apples.', answer: '6' },
  { id: 'p3', prompt: 'What is 7 minus 4?', response: '7 - 4 = 3', answer: '3' },
  { id: 'p4', prompt: 'Anna reads 3 pages a day for 2 days.', response: 'She reads 3 * 2 = 6 pages.', answer: '6' },
  { id: 'p5', prompt: 'A box holds 5 pens; two boxes?', response: 'Two boxes hold 10 pens.', answer: '10' },
  { id: 'p6', prompt: 'Compute 9 - 1.', response: 'The result is 8.', answer: '8' },
];

export const CF_RECORDS = [
  {
    id: 'p2/instruction/gradient/span-0', source_id: 'p2', level: 'instruction', method: 'gradient', pruning: 'span', segment: null,
    prompt: 'Tom has 4 apples and buys 2. How many?', original_prompt: TRAIN_RECORDS[1].prompt, response_prefix: null,
    response: TRAIN_RECORDS[1].response, removed: [{ text: ' more', start: 30, end: 35 }], verified: true, teacher: null, student: null,
  },
  {
    id: 'p4/response/gradient/span-0', source_id: 'p4', level: 'response', method: 'gradient', pruning: 'span', segment: 2,
    prompt: TRAIN_RECORDS[3].prompt, original_prompt: TRAIN_RECORDS[3].prompt, response_prefix: 'She reads 3 * 2',
    response: ' = 6 pages.', removed: [], verified: null, teacher: null, student: null,
  },
  {
    id: 'p1/instruction/gradient/span-0', source_id: 'p1', level: 'instruction', method: 'gradient', pruning: 'span', segment: null,
    prompt: 'What is 2 3?', original_prompt: TRAIN_RECORDS[0].prompt, response_prefix: null,
    response: TRAIN_RECORDS[0].response, removed: [], verified: false, teacher: null, student: null,
  },
];

export function writeJsonl(file: string, records: readonly unknown[]): string {
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

/** softmax(x[r, :] / T) of row r of a [rows · V] logits array, in float64 (for reference re-computations). */
export function softmaxRow(x: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, r: number, V: number, T: number): number[] {
  const row = Array.from(x.subarray(r * V, (r + 1) * V), (a) => a / T);
  const mx = Math.max(...row);
  const e = row.map((a) => Math.exp(a - mx));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((a) => a / sum);
}
