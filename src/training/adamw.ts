import type { FArray } from '../kernels/types.js';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/**
 * AdamW as torch.optim.AdamW (decoupled weight decay, bias-corrected moments, eps added to the corrected
 * second moment's square root). Moments are float32 (float64 for a float64 model); the state can be saved
 * and restored for resumable training.
 */
export class AdamW {
  readonly m = new Map<string, FArray>();
  readonly v = new Map<string, FArray>();
  step = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(readonly params: Map<string, FArray>, options: AdamWOptions) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    for (const [name, p] of params) {
      const make = p instanceof Float64Array ? Float64Array : Float32Array;
      this.m.set(name, new make(p.length));
      this.v.set(name, new make(p.length));
    }
  }

  /** One update with learning rate `lr` from gradients `grads` (same names as the parameters). */
  update(grads: Map<string, FArray>, lr: number): void {
    this.step++;
    const b1 = this.beta1, b2 = this.beta2;
    const bc1 = 1 - Math.pow(b1, this.step), bc2 = 1 - Math.pow(b2, this.step);
    const stepSize = lr / bc1;
    const decay = 1 - lr * this.weightDecay;
    const sqrtBc2 = Math.sqrt(bc2);
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g) continue;
      const m = this.m.get(name)!, v = this.v.get(name)!;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        if (decay !== 1) p[i] *= decay;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / sqrtBc2 + this.eps);
      }
    }
  }
}

/** Global L2 norm of all gradients. */
export function gradNorm(grads: Map<string, FArray>): number {
  let s = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/** Scales gradients so their global norm is at most maxNorm (as torch.nn.utils.clip_grad_norm_); returns the norm before clipping. */
export function clipGradNorm(grads: Map<string, FArray>, maxNorm: number): number {
  const norm = gradNorm(grads);
  if (Number.isFinite(norm) && norm > maxNorm && maxNorm > 0) {
    const scale = maxNorm / (norm + 1e-6);
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= scale;
  }
  return norm;
}
