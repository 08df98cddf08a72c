/** The one WebAssembly module behind the float32 TypeScript kernels, assembled from the function definitions. */
import { softmaxBackwardFunc, softmaxFunc } from './attention-funcs.js';
import { moduleBytes } from './encode.js';
import { copy2dFunc, kernelFunc, transposeFunc } from './gemm-module.js';
import { rmsnormBackwardFunc, rmsnormFunc } from './norm-funcs.js';
import { swigluBackwardFunc, swigluFunc } from './swiglu-funcs.js';

/** The exports of the module (addresses and strides in bytes). */
export interface KernelExports {
  transpose(src: number, sRow: number, dst: number, dRow: number, rows: number, cols: number): void;
  copy2d(src: number, sRow: number, dst: number, dRow: number, rows: number, cols: number): void;
  kernel(
    a: number, aRow: number, aP: number, b: number, bP: number, c: number,
    mPanels: number, nPanels: number, k: number, ldc: number, alpha: number, beta: number,
  ): void;
  swiglu(g: number, u: number, h: number, vectors: number): void;
  swigluBackward(dh: number, g: number, u: number, dg: number, du: number, vectors: number): void;
  softmax(s: number, ld: number, rows: number, keys: number, past: number, mask: number): void;
  softmaxBackward(p: number, ldp: number, d: number, ldd: number, rows: number, keys: number, scale: number): void;
  rmsnorm(x: number, w: number, out: number, rstd: number, rows: number, vectors: number, dim: number, eps: number): void;
  rmsnormBackward(dy: number, x: number, w: number, rstd: number, dx: number, dw: number, rows: number, vectors: number, dim: number): void;
}

export function kernelModuleBytes(): Uint8Array {
  return moduleBytes([
    transposeFunc(), copy2dFunc(), kernelFunc(), swigluFunc(), swigluBackwardFunc(), softmaxFunc(), softmaxBackwardFunc(),
    rmsnormFunc(), rmsnormBackwardFunc(),
  ]);
}
