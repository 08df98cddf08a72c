/**
 * leaf — library entry point. See README.md for the API tour.
 */
export { LeafError } from './errors.js';
export { getKernels, jsKernels, nativeKernelsOrNull } from './kernels/index.js';
export type { AttentionShape, FArray, Kernels } from './kernels/types.js';
export { CausalLM } from './model/causal-lm.js';
export type { BackwardOptions, FloatArrayType, ForwardInput, ForwardOutput } from './model/causal-lm.js';
export { backward, zeroGrads } from './model/backward.js';
export { loadConfig, parseConfig } from './model/config.js';
export type { ModelConfig } from './model/config.js';
export { argmax, generate, sampleToken } from './model/generate.js';
export type { GenerateOptions, GenerateResult } from './model/generate.js';
export { KVCache } from './model/kv-cache.js';
export { loadModel } from './model/load.js';
export type { LoadOptions } from './model/load.js';
export { meanCrossEntropy, shiftedTargets } from './model/loss.js';
export { paramSpecs } from './model/params.js';
export { randomModel } from './model/random-init.js';
export { saveModel } from './model/save.js';
export { CheckpointFiles } from './io/checkpoint-files.js';
export { SafetensorsReader } from './io/safetensors.js';
export { writeSafetensors } from './io/safetensors-write.js';
export { writeFileAtomicSync } from './io/atomic.js';
export { Rng } from './util/rng.js';
