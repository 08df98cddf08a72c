// GEMM through BLAS: OpenBLAS (cblas.h) on Linux, Accelerate on macOS.
//
// OpenBLAS threads itself (Debian's libopenblas0-pthread: its own pthread pool). The calls below
// are made from the calling thread only, never from inside a leaf pool region, and leaf's idle pool
// workers are parked (asleep) for the duration of a threaded GEMM, so the two pools take turns on the
// cores instead of oversubscribing them.
#include <algorithm>
#include <cstdio>

#include "kernels.h"
#include "pool.h"
#include "simd.h"

#if defined(__APPLE__)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

#if !defined(__APPLE__)
// OpenBLAS extensions, declared weak so that linking against another CBLAS still works.
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
char* openblas_get_config(void) __attribute__((weak));
}
#endif

namespace leaf {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) {
    // C = beta·C (beta = 0 overwrites, NaNs included).
    for (int64_t i = 0; i < m; i++) {
      float* row = c + i * ldc;
      if (beta == 0.0f) std::fill(row, row + n, 0.0f);
      else if (beta != 1.0f) for (int64_t j = 0; j < n; j++) row[j] *= beta;
    }
    return;
  }
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
  // BLAS insists on ld ≥ the stored row width even when there is a single row; the glue has checked
  // that the buffers hold what the real strides address, so widening a single row's stride is harmless.
  const int64_t a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
  if ((trans_a ? k : m) == 1) lda = std::max(lda, a_cols);
  if ((trans_b ? n : k) == 1) ldb = std::max(ldb, b_cols);
  if (m == 1) ldc = std::max(ldc, n);
  if (m == 1 || n == 1) {
    // Matrix-vector products (decoding, single-column cases): sgemv is several times faster than
    // sgemm here (OpenBLAS 0.3.21 does not forward them itself).
    if (beta == 0.0f) {
      for (int64_t i = 0; i < m; i++) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    }
    if (m == 1) {
      // c[0, :] = alpha · op(B)ᵀ · x, x = op(A)'s row: contiguous, or every lda-th element if transA.
      const int incx = trans_a ? int(std::max<int64_t>(lda, 1)) : 1;
      if (trans_b) cblas_sgemv(CblasRowMajor, CblasNoTrans, int(n), int(k), alpha, b, int(ldb), a, incx, beta, c, 1);
      else cblas_sgemv(CblasRowMajor, CblasTrans, int(k), int(n), alpha, b, int(ldb), a, incx, beta, c, 1);
    } else {
      // c[:, 0] (stride ldc) = alpha · op(A) · x, x = op(B)'s column.
      const int incx = trans_b ? 1 : int(std::max<int64_t>(ldb, 1));
      if (trans_a) cblas_sgemv(CblasRowMajor, CblasTrans, int(k), int(m), alpha, a, int(lda), b, incx, beta, c, int(ldc));
      else cblas_sgemv(CblasRowMajor, CblasNoTrans, int(m), int(k), alpha, a, int(lda), b, incx, beta, c, int(ldc));
    }
    return;
  }
  // A GEMM worth threading: let leaf's idle pool workers sleep while OpenBLAS's threads run, so the two
  // pools never compete for the cores; they are back to spinning when the next kernel comes.
  const bool big = double(m) * double(n) * double(k) >= 2e6;
  if (big) pool_park();
  cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
  if (big) pool_unpark();
}

const char* blas_info() {
  static char buf[256];
#if defined(__APPLE__)
  std::snprintf(buf, sizeof buf, "Accelerate; leaf pool %d threads, %s kernels", pool_threads(), isa_name(isa()));
#else
  if (openblas_get_config && openblas_get_num_threads)
    std::snprintf(buf, sizeof buf, "%s; %d BLAS threads; leaf pool %d threads, %s kernels", openblas_get_config(),
                  openblas_get_num_threads(), pool_threads(), isa_name(isa()));
  else
    std::snprintf(buf, sizeof buf, "CBLAS; leaf pool %d threads, %s kernels", pool_threads(), isa_name(isa()));
#endif
  return buf;
}

void set_blas_threads(int n) {
#if !defined(__APPLE__)
  if (openblas_set_num_threads && n > 0) openblas_set_num_threads(n);
#else
  (void)n;
#endif
}

}  // namespace leaf
