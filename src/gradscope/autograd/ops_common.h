// Helpers shared by the ops_*.cpp files (not part of the public API): building nodes, shape
// errors, GEMM and the deterministic column reduction used by every broadcast backward, each on
// the tape's device: the host, or a GPU (cuda/kernels.h) when the tape has a DeviceContext.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "gradscope/autograd/ops.h"
#include "gradscope/cuda/kernels.h"
#include "gradscope/cuda/reductions.h"
#include "gradscope/tensor/blas.h"
#include "gradscope/tensor/threads.h"

namespace gradscope::detail {

// Element count below which a kernel runs on one thread.
inline constexpr int64_t kGrain = 1 << 15;

[[noreturn]] inline void shape_error(const char* op, const std::string& what) {
  throw ShapeError(std::string(op) + ": " + what);
}

template <class T>
bool any_grad(const Tape<T>& t, std::initializer_list<Var> vars) {
  if (!t.grad_enabled()) return false;
  for (Var v : vars)
    if (t.requires_grad(v)) return true;
  return false;
}

template <class T>
Node<T> make_node(typename Node<T>::Backward backward, Var out, std::initializer_list<Var> in) {
  Node<T> n;
  n.backward = backward;
  n.out = out.id;
  int i = 0;
  for (Var v : in) n.in[i++] = v.id;
  return n;
}

// The kink sides of the tape's next piecewise-linear op over n elements (Tape::set_kinks):
// recorded as above(i) for i < n, or the pattern recorded for this op replayed. Throws
// std::logic_error when a replayed forward pass runs other ops than the recorded one did.
template <class Above>
const std::vector<uint8_t>& kink_sides(KinkPatterns& k, int64_t n, const char* op, Above above) {
  if (k.mode == KinkPatterns::Mode::record) {
    std::vector<uint8_t>& s = k.sides.emplace_back(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) s[i] = above(i) ? 1 : 0;
    return s;
  }
  if (k.next >= k.sides.size() || k.sides[k.next].size() != static_cast<size_t>(n))
    throw std::logic_error(std::string(op) +
                           ": a forward pass other than the one its kinks were recorded on");
  return k.sides[k.next++];
}

// A constant [shape] of value(i) for each element i, on a host tape.
template <class T, class Value>
Var host_constant(Tape<T>& t, Shape shape, Value value) {
  Var c = t.make(shape, false);
  T* d = t.value(c).data;
  for (int64_t i = 0; i < shape.numel(); ++i) d[i] = static_cast<T>(value(i));
  return c;
}

// Dense row-major C[M, N] = alpha op(A) op(B) + beta C on the tape's backend (OpenBLAS or cuBLAS).
template <class T>
void gemm_on(Tape<T>& t, bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
             const T* B, T beta, T* C) {
  t.backend().gemm(ta, tb, M, N, K, alpha, A, ta ? M : K, B, tb ? K : N, beta, C, N);
}

// out[s] += sum_r x[r * S + s] (* w[r * S + s] when w, the product in double) for r < R, in
// double, the same way on every backend: fixed chunks of rows summed in order, then chunks of
// those, then the rest in order (cuda/reductions.h). The result depends on neither the backend
// nor the thread count.
template <class T>
void add_column_sums(Tape<T>& t, const T* x, const T* w, int64_t R, int64_t S, T* out) {
  double* scratch = t.arena().template alloc<double>(column_scratch(R, S));
  queue_column_sums(t.backend(), x, w, R, S, scratch, out);
}

// A scalar: out[0] = T(factor * sum of the n doubles v), through a tree of fixed chunks summed
// in order, the same on every backend (and the double total into `total` when given).
template <class T>
void sum_terms(Tape<T>& t, const double* v, int64_t n, double factor, T* out,
               double* total = nullptr) {
  double* scratch = t.arena().template alloc<double>(std::max<int64_t>(1, tree_scratch(n)));
  queue_tree_sum(t.backend(), v, n, scratch, factor, out, total);
}

}  // namespace gradscope::detail
