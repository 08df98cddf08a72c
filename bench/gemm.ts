/**
 * GEMM throughput probe: GFLOP/s of kernels.gemm on 512³ and on the GEMM shapes of a
 * 576-hidden / 1536-intermediate / 49152-vocab model (SmolLM-135M-like, 9 heads / 3 KV heads of 64)
 * at 256 tokens, forward (x·Wᵀ) and backward (dX = dY·W, dW = dYᵀ·X).
 *
 * Used by the main benchmark (`gemmProbe`); also runnable alone: node dist/bench/gemm.js [--quick]
 */
import { pathToFileURL } from 'node:url';
import { getKernels } from '../src/kernels/index.js';
import type { Kernels } from '../src/kernels/types.js';

export interface GemmShape {
  name: string;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
}

export interface GemmResult extends GemmShape {
  /** Best time of one call, in milliseconds. */
  ms: number;
  /** Median time of one call, in milliseconds. */
  medianMs: number;
  /** 2·m·n·k / best time. */
  gflops: number;
  reps: number;
}

const T = 256, HID = 576, KV = 192, FF = 1536, VOCAB = 49152;

export const GEMM_SHAPES: GemmShape[] = [
  { name: '512³ NN', transA: false, transB: false, m: 512, n: 512, k: 512 },
  { name: '512³ NT', transA: false, transB: true, m: 512, n: 512, k: 512 },
  { name: 'q/o proj  x·Wᵀ', transA: false, transB: true, m: T, n: HID, k: HID },
  { name: 'k/v proj  x·Wᵀ', transA: false, transB: true, m: T, n: KV, k: HID },
  { name: 'gate/up   x·Wᵀ', transA: false, transB: true, m: T, n: FF, k: HID },
  { name: 'down      x·Wᵀ', transA: false, transB: true, m: T, n: HID, k: FF },
  { name: 'lm_head   x·Wᵀ', transA: false, transB: true, m: T, n: VOCAB, k: HID },
  { name: 'gate/up   dX=dY·W', transA: false, transB: false, m: T, n: HID, k: FF },
  { name: 'down      dX=dY·W', transA: false, transB: false, m: T, n: FF, k: HID },
  { name: 'lm_head   dX=dY·W', transA: false, transB: false, m: T, n: HID, k: VOCAB },
  { name: 'gate/up   dW=dYᵀ·X', transA: true, transB: false, m: FF, n: HID, k: T },
  { name: 'down      dW=dYᵀ·X', transA: true, transB: false, m: HID, n: FF, k: T },
  { name: 'lm_head   dW=dYᵀ·X', transA: true, transB: false, m: VOCAB, n: HID, k: T },
  { name: 'decode gate/up x·Wᵀ', transA: false, transB: true, m: 1, n: FF, k: HID },
  { name: 'decode lm_head x·Wᵀ', transA: false, transB: true, m: 1, n: VOCAB, k: HID },
];

/** Times kernels.gemm on each shape (float32, beta = 0): warm-up, then repeats for at least minTimeMs. */
export function gemmProbe(kernels: Kernels, shapes: GemmShape[] = GEMM_SHAPES, minTimeMs = 300): GemmResult[] {
  const results: GemmResult[] = [];
  for (const s of shapes) {
    const a = new Float32Array(s.m * s.k), b = new Float32Array(s.k * s.n), c = new Float32Array(s.m * s.n);
    for (let i = 0; i < a.length; i++) a[i] = ((i * 7919) % 1000) / 1000 - 0.5;
    for (let i = 0; i < b.length; i++) b[i] = ((i * 104729) % 1000) / 1000 - 0.5;
    const lda = s.transA ? s.m : s.k, ldb = s.transB ? s.k : s.n;
    const call = () => kernels.gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n);
    call();
    call();
    const times: number[] = [];
    const start = performance.now();
    while (times.length < 3 || (performance.now() - start < minTimeMs && times.length < 1000)) {
      const t0 = performance.now();
      call();
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const ms = times[0];
    results.push({ ...s, ms, medianMs: times[times.length >> 1], gflops: (2 * s.m * s.n * s.k) / (ms * 1e6), reps: times.length });
  }
  return results;
}

export function formatGemmResults(results: GemmResult[]): string {
  const lines = results.map((r) => {
    const shape = `${r.transA ? 'T' : 'N'}${r.transB ? 'T' : 'N'} ${r.m}×${r.n}×${r.k}`;
    return `${r.name.padEnd(20)} ${shape.padEnd(20)} ${r.gflops.toFixed(1).padStart(7)} GFLOP/s  best ${r.ms.toFixed(3).padStart(8)} ms  median ${r.medianMs.toFixed(3).padStart(8)} ms`;
  });
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const kernels = getKernels();
  const quick = process.argv.includes('--quick');
  const info = 'info' in kernels && typeof kernels.info === 'function' ? ` (${(kernels.info as () => string)()})` : '';
  console.log(`kernels: ${kernels.name}${info}`);
  const shapes = kernels.name === 'js' || quick ? GEMM_SHAPES.filter((s) => s.m * s.n * s.k <= 512 ** 3) : GEMM_SHAPES;
  console.log(formatGemmResults(gemmProbe(kernels, shapes, quick ? 100 : 300)));
}
