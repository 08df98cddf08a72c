// Portable SIMD on GCC/Clang vector extensions, with runtime ISA dispatch.
//
// Kernels are written once as always-inline templates over a vector traits type V (V4, V8, V16:
// 4, 8 or 16 float lanes) and instantiated three times on x86-64 (LEAF_MULTI below):
//   avx512  V16 in functions compiled with target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,…")
//   avx2    V8  in functions compiled with target("avx2,fma,…")
//   base    V4  baseline x86-64 (SSE2); also the only instantiation on arm64 (NEON) and elsewhere.
// The ISA is picked once at load time from the CPU (LEAF_ISA=base|avx2|avx512 caps it, for testing),
// so the addon is built with plain -O3, runs on any x86-64, and still uses AVX-512 or AVX2+FMA.
// Each vector width only ever appears in code compiled for a target that has registers that wide.
#pragma once

#include <cstdint>
#include <cstring>

#define LEAF_INLINE inline __attribute__((always_inline))

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && !defined(LEAF_NO_DISPATCH)
#define LEAF_X86_DISPATCH 1
#define LEAF_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c,bmi,bmi2,popcnt")))
#define LEAF_TARGET_AVX2 __attribute__((target("avx2,fma,f16c,bmi,bmi2,popcnt")))
#else
#define LEAF_X86_DISPATCH 0
#endif

namespace leaf {

enum class Isa { base = 0, avx2 = 1, avx512 = 2 };

/** The instruction set the kernels use (detected once; LEAF_ISA can lower it). */
Isa isa();
/** Best ISA the CPU supports. */
Isa isa_supported();
/** Selects an ISA (capped at what the CPU supports); returns the one now in use. */
Isa set_isa(Isa want);
const char* isa_name(Isa i);

typedef float vf4 __attribute__((vector_size(16)));
typedef float vf8 __attribute__((vector_size(32)));
typedef float vf16 __attribute__((vector_size(64)));
typedef int32_t vi4 __attribute__((vector_size(16)));
typedef int32_t vi8 __attribute__((vector_size(32)));
typedef int32_t vi16 __attribute__((vector_size(64)));

// Vector traits: lane count N, types F/I, and the register tile of the small GEMM micro-kernel
// (MR rows × NV vectors of accumulators: fits the 16 (AVX2, SSE) or 32 (AVX-512) registers).
struct V4 {
  using F = vf4;
  using I = vi4;
  static constexpr int N = 4, MR = 4, NV = 2;
};
struct V8 {
  using F = vf8;
  using I = vi8;
  static constexpr int N = 8, MR = 6, NV = 2;
};
struct V16 {
  using F = vf16;
  using I = vi16;
  static constexpr int N = 16, MR = 8, NV = 2;
};

/** Padding unit for scratch rows: a multiple of every micro-kernel column block. */
constexpr int64_t kPad = 32;
LEAF_INLINE int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }
LEAF_INLINE int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
LEAF_INLINE int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

template <class V>
LEAF_INLINE typename V::F splat(float s) {
  return typename V::F{} + s;
}
template <class V>
LEAF_INLINE typename V::F load(const float* p) {
  typename V::F v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
LEAF_INLINE void store(float* p, typename V::F v) {
  std::memcpy(p, &v, sizeof v);
}
/** n < N lanes; the rest zero. For tails only (element loop, no library call). */
template <class V>
LEAF_INLINE typename V::F load_part(const float* p, int64_t n) {
  typename V::F v = {};
  for (int64_t i = 0; i < n; i++) v[i] = p[i];
  return v;
}
template <class V>
LEAF_INLINE void store_part(float* p, typename V::F v, int64_t n) {
  for (int64_t i = 0; i < n; i++) p[i] = v[i];
}
template <class V>
LEAF_INLINE typename V::I as_int(typename V::F v) {
  return reinterpret_cast<typename V::I>(v);
}
template <class V>
LEAF_INLINE typename V::F as_float(typename V::I v) {
  return reinterpret_cast<typename V::F>(v);
}
/** mask lanes all-ones (true) or zero. */
template <class V>
LEAF_INLINE typename V::F select(typename V::I mask, typename V::F a, typename V::F b) {
  return as_float<V>((mask & as_int<V>(a)) | (~mask & as_int<V>(b)));
}
/** Lane-wise max that ignores a NaN in b (like `if (b > a) a = b`). */
template <class V>
LEAF_INLINE typename V::F vmax(typename V::F a, typename V::F b) {
  return select<V>(b > a, b, a);
}
/** Lanes i < n true. */
template <class V>
LEAF_INLINE typename V::I lanes_below(int64_t n) {
  typename V::I idx;
  for (int i = 0; i < V::N; i++) idx[i] = i;
  return idx < (typename V::I{} + int32_t(n));
}

template <class V>
LEAF_INLINE float hmax(typename V::F v) {
  float m = v[0];
  for (int i = 1; i < V::N; i++) m = v[i] > m ? v[i] : m;
  return m;
}
/** Lane sum (pairwise in float), returned as double. */
template <class V>
LEAF_INLINE double hsum(typename V::F v) {
  float t[V::N];
  std::memcpy(t, &v, sizeof t);
  for (int w = V::N / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; i++) t[i] += t[i + w];
  return double(t[0]);
}

/**
 * exp(x) per lane, Cephes-style: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial for e^r; about
 * 2 ulp. x < −87.33 (−∞ included) gives exactly 0; x > 88 is clamped to e^88; NaN stays NaN.
 */
template <class V>
LEAF_INLINE typename V::F vexp(typename V::F x) {
  using F = typename V::F;
  const F lo = splat<V>(-87.33654f), hi = splat<V>(88.0f);
  const typename V::I under = x < lo;
  F xc = select<V>(x > hi, hi, x);
  xc = select<V>(xc < lo, lo, xc);
  // Round x·log2(e) to nearest with the 1.5·2^23 trick (exact for |v| < 2^22).
  const F magic = splat<V>(12582912.0f);
  const F t = xc * 1.44269504088896341f + magic;
  const F n = t - magic;
  const typename V::I ni = as_int<V>(t) - as_int<V>(magic);
  F r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  F y = splat<V>(1.9875691500e-4f);
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * (r * r) + r + 1.0f;
  const F pow2n = as_float<V>((ni + 127) << 23);
  return select<V>(under, splat<V>(0.0f), y * pow2n);
}

/** Σ a[i]·b[i], float lanes flushed to a double every 64 vectors. */
template <class V>
LEAF_INLINE double dot_d(const float* a, const float* b, int64_t n) {
  using F = typename V::F;
  double total = 0;
  int64_t i = 0;
  while (i + V::N <= n) {
    const int64_t stop = imin(n - (n - i) % V::N, i + 64 * V::N);
    F acc = {};
    for (; i < stop; i += V::N) acc += load<V>(a + i) * load<V>(b + i);
    total += hsum<V>(acc);
  }
  for (; i < n; i++) total += double(a[i]) * double(b[i]);
  return total;
}

}  // namespace leaf

// LEAF_MULTI(ret, name, (params), (args)) defines `ret name(params)` that runs name##_impl<V>(args)
// with the widest V the selected ISA allows (name##_impl must be a LEAF_INLINE template over V).
#if LEAF_X86_DISPATCH
#define LEAF_MULTI(ret, name, params, args)                                        \
  LEAF_TARGET_AVX512 __attribute__((noinline)) ret name##_avx512 params {          \
    return name##_impl<::leaf::V16> args;                                          \
  }                                                                                \
  LEAF_TARGET_AVX2 __attribute__((noinline)) ret name##_avx2 params {              \
    return name##_impl<::leaf::V8> args;                                           \
  }                                                                                \
  __attribute__((noinline)) ret name##_base params { return name##_impl<::leaf::V4> args; } \
  ret name params {                                                                \
    switch (::leaf::isa()) {                                                       \
      case ::leaf::Isa::avx512: return name##_avx512 args;                         \
      case ::leaf::Isa::avx2: return name##_avx2 args;                             \
      default: return name##_base args;                                            \
    }                                                                              \
  }
#else
#define LEAF_MULTI(ret, name, params, args) \
  ret name params { return name##_impl<::leaf::V4> args; }
#endif
