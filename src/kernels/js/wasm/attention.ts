/**
 * Attention on WebAssembly SIMD, float32: q, k, v (and dOut) are copied into the module's memory once
 * per call; per (batch row, query head) the products run on the 4×8 GEMM micro-kernel reading those
 * copies in place, the softmax and its backward on the row kernels of attention-funcs.ts; results are
 * copied back once (in chunks of batch rows for large calls). Same contract as Kernels.attention /
 * attentionBackward; false when the memory cannot hold a chunk (the caller uses the scalar path).
 *
 * Shapes: T queries, S keys, D head size; g = the KV head of query head h. Buffers: scores / dS are
 * tP×sP (T rounded up to 4, S to 8), per-head results tP×dP (D rounded up to 8); the padding rows and
 * columns hold garbage that is never copied out.
 */
import type { AttentionShape } from '../../types.js';
import { Layout, wasmLimits, type WasmRuntime } from './runtime.js';

const up = (x: number, m: number): number => Math.ceil(x / m) * m;

/** Batch rows per chunk: as many as keep the staged q, k, v, dOut and results within wasmLimits.chunkFloats. */
function batchChunk(s: AttentionShape): number {
  const perRow = 4 * s.queries * s.heads * s.headDim + 5 * s.keyCapacity * s.kvHeads * s.headDim;
  return Math.max(1, Math.min(s.batch, Math.floor(wasmLimits.chunkFloats / Math.max(perRow, 1))));
}

/**
 * Runs `chunk` on consecutive batch-row ranges (every batch row of attention is independent), with the
 * buffers advanced to the range's first row. Returns false when the first chunk's memory cannot be
 * reserved (nothing has been written then); later chunks are no larger.
 */
function byBatchChunks(
  shape: AttentionShape, chunk: (first: number, rows: number) => boolean,
): boolean {
  const bc = batchChunk(shape);
  for (let b0 = 0; b0 < shape.batch; b0 += bc) if (!chunk(b0, Math.min(bc, shape.batch - b0))) return false;
  return true;
}

export function attentionWasm(
  rt: WasmRuntime, q: Float32Array, k: Float32Array, v: Float32Array, keyMask: Uint8Array,
  out: Float32Array, probs: Float32Array | null, shape: AttentionShape,
): boolean {
  const { queries: T, keys: S, keyCapacity: Sc, heads: H, kvHeads: KVH, headDim: D } = shape;
  const qw = H * D, kw = KVH * D;
  return byBatchChunks(shape, (b0, rows) => forwardChunk(
    rt, q.subarray(b0 * T * qw), k.subarray(b0 * Sc * kw), v.subarray(b0 * Sc * kw), keyMask.subarray(b0 * Sc),
    out.subarray(b0 * T * qw), probs ? probs.subarray(b0 * H * T * S) : null, { ...shape, batch: rows },
  ));
}

export function attentionBackwardWasm(
  rt: WasmRuntime, dOut: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array,
  dq: Float32Array, dk: Float32Array, dv: Float32Array, shape: AttentionShape,
): boolean {
  const { queries: T, keys: S, keyCapacity: Sc, heads: H, kvHeads: KVH, headDim: D } = shape;
  const qw = H * D, kw = KVH * D;
  return byBatchChunks(shape, (b0, rows) => backwardChunk(
    rt, dOut.subarray(b0 * T * qw), q.subarray(b0 * T * qw), k.subarray(b0 * Sc * kw), v.subarray(b0 * Sc * kw),
    probs.subarray(b0 * H * T * S), dq.subarray(b0 * T * qw), dk.subarray(b0 * Sc * kw), dv.subarray(b0 * Sc * kw),
    { ...shape, batch: rows },
  ));
}

function forwardChunk(
  rt: WasmRuntime, q: Float32Array, k: Float32Array, v: Float32Array, keyMask: Uint8Array,
  out: Float32Array, probs: Float32Array | null, shape: AttentionShape,
): boolean {
  const { batch: B, queries: T, keys: S, keyCapacity: Sc, past, heads: H, kvHeads: KVH, headDim: D, scale } = shape;
  const group = H / KVH, qw = H * D, kw = KVH * D;
  const tP = up(T, 4), sP = up(S, 8), dP = up(D, 8), TS = T * S;
  const nq = B * T * qw, nk = B * Sc * kw;
  const L = new Layout();
  const oQ = L.take(nq, 3 * qw + 16), oK = L.take(nk), oV = L.take(nk, 16), oOut = L.take(nq);
  const oKT = L.take(dP * sP), oS = L.take(tP * sP), oHead = L.take(tP * dP);
  const oMask = L.take(up(S, 4)), oPc = probs ? L.take(TS) : 0;
  if (!rt.reserve(L.size)) return false;
  const mem = rt.f32, lanes = rt.i32, fns = rt.fns;
  mem.set(q.subarray(0, nq), oQ);
  mem.set(k.subarray(0, nk), oK);
  mem.set(v.subarray(0, nk), oV);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < up(S, 4); s++) lanes[oMask + s] = s < S && keyMask[b * Sc + s] !== 0 ? -1 : 0;
    for (let g = 0; g < KVH; g++) {
      const kg = oK + b * Sc * kw + g * D;
      fns.transpose(4 * kg, 4 * kw, 4 * oKT, 4 * sP, S, D); // K_gᵀ: D × sP
      for (let h = g * group; h < (g + 1) * group; h++) {
        const qh = oQ + b * T * qw + h * D;
        // scores = scale · Q_h · K_gᵀ, then the masked causal softmax in place.
        fns.kernel(4 * qh, 4 * qw, 4, 4 * oKT, 4 * sP, 4 * oS, tP / 4, sP / 8, D, 4 * sP, scale, 0);
        fns.softmax(4 * oS, 4 * sP, T, S, past, 4 * oMask);
        if (probs) {
          fns.copy2d(4 * oS, 4 * sP, 4 * oPc, 4 * S, T, S);
          probs.set(mem.subarray(oPc, oPc + TS), (b * H + h) * TS);
        }
        // out_h = P · V_g
        fns.kernel(4 * oS, 4 * sP, 4, 4 * (oV + b * Sc * kw + g * D), 4 * kw, 4 * oHead, tP / 4, dP / 8, S, 4 * dP, 1, 0);
        fns.copy2d(4 * oHead, 4 * dP, 4 * (oOut + b * T * qw + h * D), 4 * qw, T, D);
      }
    }
  }
  out.set(mem.subarray(oOut, oOut + nq));
  return true;
}

function backwardChunk(
  rt: WasmRuntime, dOut: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array,
  dq: Float32Array, dk: Float32Array, dv: Float32Array, shape: AttentionShape,
): boolean {
  const { batch: B, queries: T, keys: S, keyCapacity: Sc, heads: H, kvHeads: KVH, headDim: D, scale } = shape;
  const group = H / KVH, qw = H * D, kw = KVH * D;
  const tP = up(T, 4), sP = up(S, 8), s4 = up(S, 4), dP = up(D, 8), TS = T * S;
  const nq = B * T * qw, nk = B * Sc * kw;
  const L = new Layout();
  const oDO = L.take(nq, 3 * qw + 16), oQ = L.take(nq, 16), oK = L.take(nk, 16), oV = L.take(nk, 16);
  const oDQ = L.take(nq), oDK = L.take(nk), oDV = L.take(nk);
  const oVT = L.take(dP * sP), oP = L.take(TS, 16), oDS = L.take(tP * sP), oHead = L.take(tP * dP);
  const oAccK = L.take(s4 * dP), oAccV = L.take(s4 * dP);
  if (!rt.reserve(L.size)) return false;
  const mem = rt.f32, fns = rt.fns;
  mem.set(dOut.subarray(0, nq), oDO);
  mem.set(q.subarray(0, nq), oQ);
  mem.set(k.subarray(0, nk), oK);
  mem.set(v.subarray(0, nk), oV);
  mem.fill(0, oDK, oDK + nk);
  mem.fill(0, oDV, oDV + nk);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < KVH; g++) {
      const kg = oK + b * Sc * kw + g * D, vg = oV + b * Sc * kw + g * D;
      fns.transpose(4 * vg, 4 * kw, 4 * oVT, 4 * sP, S, D); // V_gᵀ: D × sP
      for (let h = g * group; h < (g + 1) * group; h++) {
        const beta = h === g * group ? 0 : 1; // the group's first head overwrites the dK_g / dV_g sums
        const qh = oQ + b * T * qw + h * D, dOh = oDO + b * T * qw + h * D;
        mem.set(probs.subarray((b * H + h) * TS, (b * H + h + 1) * TS), oP);
        // dP = dO_h · V_gᵀ, then dS = P∘(dP − rowsum(P∘dP))·scale in place.
        fns.kernel(4 * dOh, 4 * qw, 4, 4 * oVT, 4 * sP, 4 * oDS, tP / 4, sP / 8, D, 4 * sP, 1, 0);
        fns.softmaxBackward(4 * oP, 4 * S, 4 * oDS, 4 * sP, T, S, scale);
        // dV_g += Pᵀ · dO_h;  dK_g += dSᵀ · Q_h  (over the group's heads).
        fns.kernel(4 * oP, 4, 4 * S, 4 * dOh, 4 * qw, 4 * oAccV, s4 / 4, dP / 8, T, 4 * dP, 1, beta);
        fns.kernel(4 * oDS, 4, 4 * sP, 4 * qh, 4 * qw, 4 * oAccK, s4 / 4, dP / 8, T, 4 * dP, 1, beta);
        // dQ_h = dS · K_g
        fns.kernel(4 * oDS, 4 * sP, 4, 4 * kg, 4 * kw, 4 * oHead, tP / 4, dP / 8, S, 4 * dP, 1, 0);
        fns.copy2d(4 * oHead, 4 * dP, 4 * (oDQ + b * T * qw + h * D), 4 * qw, T, D);
      }
      fns.copy2d(4 * oAccK, 4 * dP, 4 * (oDK + b * Sc * kw + g * D), 4 * kw, S, D);
      fns.copy2d(4 * oAccV, 4 * dP, 4 * (oDV + b * Sc * kw + g * D), 4 * kw, S, D);
    }
  }
  dq.set(mem.subarray(oDQ, oDQ + nq));
  dk.set(mem.subarray(oDK, oDK + nk));
  dv.set(mem.subarray(oDV, oDV + nk));
  return true;
}
