/** RMSNorm on WebAssembly SIMD (norm-funcs.ts), for float32 rows whose length is a multiple of 4. */
import { Layout, type WasmRuntime } from './runtime.js';

export function rmsnormWasm(
  rt: WasmRuntime, x: Float32Array, w: Float32Array, out: Float32Array, rstd: Float32Array, rows: number, dim: number, eps: number,
): void {
  const n = rows * dim;
  const L = new Layout();
  const oX = L.take(n), oW = L.take(dim), oR = L.take(rows);
  rt.reserve(L.size);
  const mem = rt.f32;
  mem.set(x.subarray(0, n), oX);
  mem.set(w.subarray(0, dim), oW);
  rt.fns.rmsnorm(4 * oX, 4 * oW, 4 * oX, 4 * oR, rows, dim / 4, dim, eps); // out over the staged x
  out.set(mem.subarray(oX, oX + n));
  rstd.set(mem.subarray(oR, oR + rows));
}

export function rmsnormBackwardWasm(
  rt: WasmRuntime, dy: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, dx: Float32Array,
  dw: Float32Array | null, rows: number, dim: number,
): void {
  const n = rows * dim;
  const L = new Layout();
  const oDY = L.take(n), oX = L.take(n), oW = L.take(dim), oR = L.take(rows), oDW = dw ? L.take(dim) : 0;
  rt.reserve(L.size);
  const mem = rt.f32;
  mem.set(dy.subarray(0, n), oDY);
  mem.set(x.subarray(0, n), oX);
  mem.set(w.subarray(0, dim), oW);
  mem.set(rstd.subarray(0, rows), oR);
  if (dw) mem.set(dw.subarray(0, dim), oDW);
  // dx over the staged dy.
  rt.fns.rmsnormBackward(4 * oDY, 4 * oX, 4 * oW, 4 * oR, 4 * oDY, dw ? 4 * oDW : 0, rows, dim / 4, dim);
  dx.set(mem.subarray(oDY, oDY + n));
  if (dw) dw.set(mem.subarray(oDW, oDW + dim));
}
