// The training objective on a batch of examples, shared by the trainer, its evaluation and the
// theory: cross-entropy of the logits for classification tasks, and for regression tasks
// 1/2 mean over examples of ||y - f(x)||^2 (= Y/2 * mse over the N x Y entries).
#pragma once

#include <cstdint>

#include "gradscope/nn/models.h"
#include "gradscope/tasks/dataset.h"

namespace gradscope {

// Rows of a dataset: pointers to the first example's ids, x, class target and y (whichever the
// dataset has) and the count.
struct Examples {
  const int32_t* ids = nullptr;
  const double* x = nullptr;
  const int32_t* targets = nullptr;
  const double* y = nullptr;
  int64_t n = 0;
};
Examples all_examples(const Dataset& d);

// The model's outputs for the examples (real inputs copied onto the tape as T).
template <class T>
Var model_outputs(Tape<T>& t, Model<T>& model, const Dataset& layout, const Examples& e);
// The loss (a scalar Var) given the outputs.
template <class T>
Var objective(Tape<T>& t, Var outputs, const Dataset& layout, const Examples& e);

}  // namespace gradscope
