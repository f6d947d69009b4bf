// The examples of each training step: see batches.h.
#include "gradscope/run/batches.h"

#include <algorithm>
#include <numeric>

namespace gradscope {

Batches::Batches(const TaskData& data, int64_t batch_size, uint64_t seed)
    : data_(data), seed_(seed), rng_(seed, "batch") {
  const Dataset& d = data.train;
  const int64_t all = d.size();
  n_ = data.sample ? batch_size : batch_size > 0 ? std::min(batch_size, all) : all;
  if (data.sample || n_ == all) return;
  order_.resize(static_cast<size_t>(all));
  ids_.resize(static_cast<size_t>(n_ * d.length));
  x_.resize(static_cast<size_t>(n_ * d.features));
  y_.resize(static_cast<size_t>(n_ * d.outputs));
  targets_.resize(static_cast<size_t>(d.outputs > 0 ? 0 : n_ * d.targets_per_example));
}

Examples Batches::at(int64_t step) {
  const Dataset& d = data_.train;
  if (data_.sample) {
    data_.sample(seed_, static_cast<uint64_t>(step), n_, fresh_);
    return all_examples(fresh_);
  }
  const int64_t all = d.size();
  if (n_ == all) return all_examples(d);
  const int64_t L = d.length, F = d.features, Y = d.outputs, P = d.targets_per_example;
  std::iota(order_.begin(), order_.end(), 0);
  const Rng r = rng_.substream(static_cast<uint64_t>(step));
  for (int64_t j = 0; j < n_; ++j) {  // N examples without replacement
    const int64_t k = j + static_cast<int64_t>(r.below(static_cast<uint64_t>(j), all - j));
    std::swap(order_[j], order_[k]);
    const int64_t e = order_[j];
    std::copy_n(d.inputs.begin() + e * L, L, ids_.begin() + j * L);
    std::copy_n(d.x.begin() + e * F, F, x_.begin() + j * F);
    if (Y > 0)
      std::copy_n(d.y.begin() + e * Y, Y, y_.begin() + j * Y);
    else
      std::copy_n(d.targets.begin() + e * P, P, targets_.begin() + j * P);
  }
  return {L > 0 ? ids_.data() : nullptr, F > 0 ? x_.data() : nullptr,
          Y > 0 ? nullptr : targets_.data(), Y > 0 ? y_.data() : nullptr, n_};
}

}  // namespace gradscope
