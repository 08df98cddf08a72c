// Runtime instruction-set selection for the LEAF_MULTI kernels (see simd.h).
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "simd.h"

namespace leaf {
namespace {

Isa detect() {
#if LEAF_X86_DISPATCH
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") &&
                    __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return avx512 ? Isa::avx512 : avx2 ? Isa::avx2 : Isa::base;
#else
  return Isa::base;
#endif
}

Isa from_env(Isa best) {
  const char* s = std::getenv("LEAF_ISA");
  if (!s || !*s) return best;
  Isa want = best;
  if (!std::strcmp(s, "base")) want = Isa::base;
  else if (!std::strcmp(s, "avx2")) want = Isa::avx2;
  else if (!std::strcmp(s, "avx512")) want = Isa::avx512;
  return int(want) < int(best) ? want : best;
}

const Isa kSupported = detect();
std::atomic<int> g_isa{int(from_env(kSupported))};

}  // namespace

Isa isa() { return Isa(g_isa.load(std::memory_order_relaxed)); }

Isa isa_supported() { return kSupported; }

Isa set_isa(Isa want) {
  const Isa use = int(want) < int(kSupported) ? want : kSupported;
  g_isa.store(int(use), std::memory_order_relaxed);
  return use;
}

const char* isa_name(Isa i) {
  switch (i) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default:
#if LEAF_X86_DISPATCH
      return "sse2";
#else
      return "base";
#endif
  }
}

}  // namespace leaf
