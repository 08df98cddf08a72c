/**
 * The opt-in 8B row of `npm run bench -- --big`: gradient saliency (one forward + one backward to the input
 * embeddings, LeaF's mining score) of one 256-token prompt on a model with Llama-3.1-8B's shapes (32 layers,
 * hidden 4096, intermediate 14336, 32/8 heads, vocabulary 128256, untied) and random bfloat16 weights made in
 * memory (nothing written to disk): wall time and peak RSS (goal < 20 GB, so that an 8B teacher mines on a
 * 24 GB machine). Runs in its own process; needs about 19 GB free.
 *
 *   node dist/bench/big.js [--layers=N]   prints one line and a JSON object (N < 32: a cheaper smoke run)
 */
import { f32ToBf16Array } from '../src/io/dtype.js';
import { getKernels } from '../src/kernels/index.js';
import { inputSaliency } from '../src/method/saliency.js';
import { CausalLM } from '../src/model/causal-lm.js';
import { parseConfig } from '../src/model/config.js';
import { numel, paramSpecs } from '../src/model/params.js';
import type { Weight } from '../src/model/weights.js';
import { isMatrixShape } from '../src/model/weights.js';
import { Rng } from '../src/util/rng.js';
import { fmtMs, nowMs, peakRssMiB } from './common.js';

export const LLAMA_8B_CONFIG = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32,
  num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128, vocab_size: 128256, tie_word_embeddings: false,
  rope_theta: 500000, rms_norm_eps: 1e-5, max_position_embeddings: 131072, hidden_act: 'silu', torch_dtype: 'bfloat16',
};

/** Random bf16 weights, fast: one pool of 2^24 normal(0, 0.02) values, each tensor a cyclic slice of it at its own offset. */
function randomBf16Params(specs: ReturnType<typeof paramSpecs>, seed: number): Map<string, Weight> {
  const rng = new Rng(seed);
  const pool = new Float32Array(1 << 24);
  for (let i = 0; i < pool.length; i++) pool[i] = 0.02 * rng.normal();
  const bits = f32ToBf16Array(pool);
  const params = new Map<string, Weight>();
  specs.forEach((s, t) => {
    const n = numel(s.shape);
    if (!isMatrixShape(s.shape)) {
      params.set(s.name, new Float32Array(n).fill(1));
      return;
    }
    const w = new Uint16Array(n);
    let off = (t * 7919) % bits.length;
    for (let i = 0; i < n; ) {
      const m = Math.min(n - i, bits.length - off);
      w.set(bits.subarray(off, off + m), i);
      i += m;
      off = 0;
    }
    params.set(s.name, w);
  });
  return params;
}

export interface BigResult {
  shapes: string;
  tokens: number;
  initMs: number;
  saliencyMs: number;
  backwardMs: number;
  residentWeightsGiB: number;
  peakRssGiB: number;
  loss: number;
}

export function runBig(tokens = 256, layers = 32): BigResult {
  const t0 = nowMs();
  const config = parseConfig({ ...LLAMA_8B_CONFIG, num_hidden_layers: layers }, 'llama-3.1-8b-shapes');
  const model = new CausalLM(config, randomBf16Params(paramSpecs(config), 1234), getKernels());
  const initMs = nowMs() - t0;
  const rng = new Rng(7);
  const ids = Array.from({ length: tokens }, () => 1 + Math.floor(rng.next() * (config.vocabSize - 1)));
  const scored = Array.from({ length: tokens / 2 }, (_, i) => i);
  const lossPositions = Array.from({ length: tokens / 2 }, (_, i) => tokens / 2 + i);
  const t1 = nowMs();
  const r = inputSaliency(model, ids, scored, lossPositions);
  return {
    shapes: `Llama-3.1-8B (${layers} layers, hidden 4096, intermediate 14336, 32/8 heads, vocab 128256), random bf16 weights`,
    tokens, initMs, saliencyMs: nowMs() - t1, backwardMs: r.backwardMs,
    residentWeightsGiB: model.residentBytes() / 2 ** 30, peakRssGiB: peakRssMiB() / 1024, loss: r.loss,
  };
}

export function bigLine(r: BigResult): string {
  return `8B-shape saliency (${r.tokens} tokens, bf16 weights ${r.residentWeightsGiB.toFixed(1)} GiB): ${fmtMs(r.saliencyMs)} ` +
    `(backward ${fmtMs(r.backwardMs)}; weights made in ${fmtMs(r.initMs)}), peak RSS ${r.peakRssGiB.toFixed(1)} GiB (goal < 20 GB = 18.6 GiB)`;
}

if (process.argv[1]?.endsWith('big.js')) {
  const layers = Number(process.argv.find((a) => a.startsWith('--layers='))?.slice(9) ?? 32);
  const r = runBig(256, layers);
  process.stdout.write(bigLine(r) + '\n' + JSON.stringify(r) + '\n');
}
