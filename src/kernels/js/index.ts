import type { Kernels } from '../types.js';
import { attention, attentionBackward } from './attention.js';
import { gemm } from './gemm.js';
import { gemmBf16 } from './gemm-bf16.js';
import { crossEntropy, logSoftmax } from './loss.js';
import { rmsnorm, rmsnormBackward } from './norm.js';
import { adamw, chunkSumSquares } from './optim.js';
import { rope } from './rope.js';
import { swiglu, swigluBackward } from './swiglu.js';

/**
 * The TypeScript kernels: portable (no compiler, no BLAS), and the only ones that accept Float64Array
 * buffers (scalar code, double-precision arithmetic). On float32 buffers the GEMM, attention, SwiGLU and
 * RMSNorm run on WebAssembly SIMD assembled at load time (wasm/), unless LEAF_WASM=0 or it is unavailable.
 */
export const jsKernels: Kernels = {
  name: 'js',
  supportsFloat64: true,
  gemm, gemmBf16, rmsnorm, rmsnormBackward, rope, swiglu, swigluBackward, attention, attentionBackward, crossEntropy, logSoftmax,
  adamw, chunkSumSquares,
};
