{
  # leaf's native kernels (N-API, node-addon-api). Built by scripts/build-native.mjs.
  #
  # Flags: -O3 for the baseline x86-64 (or arm64) target. No -march=native: every kernel loop is
  # compiled three times on x86-64 (AVX-512, AVX2+FMA, SSE2, via target attributes, see
  # native/src/simd.h) and the widest one the CPU supports is picked at load time. Beyond -O3 only
  # -fno-math-errno and -ffp-contract=fast (no -ffast-math: the kernels rely on IEEE infinities and
  # NaN for masking). Threads: a small persistent pthread pool (native/src/pool.cc), no OpenMP.
  # GEMM: OpenBLAS (Linux, -lopenblas) or Accelerate (macOS).
  "targets": [
    {
      "target_name": "leaf_native",
      "sources": [
        "native/src/module.cc",
        "native/src/pool.cc",
        "native/src/cpu.cc",
        "native/src/gemm.cc",
        "native/src/gemm_bf16.cc",
        "native/src/norm.cc",
        "native/src/rope.cc",
        "native/src/swiglu.cc",
        "native/src/attention.cc",
        "native/src/loss.cc",
        "native/src/optim.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [ "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED" ],
      "cflags!": [ "-fno-exceptions", "-O2", "-O0", "-O1", "-Os" ],
      "cflags_cc!": [ "-fno-exceptions" ],
      "cflags": [ "-O3", "-fno-math-errno", "-ffp-contract=fast", "-Wall", "-Wextra", "-Wno-psabi" ],
      "cflags_cc": [ "-fexceptions" ],
      "conditions": [
        [ "OS=='linux'", {
          "include_dirs": [ "/usr/include/openblas" ],
          "libraries": [ "-lopenblas", "-lpthread" ]
        } ],
        [ "OS=='mac'", {
          "defines": [ "ACCELERATE_NEW_LAPACK" ],
          "libraries": [ "-framework Accelerate" ],
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_OPTIMIZATION_LEVEL": "3",
            "MACOSX_DEPLOYMENT_TARGET": "11.0",
            "OTHER_CFLAGS": [ "-fno-math-errno", "-ffp-contract=fast" ]
          }
        } ]
      ]
    }
  ]
}
