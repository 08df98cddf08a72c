// The optimizer's element loops: the AdamW update and per-chunk sums of squares (the gradient norm),
// in float64 per element exactly as the TypeScript loops (src/kernels/js/optim.ts) compute them, so the
// results are bit-identical: same operations in the same order, each correctly rounded (no FMA — this
// file is compiled with fp-contract off, see below —, IEEE sqrt and division), float32 stores rounded
// to nearest even. AVX2 does four elements per instruction; everything else runs the scalar loop.
// Parallel over contiguous chunks on leaf's pool (each element is independent; each chunk sum is
// computed by one thread in the same order as the serial loop).
//
// The build adds -ffp-contract=fast; a fused multiply-add rounds once where the TypeScript rounds
// twice, so contraction is switched off for this translation unit (before any include).
#pragma GCC optimize("fp-contract=off")

#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "pool.h"
#include "simd.h"

#if LEAF_X86_DISPATCH
#include <immintrin.h>
#endif

namespace leaf {
namespace {

constexpr int64_t kGrain = 1 << 16;

inline void adamw_scalar(float* p, const float* g, float* m, float* v, int64_t i0, int64_t i1, const AdamwConsts& c) {
  const double c1 = 1 - c.b1, c2 = 1 - c.b2;
  for (int64_t i = i0; i < i1; i++) {
    const double gi = double(g[i]) * c.grad_scale;
    const float mi = float(c.b1 * double(m[i]) + c1 * gi);
    const float vi = float(c.b2 * double(v[i]) + c2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = float(double(p[i]) * c.decay - (c.step_size * double(mi)) / (std::sqrt(double(vi)) / c.sqrt_bc2 + c.eps));
  }
}

inline double sum_squares_scalar(const float* x, int64_t start, int64_t end) {
  double a = 0, b = 0, cc = 0, d = 0;
  const int64_t n4 = end - ((end - start) % 4);
  for (int64_t i = start; i < n4; i += 4) {
    const double x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
    a += x0 * x0;
    b += x1 * x1;
    cc += x2 * x2;
    d += x3 * x3;
  }
  for (int64_t i = n4; i < end; i++) a += double(x[i]) * double(x[i]);
  return a + b + cc + d;
}

#if LEAF_X86_DISPATCH
LEAF_TARGET_AVX2 __attribute__((noinline)) void adamw_avx2(float* p, const float* g, float* m, float* v, int64_t i0, int64_t i1,
                                                             const AdamwConsts& c) {
  const __m256d b1 = _mm256_set1_pd(c.b1), b2 = _mm256_set1_pd(c.b2), c1 = _mm256_set1_pd(1 - c.b1),
                c2 = _mm256_set1_pd(1 - c.b2), scale = _mm256_set1_pd(c.grad_scale), decay = _mm256_set1_pd(c.decay),
                step = _mm256_set1_pd(c.step_size), sbc2 = _mm256_set1_pd(c.sqrt_bc2), eps = _mm256_set1_pd(c.eps);
  int64_t i = i0;
  for (; i + 4 <= i1; i += 4) {
    const __m256d gi = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(g + i)), scale);
    const __m128 mf = _mm256_cvtpd_ps(_mm256_add_pd(_mm256_mul_pd(b1, _mm256_cvtps_pd(_mm_loadu_ps(m + i))), _mm256_mul_pd(c1, gi)));
    const __m128 vf = _mm256_cvtpd_ps(
        _mm256_add_pd(_mm256_mul_pd(b2, _mm256_cvtps_pd(_mm_loadu_ps(v + i))), _mm256_mul_pd(_mm256_mul_pd(c2, gi), gi)));
    _mm_storeu_ps(m + i, mf);
    _mm_storeu_ps(v + i, vf);
    const __m256d den = _mm256_add_pd(_mm256_div_pd(_mm256_sqrt_pd(_mm256_cvtps_pd(vf)), sbc2), eps);
    const __m256d upd = _mm256_div_pd(_mm256_mul_pd(step, _mm256_cvtps_pd(mf)), den);
    const __m256d pn = _mm256_sub_pd(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(p + i)), decay), upd);
    _mm_storeu_ps(p + i, _mm256_cvtpd_ps(pn));
  }
  adamw_scalar(p, g, m, v, i, i1, c);
}

// Lane j of the accumulator is the TypeScript loop's accumulator j (a, b, c, d): the same additions in
// the same order; the lanes are then added as a + b + c + d.
LEAF_TARGET_AVX2 __attribute__((noinline)) double sum_squares_avx2(const float* x, int64_t start, int64_t end) {
  const int64_t n4 = end - ((end - start) % 4);
  __m256d acc = _mm256_setzero_pd();
  for (int64_t i = start; i < n4; i += 4) {
    const __m256d xi = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
    acc = _mm256_add_pd(acc, _mm256_mul_pd(xi, xi));
  }
  alignas(32) double l[4];
  _mm256_store_pd(l, acc);
  double a = l[0];
  for (int64_t i = n4; i < end; i++) a += double(x[i]) * double(x[i]);
  return a + l[1] + l[2] + l[3];
}
#endif

void adamw_range(float* p, const float* g, float* m, float* v, int64_t i0, int64_t i1, const AdamwConsts& c) {
#if LEAF_X86_DISPATCH
  if (isa() != Isa::base) return adamw_avx2(p, g, m, v, i0, i1, c);
#endif
  adamw_scalar(p, g, m, v, i0, i1, c);
}

double sum_squares(const float* x, int64_t start, int64_t end) {
#if LEAF_X86_DISPATCH
  if (isa() != Isa::base) return sum_squares_avx2(x, start, end);
#endif
  return sum_squares_scalar(x, start, end);
}

}  // namespace

void adamw(float* p, const float* g, float* m, float* v, int64_t n, const AdamwConsts& c) {
  parallel_range(n, kGrain, [&](int64_t b, int64_t e) { adamw_range(p, g, m, v, b, e, c); });
}

void chunk_sum_squares(const float* x, int64_t n, int64_t chunk, double* out) {
  const int64_t chunks = (n + chunk - 1) / chunk;
  parallel_range(chunks, 4, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; k++) out[k] = sum_squares(x, k * chunk, std::min(n, (k + 1) * chunk));
  });
}

}  // namespace leaf
