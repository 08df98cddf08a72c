// RMSNorm forward and backward, parallel over rows.
#include <cmath>
#include <memory>

#include "kernels.h"
#include "pool.h"
#include "simd.h"

namespace leaf {
namespace {

template <class V>
LEAF_INLINE void rmsnorm_rows_impl(const float* x, const float* w, float* out, float* rstd, int64_t r0, int64_t r1,
                                   int64_t dim, double eps) {
  using F = typename V::F;
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * dim;
    float* orow = out + r * dim;
    const double ss = dot_d<V>(xr, xr, dim);
    const float rs = float(1.0 / std::sqrt(ss / double(dim) + eps));
    rstd[r] = rs;
    const F vrs = splat<V>(rs);
    int64_t i = 0;
    for (; i + V::N <= dim; i += V::N) store<V>(orow + i, load<V>(xr + i) * vrs * load<V>(w + i));
    for (; i < dim; i++) orow[i] = xr[i] * rs * w[i];
  }
}
LEAF_MULTI(void, rmsnorm_rows,
           (const float* x, const float* w, float* out, float* rstd, int64_t r0, int64_t r1, int64_t dim, double eps),
           (x, w, out, rstd, r0, r1, dim, eps))

// Backward for rows [r0, r1); dw_part (if not null) receives Σ_r dy·x·rstd over these rows (overwritten).
template <class V>
LEAF_INLINE void rmsnorm_backward_rows_impl(const float* dy, const float* x, const float* w, const float* rstd,
                                            float* dx, double* dw_part, int64_t r0, int64_t r1, int64_t dim) {
  using F = typename V::F;
  if (dw_part)
    for (int64_t i = 0; i < dim; i++) dw_part[i] = 0;
  for (int64_t r = r0; r < r1; r++) {
    const float* dyr = dy + r * dim;
    const float* xr = x + r * dim;
    float* dxr = dx + r * dim;
    const double rs = rstd[r];
    // dot = Σ dy·w·x, float lanes flushed to double every 64 vectors.
    double dot = 0;
    int64_t i = 0;
    while (i + V::N <= dim) {
      const int64_t stop = imin(dim - (dim - i) % V::N, i + 64 * V::N);
      F acc = {};
      for (; i < stop; i += V::N) acc += load<V>(dyr + i) * load<V>(w + i) * load<V>(xr + i);
      dot += hsum<V>(acc);
    }
    for (; i < dim; i++) dot += double(dyr[i]) * double(w[i]) * double(xr[i]);
    // dw before dx: dx may alias dy.
    if (dw_part)
      for (i = 0; i < dim; i++) dw_part[i] += double(dyr[i]) * double(xr[i]) * rs;
    const float coef = float(rs * rs * rs * dot / double(dim));
    const float frs = float(rs);
    const F vrs = splat<V>(frs), vcoef = splat<V>(coef);
    for (i = 0; i + V::N <= dim; i += V::N)
      store<V>(dxr + i, load<V>(dyr + i) * load<V>(w + i) * vrs - load<V>(xr + i) * vcoef);
    for (; i < dim; i++) dxr[i] = dyr[i] * w[i] * frs - xr[i] * coef;
  }
}
LEAF_MULTI(void, rmsnorm_backward_rows,
           (const float* dy, const float* x, const float* w, const float* rstd, float* dx, double* dw_part, int64_t r0,
            int64_t r1, int64_t dim),
           (dy, x, w, rstd, dx, dw_part, r0, r1, dim))

// Rows per parallel chunk: at least ~32K elements, so a chunk outweighs waking a thread.
int64_t row_grain(int64_t dim) { return imax(1, 32768 / imax(dim, 1)); }

}  // namespace

void rmsnorm(const float* x, const float* w, float* out, float* rstd, int64_t rows, int64_t dim, double eps) {
  parallel_range(rows, row_grain(dim), [&](int64_t r0, int64_t r1) { rmsnorm_rows(x, w, out, rstd, r0, r1, dim, eps); });
}

void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, float* dx, float* dw,
                      int64_t rows, int64_t dim) {
  if (rows <= 0) return;
  if (!dw) {
    parallel_range(rows, row_grain(dim), [&](int64_t r0, int64_t r1) {
      rmsnorm_backward_rows(dy, x, w, rstd, dx, nullptr, r0, r1, dim);
    });
    return;
  }
  // dw: fixed chunks of rows (independent of the thread count, so the result is deterministic),
  // each summed in double into its own partial, then the partials added in chunk order.
  const int64_t chunk = imax(32, row_grain(dim));
  const int64_t chunks = (rows + chunk - 1) / chunk;
  std::unique_ptr<double[]> parts(new double[size_t(chunks * dim)]);
  parallel_for(chunks, [&](int64_t c) {
    const int64_t r0 = c * chunk, r1 = imin(rows, r0 + chunk);
    rmsnorm_backward_rows(dy, x, w, rstd, dx, parts.get() + c * dim, r0, r1, dim);
  });
  for (int64_t i = 0; i < dim; i++) {
    double s = 0;
    for (int64_t c = 0; c < chunks; c++) s += parts[size_t(c * dim + i)];
    dw[i] = float(double(dw[i]) + s);
  }
}

}  // namespace leaf
