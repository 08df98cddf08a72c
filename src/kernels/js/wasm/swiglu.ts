/**
 * SwiGLU on WebAssembly SIMD (swiglu-funcs.ts): operands copied in, four lanes at a time, results copied
 * out, in chunks of a quarter of wasmLimits.chunkFloats elements. Return false (nothing written) when the memory cannot hold
 * a chunk.
 */
import { Layout, wasmLimits, type WasmRuntime } from './runtime.js';

export function swigluWasm(rt: WasmRuntime, g: Float32Array, u: Float32Array, h: Float32Array, n: number): boolean {
  const L = new Layout();
  const c = Math.min(n, Math.max(4, (wasmLimits.chunkFloats >> 4) << 2));
  const oG = L.take(c), oU = L.take(c), oH = L.take(c);
  if (!rt.reserve(L.size)) return false;
  const mem = rt.f32;
  for (let i0 = 0; i0 < n; i0 += c) {
    const len = Math.min(c, n - i0);
    mem.set(g.subarray(i0, i0 + len), oG);
    mem.set(u.subarray(i0, i0 + len), oU);
    rt.fns.swiglu(4 * oG, 4 * oU, 4 * oH, Math.ceil(len / 4));
    h.set(mem.subarray(oH, oH + len), i0);
  }
  return true;
}

export function swigluBackwardWasm(
  rt: WasmRuntime, dh: Float32Array, g: Float32Array, u: Float32Array, dg: Float32Array, du: Float32Array, n: number,
): boolean {
  const L = new Layout();
  const c = Math.min(n, Math.max(4, (wasmLimits.chunkFloats >> 4) << 2));
  const oDH = L.take(c), oG = L.take(c), oU = L.take(c), oDU = L.take(c);
  if (!rt.reserve(L.size)) return false;
  const mem = rt.f32;
  for (let i0 = 0; i0 < n; i0 += c) {
    const len = Math.min(c, n - i0);
    mem.set(dh.subarray(i0, i0 + len), oDH);
    mem.set(g.subarray(i0, i0 + len), oG);
    mem.set(u.subarray(i0, i0 + len), oU);
    // dg is written over the staged dh (each group of four is read before it is written).
    rt.fns.swigluBackward(4 * oDH, 4 * oG, 4 * oU, 4 * oDH, 4 * oDU, Math.ceil(len / 4));
    du.set(mem.subarray(oDU, oDU + len), i0);
    dg.set(mem.subarray(oDH, oDH + len), i0);
  }
  return true;
}
