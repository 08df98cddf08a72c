/**
 * The construction phases of LeafTokenizer (tokenizer.ts): checking tokenizer.json's model and
 * added tokens, the configuration handed to @huggingface/tokenizers, the tokens its
 * post-processor adds around a text, and the variables chat templates see.
 */

import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { LeafError } from '../errors.js';
import { SPECIAL_TOKEN_KEYS, tokenContent, type SpecialTokenKey } from './files.js';

/** A special token: its text and id. */
export interface SpecialToken {
  content: string;
  id: number;
}

const SUPPORTED_MODELS = ['BPE', 'WordPiece', 'Unigram', 'WordLevel'];
const LLAMA_LIKE_CLASS = /^(Llama|CodeLlama|Gemma)Tokenizer(Fast)?$/;
const PROBE = '\u0000leaf-post-processor-probe\u0000';

function record(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** tokenizer.json's "model" section, checked to be of a supported type. */
export function checkedModel(where: string, tj: Record<string, unknown>): Record<string, unknown> {
  const model = record(tj.model);
  if (!model) throw new LeafError(`${where}: no "model" section`);
  if (!SUPPORTED_MODELS.includes(model.type as string)) {
    throw new LeafError(`${where}: unsupported tokenizer model type ${JSON.stringify(model.type)} (supported: ${SUPPORTED_MODELS.join(', ')})`);
  }
  return model;
}

/** tokenizer.json's added tokens, checked. */
export interface AddedTokens {
  /** The "added_tokens" list as read ([] when absent). */
  list: unknown[];
  /** Contents of all added tokens. */
  contents: Set<string>;
  /** Contents of those marked special. */
  special: Set<string>;
}

export function readAddedTokens(where: string, tj: Record<string, unknown>): AddedTokens {
  if (tj.added_tokens !== undefined && !Array.isArray(tj.added_tokens)) {
    throw new LeafError(`${where}: "added_tokens" must be a list`);
  }
  const list = (Array.isArray(tj.added_tokens) ? tj.added_tokens : []) as unknown[];
  const contents = new Set<string>();
  const special = new Set<string>();
  for (const [i, a] of list.entries()) {
    const r = record(a);
    if (!r || typeof r.content !== 'string' || !Number.isInteger(r.id)) {
      throw new LeafError(`${where}: added_tokens[${i}] must have a string "content" and an integer "id"`);
    }
    contents.add(r.content);
    if (r.special === true) special.add(r.content);
  }
  return { list, contents, special };
}

/** The tokenizer_config.json handed to @huggingface/tokenizers, and what was read from it. */
export interface LibraryConfig {
  /** The config with special tokens as plain strings. */
  config: Record<string, unknown>;
  /** additional_special_tokens as strings. */
  additional: string[];
  cleanUpSpaces: boolean;
}

export function libraryConfig(cfg: Record<string, unknown>, model: Record<string, unknown>): LibraryConfig {
  const config: Record<string, unknown> = { ...cfg };
  for (const key of SPECIAL_TOKEN_KEYS) {
    const c = tokenContent(cfg[key]);
    if (c === null) delete config[key];
    else config[key] = c;
  }
  if (config.unk_token === undefined && typeof model.unk_token === 'string') config.unk_token = model.unk_token;
  const additional = Array.isArray(cfg.additional_special_tokens)
    ? cfg.additional_special_tokens.map(tokenContent).filter((x): x is string => x !== null)
    : [];
  config.additional_special_tokens = additional;
  const cleanUpSpaces = cfg.clean_up_tokenization_spaces === true;
  config.clean_up_tokenization_spaces = cleanUpSpaces;
  return { config, additional, cleanUpSpaces };
}

/** The @huggingface/tokenizers tokenizer (absent sections as null); a one-line error if it refuses. */
export function loadHfTokenizer(where: string, tj: Record<string, unknown>, added: unknown[], libConfig: Record<string, unknown>): HfTokenizer {
  const libJson: Record<string, unknown> = {
    ...tj,
    normalizer: tj.normalizer ?? null,
    pre_tokenizer: tj.pre_tokenizer ?? null,
    post_processor: tj.post_processor ?? null,
    decoder: tj.decoder ?? null,
    added_tokens: added,
  };
  try {
    return new HfTokenizer(libJson, libConfig);
  } catch (e) {
    throw new LeafError(`${where}: unsupported or malformed tokenizer (${message(e)})`);
  }
}

/** The special token named by a tokenizer_config.json field, if it is in the vocabulary. */
export function specialToken(hf: HfTokenizer, cfg: Record<string, unknown>, key: SpecialTokenKey): SpecialToken | null {
  const content = tokenContent(cfg[key]);
  if (content === null) return null;
  const id = hf.token_to_id(content);
  return id === undefined ? null : { content, id };
}

/** Ids of those of `contents` that are in the vocabulary. */
export function knownIds(hf: HfTokenizer, contents: Iterable<string>): Set<number> {
  const ids = new Set<number>();
  for (const c of contents) {
    const id = hf.token_to_id(c);
    if (id !== undefined) ids.add(id);
  }
  return ids;
}

/**
 * Tokens the post-processor adds around a single sequence (or add_bos/eos_token of Llama-like
 * tokenizers, which transformers' LlamaTokenizerFast turns into its post-processor), as ids.
 */
export function postProcessorIds(
  where: string,
  cfg: Record<string, unknown>,
  hf: HfTokenizer,
  bos: SpecialToken | null,
  eos: SpecialToken | null,
): { prefix: number[]; suffix: number[] } {
  let prefix: string[] = [];
  let suffix: string[] = [];
  const cls = typeof cfg.tokenizer_class === 'string' ? cfg.tokenizer_class : '';
  if (LLAMA_LIKE_CLASS.test(cls) && (typeof cfg.add_bos_token === 'boolean' || typeof cfg.add_eos_token === 'boolean')) {
    if (cfg.add_bos_token !== false && bos) prefix = [bos.content];
    if (cfg.add_eos_token === true && eos) suffix = [eos.content];
  } else if (hf.post_processor) {
    let out: string[] = [];
    try {
      out = hf.post_processor.post_process([PROBE], null, true).tokens;
    } catch (e) {
      throw new LeafError(`${where}: unsupported post_processor (${message(e)})`);
    }
    const at = out.indexOf(PROBE);
    if (at < 0) throw new LeafError(`${where}: unsupported post_processor (it does not keep the text's tokens)`);
    prefix = out.slice(0, at);
    suffix = out.slice(at + 1);
  }
  const toIds = (ts: string[]): number[] =>
    ts.map((t) => {
      const id = hf.token_to_id(t);
      if (id === undefined) throw new LeafError(`${where}: the post-processor adds "${t}", which is not in the vocabulary`);
      return id;
    });
  return { prefix: toIds(prefix), suffix: toIds(suffix) };
}

/** The special-token variables a chat template sees. */
export function templateVariables(cfg: Record<string, unknown>, additional: string[]): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const c = tokenContent(cfg[key]);
    if (c !== null) vars[key] = c;
  }
  if (Array.isArray(cfg.additional_special_tokens)) vars.additional_special_tokens = additional;
  return vars;
}
