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
  finish: 'eos' | 'stop' | 'length';
  promptTokens: number;
}

/** Token ids of a prompt: chat-templated user turn (as apply_chat_template with add_generation_prompt) or plain text with the tokenizer's special tokens. */
export function encodePrompt(p: Pretrained, prompt: string, chat: boolean, system?: string): number[] {
  if (!chat) return p.tokenizer.encode(prompt, { addSpecialTokens: true }).ids;
  if (!p.tokenizer.hasChatTemplate) throw new LeafError(`${p.dir}: --chat given but the tokenizer has no chat template`);
  const messages: ChatMessage[] = system !== undefined ? [{ role: 'system', content: system }, { role: 'user', content: prompt }] : [{ role: 'user', content: prompt }];
  return p.tokenizer.encodeChat(messages, { addGenerationPrompt: true }).ids;
}

/** Generates continuations of text prompts as one left-padded batch. */
export function generateText(p: Pretrained, prompts: readonly string[], options: TextGenerationOptions): TextGeneration[] {
  const chat = options.chat ?? p.tokenizer.hasChatTemplate;
  const encoded = prompts.map((q) => encodePrompt(p, q, chat, options.system));
  const stop = (options.stop ?? []).filter((s) => s.length > 0);
  const decoders = prompts.map(() => p.tokenizer.createStreamDecoder({ skipSpecialTokens: true }));
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
