import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { makeResponder } from './tiny-responder.js';

const TOKENIZER = join(repoRoot, 'test', 'fixtures', 'tokenizers', 'qwen2-bytelevel');

/**
 * Writes DIR as a tiny Qwen2 model folder (byte-level BPE tokenizer with a ChatML template) trained with
 * leaf's own trainer (cross-entropy) to answer every one of `prompts`, as a chat user turn, with exactly
 * `response` followed by <|im_end|>. Returns once greedy decoding reproduces the response for all prompts.
 */
export function makeConstantResponder(dir: string, prompts: readonly string[], response: string, seed = 1): void {
  makeResponder(dir, TOKENIZER, prompts.map((prompt) => ({ prompt, response })), seed);
}
