// Deterministic reductions on a device, queued on its stream: a scalar sum and column sums of a
// row-major matrix, each as a tree of fixed 16-wide chunks summed in order (one short kernel per
// level) so that every thread does little serial work and the bits never depend on scheduling.
#pragma once

#include <algorithm>
#include <cstdint>

#include "gradscope/cuda/device.h"
#include "gradscope/cuda/kernels.h"

namespace gradscope {

// Elements one thread sums at each level of a reduction tree.
inline constexpr int64_t kTreeChunk = 16;

inline int64_t tree_chunks(int64_t n) {
  return std::max<int64_t>(1, (n + kTreeChunk - 1) / kTreeChunk);
}

// Doubles of scratch a tree over n values (or n rows) needs: every level above the leaves.
inline int64_t tree_scratch(int64_t n) {
  int64_t total = 0;
  for (int64_t m = n; m > kTreeChunk; m = tree_chunks(m)) total += tree_chunks(m);
  return total;
}

// out[0] = T(factor * sum of v[0..n)) (when out) and *total = the double sum (when total).
// scratch holds tree_scratch(n) doubles.
template <class T>
void queue_tree_sum(DeviceContext& d, const double* v, int64_t n, double* scratch, double factor,
                    T* out, double* total) {
  for (; n > kTreeChunk; n = tree_chunks(n)) {
    d.launch(kernels::SumChunks{v, n, kTreeChunk, scratch}, tree_chunks(n));
    v = scratch;
    scratch += tree_chunks(n);
  }
  d.launch(kernels::SumFinish<T>{v, n, factor, out, total}, 1);
}

// Doubles of scratch queue_column_sums needs for R rows of S columns.
inline int64_t column_scratch(int64_t R, int64_t S) {
  return (tree_chunks(R) + tree_scratch(tree_chunks(R))) * S;
}

// out[s] += sum_r x[r, s] (* w[r, s] when w) over R rows of S columns, in double: chunks of rows
// (with the products), chunks of those chunks while more than kTreeChunk remain, then the rest.
template <class T>
void queue_column_sums(DeviceContext& d, const T* x, const T* w, int64_t R, int64_t S,
                       double* scratch, T* out) {
  d.launch(kernels::ColumnPartials<T>{x, w, R, S, kTreeChunk, scratch}, tree_chunks(R) * S);
  for (R = tree_chunks(R); R > kTreeChunk; R = tree_chunks(R)) {
    double* next = scratch + R * S;
    d.launch(kernels::ColumnPartials<double>{scratch, nullptr, R, S, kTreeChunk, next},
             tree_chunks(R) * S);
    scratch = next;
  }
  d.launch(kernels::ColumnFinish<T>{scratch, R, S, out, true}, S);
}

}  // namespace gradscope
