/**
 * Incremental decoding for generation: push token ids one at a time, get text deltas whose
 * concatenation is the decoded text, never a broken multi-byte character.
 *
 * Method (as text-generation-inference's `decode_token`): keep a window of ids starting one
 * emission back; decode the window with and without the newest ids; the extra text is the delta.
 * While the window's text ends in U+FFFD (bytes of an unfinished character) nothing is emitted.
 * Decoding the previous chunk along with the new ids keeps context-dependent decoders right
 * (SentencePiece drops the leading space of the first token it decodes; byte-level tokens may
 * split a character). Each push decodes a few tokens, so streaming n tokens costs O(n).
 *
 * transformers' clean-up of tokenization spaces (" ." → ".", " n't" → "n't", …) rewrites text
 * next to later tokens, so it is applied to the raw stream here: text is held back while one of
 * its last three characters is a space (a pattern could still start there), and the clean-up is
 * applied to the released part. Every pattern starts with a space and is at most four characters
 * long, so the clean-up of the whole text is the concatenation of the clean-ups of such pieces:
 * the stream still adds up to decode().
 */

/** Decodes a list of ids to text (the tokenizer's decode with fixed options). */
export type DecodeFn = (ids: readonly number[]) => string;

/** transformers' `clean_up_tokenization` (also @huggingface/tokenizers'), in the same order. */
export function cleanUpTokenizationSpaces(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

export interface StreamDecoderOptions {
  /**
   * Apply {@link cleanUpTokenizationSpaces} to the stream (the decode function must then not
   * apply it itself).
   */
  cleanUpSpaces?: boolean;
}

export class StreamDecoder {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;
  private prefixText = '';
  /** Raw text released by the window algorithm so far. */
  private raw = '';
  /** Length of `raw` already cleaned up and emitted. */
  private rawDone = 0;
  private emitted = '';
  private readonly cleanUp: boolean;

  constructor(private readonly decode: DecodeFn, options: StreamDecoderOptions = {}) {
    this.cleanUp = options.cleanUpSpaces === true;
  }

  /** Adds one token id; returns the text it completes ('' while a character is unfinished). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.decode(this.ids.slice(this.prefixOffset));
    if (text.length > this.prefixText.length && !text.endsWith('\uFFFD')) {
      if (text.startsWith(this.prefixText)) {
        this.raw += text.slice(this.prefixText.length);
      } else {
        // The window's decoder output is not an extension of its previous output: re-decode all.
        const full = this.decode(this.ids);
        if (full.startsWith(this.raw)) this.raw = full;
      }
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      this.prefixText = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
      return this.release(false);
    }
    return '';
  }

  /** Adds several ids; returns the concatenated deltas. */
  pushAll(ids: Iterable<number>): string {
    let out = '';
    for (const id of ids) out += this.push(id);
    return out;
  }

  /**
   * Returns whatever is still held back (an unfinished character at the end decodes to U+FFFD,
   * as in decode()). Afterwards the emitted text equals decode() of all ids pushed.
   */
  flush(): string {
    if (this.readOffset < this.ids.length) {
      const text = this.decode(this.ids.slice(this.prefixOffset));
      if (text.startsWith(this.prefixText)) this.raw += text.slice(this.prefixText.length);
      this.prefixOffset = this.readOffset = this.ids.length;
      this.prefixText = '';
    }
    return this.release(true);
  }

  /** All text emitted so far. */
  get text(): string {
    return this.emitted;
  }

  /** All ids pushed so far. */
  get tokenIds(): readonly number[] {
    return this.ids;
  }

  private release(all: boolean): string {
    let end = this.raw.length;
    if (this.cleanUp && !all) {
      // Hold back while a space is among the last three characters before the cut.
      while (end > this.rawDone && this.raw.slice(Math.max(0, end - 3), end).includes(' ')) end--;
    }
    if (end <= this.rawDone) return '';
    const piece = this.raw.slice(this.rawDone, end);
    this.rawDone = end;
    const delta = this.cleanUp ? cleanUpTokenizationSpaces(piece) : piece;
    this.emitted += delta;
    return delta;
  }
}
