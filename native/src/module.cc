// N-API glue: argument checking and the JS-facing functions. Every buffer is used in place (the
// typed array's own memory, byteOffset honoured); nothing is copied. Lengths are checked against the
// shapes before any kernel runs, so a short buffer throws instead of being written out of bounds.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "kernels.h"
#include "pool.h"
#include "simd.h"

namespace {

using leaf::AttnShape;

constexpr int64_t kMaxDim = 0x7fffffff;  // BLAS takes int sizes and strides

struct Ctx {
  const Napi::CallbackInfo& info;
  const char* fn;

  [[noreturn]] void type_error(const std::string& msg) const {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + msg);
  }
  [[noreturn]] void range_error(const std::string& msg) const {
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + msg);
  }

  void need_args(size_t n) const {
    if (info.Length() < n)
      type_error("expected " + std::to_string(n) + " arguments, got " + std::to_string(info.Length()));
  }

  double number(size_t i, const char* name) const {
    if (!info[i].IsNumber()) type_error(std::string(name) + " must be a number");
    return info[i].As<Napi::Number>().DoubleValue();
  }

  /** A non-negative integer ≤ 2^31 − 1. */
  int64_t dim(size_t i, const char* name) const {
    const double v = number(i, name);
    if (!(v >= 0) || v > double(kMaxDim) || std::floor(v) != v)
      range_error(std::string(name) + " must be an integer in [0, 2^31), got " + Napi::Value(info[i]).ToString().Utf8Value());
    return int64_t(v);
  }

  bool boolean(size_t i, const char* name) const {
    if (!info[i].IsBoolean()) type_error(std::string(name) + " must be a boolean");
    return info[i].As<Napi::Boolean>().Value();
  }

  bool is_null(size_t i) const { return info[i].IsNull() || info[i].IsUndefined(); }

  template <class T>
  T* typed(size_t i, const char* name, napi_typedarray_type want, const char* want_name, int64_t need,
           bool nullable = false) const {
    if (nullable && is_null(i)) return nullptr;
    const Napi::Value val = info[i];
    if (!val.IsTypedArray()) type_error(std::string(name) + " must be a " + want_name + (nullable ? " or null" : ""));
    const Napi::TypedArray ta = val.As<Napi::TypedArray>();
    if (ta.TypedArrayType() != want) {
      if (want == napi_float32_array && ta.TypedArrayType() == napi_float64_array)
        type_error(std::string(name) + " is a Float64Array; the native kernels are float32-only (use the js kernels for float64)");
      type_error(std::string(name) + " must be a " + want_name);
    }
    // napi_get_typedarray_info gives the data pointer with byteOffset already applied.
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_status st = napi_get_typedarray_info(info.Env(), val, &type, &length, &data, nullptr, nullptr);
    if (st != napi_ok) type_error(std::string("cannot read ") + name);
    if (need < 0 || uint64_t(need) > uint64_t(length))
      range_error(std::string(name) + " is too short: needs " + std::to_string(need) + " elements, has " +
                  std::to_string(length));
    if (data == nullptr && need > 0) range_error(std::string(name) + " has no backing store (detached?)");
    return static_cast<T*>(data);
  }

  float* f32(size_t i, const char* name, int64_t need) const {
    return typed<float>(i, name, napi_float32_array, "Float32Array", need);
  }
  float* f32_or_null(size_t i, const char* name, int64_t need) const {
    return typed<float>(i, name, napi_float32_array, "Float32Array", need, true);
  }

  int64_t mul(int64_t a, int64_t b) const {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) range_error("shape too large");
    return r;
  }
  int64_t mul(int64_t a, int64_t b, int64_t c) const { return mul(mul(a, b), c); }
  int64_t mul(int64_t a, int64_t b, int64_t c, int64_t d) const { return mul(mul(a, b, c), d); }
};

// Elements a row-major matrix of rows×cols with row stride ld occupies; checks ld ≥ cols.
int64_t matrix_extent(const Ctx& cx, int64_t rows, int64_t cols, int64_t ld, const char* ld_name) {
  if (rows == 0 || cols == 0) return 0;
  if (rows > 1 && ld < cols)
    cx.range_error(std::string(ld_name) + " (" + std::to_string(ld) + ") must be at least the stored row width " +
                   std::to_string(cols));
  return cx.mul(rows - 1, ld) + cols;
}

// gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); gemmBf16: the same with b a
// Uint16Array of bfloat16 bit patterns.
template <bool kBf16>
Napi::Value GemmAny(const Napi::CallbackInfo& info) {
  Ctx cx{info, kBf16 ? "gemmBf16" : "gemm"};
  cx.need_args(13);
  const bool ta = cx.boolean(0, "transA"), tb = cx.boolean(1, "transB");
  const int64_t m = cx.dim(2, "m"), n = cx.dim(3, "n"), k = cx.dim(4, "k");
  const double alpha = cx.number(5, "alpha");
  const int64_t lda = cx.dim(7, "lda"), ldb = cx.dim(9, "ldb");
  const double beta = cx.number(10, "beta");
  const int64_t ldc = cx.dim(12, "ldc");
  const bool use_ab = m > 0 && n > 0 && k > 0 && alpha != 0;
  const int64_t need_a = use_ab ? matrix_extent(cx, ta ? k : m, ta ? m : k, lda, "lda") : 0;
  const int64_t need_b = use_ab ? matrix_extent(cx, tb ? n : k, tb ? k : n, ldb, "ldb") : 0;
  const int64_t need_c = matrix_extent(cx, m, n, ldc, "ldc");
  const float* a = cx.f32(6, "a", need_a);
  float* c = cx.f32(11, "c", need_c);
  if constexpr (kBf16) {
    const uint16_t* b = cx.typed<uint16_t>(8, "b", napi_uint16_array, "Uint16Array (bfloat16 bits)", need_b);
    leaf::gemm_bf16(ta, tb, m, n, k, float(alpha), a, lda, b, ldb, float(beta), c, ldc);
  } else {
    const float* b = cx.f32(8, "b", need_b);
    leaf::gemm(ta, tb, m, n, k, float(alpha), a, lda, b, ldb, float(beta), c, ldc);
  }
  return info.Env().Undefined();
}

// rmsnorm(x, w, out, rstd, rows, dim, eps)
Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  Ctx cx{info, "rmsnorm"};
  cx.need_args(7);
  const int64_t rows = cx.dim(4, "rows"), dim = cx.dim(5, "dim");
  const double eps = cx.number(6, "eps");
  const int64_t n = cx.mul(rows, dim);
  const float* x = cx.f32(0, "x", n);
  const float* w = cx.f32(1, "w", dim);
  float* out = cx.f32(2, "out", n);
  float* rstd = cx.f32(3, "rstd", rows);
  leaf::rmsnorm(x, w, out, rstd, rows, dim, eps);
  return info.Env().Undefined();
}

// rmsnormBackward(dy, x, w, rstd, dx, dw | null, rows, dim)
Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  Ctx cx{info, "rmsnormBackward"};
  cx.need_args(8);
  const int64_t rows = cx.dim(6, "rows"), dim = cx.dim(7, "dim");
  const int64_t n = cx.mul(rows, dim);
  const float* dy = cx.f32(0, "dy", n);
  const float* x = cx.f32(1, "x", n);
  const float* w = cx.f32(2, "w", dim);
  const float* rstd = cx.f32(3, "rstd", rows);
  float* dx = cx.f32(4, "dx", n);
  float* dw = cx.f32_or_null(5, "dw", dim);
  leaf::rmsnorm_backward(dy, x, w, rstd, dx, dw, rows, dim);
  return info.Env().Undefined();
}

// rope(x, cos, sin, rows, heads, headDim, inverse)
Napi::Value Rope(const Napi::CallbackInfo& info) {
  Ctx cx{info, "rope"};
  cx.need_args(7);
  const int64_t rows = cx.dim(3, "rows"), heads = cx.dim(4, "heads"), head_dim = cx.dim(5, "headDim");
  const bool inverse = cx.boolean(6, "inverse");
  if (head_dim % 2 != 0) cx.range_error("headDim must be even, got " + std::to_string(head_dim));
  float* x = cx.f32(0, "x", cx.mul(rows, heads, head_dim));
  const float* c = cx.f32(1, "cos", cx.mul(rows, head_dim / 2));
  const float* s = cx.f32(2, "sin", cx.mul(rows, head_dim / 2));
  leaf::rope(x, c, s, rows, heads, head_dim, inverse);
  return info.Env().Undefined();
}

// swiglu(g, u, h, n)
Napi::Value Swiglu(const Napi::CallbackInfo& info) {
  Ctx cx{info, "swiglu"};
  cx.need_args(4);
  const int64_t n = cx.dim(3, "n");
  const float* g = cx.f32(0, "g", n);
  const float* u = cx.f32(1, "u", n);
  float* h = cx.f32(2, "h", n);
  leaf::swiglu(g, u, h, n);
  return info.Env().Undefined();
}

// swigluBackward(dh, g, u, dg, du, n)
Napi::Value SwigluBackward(const Napi::CallbackInfo& info) {
  Ctx cx{info, "swigluBackward"};
  cx.need_args(6);
  const int64_t n = cx.dim(5, "n");
  const float* dh = cx.f32(0, "dh", n);
  const float* g = cx.f32(1, "g", n);
  const float* u = cx.f32(2, "u", n);
  float* dg = cx.f32(3, "dg", n);
  float* du = cx.f32(4, "du", n);
  leaf::swiglu_backward(dh, g, u, dg, du, n);
  return info.Env().Undefined();
}

// adamw(p, g, m, v, n, b1, b2, stepSize, decay, sqrtBc2, eps, gradScale): p, m, v updated in place.
Napi::Value Adamw(const Napi::CallbackInfo& info) {
  Ctx cx{info, "adamw"};
  cx.need_args(12);
  const int64_t n = cx.dim(4, "n");
  float* p = cx.f32(0, "p", n);
  const float* g = cx.f32(1, "g", n);
  float* m = cx.f32(2, "m", n);
  float* v = cx.f32(3, "v", n);
  const leaf::AdamwConsts c{cx.number(5, "b1"), cx.number(6, "b2"), cx.number(7, "stepSize"), cx.number(8, "decay"),
                            cx.number(9, "sqrtBc2"), cx.number(10, "eps"), cx.number(11, "gradScale")};
  leaf::adamw(p, g, m, v, n, c);
  return info.Env().Undefined();
}

// chunkSumSquares(x, n, chunk, out): out[k] = Σ x² over chunk k of [0, n) (out: Float64Array).
Napi::Value ChunkSumSquares(const Napi::CallbackInfo& info) {
  Ctx cx{info, "chunkSumSquares"};
  cx.need_args(4);
  const int64_t n = cx.dim(1, "n");
  const int64_t chunk = cx.dim(2, "chunk");
  if (chunk == 0) cx.range_error("chunk must be positive");
  const float* x = cx.f32(0, "x", n);
  double* out = cx.typed<double>(3, "out", napi_float64_array, "Float64Array", (n + chunk - 1) / chunk);
  leaf::chunk_sum_squares(x, n, chunk, out);
  return info.Env().Undefined();
}

// The attention shape, passed flat after the buffers:
// batch, queries, keys, keyCapacity, past, heads, kvHeads, headDim, scale.
AttnShape attn_shape(const Ctx& cx, size_t i) {
  AttnShape s;
  s.batch = cx.dim(i, "shape.batch");
  s.queries = cx.dim(i + 1, "shape.queries");
  s.keys = cx.dim(i + 2, "shape.keys");
  s.key_capacity = cx.dim(i + 3, "shape.keyCapacity");
  s.past = cx.dim(i + 4, "shape.past");
  s.heads = cx.dim(i + 5, "shape.heads");
  s.kv_heads = cx.dim(i + 6, "shape.kvHeads");
  s.head_dim = cx.dim(i + 7, "shape.headDim");
  s.scale = float(cx.number(i + 8, "shape.scale"));
  if (s.keys > s.key_capacity)
    cx.range_error("shape.keys (" + std::to_string(s.keys) + ") exceeds shape.keyCapacity (" +
                   std::to_string(s.key_capacity) + ")");
  if (s.heads > 0 && (s.kv_heads == 0 || s.heads % s.kv_heads != 0))
    cx.range_error("shape.heads (" + std::to_string(s.heads) + ") must be a multiple of shape.kvHeads (" +
                   std::to_string(s.kv_heads) + ")");
  return s;
}

// attention(q, k, v, keyMask, out, probs | null, ...shape)
Napi::Value Attention(const Napi::CallbackInfo& info) {
  Ctx cx{info, "attention"};
  cx.need_args(15);
  const AttnShape s = attn_shape(cx, 6);
  const int64_t qn = cx.mul(s.batch, s.queries, s.heads, s.head_dim);
  const int64_t kn = cx.mul(s.batch, s.key_capacity, s.kv_heads, s.head_dim);
  const float* q = cx.f32(0, "q", qn);
  const float* k = cx.f32(1, "k", kn);
  const float* v = cx.f32(2, "v", kn);
  const uint8_t* mask = cx.typed<uint8_t>(3, "keyMask", napi_uint8_array, "Uint8Array", cx.mul(s.batch, s.key_capacity));
  float* out = cx.f32(4, "out", qn);
  float* probs = cx.f32_or_null(5, "probs", cx.mul(s.batch, s.heads, s.queries, s.keys));
  leaf::attention(q, k, v, mask, out, probs, s);
  return info.Env().Undefined();
}

// attentionBackward(dOut, q, k, v, probs, dq, dk, dv, ...shape)
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Ctx cx{info, "attentionBackward"};
  cx.need_args(17);
  const AttnShape s = attn_shape(cx, 8);
  const int64_t qn = cx.mul(s.batch, s.queries, s.heads, s.head_dim);
  const int64_t kn = cx.mul(s.batch, s.key_capacity, s.kv_heads, s.head_dim);
  const float* d_out = cx.f32(0, "dOut", qn);
  const float* q = cx.f32(1, "q", qn);
  const float* k = cx.f32(2, "k", kn);
  const float* v = cx.f32(3, "v", kn);
  const float* probs = cx.f32(4, "probs", cx.mul(s.batch, s.heads, s.queries, s.keys));
  float* dq = cx.f32(5, "dq", qn);
  float* dk = cx.f32(6, "dk", kn);
  float* dv = cx.f32(7, "dv", kn);
  leaf::attention_backward(d_out, q, k, v, probs, dq, dk, dv, s);
  return info.Env().Undefined();
}

// crossEntropy(logits, targets, rows, vocab, loss, gradScale | null)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  Ctx cx{info, "crossEntropy"};
  cx.need_args(6);
  const int64_t rows = cx.dim(2, "rows"), vocab = cx.dim(3, "vocab");
  float* logits = cx.f32(0, "logits", cx.mul(rows, vocab));
  const int32_t* targets = cx.typed<int32_t>(1, "targets", napi_int32_array, "Int32Array", rows);
  float* loss = cx.f32(4, "loss", rows);
  const float* grad_scale = cx.f32_or_null(5, "gradScale", rows);
  for (int64_t r = 0; r < rows; r++)
    if (targets[r] >= vocab)
      cx.range_error("targets[" + std::to_string(r) + "] = " + std::to_string(targets[r]) + " is not below vocab " +
                     std::to_string(vocab));
  leaf::cross_entropy(logits, targets, rows, vocab, loss, grad_scale);
  return info.Env().Undefined();
}

// logSoftmax(x, out, rows, n)
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) {
  Ctx cx{info, "logSoftmax"};
  cx.need_args(4);
  const int64_t rows = cx.dim(2, "rows"), n = cx.dim(3, "n");
  const int64_t total = cx.mul(rows, n);
  const float* x = cx.f32(0, "x", total);
  float* out = cx.f32(1, "out", total);
  leaf::log_softmax(x, out, rows, n);
  return info.Env().Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), leaf::blas_info()); }

Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), leaf::pool_threads()); }

// setThreads(n): threads of the leaf pool (0 = default); setBlasThreads(n): OpenBLAS's.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Ctx cx{info, "setThreads"};
  cx.need_args(1);
  leaf::pool_set_threads(int(cx.dim(0, "n")));
  return info.Env().Undefined();
}

Napi::Value SetBlasThreads(const Napi::CallbackInfo& info) {
  Ctx cx{info, "setBlasThreads"};
  cx.need_args(1);
  leaf::set_blas_threads(int(cx.dim(0, "n")));
  return info.Env().Undefined();
}

// isa(): the instruction set the kernels use; setIsa(name): 'avx512' | 'avx2' | 'base' (capped at what
// the CPU has; 'base' is SSE2 on x86-64), returns the one now in use. For tests and benchmarks.
Napi::Value IsaName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), leaf::isa_name(leaf::isa())); }

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Ctx cx{info, "setIsa"};
  cx.need_args(1);
  if (!info[0].IsString()) cx.type_error("name must be a string");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  leaf::Isa want = leaf::Isa::base;
  if (name == "avx512") want = leaf::Isa::avx512;
  else if (name == "avx2") want = leaf::Isa::avx2;
  else if (name == "base" || name == "sse2") want = leaf::Isa::base;
  else cx.range_error("unknown instruction set '" + name + "' (avx512, avx2 or base)");
  return Napi::String::New(info.Env(), leaf::isa_name(leaf::set_isa(want)));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New<GemmAny<false>>(env, "gemm"));
  exports.Set("gemmBf16", Napi::Function::New<GemmAny<true>>(env, "gemmBf16"));
  exports.Set("rmsnorm", Napi::Function::New<RmsNorm>(env, "rmsnorm"));
  exports.Set("rmsnormBackward", Napi::Function::New<RmsNormBackward>(env, "rmsnormBackward"));
  exports.Set("rope", Napi::Function::New<Rope>(env, "rope"));
  exports.Set("swiglu", Napi::Function::New<Swiglu>(env, "swiglu"));
  exports.Set("swigluBackward", Napi::Function::New<SwigluBackward>(env, "swigluBackward"));
  exports.Set("attention", Napi::Function::New<Attention>(env, "attention"));
  exports.Set("attentionBackward", Napi::Function::New<AttentionBackward>(env, "attentionBackward"));
  exports.Set("crossEntropy", Napi::Function::New<CrossEntropy>(env, "crossEntropy"));
  exports.Set("logSoftmax", Napi::Function::New<LogSoftmax>(env, "logSoftmax"));
  exports.Set("adamw", Napi::Function::New<Adamw>(env, "adamw"));
  exports.Set("chunkSumSquares", Napi::Function::New<ChunkSumSquares>(env, "chunkSumSquares"));
  exports.Set("info", Napi::Function::New<Info>(env, "info"));
  exports.Set("threads", Napi::Function::New<Threads>(env, "threads"));
  exports.Set("setThreads", Napi::Function::New<SetThreads>(env, "setThreads"));
  exports.Set("setBlasThreads", Napi::Function::New<SetBlasThreads>(env, "setBlasThreads"));
  exports.Set("isa", Napi::Function::New<IsaName>(env, "isa"));
  exports.Set("setIsa", Napi::Function::New<SetIsa>(env, "setIsa"));
  return exports;
}

}  // namespace

NODE_API_MODULE(leaf_native, Init)
