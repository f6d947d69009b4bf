// Per-prediction scores: see predictions.h. Shape legend: R = predictions (N * P), C = outputs.
#include "gradscope/probes/predictions.h"

#include <algorithm>
#include <cmath>

#include "gradscope/cuda/kernels.h"

namespace gradscope {
namespace {

// -log softmax(row)[target], around the row's largest entry `best`.
template <class T>
double softmax_loss(const T* row, int64_t C, int64_t best, int32_t target) {
  double lse = 0;
  for (int64_t c = 0; c < C; ++c) lse += std::exp(double(row[c]) - double(row[best]));
  return std::log(lse) + double(row[best]) - double(row[target]);
}

// -log StableMax(row)[target], as kernels::StableMaxRows computes it.
template <class T>
double stablemax_loss(const T* row, int64_t C, int32_t target) {
  double s = 0;
  for (int64_t c = 0; c < C; ++c) s += kernels::stable_s(double(row[c]));
  return -std::log(kernels::stable_s(double(row[target])) / s);
}

}  // namespace

template <class T>
Predictions score_predictions(const Tensor<T>& out, const Dataset& d, Loss loss) {
  const int64_t R = out.shape[0], C = out.shape[1];
  Predictions p;
  p.loss.resize(static_cast<size_t>(R));
  p.correct.resize(static_cast<size_t>(R));
  if (C > 1) p.argmax.resize(static_cast<size_t>(R));
  for (int64_t r = 0; r < R; ++r) {
    const T* row = out.data + r * C;
    const int32_t target = d.targets[r];
    if (C == 1) {  // one score: hinge (or its sign)
      const double y = target == 1 ? 1.0 : -1.0, f = double(row[0]);
      p.loss[r] = std::max(0.0, 1.0 - y * f);
      p.correct[r] = (f > 0) == (target == 1);
      continue;
    }
    const int64_t best = std::max_element(row, row + C) - row;
    p.loss[r] = loss == Loss::hinge       ? NAN
                : loss == Loss::stablemax ? stablemax_loss(row, C, target)
                                          : softmax_loss(row, C, best, target);
    p.correct[r] = best == target;
    p.argmax[r] = static_cast<int32_t>(best);
  }
  return p;
}

template Predictions score_predictions<float>(const Tensor<float>&, const Dataset&, Loss);
template Predictions score_predictions<double>(const Tensor<double>&, const Dataset&, Loss);

}  // namespace gradscope
