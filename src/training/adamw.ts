import { bf16ToF32Array, f32ToBf16Array } from '../io/dtype.js';
import type { FArray } from '../kernels/types.js';
import { isBf16, type Weight } from '../model/weights.js';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Allocates the moment buffers (default: a plain Float32Array / Float64Array like the parameter). */
  alloc?: (n: number, like: FArray) => FArray;
}

/** The per-step constants of the element update, shared with the worker threads of tensor-pool.ts. */
export interface AdamWStepConstants {
  b1: number;
  b2: number;
  stepSize: number;
  decay: number;
  sqrtBc2: number;
  eps: number;
  gradScale: number;
}

/** Something that runs the element update over every tensor in parallel (tensor-pool.ts). */
export interface AdamWExecutor {
  adamw(c: AdamWStepConstants): void;
}

/**
 * AdamW as torch.optim.AdamW (decoupled weight decay, bias-corrected moments, eps added to the corrected
 * second moment's square root). Moments are float32 (float64 for a float64 model); the state can be saved
 * and restored for resumable training. A bfloat16 parameter is trained through a float32 master copy
 * (`master`): the update runs on the master, which is then rounded (nearest even) into the bf16 tensor.
 */
export class AdamW {
  readonly m = new Map<string, FArray>();
  readonly v = new Map<string, FArray>();
  step = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** When set, update() runs on it (it must cover exactly these parameters, gradients and moments). */
  executor: AdamWExecutor | null = null;
  /** The float tensors updated: the model's own float parameters, and the masters of its bf16 ones. */
  readonly params = new Map<string, FArray>();
  /** Float32 master weights of the bfloat16 parameters, by name. */
  readonly master = new Map<string, Float32Array>();
  private readonly bf16 = new Map<string, Uint16Array>();

  constructor(params: Map<string, Weight>, options: AdamWOptions) {
    for (const [name, p] of params) {
      if (!isBf16(p)) {
        this.params.set(name, p);
        continue;
      }
      const m = bf16ToF32Array(p);
      this.master.set(name, m);
      this.bf16.set(name, p);
      this.params.set(name, m);
    }
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    const alloc = options.alloc ?? ((n: number, like: FArray) => (like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n)));
    for (const [name, p] of this.params) {
      this.m.set(name, alloc(p.length, p));
      this.v.set(name, alloc(p.length, p));
    }
  }

  /** The element-update constants of the next step. */
  constants(lr: number, gradScale: number): AdamWStepConstants {
    const t = this.step + 1;
    const bc1 = 1 - Math.pow(this.beta1, t), bc2 = 1 - Math.pow(this.beta2, t);
    return { b1: this.beta1, b2: this.beta2, stepSize: lr / bc1, decay: 1 - lr * this.weightDecay, sqrtBc2: Math.sqrt(bc2), eps: this.eps, gradScale };
  }

  /**
   * One update with learning rate `lr` from gradients `grads` (same names as the parameters), each
   * gradient multiplied by `gradScale` first (gradient clipping fused into the update; default 1).
   */
  update(grads: Map<string, FArray>, lr: number, gradScale = 1): void {
    const c = this.constants(lr, gradScale);
    this.step++;
    if (this.executor) {
      this.executor.adamw(c);
    } else {
      for (const [name, p] of this.params) {
        const g = grads.get(name);
        if (!g) continue;
        adamwRange(p, g, this.m.get(name)!, this.v.get(name)!, 0, p.length, c);
      }
    }
    this.syncBf16();
  }

  /** Rounds every master weight into its bfloat16 parameter (after an update, or after the masters were restored). */
  syncBf16(): void {
    for (const [name, w] of this.bf16) f32ToBf16Array(this.master.get(name)!, w);
  }
}

/**
 * The element loop of {@link AdamW.update} over [start, end), kept in its own small function so that V8
 * compiles one tight loop (a measured 2× over the loop written inside the method). Same arithmetic as
 * torch.optim.AdamW: p ← p·(1 − lr·wd) − stepSize · m / (√v / √bc2 + eps), in float64 per element.
 */
export function adamwRange(p: FArray, g: FArray, m: FArray, v: FArray, start: number, end: number, c: AdamWStepConstants): void {
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

/** Elements per chunk of the gradient norm: the sum is taken chunk by chunk, in order, whoever computes a chunk. */
export const NORM_CHUNK = 1 << 16;

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

/**
 * Global L2 norm of all gradients: the squares are summed per chunk of {@link NORM_CHUNK} elements and
 * the chunk sums added in order, so a parallel computation (tensor-pool.ts) gives the same bits.
 */
export function gradNorm(grads: Map<string, FArray>): number {
  let s = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i += NORM_CHUNK) s += sumSquares(g, i, Math.min(g.length, i + NORM_CHUNK));
  return Math.sqrt(s);
}

/** The factor clipGradNorm would scale the gradients by, for a global norm `norm` (1 when no clipping applies). */
export function clipScale(norm: number, maxNorm: number): number {
  return Number.isFinite(norm) && norm > maxNorm && maxNorm > 0 ? maxNorm / (norm + 1e-6) : 1;
}

/** Scales gradients so their global norm is at most maxNorm (as torch.nn.utils.clip_grad_norm_); returns the norm before clipping. */
export function clipGradNorm(grads: Map<string, FArray>, maxNorm: number): number {
  const norm = gradNorm(grads);
  const scale = clipScale(norm, maxNorm);
  if (scale !== 1) for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= scale;
  return norm;
}
