// The examples of each training step: see batches.h.
#include "gradscope/run/batches.h"

#include <algorithm>
#include <numeric>

namespace gradscope {
namespace {

// Ids per example of the split: its length, or 0 where its inputs are real features only
// (in-context regression's sequences have a length but no ids).
int64_t ids_per_example(const Dataset& d) {
  return d.inputs.empty() ? 0 : d.length;
}

}  // namespace

Batches::Batches(const TaskData& data, int64_t batch_size, uint64_t seed, bool epochs)
    : data_(data), seed_(seed), epochs_(epochs), rng_(seed, "batch") {
  const Dataset& d = data.train;
  const int64_t all = d.size();
  n_ = data.sample ? batch_size : batch_size > 0 ? std::min(batch_size, all) : all;
  if (data.sample || n_ == all) return;
  order_.resize(static_cast<size_t>(all));
  ids_.resize(static_cast<size_t>(n_ * ids_per_example(d)));
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
  if (epochs_) {
    const int64_t per_epoch = (all + n_ - 1) / n_;
    shuffle_epoch(step / per_epoch);
    const int64_t first = (step % per_epoch) * n_;
    return gather(first, std::min(n_, all - first));
  }
  std::iota(order_.begin(), order_.end(), 0);
  const Rng r = rng_.substream(static_cast<uint64_t>(step));
  for (int64_t j = 0; j < n_; ++j) {  // N examples without replacement
    const int64_t k = j + static_cast<int64_t>(r.below(static_cast<uint64_t>(j), all - j));
    std::swap(order_[j], order_[k]);
  }
  return gather(0, n_);
}

// Fisher-Yates over the whole train split, from the epoch's own stream.
void Batches::shuffle_epoch(int64_t epoch) {
  if (epoch == epoch_) return;
  epoch_ = epoch;
  const int64_t all = static_cast<int64_t>(order_.size());
  std::iota(order_.begin(), order_.end(), 0);
  const Rng r = rng_.substream(static_cast<uint64_t>(epoch));
  for (int64_t j = 0; j + 1 < all; ++j)
    std::swap(order_[j],
              order_[j + static_cast<int64_t>(r.below(static_cast<uint64_t>(j), all - j))]);
}

Examples Batches::gather(int64_t first, int64_t count) {
  const Dataset& d = data_.train;
  const int64_t L = ids_per_example(d), F = d.features, Y = d.outputs, P = d.targets_per_example;
  for (int64_t j = 0; j < count; ++j) {
    const int64_t e = order_[first + j];
    std::copy_n(d.inputs.begin() + e * L, L, ids_.begin() + j * L);
    std::copy_n(d.x.begin() + e * F, F, x_.begin() + j * F);
    if (Y > 0)
      std::copy_n(d.y.begin() + e * Y, Y, y_.begin() + j * Y);
    else
      std::copy_n(d.targets.begin() + e * P, P, targets_.begin() + j * P);
  }
  return {L > 0 ? ids_.data() : nullptr, F > 0 ? x_.data() : nullptr,
          Y > 0 ? nullptr : targets_.data(), Y > 0 ? y_.data() : nullptr, count};
}

}  // namespace gradscope
