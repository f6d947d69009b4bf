// Measurements of the emergence experiments (REFERENCES 3), logged beside exact-match accuracy:
//
// From a split's outputs (output_metrics):
//   subtask.<i>.<split>_loss / _acc    per subtask of multitask_sparse_parity (test split only)
//   <split>_icl_score                  induction: mean loss over positions >= 3L/4 minus mean loss
//                                      over positions < L/4 (Olsson et al.'s in-context score;
//                                      negative when later tokens are predicted better)
//   <split>_induction_loss / _acc      loss and token accuracy at the positions an induction head
//                                      can predict (Dataset::prefix_target >= 0)
//   <split>_segment_exact_match        share of repeated segments (maximal runs of predictable
//                                      positions) whose every token is the argmax
//   <split>_segment_edit_distance      mean Levenshtein distance, in tokens, between the argmax
//                                      tokens of a repeated segment and the true ones
// Hidden progress (hidden_progress), from the parameters:
//   dist_from_init                     ||theta_t - theta_0|| over every parameter
//   relevant_share                     sparse parity: share of the first layer's squared weight
//                                      mass ("layers.0.W" [F, Dhid]) on the k relevant inputs
//                                      (k / n at a uniform spread)
//   subtask.<i>.relevant_share         multitask: the same over the bit inputs, per subtask
//   prefix_match.<l>.<h>               induction: attention of head h in layer l from each
//                                      predictable position to the keys just after the earlier
//                                      occurrences of its token (the copy's source in the first
//                                      half, and any repeat in an earlier copied window), summed
//                                      per query and averaged (first 256 test sequences)
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gradscope/nn/models.h"
#include "gradscope/run/objective.h"
#include "gradscope/tasks/dataset.h"

namespace gradscope {

using MetricValues = std::vector<std::pair<std::string, double>>;

// Per-prediction losses and correctness of outputs [N * P, C] (C = 1: hinge scores).
struct Predictions {
  std::vector<double> loss;     // [N * P]
  std::vector<char> correct;    // [N * P]
  std::vector<int32_t> argmax;  // [N * P] (C > 1)
};
template <class T>
Predictions score_predictions(const Tensor<T>& outputs, const Dataset& d, Loss loss);

// Appends the output metrics above for a split named `split` ("train" | "test").
void output_metrics(const Predictions& p, const Dataset& d, const std::string& split,
                    MetricValues& row);

// Appends the hidden-progress measures the task supports.
template <class T>
void hidden_progress(Model<T>& model, Tape<T>& t, const TaskData& data, MetricValues& row);

}  // namespace gradscope
