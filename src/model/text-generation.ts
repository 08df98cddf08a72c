import { LeafError } from '../errors.js';
import type { ChatMessage } from '../tokenizer/index.js';
import { generate, type GenerateOptions } from './generate.js';
import type { Pretrained } from './pretrained.js';

export interface TextGenerationOptions extends Omit<GenerateOptions, 'shouldStop' | 'eosTokenIds'> {
  /** Render each prompt as the user turn of the model's chat template, with the generation prompt (default true when the tokenizer has a template). */
  chat?: boolean;
  /** A system message for chat mode. */
  system?: string;
  /** Generation of a row ends at the first of these strings; the returned text is cut before it. */
  stop?: string[];
}

export interface TextGeneration {
  /** The decoded continuation (special tokens left out; cut before a matched stop string). */
  text: string;
  /** The new token ids, EOS included when emitted. */
  tokens: number[];
  /** 'refused': the prompt cannot fit the model's context (see {@link fitPrompt}); `refused` says why. */
  finish: 'eos' | 'stop' | 'length' | 'refused';
  promptTokens: number;
  refused?: string;
}

/** Token ids of a prompt: chat-templated user turn (as apply_chat_template with add_generation_prompt) or plain text with the tokenizer's special tokens. */
export function encodePrompt(p: Pretrained, prompt: string, chat: boolean, system?: string): number[] {
  if (!chat) return p.tokenizer.encode(prompt, { addSpecialTokens: true }).ids;
  if (!p.tokenizer.hasChatTemplate) throw new LeafError(`${p.dir}: --chat given but the tokenizer has no chat template`);
  const messages: ChatMessage[] = system !== undefined ? [{ role: 'system', content: system }, { role: 'user', content: prompt }] : [{ role: 'user', content: prompt }];
  return p.tokenizer.encodeChat(messages, { addGenerationPrompt: true }).ids;
}

const longest = new WeakMap<Pretrained['tokenizer'], number>();

/** The most characters one token stands for (its string in the vocabulary, at least 1), computed once per tokenizer. */
function longestToken(p: Pretrained): number {
  let n = longest.get(p.tokenizer);
  if (n === undefined) {
    n = 1;
    for (let id = 0; id < p.model.config.vocabSize; id++) n = Math.max(n, p.tokenizer.idToToken(id)?.length ?? 0);
    longest.set(p.tokenizer, n);
  }
  return n;
}

/**
 * The token ids of a prompt, or why it is refused: it cannot leave room for one new token in the model's
 * context (max_position_embeddings). A prompt with more characters than the context holds tokens times the
 * longest token's characters is refused before it is rendered or tokenised (a 50 MB prompt costs nothing);
 * otherwise it is encoded and refused when its tokens fill the context.
 */
export function fitPrompt(p: Pretrained, prompt: string, chat: boolean, system?: string): { ids: number[] } | { refused: string } {
  const tooLong = tooManyChars(p, prompt.length + (system?.length ?? 0));
  if (tooLong) return { refused: tooLong };
  const ids = encodePrompt(p, prompt, chat, system);
  const full = noRoom(p, ids.length);
  return full ? { refused: full } : { ids };
}

/** Why a prompt of `chars` characters cannot fit p's context whatever its tokens (checked before tokenising), or null. */
export function tooManyChars(p: Pretrained, chars: number): string | null {
  const ctx = p.model.config.maxPositionEmbeddings;
  const per = longestToken(p);
  if (chars <= ctx * per) return null;
  return `prompt of ${chars} characters cannot fit the context of ${ctx} tokens (max_position_embeddings; no token is longer than ${per} characters)`;
}

/** Why a prompt of `tokens` tokens leaves no room for a new token in p's context, or null. */
export function noRoom(p: Pretrained, tokens: number): string | null {
  const ctx = p.model.config.maxPositionEmbeddings;
  return tokens >= ctx ? `prompt of ${tokens} tokens leaves no room in the context of ${ctx} tokens (max_position_embeddings)` : null;
}

/**
 * Generates continuations of text prompts as one left-padded batch. A prompt that cannot fit the context
 * is refused on its own (finish 'refused', the reason in `refused`); the others decode as without it.
 */
export function generateText(p: Pretrained, prompts: readonly string[], options: TextGenerationOptions): TextGeneration[] {
  const chat = options.chat ?? p.tokenizer.hasChatTemplate;
  const fitted = prompts.map((q) => fitPrompt(p, q, chat, options.system));
  const kept = fitted.flatMap((f, i) => ('ids' in f ? [i] : []));
  const out: TextGeneration[] = fitted.map((f) => ({ text: '', tokens: [], finish: 'refused', promptTokens: 0, refused: 'refused' in f ? f.refused : '' }));
  const decoded = decodeText(p, kept.map((i) => (fitted[i] as { ids: number[] }).ids), options);
  kept.forEach((i, k) => {
    out[i] = decoded[k];
  });
  return out;
}

function decodeText(p: Pretrained, encoded: number[][], options: TextGenerationOptions): TextGeneration[] {
  if (encoded.length === 0) return [];
  const stop = (options.stop ?? []).filter((s) => s.length > 0);
  const decoders = encoded.map(() => p.tokenizer.createStreamDecoder({ skipSpecialTokens: true }));
  const res = generate(p.model, encoded, {
    ...options,
    eosTokenIds: p.eosTokenIds,
    shouldStop: stop.length === 0 ? undefined : (row, tokens) => {
      decoders[row].push(tokens[tokens.length - 1]);
      const text = decoders[row].text;
      return stop.some((s) => text.includes(s));
    },
  });
  return res.tokens.map((tokens, i) => {
    let text = p.tokenizer.decode(tokens, { skipSpecialTokens: true });
    let cut = -1;
    for (const s of stop) {
      const at = text.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) text = text.slice(0, cut);
    return { text, tokens, finish: res.finish[i], promptTokens: encoded[i].length };
  });
}
