import type { AttentionShape, FArray } from '../types.js';
import { gemm } from './gemm.js';
import { attentionBackwardWasm, attentionWasm } from './wasm/attention.js';
import { wasmRuntime, type WasmRuntime } from './wasm/runtime.js';

/**
 * Float32 attention with at least 4 queries runs on WebAssembly SIMD (wasm/attention.ts). Otherwise
 * (float64, decoding): small matrix products per (batch row, query head) through the GEMM: scores = scale·Q_h·K_gᵀ [T×S], a masked softmax row by row in TypeScript, out_h = P·V_g.
 * The backward pass is four more products: dP = dO_h·V_gᵀ, dS = P∘(dP − rowsum(P∘dP))·scale,
 * dV_g += Pᵀ·dO_h, dQ_h = dS·K_g, dK_g += dSᵀ·Q_h (g = the KV head of query head h).
 * The products cover the whole T×S block (masked and future keys have P = 0); the softmax only visits
 * the allowed keys.
 */

/**
 * The WebAssembly runtime when all buffers are float32 and there are enough queries to fill its 4-row
 * tiles (decoding one token at a time stays on the scalar path), else null.
 */
function wasmFor(T: number, ...buffers: Array<FArray | null>): WasmRuntime | null {
  if (T < 4) return null;
  for (const x of buffers) if (x !== null && !(x instanceof Float32Array)) return null;
  return wasmRuntime();
}

/** A scratch buffer of the same float type as `like`, at least n long (kept between calls). */
const scratch = { f32: new Float32Array(0), f64: new Float64Array(0) };
function scratchLike(like: FArray, n: number): FArray {
  if (like instanceof Float32Array) {
    if (scratch.f32.length < n) scratch.f32 = new Float32Array(n);
    return scratch.f32;
  }
  if (scratch.f64.length < n) scratch.f64 = new Float64Array(n);
  return scratch.f64;
}

/** Indices s < S with keyMask[b·Sc + s] ≠ 0, ascending, into `out`; returns their count. */
function allowedKeys(keyMask: Uint8Array, b: number, Sc: number, S: number, out: Int32Array): number {
  let n = 0;
  const o = b * Sc;
  for (let s = 0; s < S; s++) if (keyMask[o + s] !== 0) out[n++] = s;
  return n;
}

export function attention(
  q: FArray, k: FArray, v: FArray, keyMask: Uint8Array, out: FArray, probs: FArray | null, shape: AttentionShape,
): void {
  const rt = wasmFor(shape.queries, q, k, v, out, probs);
  if (rt && attentionWasm(rt, q as Float32Array, k as Float32Array, v as Float32Array, keyMask, out as Float32Array, probs as Float32Array | null, shape)) {
    return;
  }
  const { batch, queries: T, keys: S, keyCapacity: Sc, past, heads: H, kvHeads: KVH, headDim: D, scale } = shape;
  const group = H / KVH;
  const qw = H * D, kw = KVH * D, TS = T * S;
  const work = probs ? null : scratchLike(q, TS);
  const keysOk = new Int32Array(S);
  for (let b = 0; b < batch; b++) {
    const nAllowed = allowedKeys(keyMask, b, Sc, S, keysOk);
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / group);
      const qh = q.subarray(b * T * qw + h * D);
      const kg = k.subarray(b * Sc * kw + g * D);
      const vg = v.subarray(b * Sc * kw + g * D);
      const P = probs ? probs.subarray((b * H + h) * TS, (b * H + h + 1) * TS) : work!;
      gemm(false, true, T, S, D, scale, qh, qw, kg, kw, 0, P, S);
      let n = 0; // allowed keys below the current query's limit
      for (let t = 0; t < T; t++) {
        const row = t * S;
        const limit = Math.min(past + t + 1, S);
        while (n < nAllowed && keysOk[n] < limit) n++;
        let mx = -Infinity;
        for (let i = 0; i < n; i++) {
          const x = P[row + keysOk[i]];
          if (x > mx) mx = x;
        }
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const s = keysOk[i];
          const e = Math.exp(P[row + s] - mx);
          P[row + s] = e;
          sum += e;
        }
        const inv = sum > 0 ? 1 / sum : 0;
        // Disallowed keys (masked or in the future) get probability 0.
        let prev = 0;
        for (let i = 0; i < n; i++) {
          const s = keysOk[i];
          for (let z = prev; z < s; z++) P[row + z] = 0;
          P[row + s] *= inv;
          prev = s + 1;
        }
        for (let z = prev; z < S; z++) P[row + z] = 0;
      }
      gemm(false, false, T, D, S, 1, P, S, vg, kw, 0, out.subarray(b * T * qw + h * D), qw);
    }
  }
}

export function attentionBackward(
  dOut: FArray, q: FArray, k: FArray, v: FArray, probs: FArray,
  dq: FArray, dk: FArray, dv: FArray, shape: AttentionShape,
): void {
  const rt = wasmFor(shape.queries, dOut, q, k, v, probs, dq, dk, dv);
  const f = (x: FArray) => x as Float32Array;
  if (rt && attentionBackwardWasm(rt, f(dOut), f(q), f(k), f(v), f(probs), f(dq), f(dk), f(dv), shape)) return;
  const { batch, queries: T, keys: S, keyCapacity: Sc, heads: H, kvHeads: KVH, headDim: D, scale } = shape;
  const group = H / KVH;
  const qw = H * D, kw = KVH * D, TS = T * S;
  dk.fill(0, 0, batch * Sc * kw);
  dv.fill(0, 0, batch * Sc * kw);
  const dS = scratchLike(q, TS);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / group);
      const qo = b * T * qw + h * D, ko = b * Sc * kw + g * D;
      const qh = q.subarray(qo), dOh = dOut.subarray(qo), dqh = dq.subarray(qo);
      const kg = k.subarray(ko), vg = v.subarray(ko), dkg = dk.subarray(ko), dvg = dv.subarray(ko);
      const P = probs.subarray((b * H + h) * TS, (b * H + h + 1) * TS);
      gemm(false, true, T, S, D, 1, dOh, qw, vg, kw, 0, dS, S);
      for (let t = 0; t < T; t++) {
        const row = t * S;
        let dot = 0;
        for (let s = 0; s < S; s++) dot += P[row + s] * dS[row + s];
        for (let s = 0; s < S; s++) {
          const pr = P[row + s];
          dS[row + s] = pr === 0 ? 0 : pr * (dS[row + s] - dot) * scale;
        }
      }
      gemm(true, false, S, D, T, 1, P, S, dOh, qw, 1, dvg, kw);
      gemm(false, false, T, D, S, 1, dS, S, kg, kw, 0, dqh, qw);
      gemm(true, false, S, D, T, 1, dS, S, qh, qw, 1, dkg, kw);
    }
  }
}
