// Thread-count setting shared by OpenBLAS and gradscope's kernels: see threads.h.
#include "gradscope/tensor/threads.h"

#include <cblas.h>

#include <stdexcept>
#include <string>

namespace gradscope {
namespace {
int g_threads = 1;
thread_local int t_threads = 0;  // a ThreadsHere's count on this thread; 0: g_threads
// OpenBLAS itself always runs on one thread: gradscope parallelizes GEMMs over fixed blocks
// (blas.cpp), which keeps results identical whatever the thread count. Its OpenMP build follows
// omp_get_max_threads() unless its own count is 1, so that count is pinned here, and gradscope
// never changes the OpenMP default (parallel_for passes its count explicitly).
struct PinBlas {
  PinBlas() { openblas_set_num_threads(1); }
} g_pin;
}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("threads: " + std::to_string(n) + " (must be >= 1)");
  g_threads = n;
  openblas_set_num_threads(1);
}

int num_threads() {
  return t_threads > 0 ? t_threads : g_threads;
}

ThreadsHere::ThreadsHere(int n) : previous_(t_threads) {
  if (n < 1) throw std::invalid_argument("threads: " + std::to_string(n) + " (must be >= 1)");
  t_threads = n;
}

ThreadsHere::~ThreadsHere() {
  t_threads = previous_;
}

}  // namespace gradscope
