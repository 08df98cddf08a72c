/**
 * The tokenizer and chat-template layer.
 * - tokenizer.ts — LeafTokenizer: load a model folder, encode with character offsets, decode.
 * - offsets.ts — how token offsets are derived (the offset rule), char range → token indices.
 * - surface.ts — the text bytes of a single token, from the decoder configuration.
 * - chat-template.ts — chat templates as transformers renders them, with content spans.
 * - stream-decoder.ts — incremental decoding for generation.
 * - files.ts — reading tokenizer.json, tokenizer_config.json and chat template files.
 * - strftime.ts — Python's strftime, for templates' strftime_now.
 * - build-word-level.ts — word-level tokenizer files from a vocabulary list (demo models).
 */
export { LeafTokenizer } from './tokenizer.js';
export type {
  ChatEncoding,
  DecodeOptions,
  EncodeChatOptions,
  EncodeOptions,
  Encoding,
  PromptWithPrefixEncoding,
  SpecialToken,
  TokensOfSpan,
} from './tokenizer.js';
export { OffsetAligner, splitOnAddedTokens, tokensInCharRange, viewNormalizer } from './offsets.js';
export type { AlignerConfig, AlignmentResult, CharSpan, TokenRange } from './offsets.js';
export { BYTE_TO_CHAR, CHAR_TO_BYTE, surfaceFunction } from './surface.js';
export type { SurfaceFn } from './surface.js';
export { ChatRenderer, PLAIN_SEPARATOR, renderPlain, validateMessages } from './chat-template.js';
export type {
  ChatMessage,
  ChatRenderOptions,
  ChatTemplates,
  RenderedChat,
  RenderedPromptWithPrefix,
} from './chat-template.js';
export { cleanUpTokenizationSpaces, StreamDecoder } from './stream-decoder.js';
export type { DecodeFn, StreamDecoderOptions } from './stream-decoder.js';
export { parseConfigChatTemplate, readJsonObject, readTokenizerFiles, SPECIAL_TOKEN_KEYS, tokenContent } from './files.js';
export type { SpecialTokenKey, TokenizerFiles } from './files.js';
export { strftime } from './strftime.js';
export {
  buildWordLevelTokenizer,
  WORD_LEVEL_CHAT_TEMPLATE,
  WORD_LEVEL_PIECE_PATTERN,
  wordLevelPieces,
  writeWordLevelTokenizer,
} from './build-word-level.js';
export type { WordLevelSpec, WordLevelTokenizerFiles } from './build-word-level.js';
