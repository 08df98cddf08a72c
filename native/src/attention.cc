// Causal grouped-query attention with a key padding mask: forward and backward.
//
// Forward: one task per (batch, head, query tile), heaviest tiles (latest queries) first. A task packs
// Kᵀ for the keys its tile can see, computes the score tile with a register-blocked micro-kernel,
// applies the mask and softmax row by row, and multiplies by V. Tiles of fewer than 8 rows (decoding)
// use dot products instead of packing.
//
// Backward, for each (batch, KV head): phase 1 runs one task per (query head of the group, query
// tile): dP = dO·Vᵀ, dS = P∘(dP − rowsum(P∘dP))·scale kept in scratch, dQ = dS·K. Phase 2 runs one task
// per key tile, which owns its rows of dK and dV: dK = Σ_heads dSᵀ·Q, dV = Σ_heads Pᵀ·dO. No atomics,
// no per-thread copies, and the result does not depend on the thread count.
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "kernels.h"
#include "pool.h"
#include "simd.h"

namespace leaf {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::min();

// C[i, j] (+)= alpha · Σ_p A(i, p)·B(p, j) with A(i, p) = a[i·ars + p·acs], B(p, j) = b[p·ldb + j],
// C(i, j) = c[i·ldc + j]. Per block of rows starting at i0 (mr rows), the causal limits shrink the
// column range and the p range; what they exclude is known to be zero (p) or unused (columns).
struct MM {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t ars = 0, acs = 0;
  const float* b = nullptr;
  int64_t ldb = 0;
  float* c = nullptr;
  int64_t ldc = 0;
  float alpha = 1.0f;
  bool accumulate = false;
  int64_t n_base = -1;     // ≥ 0: only columns j < round_up(n_base + i0 + mr, kPad) are computed
  int64_t k_hi = -1;       // ≥ 0: p < k_hi + i0 + mr
  int64_t k_lo = kNoLimit;  // p ≥ k_lo + i0
};

// MR×(NV vectors) register tile over p ∈ [p0, p1). FULL = false: a single partial vector of nr columns.
template <class V, int MR, int NV, bool FULL>
LEAF_INLINE void ukernel(int64_t p0, int64_t p1, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb,
                         float* c, int64_t ldc, int64_t nr, float alpha, bool accumulate) {
  using F = typename V::F;
  F s[MR][NV];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) s[r][v] = F{};
  for (int64_t p = p0; p < p1; p++) {
    F bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = FULL ? load<V>(b + p * ldb + v * V::N) : load_part<V>(b + p * ldb, nr);
    const float* ap = a + p * acs;
    for (int r = 0; r < MR; r++) {
      const float av = ap[r * ars];
      for (int v = 0; v < NV; v++) s[r][v] += bv[v] * av;
    }
  }
  for (int r = 0; r < MR; r++) {
    float* cr = c + r * ldc;
    for (int v = 0; v < NV; v++) {
      F o = s[r][v] * alpha;
      if (FULL) {
        if (accumulate) o += load<V>(cr + v * V::N);
        store<V>(cr + v * V::N, o);
      } else {
        if (accumulate) o += load_part<V>(cr, nr);
        store_part<V>(cr, o, nr);
      }
    }
  }
}

template <class V, int MR>
LEAF_INLINE void mm_rows(const MM& q, int64_t i0, int64_t n_eff, int64_t p0, int64_t p1) {
  const float* a = q.a + i0 * q.ars;
  float* c = q.c + i0 * q.ldc;
  int64_t j = 0;
  for (; j + V::NV * V::N <= n_eff; j += V::NV * V::N)
    ukernel<V, MR, V::NV, true>(p0, p1, a, q.ars, q.acs, q.b + j, q.ldb, c + j, q.ldc, 0, q.alpha, q.accumulate);
  for (; j + V::N <= n_eff; j += V::N)
    ukernel<V, MR, 1, true>(p0, p1, a, q.ars, q.acs, q.b + j, q.ldb, c + j, q.ldc, 0, q.alpha, q.accumulate);
  if (j < n_eff)
    ukernel<V, MR, 1, false>(p0, p1, a, q.ars, q.acs, q.b + j, q.ldb, c + j, q.ldc, n_eff - j, q.alpha, q.accumulate);
}

template <class V, int R>
LEAF_INLINE void mm_rows_dispatch(const MM& q, int64_t i0, int mr, int64_t n_eff, int64_t p0, int64_t p1) {
  if (mr == R) {
    mm_rows<V, R>(q, i0, n_eff, p0, p1);
  } else if constexpr (R > 1) {
    mm_rows_dispatch<V, R - 1>(q, i0, mr, n_eff, p0, p1);
  }
}

template <class V>
LEAF_INLINE void mm_impl(const MM& q) {
  for (int64_t i0 = 0; i0 < q.m; i0 += V::MR) {
    const int mr = int(imin(V::MR, q.m - i0));
    int64_t n_eff = q.n;
    if (q.n_base >= 0) n_eff = imin(n_eff, round_up(q.n_base + i0 + mr, kPad));
    int64_t p1 = q.k;
    if (q.k_hi >= 0) p1 = imin(p1, q.k_hi + i0 + mr);
    int64_t p0 = 0;
    if (q.k_lo != kNoLimit) p0 = imax(0, q.k_lo + i0);
    if (p0 > p1) p0 = p1;
    mm_rows_dispatch<V, V::MR>(q, i0, mr, n_eff, p0, p1);
  }
}
LEAF_MULTI(void, mm, (const MM& q), (q))

// dst[d·ld + s] = src[s·src_ld + d] for s < keys, d < dim; columns keys..width−1 zeroed.
void pack_transposed(const float* src, int64_t src_ld, int64_t keys, int64_t dim, float* dst, int64_t ld,
                     int64_t width) {
  if (width > keys)
    for (int64_t d = 0; d < dim; d++) std::memset(dst + d * ld + keys, 0, size_t(width - keys) * sizeof(float));
  for (int64_t s0 = 0; s0 < keys; s0 += 16) {
    const int64_t s1 = imin(keys, s0 + 16);
    for (int64_t d = 0; d < dim; d++) {
      float* out = dst + d * ld;
      for (int64_t s = s0; s < s1; s++) out[s] = src[s * src_ld + d];
    }
  }
}

template <class V>
LEAF_INLINE float dot_f(const float* a, const float* b, int64_t n) {
  typename V::F acc = {};
  int64_t i = 0;
  for (; i + V::N <= n; i += V::N) acc += load<V>(a + i) * load<V>(b + i);
  float s = float(hsum<V>(acc));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

// c[r·ldc + s] = alpha · a_r · b_s for s < min(lim_base + r + 1, keys) (0 where mask[s] = 0): the
// score path for tiles too short to be worth packing.
template <class V>
LEAF_INLINE void scores_dot_impl(int64_t rows, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t dim,
                                 int64_t keys, int64_t lim_base, const uint8_t* mask, float* c, int64_t ldc,
                                 float alpha) {
  for (int64_t r = 0; r < rows; r++) {
    const int64_t lim = imin(keys, lim_base + r + 1);
    for (int64_t s = 0; s < lim; s++)
      c[r * ldc + s] = (mask && mask[s] == 0) ? 0.0f : alpha * dot_f<V>(a + r * lda, b + s * ldb, dim);
  }
}
LEAF_MULTI(void, scores_dot,
           (int64_t rows, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t dim, int64_t keys,
            int64_t lim_base, const uint8_t* mask, float* c, int64_t ldc, float alpha),
           (rows, a, lda, b, ldb, dim, keys, lim_base, mask, c, ldc, alpha))

// Softmax of each row r of x (row stride ldx ≥ round_up(send, kPad)) over keys s < lim_r =
// min(lim_base + r + 1, keys), with bias[s] (0 or −∞, padded with −∞ to ldx) added; entries from lim_r
// up to send are zeroed. A row with no allowed key becomes all zeros.
template <class V>
LEAF_INLINE void softmax_rows_impl(float* x, int64_t ldx, int64_t rows, const float* bias, int64_t lim_base,
                                   int64_t keys, int64_t send) {
  using F = typename V::F;
  const F ninf = splat<V>(kNegInf);
  for (int64_t r = 0; r < rows; r++) {
    float* row = x + r * ldx;
    const int64_t lim = imax(0, imin(lim_base + r + 1, keys));
    const int64_t full = lim - lim % V::N, end = round_up(lim, V::N);
    F m = ninf;
    int64_t s = 0;
    for (; s < full; s += V::N) {
      const F v = load<V>(row + s) + load<V>(bias + s);
      store<V>(row + s, v);
      m = vmax<V>(m, v);
    }
    if (s < end) {
      const F v = select<V>(lanes_below<V>(lim - s), load<V>(row + s) + load<V>(bias + s), ninf);
      store<V>(row + s, v);
      m = vmax<V>(m, v);
    }
    const float mx = hmax<V>(m);
    if (mx == kNegInf) {
      std::memset(row, 0, size_t(imax(send, end)) * sizeof(float));
      continue;
    }
    const F vm = splat<V>(mx);
    F acc = {};
    double sum = 0;
    for (s = 0; s < end; s += V::N) {
      const F e = vexp<V>(load<V>(row + s) - vm);
      store<V>(row + s, e);
      acc += e;
      if ((s / V::N) % 64 == 63) {
        sum += hsum<V>(acc);
        acc = F{};
      }
    }
    sum += hsum<V>(acc);
    const float inv = float(1.0 / sum);
    for (s = 0; s < end; s += V::N) store<V>(row + s, load<V>(row + s) * inv);
    if (send > end) std::memset(row + end, 0, size_t(send - end) * sizeof(float));
  }
}
LEAF_MULTI(void, softmax_rows,
           (float* x, int64_t ldx, int64_t rows, const float* bias, int64_t lim_base, int64_t keys, int64_t send),
           (x, ldx, rows, bias, lim_base, keys, send))

// dS rows: ds[s] = p[s]·(dp[s] − Σ p·dp)·scale for s < lim_r, 0 for lim_r ≤ s < keys.
template <class V>
LEAF_INLINE void dsoftmax_rows_impl(const float* p, int64_t ldp, const float* dp, int64_t lddp, float* ds, int64_t ldds,
                                    int64_t rows, int64_t lim_base, int64_t keys, float scale) {
  for (int64_t r = 0; r < rows; r++) {
    const float* pr = p + r * ldp;
    const float* dpr = dp + r * lddp;
    float* dsr = ds + r * ldds;
    const int64_t lim = imax(0, imin(lim_base + r + 1, keys));
    const float dot = float(dot_d<V>(pr, dpr, lim));
    int64_t s = 0;
    for (; s + V::N <= lim; s += V::N) store<V>(dsr + s, load<V>(pr + s) * (load<V>(dpr + s) - dot) * scale);
    for (; s < lim; s++) dsr[s] = pr[s] * (dpr[s] - dot) * scale;
    if (keys > lim) std::memset(dsr + lim, 0, size_t(keys - lim) * sizeof(float));
  }
}
LEAF_MULTI(void, dsoftmax_rows,
           (const float* p, int64_t ldp, const float* dp, int64_t lddp, float* ds, int64_t ldds, int64_t rows,
            int64_t lim_base, int64_t keys, float scale),
           (p, ldp, dp, lddp, ds, ldds, rows, lim_base, keys, scale))

// Per-thread scratch that only grows (slots 0–2: inside tasks; 3–4: the calling thread's buffers that
// its tasks share). Reusing it keeps fresh pages, and their page faults, out of every call.
float* scratch(int slot, int64_t n) {
  thread_local std::vector<float> bufs[5];
  std::vector<float>& v = bufs[slot];
  if (int64_t(v.size()) < n) v.resize(size_t(n));
  return v.data();
}

// A shared buffer of n floats for one call: the calling thread's scratch slot, or, above 16M floats,
// its own allocation (not kept after the call).
struct CallBuffer {
  std::unique_ptr<float[]> own;
  float* ptr = nullptr;
  CallBuffer(int slot, int64_t n) {
    if (n <= (int64_t(1) << 24)) {
      ptr = scratch(slot, n);
    } else {
      own.reset(new float[size_t(n)]);
      ptr = own.get();
    }
  }
  float* get() const { return ptr; }
};

// Query tile: 64 rows, halved while there are too few tasks to keep every thread busy.
int64_t query_tile(int64_t queries, int64_t parallel_units) {
  int64_t tile = 64;
  const int64_t want = 8 * int64_t(pool_threads());
  while (tile > 16 && parallel_units * ((queries + tile - 1) / tile) < want) tile /= 2;
  return imax(1, imin(tile, queries));
}

constexpr int64_t kPackMinRows = 8;

}  // namespace

void attention(const float* q, const float* k, const float* v, const uint8_t* key_mask, float* out, float* probs,
               const AttnShape& sh) {
  const int64_t B = sh.batch, T = sh.queries, S = sh.keys, Sc = sh.key_capacity, past = sh.past;
  const int64_t H = sh.heads, KVH = sh.kv_heads, D = sh.head_dim;
  if (B == 0 || T == 0 || H == 0) return;
  const int64_t G = H / KVH, qw = H * D, kw = KVH * D;
  const int64_t Tt = query_tile(T, B * H);
  const int64_t tiles = (T + Tt - 1) / Tt;
  // Kᵀ of every (batch, KV head), packed once and shared by the heads of the group and all query tiles.
  const int64_t kmax = imax(0, imin(past + T, S));  // keys any query may see
  const int64_t ldk = imax(kPad, round_up(kmax, kPad));
  const bool packed = Tt >= kPackMinRows && kmax > 0;
  CallBuffer kt_all(3, packed ? B * KVH * D * ldk : 0);
  if (packed) {
    const int64_t blocks = (kmax + 63) / 64;
    parallel_for(B * KVH * blocks, [&](int64_t idx) {
      const int64_t bk = idx / blocks, s0 = (idx % blocks) * 64;
      const int64_t b = bk / KVH, kvh = bk % KVH;
      pack_transposed(k + (b * Sc + s0) * kw + kvh * D, kw, imin(64, kmax - s0), D, kt_all.get() + bk * D * ldk + s0,
                      ldk, s0 + 64 >= kmax ? ldk - s0 : imin(64, kmax - s0));
    });
  }
  parallel_for(B * H * tiles, [&](int64_t idx) {
    const int64_t tile = tiles - 1 - idx / (B * H);
    const int64_t b = (idx % (B * H)) / H, h = idx % H, kvh = h / G;
    const int64_t t0 = tile * Tt, t1 = imin(T, t0 + Tt), rows = t1 - t0;
    const int64_t send = imax(0, imin(past + t1, S));  // keys any row of the tile may see
    const int64_t lds = imax(kPad, round_up(send, kPad));
    const float* qt = q + (b * T + t0) * qw + h * D;
    const float* kb = k + b * Sc * kw + kvh * D;
    const float* vb = v + b * Sc * kw + kvh * D;
    const uint8_t* mk = key_mask + b * Sc;
    float* sc = scratch(0, rows * lds);
    float* bias = scratch(2, lds);
    for (int64_t s = 0; s < lds; s++) bias[s] = s < send && mk[s] != 0 ? 0.0f : kNegInf;

    if (packed && rows >= kPackMinRows && send > 0) {
      MM s;
      s.m = rows; s.n = lds; s.k = D;
      s.a = qt; s.ars = qw; s.acs = 1;
      s.b = kt_all.get() + (b * KVH + kvh) * D * ldk; s.ldb = ldk;
      s.c = sc; s.ldc = lds;
      s.alpha = sh.scale;
      s.n_base = past + t0;
      mm(s);
    } else {
      scores_dot(rows, qt, qw, kb, kw, D, S, past + t0, mk, sc, lds, sh.scale);
    }
    softmax_rows(sc, lds, rows, bias, past + t0, S, send);
    if (probs) {
      for (int64_t r = 0; r < rows; r++) {
        const int64_t lim = imax(0, imin(past + t0 + r + 1, S));
        float* pr = probs + ((b * H + h) * T + t0 + r) * S;
        std::memcpy(pr, sc + r * lds, size_t(lim) * sizeof(float));
        std::memset(pr + lim, 0, size_t(S - lim) * sizeof(float));
      }
    }
    MM o;
    o.m = rows; o.n = D; o.k = send;
    o.a = sc; o.ars = lds; o.acs = 1;
    o.b = vb; o.ldb = kw;
    o.c = out + (b * T + t0) * qw + h * D; o.ldc = qw;
    o.k_hi = past + t0;
    mm(o);
  });
}

void attention_backward(const float* d_out, const float* q, const float* k, const float* v, const float* probs,
                        float* dq, float* dk, float* dv, const AttnShape& sh) {
  const int64_t B = sh.batch, T = sh.queries, S = sh.keys, Sc = sh.key_capacity, past = sh.past;
  const int64_t H = sh.heads, KVH = sh.kv_heads, D = sh.head_dim;
  if (B == 0) return;
  const int64_t kw = KVH * D;
  // Key rows ≥ keys get zero gradients.
  for (int64_t b = 0; b < B; b++) {
    std::memset(dk + (b * Sc + S) * kw, 0, size_t((Sc - S) * kw) * sizeof(float));
    std::memset(dv + (b * Sc + S) * kw, 0, size_t((Sc - S) * kw) * sizeof(float));
  }
  const int64_t qw = H * D;
  if (H == 0) return;
  if (S == 0) {
    // No keys: every query row was fully masked, so nothing flows anywhere.
    std::memset(dq, 0, size_t(B * T * qw) * sizeof(float));
    return;
  }
  const int64_t G = H / KVH;
  const int64_t ldS = round_up(S, kPad);
  const int64_t Tt = T > 0 ? query_tile(T, G) : 1;
  const int64_t tiles = T > 0 ? (T + Tt - 1) / Tt : 0;
  // Key tile for phase 2: 16..64 keys, aiming at ≥ 4 tasks per thread.
  const int64_t threads = pool_threads();
  const int64_t Ts = imax(16, imin(64, round_up((S + 4 * threads - 1) / (4 * threads), 16)));
  const int64_t ktiles = (S + Ts - 1) / Ts;
  CallBuffer ds_all(3, imax(1, G * T * ldS));

  const int64_t kmax = imax(0, imin(past + T, S));
  const int64_t ldk = imax(kPad, round_up(kmax, kPad));
  const bool packed = Tt >= kPackMinRows && kmax > 0;
  CallBuffer vt(4, packed ? D * ldk : 0);
  const int64_t pack_blocks = (kmax + 63) / 64;

  for (int64_t b = 0; b < B; b++) {
    for (int64_t kvh = 0; kvh < KVH; kvh++) {
      const float* kb = k + b * Sc * kw + kvh * D;
      const float* vb = v + b * Sc * kw + kvh * D;
      if (packed) {
        parallel_for(pack_blocks, [&](int64_t blk) {
          const int64_t s0 = blk * 64;
          pack_transposed(vb + s0 * kw, kw, imin(64, kmax - s0), D, vt.get() + s0, ldk,
                          s0 + 64 >= kmax ? ldk - s0 : imin(64, kmax - s0));
        });
      }
      // Phase 1: dS and dQ, per (head of the group, query tile).
      parallel_for(G * tiles, [&](int64_t idx) {
        const int64_t tile = tiles - 1 - idx / G;
        const int64_t hg = idx % G, h = kvh * G + hg;
        const int64_t t0 = tile * Tt, t1 = imin(T, t0 + Tt), rows = t1 - t0;
        const int64_t send = imax(0, imin(past + t1, S));
        const int64_t lds = imax(kPad, round_up(send, kPad));
        const float* dot = d_out + (b * T + t0) * qw + h * D;
        float* dst = ds_all.get() + (hg * T + t0) * ldS;
        float* dp = scratch(0, rows * lds);
        if (packed && rows >= kPackMinRows && send > 0) {
          MM s;
          s.m = rows; s.n = lds; s.k = D;
          s.a = dot; s.ars = qw; s.acs = 1;
          s.b = vt.get(); s.ldb = ldk;
          s.c = dp; s.ldc = lds;
          s.n_base = past + t0;
          mm(s);
        } else {
          scores_dot(rows, dot, qw, vb, kw, D, S, past + t0, nullptr, dp, lds, 1.0f);
        }
        dsoftmax_rows(probs + ((b * H + h) * T + t0) * S, S, dp, lds, dst, ldS, rows, past + t0, S, sh.scale);
        MM o;
        o.m = rows; o.n = D; o.k = send;
        o.a = dst; o.ars = ldS; o.acs = 1;
        o.b = kb; o.ldb = kw;
        o.c = dq + (b * T + t0) * qw + h * D; o.ldc = qw;
        o.k_hi = past + t0;
        mm(o);
      });
      // Phase 2: dK and dV, per key tile (each task owns its rows).
      parallel_for(ktiles, [&](int64_t kt) {
        const int64_t s0 = kt * Ts, s1 = imin(S, s0 + Ts);
        for (int64_t hg = 0; hg < G; hg++) {
          const int64_t h = kvh * G + hg;
          MM g;
          g.m = s1 - s0; g.n = D; g.k = T;
          g.ars = 1;
          g.accumulate = hg > 0;
          g.k_lo = s0 - past;
          g.a = ds_all.get() + hg * T * ldS + s0; g.acs = ldS;
          g.b = q + b * T * qw + h * D; g.ldb = qw;
          g.c = dk + (b * Sc + s0) * kw + kvh * D; g.ldc = kw;
          mm(g);
          g.a = probs + (b * H + h) * T * S + s0; g.acs = S;
          g.b = d_out + b * T * qw + h * D; g.ldb = qw;
          g.c = dv + (b * Sc + s0) * kw + kvh * D; g.ldc = kw;
          mm(g);
        }
      });
    }
  }
}

}  // namespace leaf
