/**
 * The trainer's optimizer state: AdamW, the gradient buffers, and who runs the element loops (the gradient
 * norm and the update, memory-bound loops over every parameter). With native kernels: the kernels (SIMD, on
 * the addon's thread pool; bit-identical to the TypeScript loops). With the TypeScript kernels, for float32
 * models of millions of parameters on a multi-core machine: a worker pool (tensor-pool.ts), for which the
 * parameters are moved into shared memory (the model's parameter map gets new Float32Arrays with the same
 * values; references taken before are stale).
 */
import { availableParallelism } from 'node:os';
import type { FArray } from '../kernels/types.js';
import { zeroGrads } from '../model/backward.js';
import type { CausalLM } from '../model/causal-lm.js';
import { AdamW, gradNorm, type AdamWOptions } from './adamw.js';
import { sharedFloat32, TensorPool, toShared } from './tensor-pool.js';

/** Parameter count from which the optimizer's element loops run on all cores. */
export const PARALLEL_MIN_PARAMS = 1 << 22;

export interface OptimizerSetup {
  optimizer: AdamW;
  grads: Map<string, FArray>;
  pool: TensorPool | null;
  /** Global L2 norm of `grads` (bit-identical with or without the pool). */
  gradNorm(): number;
  close(): void;
}

/**
 * 'auto': native kernels when the model has them, else the pool for float32 models of ≥ PARALLEL_MIN_PARAMS
 * parameters on a multi-core machine; 'always': the pool (TypeScript loops on worker threads); 'never': the
 * TypeScript loops on this thread.
 */
export type ParallelOptimizer = 'auto' | 'always' | 'never';

export function setupOptimizer(model: CausalLM, options: AdamWOptions & { parallel?: ParallelOptimizer }): OptimizerSetup {
  const mode = options.parallel ?? 'auto';
  if (mode === 'auto' && model.kernels.name !== 'js' && model.floatType === Float32Array) return kernelOptimizer(model, options);
  // bf16 models train through the optimizer's float32 masters, which the pool does not cover.
  const parallel = mode !== 'never' && model.floatType === Float32Array && model.weightDtype === 'f32' && availableParallelism() > 1 &&
    (mode === 'always' || model.numParameters() >= PARALLEL_MIN_PARAMS);
  if (!parallel) {
    const optimizer = new AdamW(model.params, options);
    const grads = zeroGrads(model);
    return { optimizer, grads, pool: null, gradNorm: () => gradNorm(grads), close: () => {} };
  }
  for (const [name, p] of model.params) model.params.set(name, toShared(p as Float32Array));
  const optimizer = new AdamW(model.params, { ...options, alloc: (n) => sharedFloat32(n) });
  const grads = new Map<string, FArray>();
  for (const [name, p] of model.params) grads.set(name, sharedFloat32(p.length));
  const pool = TensorPool.create([...model.params.keys()].map((name) => ({
    p: model.params.get(name) as Float32Array, g: grads.get(name) as Float32Array,
    m: optimizer.m.get(name) as Float32Array, v: optimizer.v.get(name) as Float32Array,
  })), { minElements: 0 });
  optimizer.executor = pool;
  return {
    optimizer, grads, pool,
    gradNorm: () => (pool ? pool.gradNorm() : gradNorm(grads)),
    close: () => pool?.close(),
  };
}

/** The update and the norm on the model's (native) kernels: the element loops in SIMD on the addon's thread pool. */
function kernelOptimizer(model: CausalLM, options: AdamWOptions): OptimizerSetup {
  const K = model.kernels;
  const optimizer = new AdamW(model.params, options);
  const grads = zeroGrads(model);
  const tensors = [...optimizer.params].flatMap(([name, p]) => {
    const g = grads.get(name);
    return g ? [{ p, g, m: optimizer.m.get(name)!, v: optimizer.v.get(name)! }] : [];
  });
  optimizer.executor = { adamw: (c) => { for (const t of tensors) K.adamw(t.p, t.g, t.m, t.v, t.p.length, c); } };
  return { optimizer, grads, pool: null, gradNorm: () => gradNorm(grads, K), close: () => {} };
}
