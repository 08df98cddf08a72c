/**
 * Token "surfaces": the UTF-8 bytes a single (non-added) token stands for in the source text,
 * derived from the tokenizer.json `decoder` (and `model`) configuration. Used only to align
 * tokens to text (see offsets.ts); decoding itself goes through @huggingface/tokenizers.
 *
 * - ByteLevel (GPT-2 / Qwen2 / Llama 3): each character of the token maps back to one byte.
 * - ByteFallback (SentencePiece BPE): `<0xHH>` is the byte HH.
 * - Metaspace, Replace: `▁` (or the configured pattern) becomes a space.
 * - WordPiece: the continuation prefix (`##`) is dropped.
 * - BPEDecoder / model `end_of_word_suffix`, `continuing_subword_prefix`: the marker is dropped.
 * - Fuse, Strip, CTC and no decoder: the token string as is (UTF-8).
 *
 * A surface may begin with a space that is not in the text (a prefix space added by the
 * pre-tokenizer or normalizer); the aligner tolerates that.
 */

/** The token string → surface bytes function of one tokenizer (results are cached). */
export type SurfaceFn = (token: string) => Uint8Array;

/** GPT-2's bytes_to_unicode table: byte → printable character, and its inverse. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table: string[] = new Array<string>(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) {
      table[b] = String.fromCharCode(256 + n);
      n++;
    }
  }
  return table;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

type Step =
  | { kind: 'bytelevel' }
  | { kind: 'bytefallback' }
  | { kind: 'replace'; from: string | RegExp; to: string }
  | { kind: 'strip-prefix'; prefix: string }
  | { kind: 'remove'; marker: string };

const encoder = new TextEncoder();

function asRecord(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function collectSteps(config: unknown, steps: Step[]): void {
  const c = asRecord(config);
  if (!c) return;
  switch (c.type) {
    case 'Sequence':
      for (const d of Array.isArray(c.decoders) ? c.decoders : []) collectSteps(d, steps);
      return;
    case 'ByteLevel':
      steps.push({ kind: 'bytelevel' });
      return;
    case 'ByteFallback':
      steps.push({ kind: 'bytefallback' });
      return;
    case 'Metaspace': {
      const r = typeof c.replacement === 'string' ? c.replacement : '\u2581';
      steps.push({ kind: 'replace', from: r, to: ' ' });
      return;
    }
    case 'Replace': {
      const p = asRecord(c.pattern);
      const to = typeof c.content === 'string' ? c.content : '';
      if (p && typeof p.String === 'string') steps.push({ kind: 'replace', from: p.String, to });
      else if (p && typeof p.Regex === 'string') {
        try {
          steps.push({ kind: 'replace', from: new RegExp(p.Regex, 'gu'), to });
        } catch {
          // a pattern JavaScript cannot compile: leave tokens unchanged (alignment falls back)
        }
      }
      return;
    }
    case 'WordPiece':
      steps.push({ kind: 'strip-prefix', prefix: typeof c.prefix === 'string' ? c.prefix : '##' });
      return;
    case 'BPEDecoder':
      if (typeof c.suffix === 'string' && c.suffix !== '') steps.push({ kind: 'remove', marker: c.suffix });
      return;
    default:
      return; // Fuse, Strip, CTC, …: no per-token change
  }
}

function byteLevelBytes(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  let n = 0;
  for (const ch of s) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) return null;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/**
 * Builds the surface function of a tokenizer from its tokenizer.json `decoder` and `model`
 * sections (either may be null).
 */
export function surfaceFunction(decoderConfig: unknown, modelConfig: unknown): SurfaceFn {
  const steps: Step[] = [];
  const m = asRecord(modelConfig);
  if (m && m.type !== 'WordPiece') {
    if (typeof m.continuing_subword_prefix === 'string' && m.continuing_subword_prefix !== '') {
      steps.push({ kind: 'strip-prefix', prefix: m.continuing_subword_prefix });
    }
    if (typeof m.end_of_word_suffix === 'string' && m.end_of_word_suffix !== '') {
      steps.push({ kind: 'remove', marker: m.end_of_word_suffix });
    }
  }
  collectSteps(decoderConfig, steps);
  const cache = new Map<string, Uint8Array>();

  const compute = (token: string): Uint8Array => {
    let s = token;
    for (const step of steps) {
      switch (step.kind) {
        case 'bytelevel': {
          const b = byteLevelBytes(s);
          if (b) return b;
          break;
        }
        case 'bytefallback':
          if (/^<0x[0-9A-Fa-f]{2}>$/.test(s)) return Uint8Array.of(parseInt(s.slice(3, 5), 16));
          break;
        case 'replace':
          s = typeof step.from === 'string' ? s.split(step.from).join(step.to) : s.replace(step.from, step.to);
          break;
        case 'strip-prefix':
          if (s.startsWith(step.prefix)) s = s.slice(step.prefix.length);
          break;
        case 'remove':
          s = s.split(step.marker).join('');
          break;
      }
    }
    return encoder.encode(s);
  };

  return (token: string): Uint8Array => {
    let v = cache.get(token);
    if (v === undefined) {
      v = compute(token);
      if (cache.size < 1 << 20) cache.set(token, v);
    }
    return v;
  };
}
