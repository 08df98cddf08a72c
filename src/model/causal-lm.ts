import { LeafError } from '../errors.js';
import type { AttentionShape, FArray, Kernels } from '../kernels/types.js';
import type { ModelConfig } from './config.js';
import { KVCache } from './kv-cache.js';
import { floatOnly, layerParams, numel, paramSpecs, type LayerParams, type ParamSpec } from './params.js';
import { ropeInvFreq, ropeTables } from './rope.js';
import type { LayerTape, Tape } from './tape.js';
import { copyRow, gemmW, isBf16, isMatrixShape, type Weight, type WeightDtype } from './weights.js';

export type FloatArrayType = Float32ArrayConstructor | Float64ArrayConstructor;

export interface ForwardInput {
  batch: number;
  seqLen: number;
  /** Token ids [batch·seqLen]. Exactly one of inputIds / inputsEmbeds. */
  inputIds?: Int32Array;
  /** Input embeddings [batch·seqLen·hidden]. */
  inputsEmbeds?: FArray;
  /** 1 for real tokens, 0 for (left) padding, [batch·seqLen]. Default: all 1. */
  attentionMask?: Uint8Array;
  /** Position ids [batch·seqLen]. Default: cumsum(mask) − 1 with padding set to 1 (as transformers' generate), continued from the cache. */
  positionIds?: Int32Array;
  /** Rows (indices into batch·seqLen) to compute logits for: 'all' (default), 'last' (last position of each row), 'none', or a list. */
  logitRows?: 'all' | 'last' | 'none' | Int32Array;
  /** KV cache to read past keys from and append this call's keys to (decoding). */
  cache?: KVCache;
  /** Keep the activations for backward(). Not allowed with a cache. */
  saveForBackward?: boolean;
}

export interface ForwardOutput {
  /** [logitRows.length, vocab], or null for logitRows 'none'. */
  logits: FArray | null;
  logitRows: Int32Array;
  /** Final hidden states (after the last layer, before the final norm) [batch·seqLen, hidden]. */
  hidden: FArray;
  tape: Tape | null;
}

/** What every layer of one forward pass shares. */
interface ForwardRun {
  /** The input embeddings [N = batch·seqLen, hidden]. */
  x: FArray;
  /** RoPE tables [N, headDim/2]. */
  cos: FArray;
  sin: FArray;
  /** 1 = a key to attend to: [batch·seqLen], or the cache's [batch·capacity]. */
  keyMask: Uint8Array;
  shape: AttentionShape;
  cache: KVCache | null;
}

export interface BackwardOptions {
  /** Return d loss / d inputs_embeds [batch·seqLen, hidden]. */
  inputGrad?: boolean;
  /** Accumulate (+=) parameter gradients into these buffers (same names and sizes as the parameters); null skips them. */
  paramGrads?: Map<string, FArray> | null;
}

/**
 * A decoder-only causal LM of the Llama family (Llama, Qwen2, Mistral), with Hugging Face parameter names.
 * Parameters live in one map of buffers: Float32Array (or Float64Array for reference checks), or — for
 * the weight matrices of a bf16 model — Uint16Array of bfloat16 bits (weights.ts); norm weights and
 * biases are always float. Activations are floatType whatever the weights are.
 */
export class CausalLM {
  readonly specs: ParamSpec[];
  readonly invFreq: Float64Array;

  constructor(
    readonly config: ModelConfig,
    readonly params: Map<string, Weight>,
    readonly kernels: Kernels,
    readonly floatType: FloatArrayType = Float32Array,
  ) {
    if (floatType === Float64Array && !kernels.supportsFloat64) {
      throw new LeafError(`kernels "${kernels.name}" do not support float64; use the TypeScript kernels`);
    }
    this.specs = paramSpecs(config);
    for (const s of this.specs) {
      const p = params.get(s.name);
      if (!p) throw new LeafError(`parameter ${s.name} is missing`);
      if (p.length !== numel(s.shape)) throw new LeafError(`parameter ${s.name} has ${p.length} values, expected ${numel(s.shape)} for shape [${s.shape}]`);
      if (!(p instanceof floatType) && !(isBf16(p) && isMatrixShape(s.shape))) {
        throw new LeafError(`parameter ${s.name} is not a ${floatType.name}${isMatrixShape(s.shape) ? ' or bfloat16' : ''}`);
      }
    }
    this.invFreq = ropeInvFreq(config);
  }

  alloc(n: number): FArray {
    return new this.floatType(n);
  }

  param(name: string): Weight {
    const p = this.params.get(name);
    if (!p) throw new LeafError(`parameter ${name} is missing`);
    return p;
  }

  /** A norm weight or bias (always float). */
  floatParam(name: string): FArray {
    return floatOnly(name, this.param(name));
  }

  /** 'bf16' when the weight matrices are resident as bfloat16, else 'f32' (the float type's). */
  get weightDtype(): WeightDtype {
    return isBf16(this.embedTokens) ? 'bf16' : 'f32';
  }

  /** Bytes of the resident parameters. */
  residentBytes(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.byteLength;
    return n;
  }

  get embedTokens(): Weight {
    return this.param('model.embed_tokens.weight');
  }

  /** The output projection: lm_head.weight, or the embedding matrix when tied. */
  get lmHead(): Weight {
    return this.config.tieWordEmbeddings ? this.embedTokens : this.param('lm_head.weight');
  }

  layer(l: number): LayerParams {
    return layerParams((n) => this.param(n), this.config, l);
  }

  numParameters(): number {
    return this.specs.reduce((a, s) => a + numel(s.shape), 0);
  }

  /** A new KV cache for decoding `batch` rows of up to `capacity` positions. */
  newCache(batch: number, capacity: number): KVCache {
    return new KVCache(this.config, batch, capacity, (n) => this.alloc(n));
  }

  /** Embedding lookup: [ids.length, hidden]. */
  embed(ids: Int32Array): FArray {
    const h = this.config.hiddenSize, V = this.config.vocabSize;
    const out = this.alloc(ids.length * h);
    const table = this.embedTokens;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!(id >= 0 && id < V)) throw new LeafError(`token id ${id} at position ${i} is outside the vocabulary (size ${V})`);
      copyRow(table, id * h, (id + 1) * h, out, i * h);
    }
    return out;
  }

  /**
   * The forward pass: inputs (embeddings, positions, RoPE tables, key mask) → per layer the attention block
   * then the MLP block (backward.ts runs them in reverse) → final norm and logits on the requested rows.
   */
  forward(input: ForwardInput): ForwardOutput {
    const { batch: B, seqLen: T } = input;
    const N = B * T;
    const save = input.saveForBackward === true;
    const run = this.prepareInputs(input);
    const layers: LayerTape[] = [];
    let x = run.x;
    // Scratch reused across layers when not saving.
    let scratch: LayerTape | null = null;
    for (let l = 0; l < this.config.numLayers; l++) {
      const t: LayerTape = save || !scratch ? this.newLayerTape(N, T, B, run.shape.keys, save) : scratch;
      if (!save) scratch = t;
      const p = this.layer(l);
      this.attentionBlock(l, p, t, x, run, save);
      x = this.mlpBlock(p, t, N);
      if (save) layers.push(t);
    }
    if (input.cache) input.cache.length = run.shape.keys;
    const head = this.head(x, input.logitRows ?? 'all', B, T);
    const tape: Tape | null = save
      ? { batch: B, seqLen: T, inputIds: input.inputIds ?? null, cos: run.cos, sin: run.sin, attention: run.shape, keyMask: run.keyMask, layers, logitRows: head.rows, hRows: head.hRows, rstdF: head.rstdF, xnF: head.xnF }
      : null;
    return { logits: head.logits, logitRows: head.rows, hidden: x, tape };
  }

  /** Checks the input; the embeddings x [N, hidden], RoPE tables, the key mask (the cache's, with a cache) and the attention shape. */
  private prepareInputs(input: ForwardInput): ForwardRun {
    const c = this.config;
    const { batch: B, seqLen: T, cache } = input;
    const N = B * T, hid = c.hiddenSize;
    if (input.saveForBackward === true && cache) throw new LeafError('forward: saveForBackward cannot be combined with a KV cache');
    if (!Number.isInteger(B) || !Number.isInteger(T) || B <= 0 || T <= 0) throw new LeafError(`forward: bad batch ${B} × seqLen ${T}`);
    if (cache && cache.batch !== B) throw new LeafError(`forward: cache is for batch ${cache.batch}, input has batch ${B}`);
    let x: FArray;
    if (input.inputIds) {
      if (input.inputIds.length !== N) throw new LeafError(`forward: inputIds has ${input.inputIds.length} ids, expected ${N}`);
      x = this.embed(input.inputIds);
    } else if (input.inputsEmbeds) {
      if (input.inputsEmbeds.length !== N * hid) throw new LeafError(`forward: inputsEmbeds has ${input.inputsEmbeds.length} values, expected ${N * hid}`);
      x = this.alloc(N * hid);
      x.set(input.inputsEmbeds);
    } else {
      throw new LeafError('forward: give inputIds or inputsEmbeds');
    }
    const mask = input.attentionMask ?? new Uint8Array(N).fill(1);
    if (mask.length !== N) throw new LeafError(`forward: attentionMask has ${mask.length} values, expected ${N}`);
    const past = cache ? cache.length : 0;
    const keys = past + T;
    if (c.slidingWindow !== null && keys > c.slidingWindow) {
      throw new LeafError(`sequence of ${keys} positions exceeds the model's sliding_window ${c.slidingWindow}, which leaf does not implement`);
    }
    const positions = input.positionIds ?? this.defaultPositions(mask, B, T, cache);
    if (positions.length !== N) throw new LeafError(`forward: positionIds has ${positions.length} values, expected ${N}`);
    const { cos, sin } = ropeTables(this.invFreq, positions, (n) => this.alloc(n));
    let keyMask: Uint8Array;
    if (cache) {
      cache.reserve(T);
      for (let b = 0; b < B; b++) cache.mask.set(mask.subarray(b * T, (b + 1) * T), b * cache.capacity + past);
      keyMask = cache.mask;
    } else {
      keyMask = mask;
    }
    const shape: AttentionShape = {
      batch: B, queries: T, keys, keyCapacity: cache ? cache.capacity : T, past,
      heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim),
    };
    return { x, cos, sin, keyMask, shape, cache: cache ?? null };
  }

  /** Attention block of layer l: t.h1 = x + o_proj(attention(rope(q), rope(k), v)) (keys and values appended to the cache). */
  private attentionBlock(l: number, p: LayerParams, t: LayerTape, x: FArray, run: ForwardRun, save: boolean): void {
    const c = this.config, K = this.kernels, { shape, cache, cos, sin } = run;
    const N = shape.batch * shape.queries, T = shape.queries, hid = c.hiddenSize, H = c.numHeads, KVH = c.numKvHeads, D = c.headDim;
    const qw = H * D, kw = KVH * D;
    t.xIn = x;
    K.rmsnorm(x, p.ln1, t.xn1, t.rstd1, N, hid, c.rmsNormEps);
    this.linear(t.xn1, p.wq, p.bq, t.q, N, qw, hid);
    this.linear(t.xn1, p.wk, p.bk, t.k, N, kw, hid);
    this.linear(t.xn1, p.wv, p.bv, t.v, N, kw, hid);
    K.rope(t.q, cos, sin, N, H, D, false);
    K.rope(t.k, cos, sin, N, KVH, D, false);
    if (cache) {
      const ck = cache.k[l], cv = cache.v[l];
      for (let b = 0; b < shape.batch; b++) {
        const dst = (b * cache.capacity + shape.past) * kw;
        ck.set(t.k.subarray(b * T * kw, (b + 1) * T * kw), dst);
        cv.set(t.v.subarray(b * T * kw, (b + 1) * T * kw), dst);
      }
      K.attention(t.q, ck, cv, run.keyMask, t.attn, null, shape);
    } else {
      K.attention(t.q, t.k, t.v, run.keyMask, t.attn, save ? t.probs : null, shape);
    }
    const h1 = save ? this.alloc(N * hid) : t.h1;
    h1.set(x);
    gemmW(K, false, true, N, hid, qw, 1, t.attn, qw, p.wo, qw, 1, h1, hid);
    if (p.bo) addBias(h1, p.bo, N, hid);
    t.h1 = h1;
  }

  /** MLP block: returns out = h1 + down(silu(gate(xn2)) · up(xn2)), the next layer's input [N, hidden]. */
  private mlpBlock(p: LayerParams, t: LayerTape, N: number): FArray {
    const c = this.config, K = this.kernels, hid = c.hiddenSize, I = c.intermediateSize;
    K.rmsnorm(t.h1, p.ln2, t.xn2, t.rstd2, N, hid, c.rmsNormEps);
    gemmW(K, false, true, N, I, hid, 1, t.xn2, hid, p.wGate, hid, 0, t.gate, I);
    gemmW(K, false, true, N, I, hid, 1, t.xn2, hid, p.wUp, hid, 0, t.up, I);
    K.swiglu(t.gate, t.up, t.act, N * I);
    const out = this.alloc(N * hid);
    out.set(t.h1);
    gemmW(K, false, true, N, hid, I, 1, t.act, I, p.wDown, I, 1, out, hid);
    return out;
  }

  /** Final norm and logits [rows, vocab] of the requested rows of x. */
  private head(x: FArray, spec: 'all' | 'last' | 'none' | Int32Array, B: number, T: number): { rows: Int32Array; logits: FArray | null; hRows: FArray; rstdF: FArray; xnF: FArray } {
    const c = this.config, K = this.kernels, hid = c.hiddenSize;
    const rows = this.resolveLogitRows(spec, B, T);
    const R = rows.length;
    const hRows = this.alloc(R * hid);
    for (let i = 0; i < R; i++) hRows.set(x.subarray(rows[i] * hid, (rows[i] + 1) * hid), i * hid);
    const xnF = this.alloc(R * hid), rstdF = this.alloc(R);
    let logits: FArray | null = null;
    if (R > 0) {
      K.rmsnorm(hRows, this.floatParam('model.norm.weight'), xnF, rstdF, R, hid, c.rmsNormEps);
      logits = this.alloc(R * c.vocabSize);
      gemmW(K, false, true, R, c.vocabSize, hid, 1, xnF, hid, this.lmHead, hid, 0, logits, c.vocabSize);
    }
    return { rows, logits, hRows, rstdF, xnF };
  }

  /** y = x·Wᵀ + b for x [rows, in], W [out, in]. */
  linear(x: FArray, w: Weight, b: FArray | null, y: FArray, rows: number, out: number, inp: number): void {
    gemmW(this.kernels, false, true, rows, out, inp, 1, x, inp, w, inp, 0, y, out);
    if (b) addBias(y, b, rows, out);
  }

  private newLayerTape(N: number, T: number, B: number, keys: number, save: boolean): LayerTape {
    const c = this.config;
    const hid = c.hiddenSize, qw = c.numHeads * c.headDim, kw = c.numKvHeads * c.headDim, I = c.intermediateSize;
    const a = (n: number) => this.alloc(n);
    return {
      xIn: a(0), rstd1: a(N), xn1: a(N * hid), q: a(N * qw), k: a(N * kw), v: a(N * kw),
      probs: save ? a(B * c.numHeads * T * keys) : a(0), attn: a(N * qw),
      h1: save ? a(0) : a(N * hid), rstd2: a(N), xn2: a(N * hid), gate: a(N * I), up: a(N * I), act: a(N * I),
    };
  }

  private defaultPositions(mask: Uint8Array, B: number, T: number, cache?: KVCache): Int32Array {
    const pos = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      let next = cache ? cache.nextPosition[b] : 0;
      for (let t = 0; t < T; t++) {
        const i = b * T + t;
        if (mask[i]) pos[i] = next++;
        else pos[i] = 1;
      }
      if (cache) cache.nextPosition[b] = next;
    }
    return pos;
  }

  private resolveLogitRows(spec: 'all' | 'last' | 'none' | Int32Array, B: number, T: number): Int32Array {
    if (spec === 'all') return Int32Array.from({ length: B * T }, (_, i) => i);
    if (spec === 'last') return Int32Array.from({ length: B }, (_, b) => b * T + T - 1);
    if (spec === 'none') return new Int32Array(0);
    for (const r of spec) if (!(r >= 0 && r < B * T)) throw new LeafError(`forward: logit row ${r} outside 0..${B * T - 1}`);
    return spec;
  }
}

export function addBias(y: FArray, b: FArray, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) y[o + j] += b[j];
  }
}
