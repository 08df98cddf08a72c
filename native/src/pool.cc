// Persistent thread pool (see pool.h).
#include "pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LEAF_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define LEAF_PAUSE() __asm__ __volatile__("yield")
#else
#define LEAF_PAUSE() ((void)0)
#endif

namespace leaf {
namespace {

int env_int(const char* name, int fallback) {
  const char* s = std::getenv(name);
  if (!s || !*s) return fallback;
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (end == s || v < 0 || v > 4096) return fallback;
  return int(v);
}

int default_threads() {
  // Explicit settings first: leaf's own, then the ones a user may already have set to bound BLAS/OpenMP.
  for (const char* name : {"LEAF_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"}) {
    const int n = env_int(name, 0);
    if (n > 0) return n;
  }
  int n = 0;
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  n = int(std::thread::hardware_concurrency());
  return n > 0 ? n : 1;
}

class Pool {
 public:
  explicit Pool(int threads)
      : spin_us_(env_int("LEAF_POOL_SPIN_US", 50)), yield_us_(env_int("LEAF_POOL_YIELD_US", 20000)) {
    resize(threads);
  }

  int threads() const { return int(workers_) + 1; }

  void resize(int threads) {
    if (threads < 1) threads = 1;
    std::lock_guard<std::mutex> call(call_mutex_);
    // Workers are only ever added: lowering the count just leaves the extra ones asleep.
    while (int(spawned_.size()) < threads - 1) {
      const uint64_t gen = generation_.load(std::memory_order_relaxed);
      spawned_.emplace_back([this, idx = spawned_.size(), gen] { worker_loop(idx, gen); });
      spawned_.back().detach();
    }
    workers_ = unsigned(threads - 1);
  }

  void run(int64_t tasks, TaskFn fn, void* ctx) {
    if (tasks <= 0) return;
    std::unique_lock<std::mutex> call(call_mutex_, std::try_to_lock);
    // Single task, single thread, or the pool is busy (a call from another thread, or a nested
    // parallel region): run on the calling thread.
    if (!call.owns_lock() || workers_ == 0 || tasks == 1) {
      for (int64_t i = 0; i < tasks; i++) fn(ctx, i);
      return;
    }
    fn_ = fn;
    ctx_ = ctx;
    total_ = tasks;
    next_.store(0, std::memory_order_relaxed);
    joining_.store(workers_ < uint64_t(tasks - 1) ? workers_ : unsigned(tasks - 1), std::memory_order_relaxed);
    const uint64_t gen = generation_.fetch_add(1, std::memory_order_seq_cst) + 1;
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lk(sleep_mutex_);
      sleep_cv_.notify_all();
    }
    work();
    // Every task is claimed. Close the job: a worker that has not entered it yet (still asleep, or
    // preempted) will not, so only workers still running a task are waited for.
    closed_.store(gen, std::memory_order_seq_cst);
    unsigned spins = 0;
    while (active_.load(std::memory_order_seq_cst) != 0) {
      LEAF_PAUSE();
      if (++spins > 2048) std::this_thread::yield();
    }
  }

 private:
  void work() {
    for (;;) {
      const int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= total_) break;
      fn_(ctx_, i);
    }
  }

  void worker_loop(size_t idx, uint64_t seen) {
    for (;;) {
      const uint64_t g = wait_for_job(seen);
      seen = g;
      if (idx >= joining_.load(std::memory_order_relaxed)) continue;  // not needed (fewer tasks than threads)
      active_.fetch_add(1, std::memory_order_seq_cst);
      // Enter only if job g is still open and still the current one; else the caller has moved on.
      if (closed_.load(std::memory_order_seq_cst) < g && generation_.load(std::memory_order_seq_cst) == g) work();
      active_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  // Waits for a new job: spins with pause for spin_us_, then keeps checking between sched_yield()
  // calls until yield_us_ (cheap for whoever else wants the core, and a worker that starts within
  // microseconds: a futex wake-up costs tens of microseconds, more under a hypervisor), then sleeps on
  // the condition variable. While a BLAS call runs (park()), it sleeps at once, leaving the cores to
  // BLAS's own threads; unpark() at the end of the call brings it back to spinning, ready for the
  // kernels between GEMMs.
  uint64_t wait_for_job(uint64_t seen) {
    using clock = std::chrono::steady_clock;
    for (;;) {
      const auto start = clock::now();
      const auto spin_end = start + std::chrono::microseconds(spin_us_);
      const auto yield_end = start + std::chrono::microseconds(yield_us_);
      for (unsigned n = 0;; n++) {
        const uint64_t g = generation_.load(std::memory_order_acquire);
        if (g != seen) return g;
        if ((n & 15) != 15) {
          LEAF_PAUSE();
          continue;
        }
        if (parked_.load(std::memory_order_relaxed) > 0) break;
        const auto now = clock::now();
        if (now > yield_end) break;
        if (now > spin_end) std::this_thread::yield();
      }
      std::unique_lock<std::mutex> lk(sleep_mutex_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      const uint64_t u = unparks_;
      uint64_t g;
      while ((g = generation_.load(std::memory_order_seq_cst)) == seen && unparks_ == u) sleep_cv_.wait(lk);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      if (g != seen) return g;
      // Woken by unpark(): back to spinning.
    }
  }

 public:
  void park() { parked_.fetch_add(1, std::memory_order_relaxed); }

  void unpark() {
    if (parked_.fetch_sub(1, std::memory_order_relaxed) != 1) return;
    if (sleepers_.load(std::memory_order_seq_cst) == 0) return;
    std::lock_guard<std::mutex> lk(sleep_mutex_);
    unparks_++;
    sleep_cv_.notify_all();
  }

 private:
  const int spin_us_;
  const int yield_us_;
  std::mutex call_mutex_;
  std::vector<std::thread> spawned_;
  unsigned workers_ = 0;

  // Current job; written by the caller before generation_ is bumped.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t total_ = 0;
  std::atomic<unsigned> joining_{0};
  alignas(64) std::atomic<int64_t> next_{0};
  alignas(64) std::atomic<int> active_{0};     // workers inside a job
  alignas(64) std::atomic<uint64_t> closed_{0};  // last generation whose tasks are all claimed
  alignas(64) std::atomic<uint64_t> generation_{0};
  alignas(64) std::atomic<int> sleepers_{0};
  std::atomic<int> parked_{0};  // BLAS calls in progress
  uint64_t unparks_ = 0;        // guarded by sleep_mutex_
  std::mutex sleep_mutex_;
  std::condition_variable sleep_cv_;
};

Pool& pool() {
  // Leaked on purpose: detached workers may still be parked on it at process exit.
  static Pool* p = new Pool(default_threads());
  return *p;
}

}  // namespace

int pool_threads() { return pool().threads(); }

void pool_set_threads(int n) { pool().resize(n > 0 ? n : default_threads()); }

void parallel_run(int64_t tasks, TaskFn fn, void* ctx) { pool().run(tasks, fn, ctx); }

void pool_park() { pool().park(); }

void pool_unpark() { pool().unpark(); }

}  // namespace leaf
