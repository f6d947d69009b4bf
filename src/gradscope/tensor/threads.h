// Threads: the one thread-count setting (`--threads`, default 1) for BLAS and gradscope's kernels.
// Both run on the same OpenMP runtime (Debian's OpenMP build of OpenBLAS), so they share one team
// of workers instead of spinning against each other. parallel_for splits [0, n) into contiguous
// chunks, each written by one thread. Every kernel that uses it (and the blocked GEMM in
// blas.cpp) writes disjoint outputs per chunk and never splits a reduction by thread, so results
// are bit-identical whatever the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <vector>

#include <omp.h>

namespace gradscope {

// Sets the thread count for gradscope's kernels and for OpenBLAS. n >= 1.
void set_num_threads(int n);
// The count on this thread: its ThreadsHere's while one is in scope, else set_num_threads's.
int num_threads();

// While in scope, the calling thread's kernels use n threads whatever set_num_threads says: a
// worker that steps one replica of a group among others (run/replicas.h) runs its kernels alone.
class ThreadsHere {
 public:
  explicit ThreadsHere(int n);
  ~ThreadsHere();
  ThreadsHere(const ThreadsHere&) = delete;
  ThreadsHere& operator=(const ThreadsHere&) = delete;

 private:
  int previous_;
};

// While in scope, the calling thread and the OpenMP workers gradscope's kernels run on
// (num_threads() of them) flush subnormal numbers to zero (on = true), as results (FTZ) and as
// operands (DAZ), as GPUs' fast paths do, or keep IEEE arithmetic (on = false: inside a
// flushing scope, a measure that must equal its command's). On x86 each subnormal float operand
// or result of a vector instruction costs a microcode assist of about a hundred cycles: a trained
// model whose softmax underflows (exps below 2^-126, a margin past 87) runs its GEMMs several
// times slower. Results differ from IEEE arithmetic only where a value below 2^-126 (2^-1022 in
// double) arises. The threads' mode is restored at the end. When the calling thread is already in
// the mode asked for, nothing is done (one register read). A no-op on CPUs without SSE's MXCSR.
class FlushSubnormals {
 public:
  explicit FlushSubnormals(bool on);
  ~FlushSubnormals();
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;

 private:
  bool changed_ = false;   // whether this scope set a mode (and restores the one before)
  unsigned previous_ = 0;  // the calling thread's flush bits before
};

// Calls f(begin, end) over contiguous chunks of [0, n), in parallel when n is at least 2 * grain.
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  const int threads = num_threads();
  if (threads <= 1 || n < 2 * grain) {
    if (n > 0) f(int64_t{0}, n);
    return;
  }
  const int chunks = static_cast<int>(std::min<int64_t>(threads, n / std::max<int64_t>(grain, 1)));
#pragma omp parallel num_threads(chunks)
  {
    // The team may be smaller than asked (a region nested in another runs on one thread): its
    // threads then take the chunks in turn, which keep their bounds.
    const int team = omp_get_num_threads();
    for (int64_t t = omp_get_thread_num(); t < chunks; t += team) {
      const int64_t begin = n * t / chunks, end = n * (t + 1) / chunks;
      f(begin, end);
    }
  }
}

// Calls f(i, t) for every i in [0, n), handing the items one at a time to up to `workers` threads
// (t: the worker, in [0, workers)), each worker's kernels alone on its thread (ThreadsHere(1)), so
// an item computes exactly what it computes alone: replicas of a group, chains of an LLC
// estimate. One worker: the items in order on the calling thread, their kernels on every thread.
// The first exception an item throws is rethrown once every item has run.
template <class F>
void for_each_alone(int64_t n, int workers, F&& f) {
  if (workers <= 1) {
    for (int64_t i = 0; i < n; ++i) f(i, 0);
    return;
  }
  std::vector<std::exception_ptr> failed(static_cast<size_t>(std::max<int64_t>(n, 0)));
#pragma omp parallel for schedule(dynamic, 1) num_threads(workers)
  for (int64_t i = 0; i < n; ++i) {
    const ThreadsHere alone(1);
    try {
      f(i, omp_get_thread_num());
    } catch (...) {
      failed[static_cast<size_t>(i)] = std::current_exception();
    }
  }
  for (const std::exception_ptr& e : failed)
    if (e) std::rethrow_exception(e);
}

}  // namespace gradscope
