// Measurements of the emergence experiments (REFERENCES 3), logged beside exact-match accuracy:
//
// Each is a measure of the registry (probes/measures.h), named by the emergence task families.
// Split measures, from a split's per-prediction scores:
//   subtasks: subtask.<i>.<split>_loss / _acc   per subtask of multitask_sparse_parity (test
//                                              split only)
//   induction:
//   <split>_icl_score                  mean loss over positions >= 3L/4 minus mean loss
//                                      over positions < L/4 (Olsson et al.'s in-context score;
//                                      negative when later tokens are predicted better)
//   <split>_induction_loss / _acc      loss and token accuracy at the positions an induction head
//                                      can predict (the split's InductionTargets >= 0)
//   <split>_segment_exact_match        share of repeated segments (maximal runs of predictable
//                                      positions) whose every token is the argmax
//   <split>_segment_edit_distance      mean Levenshtein distance, in tokens, between the argmax
//                                      tokens of a repeated segment and the true ones
// Model measures (hidden progress), from the parameters:
//   dist_from_init                     ||theta_t - theta_0|| over every parameter
//   relevant_share                     sparse parity: share of the first layer's squared weight
//                                      mass ("layers.0.W" [F, Dhid]) on the k relevant inputs
//                                      (k / n at a uniform spread)
//   subtask.<i>.relevant_share         multitask: the same over the bit inputs, per subtask
//   prefix_matching: prefix_match.<l>.<h>  induction: attention of head h in layer l from each
//                                      predictable position to the keys just after the earlier
//                                      occurrences of its token (the copy's source in the first
//                                      half, and any repeat in an earlier copied window), summed
//                                      per query and averaged (first 256 test sequences; text:
//                                      the task's sequences of repeated random tokens,
//                                      RepeatedTokens, tasks/text.h)
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gradscope/nn/models.h"
#include "gradscope/probes/measures.h"

namespace gradscope {

// The split measures above for a split named `split` ("train" | "test"), appended to `row`.
void subtask_metrics(const Predictions& p, const Dataset& d, const std::string& split,
                     MetricValues& row);
void induction_metrics(const Predictions& p, const Dataset& d, const std::string& split,
                       MetricValues& row);
// Olsson et al.'s in-context score of N sequences of L per-position losses: mean loss over
// positions >= 3L/4 minus mean loss over positions < L/4.
double icl_score(const Predictions& p, int64_t N, int64_t L);

// The model measures above, appended to `row` where the task has what they read.
template <class T>
void dist_from_init(Model<T>& model, Tape<T>& t, const TaskData& data, MetricValues& row);
template <class T>
void relevant_share(Model<T>& model, Tape<T>& t, const TaskData& data, MetricValues& row);
template <class T>
void prefix_matching(Model<T>& model, Tape<T>& t, const TaskData& data, MetricValues& row);

}  // namespace gradscope
