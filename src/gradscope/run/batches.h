// The examples of each training step: the whole train split (full batch), N examples drawn
// without replacement from the step's own stream Rng(seed, "batch").substream(step) (minibatch,
// train.batch_order = sample), consecutive batches of the train split shuffled once per epoch by
// Rng(seed, "batch").substream(epoch) (batch_order = epoch: ceil(N_train / N) steps per epoch, the
// last batch of an epoch smaller, as a shuffled PyTorch DataLoader without drop_last), or N fresh
// samples from the task's stream (tasks trained on a stream). Every draw is a pure function of
// (seed, step), so a resumed run sees the batches an uninterrupted one would.
// Shape legend: N = examples per step, L = ids per example, F = real inputs, Y = real outputs,
// P = class targets per example.
#pragma once

#include <cstdint>
#include <vector>

#include "gradscope/probes/objective.h"
#include "gradscope/tasks/dataset.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {

class Batches {
 public:
  // batch_size 0: the full batch (fixed sets); fresh samples need batch_size >= 1.
  Batches(const TaskData& data, int64_t batch_size, uint64_t seed, bool epochs = false);
  // The examples of step `step`; valid until the next call. No allocation once the buffers have
  // grown.
  Examples at(int64_t step);
  int64_t size() const { return n_; }  // N (the most examples of a step)
  // Whether every step's batch is the whole (fixed) train split.
  bool full() const { return !data_.sample && n_ == data_.train.size(); }

 private:
  // The rows order_[first, first + count) of the train split into the batch buffers.
  Examples gather(int64_t first, int64_t count);
  void shuffle_epoch(int64_t epoch);

  const TaskData& data_;
  uint64_t seed_;
  int64_t n_ = 0;
  bool epochs_ = false;
  int64_t epoch_ = -1;  // the epoch order_ holds (epoch order)
  Rng rng_;
  std::vector<int32_t> order_;    // [N_train] a permutation, reused
  std::vector<int32_t> ids_;      // [N, L]
  std::vector<int32_t> targets_;  // [N, P]
  std::vector<double> x_, y_;     // [N, F], [N, Y]
  Dataset fresh_;                 // the step's fresh samples
};

}  // namespace gradscope
