// Per-prediction scores of a model's outputs on a split: each prediction's loss, whether its
// argmax (or, for one hinge score, its sign) is right, and the argmax; for regression tasks the
// predictions themselves. Evaluation reads accuracy from them, and split measures
// (probes/measures.h) their per-position, per-subtask and per-query metrics.
#pragma once

#include <cstdint>
#include <vector>

#include "gradscope/probes/objective.h"
#include "gradscope/tasks/dataset.h"
#include "gradscope/tensor/tensor.h"

namespace gradscope {

// Per-prediction losses and correctness of outputs [N * P, C] (C = 1: hinge scores); for
// regression the outputs themselves.
struct Predictions {
  std::vector<double> loss;     // [N * P]
  std::vector<char> correct;    // [N * P]
  std::vector<int32_t> argmax;  // [N * P] (C > 1)
  std::vector<double> outputs;  // [N, Y] regression: the model's predictions (else empty)
};
template <class T>
Predictions score_predictions(const Tensor<T>& outputs, const Dataset& d, Loss loss);

}  // namespace gradscope
