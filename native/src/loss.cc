// Softmax cross-entropy (with in-place gradient) and log-softmax, parallel over rows.
//
// Each row is read from memory once for its maximum; the later passes over it (a vocabulary row of
// 49152 floats is 192 KiB) hit the L2 cache.
#include <cmath>
#include <limits>

#include "kernels.h"
#include "pool.h"
#include "simd.h"

namespace leaf {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

template <class V>
LEAF_INLINE float row_max(const float* x, int64_t n) {
  typename V::F m = splat<V>(kNegInf);
  int64_t i = 0;
  for (; i + V::N <= n; i += V::N) m = vmax<V>(m, load<V>(x + i));
  float mx = hmax<V>(m);
  for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  return mx;
}

// Σ exp(x[i] − mx), float lanes flushed to double every 64 vectors. If store is not null it
// receives the exponentials (store may equal x).
template <class V>
LEAF_INLINE double sum_exp(const float* x, float* store_to, int64_t n, float mx) {
  using F = typename V::F;
  const F vm = splat<V>(mx);
  double total = 0;
  int64_t i = 0;
  while (i + V::N <= n) {
    const int64_t stop = imin(n - (n - i) % V::N, i + 64 * V::N);
    F acc = {};
    for (; i < stop; i += V::N) {
      const F e = vexp<V>(load<V>(x + i) - vm);
      if (store_to) store<V>(store_to + i, e);
      acc += e;
    }
    total += hsum<V>(acc);
  }
  if (i < n) {
    const F e = vexp<V>(load_part<V>(x + i, n - i) - vm);
    if (store_to) store_part<V>(store_to + i, e, n - i);
    for (int64_t j = 0; j < n - i; j++) total += double(e[j]);
  }
  return total;
}

template <class V>
LEAF_INLINE void cross_entropy_rows_impl(float* logits, const int32_t* targets, int64_t r0, int64_t r1, int64_t vocab,
                                         float* loss, const float* grad_scale) {
  for (int64_t r = r0; r < r1; r++) {
    float* x = logits + r * vocab;
    const int32_t t = targets[r];
    if (t < 0) {
      loss[r] = 0;
      if (grad_scale)
        for (int64_t i = 0; i < vocab; i++) x[i] = 0;
      continue;
    }
    const double xt = x[t];
    const float mx = row_max<V>(x, vocab);
    if (mx == kNegInf) {
      // Every logit is −∞: same result as the reference (−∞ − −∞ = NaN).
      loss[r] = std::numeric_limits<float>::quiet_NaN();
      if (grad_scale)
        for (int64_t i = 0; i < vocab; i++) x[i] = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    const double sum = sum_exp<V>(x, grad_scale ? x : nullptr, vocab, mx);
    loss[r] = float((double(mx) - xt) + std::log(sum));
    if (grad_scale) {
      const double g = grad_scale[r];
      const float f = float(g / sum);
      int64_t i = 0;
      for (; i + V::N <= vocab; i += V::N) store<V>(x + i, load<V>(x + i) * f);
      for (; i < vocab; i++) x[i] *= f;
      x[t] = float(double(x[t]) - g);
    }
  }
}
LEAF_MULTI(void, cross_entropy_rows,
           (float* logits, const int32_t* targets, int64_t r0, int64_t r1, int64_t vocab, float* loss,
            const float* grad_scale),
           (logits, targets, r0, r1, vocab, loss, grad_scale))

template <class V>
LEAF_INLINE void log_softmax_rows_impl(const float* x, float* out, int64_t r0, int64_t r1, int64_t n) {
  using F = typename V::F;
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * n;
    float* orow = out + r * n;
    const float mx = row_max<V>(xr, n);
    if (mx == kNegInf) {
      for (int64_t i = 0; i < n; i++) orow[i] = xr[i] - kNegInf;  // NaN, like the reference
      continue;
    }
    // out = (x − max) − log Σ exp(x − max): both terms ≤ 0, so no cancellation in float.
    const float ls = float(std::log(sum_exp<V>(xr, nullptr, n, mx)));
    const F vm = splat<V>(mx), vl = splat<V>(ls);
    int64_t i = 0;
    for (; i + V::N <= n; i += V::N) store<V>(orow + i, (load<V>(xr + i) - vm) - vl);
    for (; i < n; i++) orow[i] = (xr[i] - mx) - ls;
  }
}
LEAF_MULTI(void, log_softmax_rows, (const float* x, float* out, int64_t r0, int64_t r1, int64_t n), (x, out, r0, r1, n))

int64_t row_grain(int64_t n) { return imax(1, 32768 / imax(n, 1)); }

}  // namespace

void cross_entropy(float* logits, const int32_t* targets, int64_t rows, int64_t vocab, float* loss,
                   const float* grad_scale) {
  parallel_range(rows, row_grain(vocab), [&](int64_t r0, int64_t r1) {
    cross_entropy_rows(logits, targets, r0, r1, vocab, loss, grad_scale);
  });
}

void log_softmax(const float* x, float* out, int64_t rows, int64_t n) {
  parallel_range(rows, row_grain(n), [&](int64_t r0, int64_t r1) { log_softmax_rows(x, out, r0, r1, n); });
}

}  // namespace leaf
