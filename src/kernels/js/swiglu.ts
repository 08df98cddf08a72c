import type { FArray } from '../types.js';
import { wasmRuntime } from './wasm/runtime.js';
import { swigluBackwardWasm, swigluWasm } from './wasm/swiglu.js';

/** Below this many elements the scalar loop is used even for float32 (the copies would dominate). */
const WASM_MIN = 256;

export function swiglu(g: FArray, u: FArray, h: FArray, n: number): void {
  if (n >= WASM_MIN && g instanceof Float32Array && u instanceof Float32Array && h instanceof Float32Array) {
    const rt = wasmRuntime();
    if (rt && swigluWasm(rt, g, u, h, n)) return;
  }
  for (let i = 0; i < n; i++) {
    const z = g[i];
    h[i] = (z / (1 + Math.exp(-z))) * u[i];
  }
}

export function swigluBackward(dh: FArray, g: FArray, u: FArray, dg: FArray, du: FArray, n: number): void {
  if (
    n >= WASM_MIN && dh instanceof Float32Array && g instanceof Float32Array && u instanceof Float32Array &&
    dg instanceof Float32Array && du instanceof Float32Array
  ) {
    const rt = wasmRuntime();
    if (rt && swigluBackwardWasm(rt, dh, g, u, dg, du, n)) return;
  }
  for (let i = 0; i < n; i++) {
    const z = g[i];
    const sig = 1 / (1 + Math.exp(-z));
    const d = dh[i];
    du[i] = d * z * sig;
    dg[i] = d * u[i] * sig * (1 + z * (1 - sig));
  }
}
