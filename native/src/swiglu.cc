// SwiGLU h = silu(g)·u and its backward, elementwise, parallel over contiguous chunks.
#include "kernels.h"
#include "pool.h"
#include "simd.h"

namespace leaf {
namespace {

constexpr int64_t kGrain = 32768;

template <class V>
LEAF_INLINE typename V::F sigmoid(typename V::F z) {
  return 1.0f / (1.0f + vexp<V>(-z));
}

template <class V>
LEAF_INLINE void swiglu_range_impl(const float* g, const float* u, float* h, int64_t i0, int64_t i1) {
  using F = typename V::F;
  int64_t i = i0;
  for (; i + V::N <= i1; i += V::N) {
    const F z = load<V>(g + i);
    store<V>(h + i, z * sigmoid<V>(z) * load<V>(u + i));
  }
  if (i < i1) {
    const F z = load_part<V>(g + i, i1 - i);
    store_part<V>(h + i, z * sigmoid<V>(z) * load_part<V>(u + i, i1 - i), i1 - i);
  }
}
LEAF_MULTI(void, swiglu_range, (const float* g, const float* u, float* h, int64_t i0, int64_t i1), (g, u, h, i0, i1))

// All inputs of an element are read before its outputs are written, so dg may alias dh (and du any input).
template <class V>
LEAF_INLINE void swiglu_backward_step(const float* dh, const float* g, const float* u, float* dg, float* du, int64_t i,
                                      int64_t n) {
  using F = typename V::F;
  const bool full = n == V::N;
  const F z = full ? load<V>(g + i) : load_part<V>(g + i, n);
  const F d = full ? load<V>(dh + i) : load_part<V>(dh + i, n);
  const F uu = full ? load<V>(u + i) : load_part<V>(u + i, n);
  const F sig = sigmoid<V>(z);
  const F rdu = d * z * sig;
  const F rdg = d * uu * sig * (1.0f + z * (1.0f - sig));
  if (full) {
    store<V>(du + i, rdu);
    store<V>(dg + i, rdg);
  } else {
    store_part<V>(du + i, rdu, n);
    store_part<V>(dg + i, rdg, n);
  }
}
template <class V>
LEAF_INLINE void swiglu_backward_range_impl(const float* dh, const float* g, const float* u, float* dg, float* du,
                                            int64_t i0, int64_t i1) {
  int64_t i = i0;
  for (; i + V::N <= i1; i += V::N) swiglu_backward_step<V>(dh, g, u, dg, du, i, V::N);
  if (i < i1) swiglu_backward_step<V>(dh, g, u, dg, du, i, i1 - i);
}
LEAF_MULTI(void, swiglu_backward_range,
           (const float* dh, const float* g, const float* u, float* dg, float* du, int64_t i0, int64_t i1),
           (dh, g, u, dg, du, i0, i1))

}  // namespace

void swiglu(const float* g, const float* u, float* h, int64_t n) {
  parallel_range(n, kGrain, [&](int64_t i0, int64_t i1) { swiglu_range(g, u, h, i0, i1); });
}

void swiglu_backward(const float* dh, const float* g, const float* u, float* dg, float* du, int64_t n) {
  parallel_range(n, kGrain, [&](int64_t i0, int64_t i1) { swiglu_backward_range(dh, g, u, dg, du, i0, i1); });
}

}  // namespace leaf
