/**
 * RMSNorm on WebAssembly SIMD (norm-funcs.ts), for float32 rows whose length is a multiple of 4, in
 * chunks of rows. Return false (nothing written) when the memory cannot hold a chunk.
 */
import { Layout, wasmLimits, type WasmRuntime } from './runtime.js';

const chunkRows = (rows: number, dim: number): number => Math.max(1, Math.min(rows, Math.floor(wasmLimits.chunkFloats / 4 / dim)));

export function rmsnormWasm(
  rt: WasmRuntime, x: Float32Array, w: Float32Array, out: Float32Array, rstd: Float32Array, rows: number, dim: number, eps: number,
): boolean {
  const cr = chunkRows(rows, dim);
  const L = new Layout();
  const oX = L.take(cr * dim), oW = L.take(dim), oR = L.take(cr);
  if (!rt.reserve(L.size)) return false;
  const mem = rt.f32;
  mem.set(w.subarray(0, dim), oW);
  for (let r0 = 0; r0 < rows; r0 += cr) {
    const nr = Math.min(cr, rows - r0), n = nr * dim;
    mem.set(x.subarray(r0 * dim, r0 * dim + n), oX);
    rt.fns.rmsnorm(4 * oX, 4 * oW, 4 * oX, 4 * oR, nr, dim / 4, dim, eps); // out over the staged x
    out.set(mem.subarray(oX, oX + n), r0 * dim);
    rstd.set(mem.subarray(oR, oR + nr), r0);
  }
  return true;
}

export function rmsnormBackwardWasm(
  rt: WasmRuntime, dy: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, dx: Float32Array,
  dw: Float32Array | null, rows: number, dim: number,
): boolean {
  const cr = chunkRows(rows, dim);
  const L = new Layout();
  const oDY = L.take(cr * dim), oX = L.take(cr * dim), oW = L.take(dim), oR = L.take(cr), oDW = dw ? L.take(dim) : 0;
  if (!rt.reserve(L.size)) return false;
  const mem = rt.f32;
  mem.set(w.subarray(0, dim), oW);
  if (dw) mem.set(dw.subarray(0, dim), oDW);
  for (let r0 = 0; r0 < rows; r0 += cr) {
    const nr = Math.min(cr, rows - r0), n = nr * dim, o = r0 * dim;
    mem.set(dy.subarray(o, o + n), oDY);
    mem.set(x.subarray(o, o + n), oX);
    mem.set(rstd.subarray(r0, r0 + nr), oR);
    // dx over the staged dy; dw accumulates in the module across chunks.
    rt.fns.rmsnormBackward(4 * oDY, 4 * oX, 4 * oW, 4 * oR, 4 * oDY, dw ? 4 * oDW : 0, nr, dim / 4, dim);
    dx.set(mem.subarray(oDY, oDY + n), o);
  }
  if (dw) dw.set(mem.subarray(oDW, oDW + dim));
  return true;
}
