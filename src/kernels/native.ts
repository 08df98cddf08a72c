import type { Kernels } from './types.js';

/** Placeholder until the addon loader lands: reports the addon as missing. */
export function loadNativeKernels(): { kernels: Kernels | null; reason: string } {
  return { kernels: null, reason: 'addon not built' };
}
