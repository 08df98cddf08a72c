import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import { LeafTokenizer, readJsonObject } from '../tokenizer/index.js';
import type { CausalLM } from './causal-lm.js';
import { loadModel, type LoadOptions } from './load.js';

/** A model folder loaded whole: weights, tokenizer, and the end-of-sequence ids generation stops on. */
export interface Pretrained {
  dir: string;
  model: CausalLM;
  tokenizer: LeafTokenizer;
  /** Union of config.json's, generation_config.json's and the tokenizer's EOS ids. */
  eosTokenIds: number[];
}

function ids(v: unknown): number[] {
  if (typeof v === 'number' && Number.isInteger(v)) return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number' && Number.isInteger(x));
  return [];
}

/** Loads config, weights and tokenizer of a Hugging Face model folder, and checks they fit together. */
export function loadPretrained(dir: string, options: LoadOptions = {}): Pretrained {
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new LeafError(`${join(dir, 'tokenizer.json')}: missing (leaf needs the model's tokenizer.json)`);
  const tokenizer = LeafTokenizer.load(dir);
  const model = loadModel(dir, options);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    throw new LeafError(`${dir}: tokenizer has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${model.config.vocabSize}`);
  }
  const eos = new Set<number>(model.config.eosTokenIds);
  const gen = join(dir, 'generation_config.json');
  if (existsSync(gen)) for (const id of ids(readJsonObject(gen).eos_token_id)) eos.add(id);
  if (tokenizer.eosToken) eos.add(tokenizer.eosToken.id);
  return { dir, model, tokenizer, eosTokenIds: [...eos].sort((a, b) => a - b) };
}

/** Whether two tokenizers map text to the same ids (same vocabulary and special tokens), for teacher/student pairs. */
export function sameTokenizer(a: LeafTokenizer, b: LeafTokenizer): boolean {
  if (a.vocabSize !== b.vocabSize) return false;
  const probe = 'Leaf probe: 12+7=19, naïve café — 数学 🙂\n\tdef f(x): return x**2';
  const ea = a.encode(probe, { addSpecialTokens: false }).ids, eb = b.encode(probe, { addSpecialTokens: false }).ids;
  if (ea.length !== eb.length || ea.some((v, i) => v !== eb[i])) return false;
  for (let id = 0; id < a.vocabSize; id++) if (a.idToToken(id) !== b.idToToken(id)) return false;
  return true;
}
