// Per-prediction scores of a model's outputs on a split: each prediction's loss, whether its
// argmax (or, for one hinge score, its sign) is right, and the argmax. Evaluation reads accuracy
// from them, and split measures (probes/measures.h) their per-position and per-subtask metrics.
#pragma once

#include <cstdint>
#include <vector>

#include "gradscope/probes/objective.h"
#include "gradscope/tasks/dataset.h"
#include "gradscope/tensor/tensor.h"

namespace gradscope {

// Per-prediction losses and correctness of outputs [N * P, C] (C = 1: hinge scores).
struct Predictions {
  std::vector<double> loss;     // [N * P]
  std::vector<char> correct;    // [N * P]
  std::vector<int32_t> argmax;  // [N * P] (C > 1)
};
template <class T>
Predictions score_predictions(const Tensor<T>& outputs, const Dataset& d, Loss loss);

}  // namespace gradscope
