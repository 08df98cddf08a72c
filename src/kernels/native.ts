import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AdamwConstants, AttentionShape, FArray, Kernels } from './types.js';

/** The functions exported by build/Release/leaf_native.node (native/src/module.cc). */
interface NativeAddon {
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number,
    beta: number, c: Float32Array, ldc: number,
  ): void;
  gemmBf16(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, lda: number, b: Uint16Array, ldb: number,
    beta: number, c: Float32Array, ldc: number,
  ): void;
  rmsnorm(x: Float32Array, w: Float32Array, out: Float32Array, rstd: Float32Array, rows: number, dim: number, eps: number): void;
  rmsnormBackward(
    dy: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, dx: Float32Array, dw: Float32Array | null,
    rows: number, dim: number,
  ): void;
  rope(x: Float32Array, cos: Float32Array, sin: Float32Array, rows: number, heads: number, headDim: number, inverse: boolean): void;
  swiglu(g: Float32Array, u: Float32Array, h: Float32Array, n: number): void;
  swigluBackward(dh: Float32Array, g: Float32Array, u: Float32Array, dg: Float32Array, du: Float32Array, n: number): void;
  attention(
    q: Float32Array, k: Float32Array, v: Float32Array, keyMask: Uint8Array, out: Float32Array, probs: Float32Array | null,
    batch: number, queries: number, keys: number, keyCapacity: number, past: number,
    heads: number, kvHeads: number, headDim: number, scale: number,
  ): void;
  attentionBackward(
    dOut: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array,
    dq: Float32Array, dk: Float32Array, dv: Float32Array,
    batch: number, queries: number, keys: number, keyCapacity: number, past: number,
    heads: number, kvHeads: number, headDim: number, scale: number,
  ): void;
  crossEntropy(
    logits: Float32Array, targets: Int32Array, rows: number, vocab: number, loss: Float32Array, gradScale: Float32Array | null,
  ): void;
  logSoftmax(x: Float32Array, out: Float32Array, rows: number, n: number): void;
  adamw(
    p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number,
    b1: number, b2: number, stepSize: number, decay: number, sqrtBc2: number, eps: number, gradScale: number,
  ): void;
  chunkSumSquares(x: Float32Array, n: number, chunk: number, out: Float64Array): void;
  /** BLAS and thread configuration, for diagnostics. */
  info(): string;
  /** Threads of leaf's own pool (caller included). */
  threads(): number;
  setThreads(n: number): void;
  setBlasThreads(n: number): void;
  isa(): string;
  setIsa(name: string): string;
}

/** Native kernels plus a few diagnostics (for benchmarks and `leaf` diagnostics output). */
export interface NativeKernels extends Kernels {
  /** BLAS library, its thread count and leaf's pool size. */
  info(): string;
  /** Threads of the pool that runs the non-GEMM kernels (caller included). */
  threads(): number;
  /** Sets the pool size (0 = the default: LEAF_NUM_THREADS, else the CPUs this process may use). */
  setThreads(n: number): void;
  /** Sets OpenBLAS's thread count (no-op with other BLAS libraries). */
  setBlasThreads(n: number): void;
  /** Instruction set of the non-GEMM kernels: 'avx512', 'avx2', 'sse2' (x86-64) or 'base' (other CPUs). */
  isa(): string;
  /**
   * Selects the instruction set ('avx512', 'avx2' or 'base'), capped at what the CPU supports; returns
   * the one in use. For tests and benchmarks (LEAF_ISA does the same at load time).
   */
  setIsa(name: string): string;
}

const ADDON_PATH = ['build', 'Release', 'leaf_native.node'];

/** The folder holding leaf's package.json, found by walking up from this module. */
export function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'leaf') return dir;
      } catch {
        // unreadable package.json: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function f32(x: FArray | null, fn: string, name: string): Float32Array {
  if (x instanceof Float32Array) return x;
  if (x instanceof Float64Array) {
    throw new Error(`native ${fn}: ${name} is a Float64Array, but the native kernels are float32-only; use the js kernels (LEAF_KERNELS=js) for float64`);
  }
  throw new TypeError(`native ${fn}: ${name} must be a Float32Array`);
}

function f32OrNull(x: FArray | null, fn: string, name: string): Float32Array | null {
  return x === null || x === undefined ? null : f32(x, fn, name);
}

function wrap(addon: NativeAddon): NativeKernels {
  return {
    name: 'native',
    supportsFloat64: false,
    gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      addon.gemm(transA, transB, m, n, k, alpha, f32(a, 'gemm', 'a'), lda, f32(b, 'gemm', 'b'), ldb, beta, f32(c, 'gemm', 'c'), ldc);
    },
    gemmBf16(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      const fn = 'gemmBf16';
      if (!(b instanceof Uint16Array)) throw new TypeError('native gemmBf16: b must be a Uint16Array of bfloat16 bits');
      addon.gemmBf16(transA, transB, m, n, k, alpha, f32(a, fn, 'a'), lda, b, ldb, beta, f32(c, fn, 'c'), ldc);
    },
    rmsnorm(x, w, out, rstd, rows, dim, eps) {
      const fn = 'rmsnorm';
      addon.rmsnorm(f32(x, fn, 'x'), f32(w, fn, 'w'), f32(out, fn, 'out'), f32(rstd, fn, 'rstd'), rows, dim, eps);
    },
    rmsnormBackward(dy, x, w, rstd, dx, dw, rows, dim) {
      const fn = 'rmsnormBackward';
      addon.rmsnormBackward(
        f32(dy, fn, 'dy'), f32(x, fn, 'x'), f32(w, fn, 'w'), f32(rstd, fn, 'rstd'), f32(dx, fn, 'dx'), f32OrNull(dw, fn, 'dw'),
        rows, dim,
      );
    },
    rope(x, cos, sin, rows, heads, headDim, inverse) {
      addon.rope(f32(x, 'rope', 'x'), f32(cos, 'rope', 'cos'), f32(sin, 'rope', 'sin'), rows, heads, headDim, inverse);
    },
    swiglu(g, u, h, n) {
      addon.swiglu(f32(g, 'swiglu', 'g'), f32(u, 'swiglu', 'u'), f32(h, 'swiglu', 'h'), n);
    },
    swigluBackward(dh, g, u, dg, du, n) {
      const fn = 'swigluBackward';
      addon.swigluBackward(f32(dh, fn, 'dh'), f32(g, fn, 'g'), f32(u, fn, 'u'), f32(dg, fn, 'dg'), f32(du, fn, 'du'), n);
    },
    attention(q, k, v, keyMask, out, probs, s: AttentionShape) {
      const fn = 'attention';
      addon.attention(
        f32(q, fn, 'q'), f32(k, fn, 'k'), f32(v, fn, 'v'), keyMask, f32(out, fn, 'out'), f32OrNull(probs, fn, 'probs'),
        s.batch, s.queries, s.keys, s.keyCapacity, s.past, s.heads, s.kvHeads, s.headDim, s.scale,
      );
    },
    attentionBackward(dOut, q, k, v, probs, dq, dk, dv, s: AttentionShape) {
      const fn = 'attentionBackward';
      addon.attentionBackward(
        f32(dOut, fn, 'dOut'), f32(q, fn, 'q'), f32(k, fn, 'k'), f32(v, fn, 'v'), f32(probs, fn, 'probs'),
        f32(dq, fn, 'dq'), f32(dk, fn, 'dk'), f32(dv, fn, 'dv'),
        s.batch, s.queries, s.keys, s.keyCapacity, s.past, s.heads, s.kvHeads, s.headDim, s.scale,
      );
    },
    crossEntropy(logits, targets, rows, vocab, loss, gradScale) {
      const fn = 'crossEntropy';
      addon.crossEntropy(f32(logits, fn, 'logits'), targets, rows, vocab, f32(loss, fn, 'loss'), f32OrNull(gradScale, fn, 'gradScale'));
    },
    logSoftmax(x, out, rows, n) {
      addon.logSoftmax(f32(x, 'logSoftmax', 'x'), f32(out, 'logSoftmax', 'out'), rows, n);
    },
    adamw(p, g, m, v, n, c: AdamwConstants) {
      const fn = 'adamw';
      addon.adamw(f32(p, fn, 'p'), f32(g, fn, 'g'), f32(m, fn, 'm'), f32(v, fn, 'v'), n, c.b1, c.b2, c.stepSize, c.decay, c.sqrtBc2, c.eps, c.gradScale);
    },
    chunkSumSquares(x, n, chunk, out) {
      addon.chunkSumSquares(f32(x, 'chunkSumSquares', 'x'), n, chunk, out);
    },
    info: () => addon.info(),
    threads: () => addon.threads(),
    setThreads: (n: number) => addon.setThreads(n),
    setBlasThreads: (n: number) => addon.setBlasThreads(n),
    isa: () => addon.isa(),
    setIsa: (name: string) => addon.setIsa(name),
  };
}

let cached: { kernels: NativeKernels | null; reason: string } | null = null;

/**
 * Loads build/Release/leaf_native.node from the package root. Returns {kernels: null, reason} when the
 * addon was not built or cannot be loaded (missing OpenBLAS at run time, ABI mismatch, …).
 */
export function loadNativeKernels(): { kernels: NativeKernels | null; reason: string } {
  if (cached) return cached;
  const root = packageRoot();
  if (!root) return (cached = { kernels: null, reason: 'cannot find the leaf package root (package.json with name "leaf")' });
  const file = join(root, ...ADDON_PATH);
  if (!existsSync(file)) return (cached = { kernels: null, reason: `addon not built (${file} is missing)` });
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    if (typeof addon?.gemm !== 'function' || typeof addon.gemmBf16 !== 'function' || typeof addon.attentionBackward !== 'function' || typeof addon.adamw !== 'function') {
      return (cached = { kernels: null, reason: `${file} does not export the leaf kernels (stale build? run npm run build:native)` });
    }
    return (cached = { kernels: wrap(addon), reason: 'loaded' });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return (cached = { kernels: null, reason: `addon failed to load: ${msg}` });
  }
}
