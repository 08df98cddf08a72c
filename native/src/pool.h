// A small persistent thread pool shared by every non-GEMM kernel.
//
// The calling thread takes part in the work; tasks are claimed from a shared counter, so a worker
// that is slow to start just gets fewer of them, and the caller never waits for a worker that has
// not begun. After a job, workers spin (pause) for LEAF_POOL_SPIN_US (50 µs), then poll between
// sched_yield() calls until LEAF_POOL_YIELD_US (20 ms), then sleep on a condition variable: the next
// kernel finds them awake, and an idle process costs nothing. While a BLAS call runs they sleep
// (pool_park), leaving the cores to OpenBLAS's own threads.
#pragma once

#include <cstdint>
#include <type_traits>

namespace leaf {

/**
 * Number of threads a parallel region uses (caller included): LEAF_NUM_THREADS, else
 * OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs this process may run on.
 */
int pool_threads();

/** Changes the number of threads (1 = everything on the calling thread; 0 = the default). */
void pool_set_threads(int n);

/**
 * Brackets a call into a library with its own threads (BLAS): idle workers go to sleep at once
 * instead of spinning, and are brought back to spinning afterwards. Calls may nest or overlap.
 */
void pool_park();
void pool_unpark();

using TaskFn = void (*)(void* ctx, int64_t task);

/** Runs fn(ctx, i) for every i in [0, tasks), spread over the pool; returns when all are done. */
void parallel_run(int64_t tasks, TaskFn fn, void* ctx);

/** parallel_for(tasks, [&](int64_t i) { ... }): each task index runs exactly once, on some thread. */
template <class F>
inline void parallel_for(int64_t tasks, F&& f) {
  using Fn = std::remove_reference_t<F>;
  parallel_run(tasks, [](void* c, int64_t i) { (*static_cast<Fn*>(c))(i); }, const_cast<void*>(static_cast<const void*>(&f)));
}

/**
 * Splits [0, n) into contiguous chunks of at least `grain` items (at most a few per thread) and runs
 * f(begin, end) for each. Runs inline when n is small.
 */
template <class F>
inline void parallel_range(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  const int threads = pool_threads();
  if (grain < 1) grain = 1;
  int64_t chunks = n / grain;
  if (chunks > int64_t(threads) * 4) chunks = int64_t(threads) * 4;
  if (chunks <= 1 || threads <= 1) {
    f(int64_t(0), n);
    return;
  }
  const int64_t per = (n + chunks - 1) / chunks;
  chunks = (n + per - 1) / per;
  parallel_for(chunks, [&](int64_t c) {
    const int64_t b = c * per;
    const int64_t e = b + per < n ? b + per : n;
    f(b, e);
  });
}

}  // namespace leaf
