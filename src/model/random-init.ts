import type { Kernels } from '../kernels/types.js';
import { Rng } from '../util/rng.js';
import { CausalLM, type FloatArrayType } from './causal-lm.js';
import type { ModelConfig } from './config.js';
import { numel, paramSpecs } from './params.js';
import { isMatrixShape, toBf16, type Weight, type WeightDtype } from './weights.js';

export interface RandomInitOptions {
  seed?: number;
  /** Standard deviation of linear and embedding weights (transformers' initializer_range, default 0.02). */
  std?: number;
  /** Randomise norm weights and biases too (default false: norms 1, biases 0, as transformers initialises). */
  perturbAll?: boolean;
  /** Resident dtype of the weight matrices (default f32; bf16 rounds each matrix as it is made). */
  dtype?: WeightDtype;
}

/** A model with freshly initialised weights, transformers-style (normal(0, std) matrices, unit norms). */
export function randomModel(config: ModelConfig, kernels: Kernels, floatType: FloatArrayType = Float32Array, options: RandomInitOptions = {}): CausalLM {
  const rng = new Rng(options.seed ?? 0);
  const std = options.std ?? 0.02;
  const params = new Map<string, Weight>();
  for (const spec of paramSpecs(config)) {
    const p = new floatType(numel(spec.shape));
    const isNorm = spec.name.endsWith('norm.weight');
    const isBias = spec.name.endsWith('.bias');
    for (let i = 0; i < p.length; i++) {
      if (isNorm) p[i] = options.perturbAll ? 1 + 0.1 * rng.normal() : 1;
      else if (isBias) p[i] = options.perturbAll ? 0.1 * rng.normal() : 0;
      else p[i] = std * rng.normal();
    }
    params.set(spec.name, options.dtype === 'bf16' && isMatrixShape(spec.shape) ? toBf16(p) : p);
  }
  return new CausalLM(config, params, kernels, floatType);
}
