/**
 * Builds a word-level tokenizer (tokenizer.json + tokenizer_config.json) from a vocabulary list,
 * so that tiny demo models get real tokenizer files that transformers and leaf both load.
 *
 * - Model: WordLevel; the special tokens take the first ids, then the words in the order given.
 * - Pre-tokenizer: split on whitespace (dropped), then each piece into runs of letters (with
 *   their combining marks), single digits, and single other characters (punctuation, symbols).
 *   So "x=12," is `x`, `=`, `1`, `2`, `,`. Every vocabulary word must be one such piece.
 * - Optional Lowercase normalizer (then words must be lowercase).
 * - No decoder: decoding joins tokens with spaces, and clean_up_tokenization_spaces is on
 *   (" ." → ".", " ," → ",", …), as transformers does for such tokenizers.
 * - Chat template: ChatML-like ({@link WORD_LEVEL_CHAT_TEMPLATE}) unless another is given; the role
 *   words `system`, `user`, `assistant` are added to the vocabulary when missing.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';

/** The Split pattern of the pre-tokenizer (Oniguruma syntax, also valid in JavaScript with `u`). */
export const WORD_LEVEL_PIECE_PATTERN = '[\\p{L}\\p{M}]+|\\p{N}|[^\\p{L}\\p{M}\\p{N}]';

/** The default chat template: ChatML turns, no default system message. */
export const WORD_LEVEL_CHAT_TEMPLATE =
  "{%- for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}";

export interface WordLevelSpec {
  /** The words, in id order after the special tokens. */
  words: readonly string[];
  /** Unknown-word token (default `<unk>`). */
  unkToken?: string;
  /** Padding token (default `<pad>`). */
  padToken?: string;
  /** End-of-sequence token (default `<|im_end|>`, the end of a chat turn). */
  eosToken?: string;
  /** Beginning-of-sequence token (default none; the tokenizer then adds no BOS). */
  bosToken?: string | null;
  /** Further special tokens (default `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`). */
  extraSpecialTokens?: readonly string[];
  /** Lowercase the text before splitting (default false). */
  lowercase?: boolean;
  /** Chat template (default {@link WORD_LEVEL_CHAT_TEMPLATE}; null for none). */
  chatTemplate?: string | null;
  /** model_max_length of the config (default 2048). */
  modelMaxLength?: number;
}

/** The two files, as JSON objects. */
export interface WordLevelTokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

const PIECE = new RegExp(WORD_LEVEL_PIECE_PATTERN, 'gu');

/** How the built pre-tokenizer splits a text (whitespace dropped). */
export function wordLevelPieces(text: string): string[] {
  const out: string[] = [];
  for (const chunk of text.split(/\s+/u)) {
    if (chunk) for (const m of chunk.matchAll(PIECE)) out.push(m[0]);
  }
  return out;
}

/** Builds the tokenizer.json and tokenizer_config.json objects of a word-level tokenizer. */
export function buildWordLevelTokenizer(spec: WordLevelSpec): WordLevelTokenizerFiles {
  const unk = spec.unkToken ?? '<unk>';
  const pad = spec.padToken ?? '<pad>';
  const eos = spec.eosToken ?? '<|im_end|>';
  const bos = spec.bosToken ?? null;
  const extra = spec.extraSpecialTokens ?? ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
  const chatTemplate = spec.chatTemplate === undefined ? WORD_LEVEL_CHAT_TEMPLATE : spec.chatTemplate;
  const specials: string[] = [];
  for (const s of [unk, pad, ...(bos !== null ? [bos] : []), eos, ...extra]) {
    if (typeof s !== 'string' || s.length === 0 || /\s/u.test(s)) {
      throw new LeafError(`word-level tokenizer: special token ${JSON.stringify(s)} must be a non-empty string without whitespace`);
    }
    if (!specials.includes(s)) specials.push(s);
  }
  const words = [...spec.words];
  if (chatTemplate === WORD_LEVEL_CHAT_TEMPLATE) {
    for (const role of ['system', 'user', 'assistant']) if (!words.includes(role)) words.push(role);
  }
  const vocab: Record<string, number> = {};
  specials.forEach((s, i) => (vocab[s] = i));
  const seen = new Set<string>(specials);
  for (const w of words) {
    if (typeof w !== 'string' || w.length === 0) throw new LeafError(`word-level tokenizer: empty or non-string word in the vocabulary`);
    if (seen.has(w)) throw new LeafError(`word-level tokenizer: duplicate word ${JSON.stringify(w)}`);
    const pieces = wordLevelPieces(w);
    if (pieces.length !== 1 || pieces[0] !== w) {
      throw new LeafError(
        `word-level tokenizer: ${JSON.stringify(w)} is not a single piece (a run of letters, one digit, or one other character)`,
      );
    }
    if (spec.lowercase && w !== w.toLowerCase()) throw new LeafError(`word-level tokenizer: ${JSON.stringify(w)} is not lowercase`);
    seen.add(w);
    vocab[w] = Object.keys(vocab).length;
  }
  const addedTokens = specials.map((content, id) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const tokenizerJson: Record<string, unknown> = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: spec.lowercase ? { type: 'Lowercase' } : null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'WhitespaceSplit' },
        { type: 'Split', pattern: { Regex: WORD_LEVEL_PIECE_PATTERN }, behavior: 'Isolated', invert: false },
      ],
    },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: unk },
  };
  const addedTokensDecoder: Record<string, unknown> = {};
  for (const a of addedTokens) {
    const { id, ...rest } = a;
    addedTokensDecoder[String(id)] = rest;
  }
  const tokenizerConfig: Record<string, unknown> = {
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: extra.filter((s) => s !== unk && s !== pad && s !== eos && s !== bos),
    bos_token: bos,
    ...(chatTemplate !== null ? { chat_template: chatTemplate } : {}),
    clean_up_tokenization_spaces: true,
    eos_token: eos,
    model_max_length: spec.modelMaxLength ?? 2048,
    pad_token: pad,
    tokenizer_class: 'PreTrainedTokenizerFast',
    unk_token: unk,
  };
  return { tokenizerJson, tokenizerConfig };
}

/** Builds a word-level tokenizer and writes tokenizer.json and tokenizer_config.json into `dir`. */
export function writeWordLevelTokenizer(dir: string, spec: WordLevelSpec): WordLevelTokenizerFiles {
  const files = buildWordLevelTokenizer(spec);
  mkdirSync(dir, { recursive: true });
  writeFileAtomicSync(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson, null, 2) + '\n');
  writeFileAtomicSync(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2) + '\n');
  return files;
}
