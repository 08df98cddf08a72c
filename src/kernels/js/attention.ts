import type { AttentionShape, FArray } from '../types.js';

export function attention(
  q: FArray, k: FArray, v: FArray, keyMask: Uint8Array, out: FArray, probs: FArray | null, shape: AttentionShape,
): void {
  const { batch, queries: T, keys: S, keyCapacity: Sc, past, heads: H, kvHeads: KVH, headDim: D, scale } = shape;
  const group = H / KVH;
  const qw = H * D, kw = KVH * D;
  const p = new Float64Array(S);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qo = (b * T + t) * qw + h * D;
        const limit = Math.min(past + t + 1, S);
        let mx = -Infinity;
        for (let s = 0; s < limit; s++) {
          if (keyMask[b * Sc + s] === 0) { p[s] = -Infinity; continue; }
          const ko = (b * Sc + s) * kw + kvh * D;
          let dot = 0;
          for (let i = 0; i < D; i++) dot += q[qo + i] * k[ko + i];
          p[s] = dot * scale;
          if (p[s] > mx) mx = p[s];
        }
        let sum = 0;
        for (let s = 0; s < limit; s++) {
          const e = mx === -Infinity ? 0 : Math.exp(p[s] - mx);
          p[s] = e;
          sum += e;
        }
        const inv = sum > 0 ? 1 / sum : 0;
        for (let i = 0; i < D; i++) out[qo + i] = 0;
        for (let s = 0; s < limit; s++) {
          const w = p[s] * inv;
          p[s] = w;
          if (w === 0) continue;
          const vo = (b * Sc + s) * kw + kvh * D;
          for (let i = 0; i < D; i++) out[qo + i] += w * v[vo + i];
        }
        if (probs) {
          const po = ((b * H + h) * T + t) * S;
          for (let s = 0; s < S; s++) probs[po + s] = s < limit ? p[s] : 0;
        }
      }
    }
  }
}

export function attentionBackward(
  dOut: FArray, q: FArray, k: FArray, v: FArray, probs: FArray,
  dq: FArray, dk: FArray, dv: FArray, shape: AttentionShape,
): void {
  const { batch, queries: T, keys: S, keyCapacity: Sc, heads: H, kvHeads: KVH, headDim: D, scale } = shape;
  const group = H / KVH;
  const qw = H * D, kw = KVH * D;
  dq.fill(0, 0, batch * T * qw);
  dk.fill(0, 0, batch * Sc * kw);
  dv.fill(0, 0, batch * Sc * kw);
  const ds = new Float64Array(S);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qo = (b * T + t) * qw + h * D;
        const po = ((b * H + h) * T + t) * S;
        let dot = 0;
        for (let s = 0; s < S; s++) {
          const pr = probs[po + s];
          if (pr === 0) { ds[s] = 0; continue; }
          const vo = (b * Sc + s) * kw + kvh * D;
          let dp = 0;
          for (let i = 0; i < D; i++) {
            dp += dOut[qo + i] * v[vo + i];
            dv[vo + i] += pr * dOut[qo + i];
          }
          ds[s] = dp;
          dot += pr * dp;
        }
        for (let s = 0; s < S; s++) {
          const pr = probs[po + s];
          if (pr === 0) continue;
          const g = pr * (ds[s] - dot) * scale;
          const ko = (b * Sc + s) * kw + kvh * D;
          for (let i = 0; i < D; i++) {
            dq[qo + i] += g * k[ko + i];
            dk[ko + i] += g * q[qo + i];
          }
        }
      }
    }
  }
}
