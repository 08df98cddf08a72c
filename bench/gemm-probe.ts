/**
 * GEMM throughput of the kernels' gemm on 512³ and on the shapes the model actually runs
 * (the PyTorch peer measures torch.mm on the same list, with the same transposes).
 */
import { getKernels } from '../src/kernels/index.js';
import type { Kernels } from '../src/kernels/types.js';
import { median, nowMs, type BenchConfig } from './common.js';

export interface GemmShape {
  name: string;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
}

export interface GemmResult extends GemmShape {
  /** Median and fastest time per call over the samples. */
  ms: number;
  minMs?: number;
  gflops: number;
}

/** 512³ plus the main shapes of one forward/backward of N tokens and of a decoding step (SmolLM2-135M widths). */
export function gemmShapes(N: number): GemmShape[] {
  const hid = 576, qw = 576, kw = 192, I = 1536, V = 49152;
  const s = (name: string, transA: boolean, transB: boolean, m: number, n: number, k: number): GemmShape => ({ name, transA, transB, m, n, k });
  return [
    s('square 512³ (NN)', false, false, 512, 512, 512),
    s('q/o_proj fwd x·Wᵀ', false, true, N, qw, hid),
    s('k/v_proj fwd x·Wᵀ', false, true, N, kw, hid),
    s('gate/up fwd x·Wᵀ', false, true, N, I, hid),
    s('down fwd x·Wᵀ', false, true, N, hid, I),
    s('lm_head fwd x·Eᵀ', false, true, N, V, hid),
    s('lm_head bwd dX = dL·E', false, false, N, hid, V),
    s('lm_head bwd dE = dLᵀ·x', true, false, V, hid, N),
    s('gate/up bwd dX = dY·W', false, false, N, hid, I),
    s('gate/up bwd dW = dYᵀ·x', true, false, I, hid, N),
    s('down bwd dW = dYᵀ·a', true, false, hid, I, N),
    s('decode gate/up (1 token)', false, true, 1, I, hid),
    s('decode lm_head (1 token)', false, true, 1, V, hid),
  ];
}

function fill(a: Float32Array, seed: number): Float32Array {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    a[i] = (x / 4294967296 - 0.5) * 0.1;
  }
  return a;
}

/** Median time per call of one GEMM shape; each sample runs enough calls to last ≥ ~25 ms (at least one). */
export function timeGemm(K: Kernels, s: GemmShape, samples: number): GemmResult {
  const { transA, transB, m, n, k } = s;
  const a = fill(new Float32Array(m * k), 1), b = fill(new Float32Array(k * n), 2), c = new Float32Array(m * n);
  const lda = transA ? m : k, ldb = transB ? k : n;
  const call = () => K.gemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, n);
  let t0 = nowMs();
  call();
  const once = Math.max(nowMs() - t0, 1e-3);
  const inner = Math.max(1, Math.min(1000, Math.ceil(25 / once)));
  const per: number[] = [];
  for (let r = 0; r < samples; r++) {
    t0 = nowMs();
    for (let i = 0; i < inner; i++) call();
    per.push((nowMs() - t0) / inner);
  }
  const ms = median(per);
  return { ...s, ms, minMs: Math.min(...per), gflops: (2 * m * n * k) / (ms * 1e6) };
}

export function runGemmProbe(cfg: BenchConfig, K: Kernels = getKernels()): GemmResult[] {
  const shapes = gemmShapes(cfg.seqLen);
  // Warm the BLAS and leaf thread pools (thread start-up, page faults of the buffers) for ~200 ms, untimed,
  // so that the first shape measured is not charged with it.
  const t0 = nowMs();
  while (nowMs() - t0 < 200) timeGemm(K, shapes[0], 1);
  return shapes.map((s) => timeGemm(K, s, cfg.gemmReps));
}
