import type { FArray } from '../types.js';
import { rmsnormBackwardWasm, rmsnormWasm } from './wasm/norm.js';
import { wasmRuntime, type WasmRuntime } from './wasm/runtime.js';

/** The WebAssembly runtime for float32 buffers with rows of a multiple of 4 (and enough work), else null. */
function wasmFor(rows: number, dim: number, ...buffers: Array<FArray | null>): WasmRuntime | null {
  if (dim % 4 !== 0 || rows * dim < 256) return null;
  for (const b of buffers) if (b !== null && !(b instanceof Float32Array)) return null;
  return wasmRuntime();
}

export function rmsnorm(x: FArray, w: FArray, out: FArray, rstd: FArray, rows: number, dim: number, eps: number): void {
  const rt = wasmFor(rows, dim, x, w, out, rstd);
  if (rt && rmsnormWasm(rt, x as Float32Array, w as Float32Array, out as Float32Array, rstd as Float32Array, rows, dim, eps)) return;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[o + i] * x[o + i];
    const rs = 1 / Math.sqrt(ss / dim + eps);
    rstd[r] = rs;
    for (let i = 0; i < dim; i++) out[o + i] = x[o + i] * rs * w[i];
  }
}

export function rmsnormBackward(
  dy: FArray, x: FArray, w: FArray, rstd: FArray, dx: FArray, dw: FArray | null, rows: number, dim: number,
): void {
  const rt = wasmFor(rows, dim, dy, x, w, rstd, dx, dw);
  const f = (a: FArray) => a as Float32Array;
  if (rt && rmsnormBackwardWasm(rt, f(dy), f(x), f(w), f(rstd), f(dx), dw ? f(dw) : null, rows, dim)) return;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    const rs = rstd[r];
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += dy[o + i] * w[i] * x[o + i];
    const coef = (rs * rs * rs * dot) / dim;
    if (dw) for (let i = 0; i < dim; i++) dw[i] += dy[o + i] * x[o + i] * rs;
    for (let i = 0; i < dim; i++) dx[o + i] = dy[o + i] * w[i] * rs - x[o + i] * coef;
  }
}
