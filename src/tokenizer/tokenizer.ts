/**
 * LeafTokenizer: a Hugging Face fast tokenizer (tokenizer.json + tokenizer_config.json) run by
 * @huggingface/tokenizers, with character offsets for every token (offsets.ts), chat templates
 * with content spans (chat-template.ts), and decoding — whole or streaming (stream-decoder.ts).
 */

import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { LeafError } from '../errors.js';
import {
  ChatRenderer,
  type ChatMessage,
  type ChatRenderOptions,
  type RenderedChat,
  type RenderedPromptWithPrefix,
} from './chat-template.js';
import { readTokenizerFiles, type TokenizerFiles } from './files.js';
import { OffsetAligner, tokensInCharRange, viewNormalizer, type CharSpan, type TokenRange } from './offsets.js';
import { StreamDecoder } from './stream-decoder.js';
import { surfaceFunction } from './surface.js';
import {
  checkedModel,
  knownIds,
  libraryConfig,
  loadHfTokenizer,
  postProcessorIds,
  readAddedTokens,
  specialToken,
  templateVariables,
  type SpecialToken,
} from './tokenizer-setup.js';

export type { SpecialToken } from './tokenizer-setup.js';

export interface EncodeOptions {
  /**
   * Add the special tokens of the tokenizer's post-processor (e.g. Llama's BOS), as transformers'
   * `add_special_tokens` (default true). They get empty spans: at 0 before the text, at
   * text.length after it.
   */
  addSpecialTokens?: boolean;
}

/** Token ids of a text with the character span of each token (see offsets.ts for the rule). */
export interface Encoding {
  ids: number[];
  /** Per token, [start, end) in UTF-16 indices of the encoded text. Monotone, non-overlapping. */
  offsets: CharSpan[];
  /** False when some spans are proportional estimates (an unusual normalizer); see offsets.ts. */
  exactOffsets: boolean;
}

export interface DecodeOptions {
  /** Leave out special tokens (default false). */
  skipSpecialTokens?: boolean;
}

/** The tokens of one character range: entirely inside it, and sharing a character with it. */
export interface TokensOfSpan {
  inside: TokenRange;
  overlapping: TokenRange;
}

export interface EncodeChatOptions extends ChatRenderOptions {
  /**
   * Default: false when a chat template was used (as transformers' apply_chat_template: the
   * template writes BOS itself), true for the plain format.
   */
  addSpecialTokens?: boolean;
}

/** A rendered and encoded conversation. */
export interface ChatEncoding extends RenderedChat, Encoding {
  /**
   * Per message, the tokens of its content span (tokensInCharRange, without the tokens the
   * post-processor added around the text).
   */
  contentTokens: TokensOfSpan[];
}

/** A rendered and encoded prompt followed by an assistant prefix. */
export interface PromptWithPrefixEncoding extends RenderedPromptWithPrefix, Encoding {
  contentTokens: TokensOfSpan[];
  /** The tokens of the assistant prefix. */
  prefixTokens: TokensOfSpan;
}

/** A loaded tokenizer. Create with {@link LeafTokenizer.load} (a model folder) or from parsed files. */
export class LeafTokenizer {
  /** Where the tokenizer came from (named in error messages). */
  readonly source: string;
  /** Number of token ids (1 + the largest id of the vocabulary and added tokens). */
  readonly vocabSize: number;
  readonly bosToken: SpecialToken | null;
  readonly eosToken: SpecialToken | null;
  readonly padToken: SpecialToken | null;
  readonly unkToken: SpecialToken | null;
  /** Ids of the special added tokens (those skipped by skipSpecialTokens). */
  readonly specialIds: ReadonlySet<number>;
  /** tokenizer_config.json, as read (special tokens may be strings or AddedToken objects). */
  readonly config: Readonly<Record<string, unknown>>;
  /** The chat renderer (templates, content spans). */
  readonly chat: ChatRenderer;

  private readonly hf: HfTokenizer;
  private readonly aligner: OffsetAligner;
  /** Ids that encode(…, {addSpecialTokens: true}) puts before the text (e.g. Llama's BOS). */
  readonly specialPrefixIds: readonly number[];
  /** Ids that encode(…, {addSpecialTokens: true}) puts after the text (e.g. an EOS). */
  readonly specialSuffixIds: readonly number[];
  private readonly cleanUpSpaces: boolean;

  /** Loads `tokenizer.json` (required) and its companions from a model folder. */
  static load(dir: string): LeafTokenizer {
    return new LeafTokenizer(readTokenizerFiles(dir));
  }

  constructor(files: TokenizerFiles) {
    this.source = files.source;
    const where = `${files.source}/tokenizer.json`;
    const tj = files.tokenizerJson;
    const cfg = files.tokenizerConfig;
    this.config = cfg;
    const model = checkedModel(where, tj);
    const added = readAddedTokens(where, tj);
    const lib = libraryConfig(cfg, model);
    this.cleanUpSpaces = lib.cleanUpSpaces;
    this.hf = loadHfTokenizer(where, tj, added.list, lib.config);
    const hfModel = this.hf.model;
    if (!hfModel) throw new LeafError(`${where}: unsupported tokenizer model`);
    this.vocabSize = hfModel.vocab.length;

    this.bosToken = specialToken(this.hf, cfg, 'bos_token');
    this.eosToken = specialToken(this.hf, cfg, 'eos_token');
    this.padToken = specialToken(this.hf, cfg, 'pad_token');
    this.unkToken = specialToken(this.hf, cfg, 'unk_token');
    this.specialIds = knownIds(this.hf, [...added.special, ...lib.additional]);
    const around = postProcessorIds(where, cfg, this.hf, this.bosToken, this.eosToken);
    this.specialPrefixIds = around.prefix;
    this.specialSuffixIds = around.suffix;

    this.aligner = new OffsetAligner({
      surface: surfaceFunction(tj.decoder ?? null, model),
      addedTokens: added.contents,
      unkToken: hfModel.unk_token ?? null,
      normalize: viewNormalizer(tj.normalizer ?? null),
    });
    this.chat = new ChatRenderer(files.chatTemplates, templateVariables(cfg, lib.additional), files.source);
  }

  /** Whether the tokenizer has a chat template. */
  get hasChatTemplate(): boolean {
    return this.chat.hasTemplate;
  }

  /** The id of a token string (vocabulary or added token), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  /** The token string of an id, or undefined. */
  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  /** Encodes `text` to ids with the character span of every token. */
  encode(text: string, options: EncodeOptions = {}): Encoding {
    if (typeof text !== 'string') throw new LeafError('encode: the text must be a string');
    const enc = this.hf.encode(text, { add_special_tokens: false });
    const ids = enc.ids;
    for (let i = 0; i < ids.length; i++) {
      if (!Number.isInteger(ids[i])) {
        throw new LeafError(
          `${this.source}: cannot encode ${JSON.stringify(enc.tokens[i])}: not in the vocabulary and the tokenizer has no unknown token`,
        );
      }
    }
    const { offsets, exact } = this.aligner.align(text, enc.tokens);
    if (options.addSpecialTokens === false || (this.specialPrefixIds.length === 0 && this.specialSuffixIds.length === 0)) {
      return { ids, offsets, exactOffsets: exact };
    }
    const end = text.length;
    return {
      ids: [...this.specialPrefixIds, ...ids, ...this.specialSuffixIds],
      offsets: [
        ...this.specialPrefixIds.map((): CharSpan => [0, 0]),
        ...offsets,
        ...this.specialSuffixIds.map((): CharSpan => [end, end]),
      ],
      exactOffsets: exact,
    };
  }

  /**
   * Decodes ids to text, as transformers' decode (clean_up_tokenization_spaces as the config
   * says, false when absent). Ids outside the vocabulary are a LeafError.
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return this.decodeWith(ids, options.skipSpecialTokens === true, this.cleanUpSpaces);
  }

  private decodeWith(ids: readonly number[], skipSpecialTokens: boolean, cleanUp: boolean): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || this.hf.id_to_token(id) === undefined) {
        throw new LeafError(`${this.source}: token id ${String(id)} is not in the vocabulary`);
      }
    }
    if (ids.length === 0) return '';
    return this.hf.decode([...ids], { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: cleanUp });
  }

  /**
   * A streaming decoder: push ids, get text deltas that never split a character and add up to
   * decode(ids, options).
   */
  createStreamDecoder(options: DecodeOptions = {}): StreamDecoder {
    const skip = options.skipSpecialTokens === true;
    return new StreamDecoder((ids) => this.decodeWith(ids, skip, false), { cleanUpSpaces: this.cleanUpSpaces });
  }

  /** Renders a conversation with the chat template (or the plain format), with content spans. */
  renderChat(messages: readonly ChatMessage[], options: ChatRenderOptions = {}): RenderedChat {
    return this.chat.render(messages, options);
  }

  /** The rendered text only: transformers' apply_chat_template(messages, tokenize=False, …). */
  renderChatText(messages: readonly ChatMessage[], options: ChatRenderOptions = {}): string {
    return this.chat.renderText(messages, options);
  }

  /** render(messages, addGenerationPrompt = true) + assistantPrefix, with spans. */
  renderPromptWithAssistantPrefix(
    messages: readonly ChatMessage[],
    assistantPrefix: string,
    options: ChatRenderOptions = {},
  ): RenderedPromptWithPrefix {
    return this.chat.renderPromptWithAssistantPrefix(messages, assistantPrefix, options);
  }

  /**
   * The tokens of a character range of an encoded text (see tokensInCharRange), leaving out the
   * tokens the post-processor added (their empty spans at 0 / text.length are not text).
   */
  private tokensOf(enc: Encoding, addedSpecials: boolean, span: CharSpan): TokensOfSpan {
    const r = tokensInCharRange(enc.offsets, span);
    if (!addedSpecials) return r;
    const lo = this.specialPrefixIds.length;
    const hi = enc.ids.length - this.specialSuffixIds.length;
    const clamp = (t: TokenRange): TokenRange => {
      const start = Math.min(Math.max(t.start, lo), hi);
      return { start, end: Math.max(start, Math.min(t.end, hi)) };
    };
    return { inside: clamp(r.inside), overlapping: clamp(r.overlapping) };
  }

  /** Renders and encodes a conversation: ids, token spans, content spans and content tokens. */
  encodeChat(messages: readonly ChatMessage[], options: EncodeChatOptions = {}): ChatEncoding {
    const r = this.chat.render(messages, options);
    const add = options.addSpecialTokens ?? !r.templated;
    const enc = this.encode(r.text, { addSpecialTokens: add });
    return { ...r, ...enc, contentTokens: r.contentSpans.map((s) => this.tokensOf(enc, add, s)) };
  }

  /** Renders and encodes a prompt followed by an assistant prefix (see renderPromptWithAssistantPrefix). */
  encodePromptWithAssistantPrefix(
    messages: readonly ChatMessage[],
    assistantPrefix: string,
    options: EncodeChatOptions = {},
  ): PromptWithPrefixEncoding {
    const r = this.chat.renderPromptWithAssistantPrefix(messages, assistantPrefix, options);
    const add = options.addSpecialTokens ?? !r.templated;
    const enc = this.encode(r.text, { addSpecialTokens: add });
    return {
      ...r,
      ...enc,
      contentTokens: r.contentSpans.map((s) => this.tokensOf(enc, add, s)),
      prefixTokens: this.tokensOf(enc, add, r.prefixSpan),
    };
  }
}
