import { bf16ToF32Array, f32ToBf16Array } from '../io/dtype.js';
import { adamwRange, chunkSumSquares, sumSquares } from '../kernels/js/optim.js';
import type { AdamwConstants, FArray, Kernels } from '../kernels/types.js';
import { isBf16, type Weight } from '../model/weights.js';

/** The element loops (defined with the kernels, which run them natively too). */
export { adamwRange, sumSquares };

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Allocates the moment buffers (default: a plain Float32Array / Float64Array like the parameter). */
  alloc?: (n: number, like: FArray) => FArray;
}

/** The per-step constants of the element update, shared with the worker threads of tensor-pool.ts and the kernels. */
export type AdamWStepConstants = AdamwConstants;

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

/** Elements per chunk of the gradient norm: the sum is taken chunk by chunk, in order, whoever computes a chunk. */
export const NORM_CHUNK = 1 << 16;

/**
 * Global L2 norm of all gradients: the squares are summed per chunk of {@link NORM_CHUNK} elements (by
 * `kernels`' chunkSumSquares, default the TypeScript loop; every implementation gives the same bits) and
 * the chunk sums added in order, so a parallel computation (tensor-pool.ts) gives the same bits too.
 */
export function gradNorm(grads: Map<string, FArray>, kernels: Pick<Kernels, 'chunkSumSquares'> = { chunkSumSquares }): number {
  let s = 0, sums = new Float64Array(0);
  for (const g of grads.values()) {
    const n = Math.ceil(g.length / NORM_CHUNK);
    if (sums.length < n) sums = new Float64Array(n);
    kernels.chunkSumSquares(g, g.length, NORM_CHUNK, sums);
    for (let k = 0; k < n; k++) s += sums[k];
  }
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
