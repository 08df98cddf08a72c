// Rotary position embedding (rotate_half convention), in place, parallel over rows.
#include "kernels.h"
#include "pool.h"
#include "simd.h"

namespace leaf {
namespace {

template <class V>
LEAF_INLINE void rope_rows_impl(float* x, const float* cos, const float* sin, int64_t r0, int64_t r1, int64_t heads,
                                int64_t head_dim, bool inverse) {
  using F = typename V::F;
  const int64_t half = head_dim / 2;
  const int64_t width = heads * head_dim;
  const float sg = inverse ? -1.0f : 1.0f;
  for (int64_t r = r0; r < r1; r++) {
    const float* cr = cos + r * half;
    const float* sr = sin + r * half;
    for (int64_t h = 0; h < heads; h++) {
      float* x1 = x + r * width + h * head_dim;
      float* x2 = x1 + half;
      int64_t i = 0;
      for (; i + V::N <= half; i += V::N) {
        const F c = load<V>(cr + i), s = load<V>(sr + i) * sg;
        const F a = load<V>(x1 + i), b = load<V>(x2 + i);
        store<V>(x1 + i, a * c - b * s);
        store<V>(x2 + i, b * c + a * s);
      }
      for (; i < half; i++) {
        const float c = cr[i], s = sr[i] * sg;
        const float a = x1[i], b = x2[i];
        x1[i] = a * c - b * s;
        x2[i] = b * c + a * s;
      }
    }
  }
}
LEAF_MULTI(void, rope_rows,
           (float* x, const float* cos, const float* sin, int64_t r0, int64_t r1, int64_t heads, int64_t head_dim,
            bool inverse),
           (x, cos, sin, r0, r1, heads, head_dim, inverse))

}  // namespace

void rope(float* x, const float* cos, const float* sin, int64_t rows, int64_t heads, int64_t head_dim, bool inverse) {
  const int64_t grain = imax(1, 32768 / imax(1, heads * head_dim));
  parallel_range(rows, grain, [&](int64_t r0, int64_t r1) { rope_rows(x, cos, sin, r0, r1, heads, head_dim, inverse); });
}

}  // namespace leaf
