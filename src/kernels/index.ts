import { jsKernels } from './js/index.js';
import { loadNativeKernels } from './native.js';
import type { Kernels } from './types.js';

export type { AttentionShape, FArray, Kernels } from './types.js';
export { jsKernels } from './js/index.js';

let chosen: Kernels | null = null;

/**
 * The kernels leaf runs on: the native addon when it was built, else the TypeScript fallback
 * (with one line on stderr saying how to get the fast path). LEAF_KERNELS=js forces the fallback;
 * LEAF_KERNELS=native makes a missing addon an error.
 */
export function getKernels(): Kernels {
  if (chosen) return chosen;
  const want = process.env.LEAF_KERNELS;
  if (want === 'js') return (chosen = jsKernels);
  const native = loadNativeKernels();
  if (native.kernels) return (chosen = native.kernels);
  if (want === 'native') throw new Error(`LEAF_KERNELS=native but the native addon is unavailable: ${native.reason}`);
  process.stderr.write(
    `leaf: native kernels unavailable (${native.reason}); using the slow TypeScript fallback. ` +
      'Install a C++ compiler and OpenBLAS (Debian: apt-get install g++ make libopenblas-dev), then run `npm run build:native`.\n',
  );
  return (chosen = jsKernels);
}

/** The native kernels if the addon is built, else null (no message). For tests and benchmarks. */
export function nativeKernelsOrNull(): Kernels | null {
  return loadNativeKernels().kernels;
}
