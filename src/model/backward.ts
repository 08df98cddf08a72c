import { LeafError } from '../errors.js';
import type { FArray, Kernels } from '../kernels/types.js';
import type { BackwardOptions, CausalLM } from './causal-lm.js';
import type { Tape } from './tape.js';
import { gemmW, type Weight } from './weights.js';

/** Σ over rows of m [rows, n], added into out [n]. */
function addColumnSums(m: FArray, rows: number, n: number, out: FArray): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) out[j] += m[o + j];
  }
}

function addInto(dst: FArray, src: FArray, n: number): void {
  for (let i = 0; i < n; i++) dst[i] += src[i];
}

/**
 * What the backward phases share: the model and tape, the shapes, the gradient lookup, d loss / d
 * residual stream dH [N, hidden] (accumulated from the head down to the embeddings) and scratch
 * buffers reused by every layer.
 */
interface BackwardPass {
  model: CausalLM;
  tape: Tape;
  K: Kernels;
  /** Tokens (batch · seqLen), hidden size, MLP width, query width (heads · headDim), key/value width. */
  N: number;
  hid: number;
  I: number;
  qw: number;
  kw: number;
  /** The gradient buffer of a parameter; null when no gradients are accumulated. */
  g: (name: string) => FArray | null;
  dH: FArray;
  dAct: FArray;
  dUp: FArray;
  dXn: FArray;
  dAttn: FArray;
  dq: FArray;
  dk: FArray;
  dv: FArray;
}

/**
 * Backpropagates d loss / d logits (for the tape's logit rows, [rows, vocab]) through the model.
 * Returns d loss / d inputs_embeds [batch·seqLen, hidden] when options.inputGrad; accumulates
 * parameter gradients into options.paramGrads when given. dLogits is left unchanged.
 */
export function backward(model: CausalLM, tape: Tape, dLogits: FArray, options: BackwardOptions = {}): FArray | null {
  const R = tape.logitRows.length, V = model.config.vocabSize;
  if (dLogits.length !== R * V) throw new LeafError(`backward: dLogits has ${dLogits.length} values, expected ${R}×${V}`);
  const pass = backwardPass(model, tape, options.paramGrads ?? null);
  headBackward(pass, dLogits);
  for (let l = model.config.numLayers - 1; l >= 0; l--) {
    mlpBlockBackward(pass, l);
    attentionBlockBackward(pass, l);
  }
  embeddingBackward(pass);
  return options.inputGrad ? pass.dH : null;
}

function backwardPass(model: CausalLM, tape: Tape, grads: Map<string, FArray> | null): BackwardPass {
  const c = model.config;
  const N = tape.batch * tape.seqLen, hid = c.hiddenSize, I = c.intermediateSize;
  const qw = c.numHeads * c.headDim, kw = c.numKvHeads * c.headDim;
  const g = (name: string): FArray | null => {
    if (!grads) return null;
    const buf = grads.get(name);
    if (!buf) throw new LeafError(`backward: no gradient buffer for ${name}`);
    return buf;
  };
  const a = (n: number) => model.alloc(n);
  const dH = a(N * hid);
  const dAct = a(N * I), dUp = a(N * I), dXn = a(N * hid);
  const dAttn = a(N * qw), dq = a(N * qw), dk = a(N * kw), dv = a(N * kw);
  return { model, tape, K: model.kernels, N, hid, I, qw, kw, g, dH, dAct, dUp, dXn, dAttn, dq, dk, dv };
}

/** Logits → final norm → the logit rows of the residual stream (dH). */
function headBackward(pass: BackwardPass, dLogits: FArray): void {
  const { model, tape, K, hid, g, dH } = pass;
  const c = model.config, V = c.vocabSize, R = tape.logitRows.length;
  if (R === 0) return;
  const dXnF = model.alloc(R * hid);
  gemmW(K, false, false, R, hid, V, 1, dLogits, V, model.lmHead, hid, 0, dXnF, hid);
  const headGrad = g(c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  if (headGrad) K.gemm(true, false, V, hid, R, 1, dLogits, V, tape.xnF, hid, 1, headGrad, hid);
  K.rmsnormBackward(dXnF, tape.hRows, model.floatParam('model.norm.weight'), tape.rstdF, dXnF, g('model.norm.weight'), R, hid);
  for (let i = 0; i < R; i++) {
    const o = tape.logitRows[i] * hid;
    for (let j = 0; j < hid; j++) dH[o + j] += dXnF[i * hid + j];
  }
}

/** MLP block of layer l: out = h1 + down(silu(gate(xn2)) · up(xn2)). */
function mlpBlockBackward(pass: BackwardPass, l: number): void {
  const { model, K, N, hid, I, g, dH, dAct, dUp, dXn } = pass;
  const p = model.layer(l), t = pass.tape.layers[l];
  const pre = `model.layers.${l}.`;
  gemmW(K, false, false, N, I, hid, 1, dH, hid, p.wDown, I, 0, dAct, I);
  const gDown = g(`${pre}mlp.down_proj.weight`);
  if (gDown) K.gemm(true, false, hid, I, N, 1, dH, hid, t.act, I, 1, gDown, I);
  K.swigluBackward(dAct, t.gate, t.up, dAct, dUp, N * I);
  gemmW(K, false, false, N, hid, I, 1, dAct, I, p.wGate, hid, 0, dXn, hid);
  gemmW(K, false, false, N, hid, I, 1, dUp, I, p.wUp, hid, 1, dXn, hid);
  const gGate = g(`${pre}mlp.gate_proj.weight`), gUp = g(`${pre}mlp.up_proj.weight`);
  if (gGate) K.gemm(true, false, I, hid, N, 1, dAct, I, t.xn2, hid, 1, gGate, hid);
  if (gUp) K.gemm(true, false, I, hid, N, 1, dUp, I, t.xn2, hid, 1, gUp, hid);
  K.rmsnormBackward(dXn, t.h1, p.ln2, t.rstd2, dXn, g(`${pre}post_attention_layernorm.weight`), N, hid);
  addInto(dH, dXn, N * hid);
}

/** Attention block of layer l: h1 = x + o_proj(attention(rope(q), rope(k), v)). */
function attentionBlockBackward(pass: BackwardPass, l: number): void {
  const { model, tape, K, N, hid, qw, kw, g, dH, dXn, dAttn, dq, dk, dv } = pass;
  const c = model.config, H = c.numHeads, KVH = c.numKvHeads, D = c.headDim;
  const p = model.layer(l), t = tape.layers[l];
  const pre = `model.layers.${l}.`;
  gemmW(K, false, false, N, qw, hid, 1, dH, hid, p.wo, qw, 0, dAttn, qw);
  const gO = g(`${pre}self_attn.o_proj.weight`);
  if (gO) K.gemm(true, false, hid, qw, N, 1, dH, hid, t.attn, qw, 1, gO, qw);
  const gOb = p.bo ? g(`${pre}self_attn.o_proj.bias`) : null;
  if (gOb) addColumnSums(dH, N, hid, gOb);
  K.attentionBackward(dAttn, t.q, t.k, t.v, t.probs, dq, dk, dv, tape.attention);
  K.rope(dq, tape.cos, tape.sin, N, H, D, true);
  K.rope(dk, tape.cos, tape.sin, N, KVH, D, true);
  const proj: Array<[FArray, Weight, number, string]> = [
    [dq, p.wq, qw, 'q_proj'], [dk, p.wk, kw, 'k_proj'], [dv, p.wv, kw, 'v_proj'],
  ];
  let first = true;
  for (const [dy, w, width, name] of proj) {
    gemmW(K, false, false, N, hid, width, 1, dy, width, w, hid, first ? 0 : 1, dXn, hid);
    first = false;
    const gw = g(`${pre}self_attn.${name}.weight`);
    if (gw) K.gemm(true, false, width, hid, N, 1, dy, width, t.xn1, hid, 1, gw, hid);
    const gb = c.qkvBias ? g(`${pre}self_attn.${name}.bias`) : null;
    if (gb) addColumnSums(dy, N, width, gb);
  }
  K.rmsnormBackward(dXn, t.xIn, p.ln1, t.rstd1, dXn, g(`${pre}input_layernorm.weight`), N, hid);
  addInto(dH, dXn, N * hid);
}

/** Embedding table gradient (only when the input was token ids). */
function embeddingBackward(pass: BackwardPass): void {
  const { tape, N, hid, dH } = pass;
  const gEmbed = tape.inputIds ? pass.g('model.embed_tokens.weight') : null;
  if (gEmbed && tape.inputIds) {
    const ids = tape.inputIds;
    for (let i = 0; i < N; i++) {
      const o = ids[i] * hid, s = i * hid;
      for (let j = 0; j < hid; j++) gEmbed[o + j] += dH[s + j];
    }
  }
}

/** Zeroed gradient buffers for every parameter of the model (float, also for bfloat16 weights). */
export function zeroGrads(model: CausalLM): Map<string, FArray> {
  const m = new Map<string, FArray>();
  for (const [name, p] of model.params) m.set(name, model.alloc(p.length));
  return m;
}
