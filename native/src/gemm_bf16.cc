// GEMM with a bfloat16 B operand (the model's weights), float32 A and C, float32 accumulation.
//
// Two paths, picked per call:
// - m ≤ kGemvRows and op(B) = Bᵀ (x·Wᵀ, decoding): a GEMV that streams the bf16 rows of W straight
//   from memory, widening 8 (AVX2) or 16 (AVX-512) values at a time with a zero-extend and a 16-bit
//   shift, and accumulating in float32 lanes. It reads half the bytes of a float32 GEMV, and a GEMV is
//   bound by memory bandwidth, so it runs up to ~2× faster than sgemv on large matrices.
// - everything else: B is widened (exactly) into a float32 scratch block of at most kBlockFloats values,
//   in parallel on leaf's pool, and that block goes through the float32 GEMM (OpenBLAS sgemm). The
//   widening is a linear pass against the block's m·k·n multiply-adds, so for the prefill and training
//   shapes the rate is the float32 GEMM's, with half the resident weight memory.
// No VDPBF16PS (AVX512-BF16) path: this host CPU lacks it, and an untested kernel is not shipped.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "pool.h"
#include "simd.h"

namespace leaf {
namespace {

constexpr int64_t kGemvRows = 4;
constexpr int64_t kBlockFloats = int64_t(1) << 20;
constexpr int64_t kBlockK = 1024;

typedef uint16_t vh4 __attribute__((vector_size(8)));
typedef uint16_t vh8 __attribute__((vector_size(16)));
typedef uint16_t vh16 __attribute__((vector_size(32)));
template <class V>
struct Half;
template <>
struct Half<V4> {
  using H = vh4;
};
template <>
struct Half<V8> {
  using H = vh8;
};
template <>
struct Half<V16> {
  using H = vh16;
};

/** N bf16 values from p, widened to float32 lanes (exact: the bits move to the top half). */
template <class V>
LEAF_INLINE typename V::F load_bf16(const uint16_t* p) {
  typename Half<V>::H h;
  std::memcpy(&h, p, sizeof h);
  const typename V::I w = __builtin_convertvector(h, typename V::I);
  return as_float<V>(w << 16);
}

LEAF_INLINE float bf16_to_f32(uint16_t h) {
  const uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

template <class V>
LEAF_INLINE void widen_row_impl(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + V::N <= n; i += V::N) store<V>(dst + i, load_bf16<V>(src + i));
  for (; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}
LEAF_MULTI(void, widen_row, (const uint16_t* src, float* dst, int64_t n), (src, dst, n))

// c[i, j] = alpha·Σ_p x[i, p]·w[j, p] (+ beta·c[i, j]) for rows j0 ≤ j < j1 of w and i < m: four rows of w
// at a time, four independent accumulator chains hiding the FMA latency.
LEAF_INLINE float dot_tail(const float* x, const uint16_t* w, int64_t p, int64_t k) {
  float s = 0;
  for (; p < k; p++) s += x[p] * bf16_to_f32(w[p]);
  return s;
}

template <class V>
LEAF_INLINE void gemv_rows_impl(const float* x, int64_t ldx, int64_t m, const uint16_t* w, int64_t ldw, int64_t k,
                                float alpha, float beta, float* c, int64_t ldc, int64_t j0, int64_t j1) {
  using F = typename V::F;
  const int64_t kv = k - k % V::N;
  auto put = [&](float* cij, float s) { *cij = alpha * s + (beta == 0.0f ? 0.0f : beta * *cij); };
  int64_t j = j0;
  // Four rows of w at a time (they stay in cache while each row of x passes over them).
  for (; j + 4 <= j1; j += 4) {
    const uint16_t *w0 = w + j * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
    for (int64_t i = 0; i < m; i++) {
      const float* xi = x + i * ldx;
      F a0 = {}, a1 = {}, a2 = {}, a3 = {};
      for (int64_t p = 0; p < kv; p += V::N) {
        const F xv = load<V>(xi + p);
        a0 += xv * load_bf16<V>(w0 + p);
        a1 += xv * load_bf16<V>(w1 + p);
        a2 += xv * load_bf16<V>(w2 + p);
        a3 += xv * load_bf16<V>(w3 + p);
      }
      float* ci = c + i * ldc + j;
      put(ci, float(hsum<V>(a0)) + dot_tail(xi, w0, kv, k));
      put(ci + 1, float(hsum<V>(a1)) + dot_tail(xi, w1, kv, k));
      put(ci + 2, float(hsum<V>(a2)) + dot_tail(xi, w2, kv, k));
      put(ci + 3, float(hsum<V>(a3)) + dot_tail(xi, w3, kv, k));
    }
  }
  for (; j < j1; j++) {
    const uint16_t* wj = w + j * ldw;
    for (int64_t i = 0; i < m; i++) {
      const float* xi = x + i * ldx;
      F a0 = {};
      for (int64_t p = 0; p < kv; p += V::N) a0 += load<V>(xi + p) * load_bf16<V>(wj + p);
      put(c + i * ldc + j, float(hsum<V>(a0)) + dot_tail(xi, wj, kv, k));
    }
  }
}
LEAF_MULTI(void, gemv_rows,
           (const float* x, int64_t ldx, int64_t m, const uint16_t* w, int64_t ldw, int64_t k, float alpha, float beta,
            float* c, int64_t ldc, int64_t j0, int64_t j1),
           (x, ldx, m, w, ldw, k, alpha, beta, c, ldc, j0, j1))

/** Widens rows×cols of src (row stride lds) into dst (row stride cols), rows spread over the pool. */
void widen_block(const uint16_t* src, int64_t lds, int64_t rows, int64_t cols, float* dst) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1));
  parallel_range(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) widen_row(src + r * lds, dst + r * cols, cols);
  });
}

/** Scratch that lives as long as the thread: one block, grown on demand (calls come from the JS thread). */
float* scratch(int64_t n) {
  thread_local std::vector<float> buf;
  if (int64_t(buf.size()) < n) buf.resize(size_t(n));
  return buf.data();
}

}  // namespace

void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
               const uint16_t* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) {
    gemm(trans_a, trans_b, m, n, 0, alpha, nullptr, 1, nullptr, 1, beta, c, ldc);  // C = beta·C
    return;
  }
  if (trans_b && m <= kGemvRows) {
    // op(A) as compact rows (a copy only when A is stored transposed: m·k floats).
    const float* x = a;
    int64_t ldx = lda;
    if (trans_a) {
      float* xs = scratch(m * k);
      for (int64_t i = 0; i < m; i++)
        for (int64_t p = 0; p < k; p++) xs[i * k + p] = a[p * lda + i];
      x = xs;
      ldx = k;
    }
    const int64_t grain = std::max<int64_t>(4, 32768 / k);
    parallel_range(n, grain, [&](int64_t j0, int64_t j1) { gemv_rows(x, ldx, m, b, ldb, k, alpha, beta, c, ldc, j0, j1); });
    return;
  }
  // Blocks of kb×nb of op(B), widened then multiplied: C += op(A)[:, p0:p0+kb]·block (beta on the first).
  const int64_t kb = std::min<int64_t>(k, kBlockK);
  const int64_t nb = std::min<int64_t>(n, std::max<int64_t>(16, kBlockFloats / kb / 16 * 16));
  float* w = scratch(kb * nb);
  for (int64_t j0 = 0; j0 < n; j0 += nb) {
    const int64_t cols = std::min(nb, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += kb) {
      const int64_t depth = std::min(kb, k - p0);
      const float* a_p = trans_a ? a + p0 * lda : a + p0;
      if (trans_b) {
        widen_block(b + j0 * ldb + p0, ldb, cols, depth, w);  // op(B)[p, j] = b[j·ldb + p]
        gemm(trans_a, true, m, cols, depth, alpha, a_p, lda, w, depth, p0 == 0 ? beta : 1.0f, c + j0, ldc);
      } else {
        widen_block(b + p0 * ldb + j0, ldb, depth, cols, w);  // op(B)[p, j] = b[p·ldb + j]
        gemm(trans_a, false, m, cols, depth, alpha, a_p, lda, w, cols, p0 == 0 ? beta : 1.0f, c + j0, ldc);
      }
    }
  }
}

}  // namespace leaf
