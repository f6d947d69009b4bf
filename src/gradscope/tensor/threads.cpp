// Thread-count setting shared by OpenBLAS and gradscope's kernels: see threads.h.
#include "gradscope/tensor/threads.h"

#include <cblas.h>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

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

#if defined(__SSE2__)
// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
constexpr unsigned kFlushBits = 0x8040;
unsigned flush_bits() {
  return _mm_getcsr() & kFlushBits;
}
void set_flush_bits(unsigned bits) {
  _mm_setcsr((_mm_getcsr() & ~kFlushBits) | bits);
}
#else
unsigned flush_bits() {
  return 0;
}
void set_flush_bits(unsigned) {}
#endif

// The mode is per thread: set on this one, then on every worker of a team as large as the kernels'
// (a team nested in a worker's region is that worker alone). A worker libgomp creates later copies
// the creating thread's mode (POSIX: new threads inherit the floating-point environment), and
// kernels never use a team larger than num_threads(), so every thread that runs a kernel in scope
// has the mode, and none keeps it after.
void set_flush_bits_everywhere(unsigned bits) {
  set_flush_bits(bits);
#pragma omp parallel num_threads(num_threads())
  set_flush_bits(bits);
}
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

FlushSubnormals::FlushSubnormals(bool on) : previous_(flush_bits()) {
#if defined(__SSE2__)
  const unsigned want = on ? kFlushBits : 0u;
  if (previous_ == want) return;
  set_flush_bits_everywhere(want);
  changed_ = true;
#else
  (void)on;
#endif
}

FlushSubnormals::~FlushSubnormals() {
  if (changed_) set_flush_bits_everywhere(previous_);
}

}  // namespace gradscope
