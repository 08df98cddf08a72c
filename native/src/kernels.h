// The native kernels on raw pointers. Shapes and buffer lengths are validated by the N-API glue
// (module.cc) before any of these runs; the semantics are those of src/kernels/types.ts.
#pragma once

#include <cstdint>

namespace leaf {

/** Row-major C = alpha·op(A)·op(B) + beta·C through BLAS. */
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
/**
 * As gemm with B given as bfloat16 bit patterns (widened exactly to float32), float32 accumulation
 * (native/src/gemm_bf16.cc).
 */
void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
               const uint16_t* b, int64_t ldb, float beta, float* c, int64_t ldc);
/** Which BLAS the addon links and how its threads are set (for diagnostics). */
const char* blas_info();
void set_blas_threads(int n);

void rmsnorm(const float* x, const float* w, float* out, float* rstd, int64_t rows, int64_t dim, double eps);
void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, float* dx, float* dw,
                      int64_t rows, int64_t dim);

void rope(float* x, const float* cos, const float* sin, int64_t rows, int64_t heads, int64_t head_dim, bool inverse);

void swiglu(const float* g, const float* u, float* h, int64_t n);
void swiglu_backward(const float* dh, const float* g, const float* u, float* dg, float* du, int64_t n);

struct AttnShape {
  int64_t batch, queries, keys, key_capacity, past, heads, kv_heads, head_dim;
  float scale;
};
void attention(const float* q, const float* k, const float* v, const uint8_t* key_mask, float* out, float* probs,
               const AttnShape& s);
void attention_backward(const float* d_out, const float* q, const float* k, const float* v, const float* probs,
                        float* dq, float* dk, float* dv, const AttnShape& s);

void cross_entropy(float* logits, const int32_t* targets, int64_t rows, int64_t vocab, float* loss,
                   const float* grad_scale);
void log_softmax(const float* x, float* out, int64_t rows, int64_t n);

/** The per-step constants of the AdamW element update (src/training/adamw.ts). */
struct AdamwConsts {
  double b1, b2, step_size, decay, sqrt_bc2, eps, grad_scale;
};
/** AdamW over n elements in place (p, m, v), float64 arithmetic per element as the TypeScript loop (optim.cc). */
void adamw(float* p, const float* g, float* m, float* v, int64_t n, const AdamwConsts& c);
/** out[k] = Σ x² over [k·chunk, min(n, (k+1)·chunk)), each summed as the TypeScript sumSquares does. */
void chunk_sum_squares(const float* x, int64_t n, int64_t chunk, double* out);

}  // namespace leaf
