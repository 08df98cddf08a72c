import type { Kernels } from '../types.js';
import { attention, attentionBackward } from './attention.js';
import { gemm } from './gemm.js';
import { crossEntropy, logSoftmax } from './loss.js';
import { rmsnorm, rmsnormBackward } from './norm.js';
import { rope } from './rope.js';
import { swiglu, swigluBackward } from './swiglu.js';

/** The pure-TypeScript kernels: slow, portable, and the only ones that accept Float64Array buffers. */
export const jsKernels: Kernels = {
  name: 'js',
  supportsFloat64: true,
  gemm, rmsnorm, rmsnormBackward, rope, swiglu, swigluBackward, attention, attentionBackward, crossEntropy, logSoftmax,
};
