/** SwiGLU on WebAssembly SIMD (swiglu-funcs.ts): operands copied in, four lanes at a time, results copied out. */
import { Layout, type WasmRuntime } from './runtime.js';

export function swigluWasm(rt: WasmRuntime, g: Float32Array, u: Float32Array, h: Float32Array, n: number): void {
  const L = new Layout();
  const oG = L.take(n), oU = L.take(n), oH = L.take(n);
  rt.reserve(L.size);
  const mem = rt.f32;
  mem.set(g.subarray(0, n), oG);
  mem.set(u.subarray(0, n), oU);
  rt.fns.swiglu(4 * oG, 4 * oU, 4 * oH, Math.ceil(n / 4));
  h.set(mem.subarray(oH, oH + n));
}

export function swigluBackwardWasm(
  rt: WasmRuntime, dh: Float32Array, g: Float32Array, u: Float32Array, dg: Float32Array, du: Float32Array, n: number,
): void {
  const L = new Layout();
  const oDH = L.take(n), oG = L.take(n), oU = L.take(n), oDU = L.take(n);
  rt.reserve(L.size);
  const mem = rt.f32;
  mem.set(dh.subarray(0, n), oDH);
  mem.set(g.subarray(0, n), oG);
  mem.set(u.subarray(0, n), oU);
  // dg is written over the staged dh (each group of four is read before it is written).
  rt.fns.swigluBackward(4 * oDH, 4 * oG, 4 * oU, 4 * oDH, 4 * oDU, Math.ceil(n / 4));
  du.set(mem.subarray(oDU, oDU + n));
  dg.set(mem.subarray(oDH, oDH + n));
}
