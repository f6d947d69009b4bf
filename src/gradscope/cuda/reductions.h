// Deterministic reductions on a device, queued on its stream: a scalar sum and column sums of a
// row-major matrix, each as a tree of fixed 16-wide chunks summed in order (one short kernel per
// level) so that every thread does little serial work and the bits never depend on scheduling.
// The sum of squares (norms: clipping, Omnigrok's constraint, the logged gradient norm) is chosen
// here per backend: the cpu sums at most 256 fixed chunks in order, a device runs the tree.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>

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

// The cpu's form of queue_column_sums: the same tree, summed in one pass over the rows with a
// stack of accumulators per column (level k adds its items in order from 0 and hands its sum to
// level k + 1 every kTreeChunk items and at the end), so the bits of the kernels' levels without
// their memory; threads split the columns.
template <class T>
void host_column_sums(const T* x, const T* w, int64_t R, int64_t S, T* out) {
  constexpr int kMaxLevels = 8, kBlock = 64;
  int levels = 1;  // chunking levels, as queue_column_sums launches them; then the finish
  for (int64_t c = tree_chunks(R); c > kTreeChunk; c = tree_chunks(c)) ++levels;
  if (levels >= kMaxLevels) throw std::length_error("host_column_sums: too many rows");
  parallel_for(S, std::max<int64_t>(1, kCpuKernelGrain / std::max<int64_t>(R, 1)),
               [&](int64_t s0, int64_t s1) {
                 for (int64_t b = s0; b < s1; b += kBlock) {
                   const int64_t m = std::min<int64_t>(kBlock, s1 - b);
                   double acc[kMaxLevels][kBlock] = {};
                   int64_t count[kMaxLevels] = {};
                   auto carry = [&](int k) {  // level k's sum joins level k + 1
                     for (int64_t j = 0; j < m; ++j) acc[k + 1][j] += acc[k][j], acc[k][j] = 0;
                     count[k] = 0;
                     ++count[k + 1];
                   };
                   for (int64_t r = 0; r < R; ++r) {
                     const T* xr = x + r * S + b;
                     if (w) {
                       const T* wr = w + r * S + b;
                       for (int64_t j = 0; j < m; ++j) acc[0][j] += double(xr[j]) * double(wr[j]);
                     } else {
                       for (int64_t j = 0; j < m; ++j) acc[0][j] += double(xr[j]);
                     }
                     if (++count[0] < kTreeChunk) continue;
                     for (int k = 0; k < levels && count[k] == kTreeChunk; ++k) carry(k);
                   }
                   for (int k = 0; k < levels; ++k)
                     if (count[k] > 0) carry(k);
                   for (int64_t j = 0; j < m; ++j) out[b + j] = T(out[b + j] + T(acc[levels][j]));
                 }
               });
}

// out[s] += sum_r x[r, s] (* w[r, s] when w) over R rows of S columns, in double: chunks of rows
// (with the products), chunks of those chunks while more than kTreeChunk remain, then the rest.
template <class T>
void queue_column_sums(DeviceContext& d, const T* x, const T* w, int64_t R, int64_t S,
                       double* scratch, T* out) {
  if (d.device() == Device::cpu) return host_column_sums(x, w, R, S, out);
  d.launch(kernels::ColumnPartials<T>{x, w, R, S, kTreeChunk, scratch}, tree_chunks(R) * S);
  for (R = tree_chunks(R); R > kTreeChunk; R = tree_chunks(R)) {
    double* next = scratch + R * S;
    d.launch(kernels::ColumnPartials<double>{scratch, nullptr, R, S, kTreeChunk, next},
             tree_chunks(R) * S);
    scratch = next;
  }
  d.launch(kernels::ColumnFinish<T>{scratch, R, S, out, true}, S);
}

// sum of a[i] b[i] over [0, n) in double on the host: at most 256 chunks whose size depends only
// on n, each summed in order, then the chunks in order: no allocation, the same bits for any
// thread count.
template <class T>
double host_dot(const T* a, const T* b, int64_t n) {
  constexpr int64_t kMaxChunks = 256;
  const int64_t chunk = std::max<int64_t>(1 << 14, (n + kMaxChunks - 1) / kMaxChunks);
  const int64_t chunks = (n + chunk - 1) / chunk;
  std::array<double, kMaxChunks> part{};
  parallel_for(chunks, 2, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double s = 0;
      for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) s += double(a[i]) * b[i];
      part[c] = s;
    }
  });
  double total = 0;
  for (int64_t c = 0; c < chunks; ++c) total += part[c];
  return total;
}

template <class T>
double host_square_sum(const T* x, int64_t n) {
  return host_dot(x, x, n);
}

// Doubles of scratch queue_square_sum (or queue_dot) needs on `d` for n values.
inline int64_t square_sum_scratch(const DeviceContext& d, int64_t n) {
  return d.device() == Device::cpu ? 0 : n + tree_scratch(n);
}

// *total = the sum of x[i]^2 over [0, n) in double, in the backend's fixed order (device memory;
// on the cpu at once).
template <class T>
void queue_square_sum(DeviceContext& d, const T* x, int64_t n, double* scratch, double* total) {
  if (d.device() == Device::cpu) {
    *total = host_square_sum(x, n);
    return;
  }
  d.launch(kernels::SquareTerms<T>{x, scratch}, n);
  queue_tree_sum<T>(d, scratch, n, scratch + n, 1.0, nullptr, total);
}

// *total = the sum of a[i] b[i] over [0, n) in double, as queue_square_sum sums (device memory;
// on the cpu at once).
template <class T>
void queue_dot(DeviceContext& d, const T* a, const T* b, int64_t n, double* scratch,
               double* total) {
  if (d.device() == Device::cpu) {
    *total = host_dot(a, b, n);
    return;
  }
  d.launch(kernels::ProductTerms<T>{a, b, scratch}, n);
  queue_tree_sum<T>(d, scratch, n, scratch + n, 1.0, nullptr, total);
}

// ||x||_2 of n values on `d`, waiting for the device; scratch: square_sum_scratch(d, n) + 1.
template <class T>
double l2_norm_on(DeviceContext& d, const T* x, int64_t n, double* scratch) {
  double* total = scratch + square_sum_scratch(d, n);
  queue_square_sum(d, x, n, scratch, total);
  double out = 0;
  d.download(&out, total, sizeof(double));
  return std::sqrt(out);
}

}  // namespace gradscope
