// The objective on a batch of examples: what training minimizes and evaluation measures, shared
// by the trainer, its evaluation, the metrics and the theory adapter: cross-entropy of the logits
// (computed as train.softmax_numerics says; or StableMax's cross-entropy, train.loss = stablemax;
// or the hinge loss of one score per example, train.loss = hinge) for classification tasks, and
// for regression tasks 1/2 mean over examples of ||y - f(x)||^2 (= Y/2 * mse over the N x Y
// entries).
#pragma once

#include <cstdint>
#include <string>

#include "gradscope/nn/models.h"
#include "gradscope/tasks/dataset.h"

namespace gradscope {

// Rows of a dataset: pointers to the first example's ids, x, class target and y (whichever the
// dataset has) and the count.
// On a device tape the pointers are device memory, and x comes as xt, already in the model's
// precision (run/device_data.h uploads them).
struct Examples {
  const int32_t* ids = nullptr;
  const double* x = nullptr;
  const int32_t* targets = nullptr;
  const double* y = nullptr;
  int64_t n = 0;
  const void* xt = nullptr;  // [N, F] in T, device memory (device tapes only)
  const void* yt = nullptr;  // [N, Y] in T, device memory (device tapes only)
};
Examples all_examples(const Dataset& d);

// The model's outputs for the examples (real inputs copied onto the tape as T).
template <class T>
Var model_outputs(Tape<T>& t, Model<T>& model, const Dataset& layout, const Examples& e);
enum class Loss { cross_entropy, hinge, stablemax };  // train.loss's values, in the schema's order
// train.softmax_numerics's values: gradscope's cross-entropy (exp in the model's precision, sums
// in double), or PyTorch's log-softmax with the logits cast to float32 or float64.
enum class SoftmaxNumerics { gradscope, torch_float32, torch_float64 };

// The loss (a scalar Var) given the outputs. With P targets per example the outputs are [N * P, C]
// and the loss is the mean over all N * P predictions.
template <class T>
Var objective(Tape<T>& t, Var outputs, const Dataset& layout, const Examples& e,
              Loss loss = Loss::cross_entropy,
              SoftmaxNumerics numerics = SoftmaxNumerics::gradscope);

}  // namespace gradscope
