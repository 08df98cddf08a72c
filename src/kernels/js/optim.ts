/**
 * The optimizer's element loops (the definition the native kernels reproduce bit for bit, native/src/optim.cc):
 * the AdamW update and the chunked sums of squares of the gradient norm, in float64 per element.
 */
import type { AdamwConstants, FArray } from '../types.js';

/**
 * The AdamW element update over [start, end), kept in its own small function so that V8 compiles one
 * tight loop (a measured 2× over the loop written inside a method). Same arithmetic as
 * torch.optim.AdamW: p ← p·(1 − lr·wd) − stepSize · m / (√v / √bc2 + eps), in float64 per element.
 */
export function adamwRange(p: FArray, g: FArray, m: FArray, v: FArray, start: number, end: number, c: AdamwConstants): void {
  const b1 = c.b1, b2 = c.b2, c1 = 1 - c.b1, c2 = 1 - c.b2;
  const stepSize = c.stepSize, decay = c.decay, sqrtBc2 = c.sqrtBc2, eps = c.eps, scale = c.gradScale;
  for (let i = start; i < end; i++) {
    const gi = g[i] * scale;
    const mi = b1 * m[i] + c1 * gi;
    const vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    // m and v are read back from their arrays: with float32 state the update uses the stored (rounded)
    // moments, exactly as torch.optim.AdamW does (and as this loop did before it was parallelised).
    p[i] = p[i] * decay - (stepSize * m[i]) / (Math.sqrt(v[i]) / sqrtBc2 + eps);
  }
}

/** Σ x² over [start, end) with four independent accumulators (one accumulator is bound by the add latency). */
export function sumSquares(x: FArray, start: number, end: number): number {
  let a = 0, b = 0, c = 0, d = 0;
  const n4 = end - ((end - start) % 4);
  for (let i = start; i < n4; i += 4) {
    const x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
    a += x0 * x0;
    b += x1 * x1;
    c += x2 * x2;
    d += x3 * x3;
  }
  for (let i = n4; i < end; i++) a += x[i] * x[i];
  return a + b + c + d;
}

export function adamw(p: FArray, g: FArray, m: FArray, v: FArray, n: number, c: AdamwConstants): void {
  adamwRange(p, g, m, v, 0, n, c);
}

export function chunkSumSquares(x: FArray, n: number, chunk: number, out: Float64Array): void {
  if (!(chunk > 0)) throw new RangeError('chunkSumSquares: chunk must be positive');
  for (let k = 0, s = 0; s < n; k++, s += chunk) out[k] = sumSquares(x, s, Math.min(n, s + chunk));
}
